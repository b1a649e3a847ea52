"""Argument checks shared by every public numpy function in coursekit.

Each check raises ``ValueError`` (or ``TypeError`` for a non-array) whose
message names the argument, the expected shape or dtype, and what was given,
so a student reading the traceback knows which input to fix.

Shapes are written as tuples whose entries are ints (must match exactly) or
single-letter strings (symbolic sizes such as ``"N"``, ``"T"``, ``"D"``, ``"H"``
that must agree across all arguments of one call). Use :class:`Dims` to carry
the symbol bindings from one argument to the next::

    dims = Dims()
    x = check_array("x", x, ("N", "T", "D"), dims)
    h0 = check_array("h0", h0, ("N", "H"), dims)
    Wx = check_array("Wx", Wx, ("D", "H"), dims)
"""
from __future__ import annotations

import numpy as np

FLOAT_DTYPES = (np.float32, np.float64)


class Dims(dict):
    """Symbol -> size bindings collected while checking one call's arguments.

    ``dims.where`` remembers which argument first fixed each symbol, so a
    mismatch message can say "D=5 from x".
    """

    def __init__(self, **known: int):
        super().__init__(known)
        self.where: dict[str, str] = {k: "the call" for k in known}


def _fmt_shape(spec) -> str:
    return "(" + ", ".join(str(s) for s in spec) + ("," if len(spec) == 1 else "") + ")"


def check_array(name: str, value, shape=None, dims: Dims | None = None, *,
                float_only: bool = True, dtype=None) -> np.ndarray:
    """Check that ``value`` is a numpy array with the given symbolic ``shape``.

    Args:
        name: the argument's name, used in the error message.
        value: what the caller passed.
        shape: tuple of ints / symbol strings, or ``None`` to skip the shape check.
        dims: shared :class:`Dims` for one call; symbols bind on first use.
        float_only: require float32 or float64.
        dtype: require exactly this dtype kind instead (e.g. ``np.integer``).

    Returns:
        ``value`` unchanged (no copy), so calls can be chained.
    """
    if not isinstance(value, np.ndarray):
        raise TypeError(
            f"{name} must be a numpy.ndarray"
            + (f" of shape {_fmt_shape(shape)}" if shape is not None else "")
            + f", got {type(value).__name__}")
    if dtype is not None:
        if not np.issubdtype(value.dtype, dtype):
            raise ValueError(f"{name} must have an {np.dtype(dtype).name if not isinstance(dtype, type) else dtype.__name__} "
                             f"dtype, got {value.dtype}")
    elif float_only and value.dtype not in FLOAT_DTYPES:
        raise ValueError(f"{name} must be float32 or float64, got dtype {value.dtype}")
    if shape is None:
        return value
    if value.ndim != len(shape):
        raise ValueError(f"{name} must have shape {_fmt_shape(shape)} ({len(shape)} dimensions), "
                         f"got shape {value.shape}")
    if dims is None:
        dims = Dims()
    for axis, (want, got) in enumerate(zip(shape, value.shape)):
        if isinstance(want, str):
            if want in dims and dims[want] != got:
                raise ValueError(
                    f"{name} must have shape {_fmt_shape(shape)} with {want}={dims[want]} "
                    f"(from {dims.where[want]}), got shape {value.shape}")
            if want not in dims:
                dims[want] = got
                dims.where[want] = name
        elif want != got:
            raise ValueError(f"{name} must have shape {_fmt_shape(shape)}, got shape {value.shape} "
                             f"(axis {axis} is {got}, expected {want})")
    return value


def check_same_dtype(**arrays: np.ndarray) -> np.dtype:
    """All float arguments of one call must share a dtype (no silent upcasts).

    Returns that dtype. Raises ``ValueError`` naming the first argument that
    differs from the first one given.
    """
    items = [(k, v) for k, v in arrays.items() if v is not None]
    first_name, first = items[0]
    for k, v in items[1:]:
        if v.dtype != first.dtype:
            raise ValueError(f"{k} has dtype {v.dtype} but {first_name} has dtype {first.dtype}; "
                             f"pass all float arguments in one dtype (float32 or float64)")
    return first.dtype


def check_int_array(name: str, value, shape=None, dims: Dims | None = None, *,
                    low: int | None = None, high: int | None = None) -> np.ndarray:
    """Check an integer index array (e.g. targets ``y`` of shape ``(N, T)``).

    ``low``/``high`` bound the values: ``low <= value < high``.
    """
    check_array(name, value, shape, dims, dtype=np.integer)
    if value.size:
        if low is not None and value.min() < low:
            raise ValueError(f"{name} must hold integers >= {low}, got minimum {value.min()}")
        if high is not None and value.max() >= high:
            raise ValueError(f"{name} must hold integers < {high}, got maximum {value.max()}")
    return value


def check_bool_or_01(name: str, value, shape=None, dims: Dims | None = None) -> np.ndarray:
    """Check a mask: bool, or numbers that are all 0 or 1. Returns a float-ready array."""
    check_array(name, value, shape, dims, float_only=False)
    if value.dtype != bool and not np.isin(value, (0, 1)).all():
        raise ValueError(f"{name} must be boolean or hold only 0 and 1")
    return value


def check_positive_int(name: str, value) -> int:
    """A plain positive integer (e.g. a sequence length or a vocabulary size)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_like(name: str, value, shape: tuple, dtype) -> np.ndarray:
    """An upstream gradient must have its forward output's exact shape and dtype.

    Backward passes call this on ``dout``-style arguments, e.g.
    ``check_like("dh", dh, h.shape, h.dtype)``.
    """
    check_array(name, value, tuple(shape))
    if value.dtype != dtype:
        raise ValueError(f"{name} must have the forward pass's dtype {np.dtype(dtype)}, got {value.dtype}")
    return value
