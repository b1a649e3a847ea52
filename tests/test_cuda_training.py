"""The training loop and the course's models on a CUDA device (skipped without one).

The torch code takes a ``device`` and never assumes one; these tests run the same
short, seeded training on the CPU and on CUDA and compare. Run them on a GPU
machine with ``python -m pytest -o addopts="" -m cuda tests``.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from coursekit.data.tasks import delayed_recall
from coursekit.models.charlm import CharLM, evaluate
from coursekit.models.sequence import SequenceNet
from coursekit.train.loop import train

pytestmark = pytest.mark.cuda


def _run(device):
    batches = [delayed_recall(16, 20, 3, 4, seed=i) for i in range(10)]
    model = SequenceNet(4, 16, cell="lstm", seed=0, dtype=torch.float64)
    hist = train(model, batches, steps=20, lr=1e-2, clip=1.0, device=device, progress=False)
    return model, hist


def test_training_on_cuda_matches_cpu():
    cpu_model, cpu_hist = _run("cpu")
    gpu_model, gpu_hist = _run("cuda")
    assert next(gpu_model.parameters()).device.type == "cuda"
    np.testing.assert_allclose(gpu_hist["loss"], cpu_hist["loss"], rtol=1e-6)


def test_charlm_evaluates_on_cuda():
    model = CharLM(11, 8, cell="gru").to("cuda")
    ids = np.random.default_rng(0).integers(0, 11, 400)
    loss = evaluate(model, ids, batch_size=4, seq_len=50)
    assert np.isfinite(loss) and loss > 0
