"""Checks of assignment 6 (encoders, decoders and attention), named in its ``tests.py``.

- :func:`reversal_accuracy`: the grader rebuilds the encoder-decoder a submission trained
  (``coursekit.nn.seq2seq.Seq2Seq`` with the configuration in the question's options) from
  the returned weights, decodes fresh sequences it draws itself, greedily, and scores the
  fraction reversed exactly.

Signature of :data:`coursekit.grading.compare.CHECKS`:
``check(question, case, inputs, got, expected) -> (fraction, feedback lines)``.
"""
from __future__ import annotations

import hashlib

import numpy as np


def reversal_accuracy(question, case, inputs: dict, got: dict, expected) -> tuple[float, list[str]]:
    """Sequence accuracy of the submitted model on ``options["n_eval"]`` fresh sequences."""
    import torch

    from coursekit.grading.compare import check_params
    from coursekit.nn.seq2seq import Seq2Seq

    K, T = int(case.sizes["K"]), int(case.sizes["T"])
    config = dict(question.options["config"], src_vocab=K + 4, tgt_vocab=K + 4)
    model = Seq2Seq(**config)
    shapes = {k: tuple(f"{k}:{i}" for i in range(v.dim())) for k, v in model.state_dict().items()}
    params, problem = check_params(got, shapes)
    if params is None:
        return 0.0, [problem]
    want = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    for k, a in params.items():
        if a.shape != want[k]:
            return 0.0, [f"{k}: expected shape {want[k]} (Seq2Seq({config})), got {a.shape}"]
    model.load_state_dict({k: torch.as_tensor(a, dtype=torch.float32) for k, a in params.items()})
    seqs = inputs[question.options["data"]]
    seed = int.from_bytes(hashlib.sha256(np.ascontiguousarray(seqs).tobytes()).digest()[:8], "little")
    fresh = np.random.default_rng(seed).integers(0, K, size=(int(question.options["n_eval"]), T))
    out = model.generate([list(s + 4) for s in fresh], max_len=T + 2)
    acc = float(np.mean([o == list(s[::-1] + 4) for o, s in zip(out, fresh)]))
    full, half = question.options["accuracy"], question.options["half_accuracy"]
    frac = 1.0 if acc >= full else 0.5 if acc >= half else 0.0
    lines = [f"sequence accuracy of your trained model on {len(fresh)} fresh sequences of {T} "
             f"symbols (K={K}), decoded greedily by the grader: {acc:.3f} (full points from "
             f"{full:.2f}, half from {half:.2f})"]
    if frac < 1.0:
        lines.append("the grader feeds symbol a as id a + 4 (0 <pad>, 1 <bos>, 2 <eos>), all "
                     "sources of length T, and expects the reversed ids followed by <eos>")
    return frac, lines
