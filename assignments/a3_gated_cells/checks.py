"""Checks of assignment 3 (gated cells from scratch), named in its ``tests.py``.

- :func:`match_each`: like ``match``, but each returned array that matches the
  reference earns its share of the case's points (a backward pass with one
  wrong gradient out of six keeps five sixths).
- :func:`recall_accuracy`: the LSTM with projection a submission trained on the
  grader's first-symbol-recall sequences is run by the grader (as the plain coursekit
  :func:`coursekit.nn.lstm.lstm_forward` with folded weights) on fresh sequences it
  draws itself; points follow the accuracy of recalling the first symbol at the last step.

Both have the signature of :data:`coursekit.grading.compare.CHECKS`:
``check(question, case, inputs, got, expected) -> (fraction, feedback lines)``.
Chapter: the instructors' appendix; the assignment is ``assignments/a3_gated_cells``.
"""
from __future__ import annotations

import hashlib

import numpy as np

from coursekit.data.tasks import recall_inputs
from coursekit.grading.compare import check_params, compare_array


def match_each(question, case, inputs: dict, got: dict, expected) -> tuple[float, list[str]]:
    """Per-output partial credit: fraction = (outputs within tolerance) / (outputs).

    ``expected`` holds the reference outputs, which the grader computes for
    every question whose steps all have a coursekit reference.
    """
    if expected is None:
        raise ValueError(f"{question.id}: match_each needs a reference for every step function")
    atol, rtol = question.tolerance(case.dtype)
    lines, n_ok = [], 0
    for out in question.outputs:
        ok, msg = compare_array(out.name, got.get(out.name), np.asarray(expected[out.name]),
                                atol=atol, rtol=rtol, scalar=out.scalar)
        n_ok += ok
        lines.append(msg)
    n = len(question.outputs)
    if 0 < n_ok < n:
        lines.insert(0, f"{n_ok} of {n} returned arrays are right: {n_ok}/{n} of the points")
    return n_ok / n, lines


#: name -> shape of the parameters ``train_recall`` returns; K symbols, H cells, P projections
RECALL_PARAMS = {"Wr": ("H", "P"), "Wx": ("2K", "4H"), "Wh": ("P", "4H"), "b": ("4H",),
                 "W_out": ("P", "K"), "b_out": ("K",)}  # Wr first: it fixes H and P
MAX_HIDDEN = 256  # bounds the grader's own work (memory and time of the evaluation)


def recall_predictions(params: dict, seqs: np.ndarray, K: int, batch: int = 500) -> np.ndarray:
    """Predicted first symbols (N,) of an LSTM with projection read out at the last step.

    An LSTM with projection feeds back r_{t-1} = m_{t-1} Wr, so r_{t-1} Wh = m_{t-1} (Wr Wh):
    it is the plain LSTM of :func:`coursekit.nn.lstm.lstm_forward` with recurrent weights
    Wr Wh (H, 4H), whose output m_T read out through Wr W_out gives the same scores.
    Formula: m = lstm_forward(x, 0, Wx, Wr Wh, b), scores = m_T (Wr W_out) + b_out,
    prediction = argmax over the K scores.
    """
    from coursekit.nn.lstm import lstm_forward
    H = params["Wr"].shape[0]
    Wh, W_out = params["Wr"] @ params["Wh"], params["Wr"] @ params["W_out"]
    preds = []
    for s in range(0, len(seqs), batch):
        x = recall_inputs(seqs[s:s + batch], K)
        m, _, _ = lstm_forward(x, np.zeros((len(x), H)), params["Wx"], Wh, params["b"])
        preds.append(np.argmax(m[:, -1] @ W_out + params["b_out"], axis=1))
    return np.concatenate(preds)


def _check_params(got: dict, K: int) -> tuple[dict | None, str]:
    Wr = got.get("Wr")
    H = Wr.shape[0] if isinstance(Wr, np.ndarray) and Wr.ndim == 2 else None
    params, problem = check_params(got, RECALL_PARAMS, {"K": K, "2K": 2 * K}
                                   | ({"H": H, "4H": 4 * H} if H is not None else {}))
    if params is None:
        return None, problem + " (K symbols, H cells, P projections, gates i, f, g, o)"
    if max(params["Wr"].shape) > MAX_HIDDEN:
        return None, f"Wr: sizes {params['Wr'].shape} are larger than the {MAX_HIDDEN} allowed"
    return params, ""


def recall_accuracy(question, case, inputs: dict, got: dict, expected) -> tuple[float, list[str]]:
    """The trained LSTM must recall the first symbol of fresh sequences after T-1 distractors.

    The grader draws ``options["n_eval"]`` new sequences of the case's length
    (seeded by the training data, so a submission always gets the same ones),
    runs the returned weights through the reference LSTM and measures the
    accuracy of the prediction at the last step. Full points from
    ``options["accuracy"]``, half from ``options["half_accuracy"]``, else none.
    """
    K, T = int(case.sizes["K"]), int(case.sizes["T"])
    params, problem = _check_params(got, K)
    if params is None:
        return 0.0, [problem]
    seqs = inputs[question.options["data"]]
    seed = int.from_bytes(hashlib.sha256(np.ascontiguousarray(seqs).tobytes()).digest()[:8], "little")
    fresh = np.random.default_rng(seed).integers(0, K, size=(int(question.options["n_eval"]), T))
    acc = float(np.mean(recall_predictions(params, fresh, K) == fresh[:, 0]))
    full, half = question.options["accuracy"], question.options["half_accuracy"]
    frac = 1.0 if acc >= full else 0.5 if acc >= half else 0.0
    lines = [f"accuracy of your trained LSTM with projection on {len(fresh)} fresh sequences (recall the first "
             f"of {T} symbols, K={K}), recomputed by the grader with the reference LSTM: "
             f"{acc:.3f} (chance {1 / K:.3f}; full points from {full:.2f}, half from {half:.2f})"]
    if frac < 1.0:
        lines.append("the grader runs your weights with gates in the order i, f, g, o, inputs from "
                     "recall_inputs, r_0 = c_0 = 0, r_t = (o * tanh(c_t)) @ Wr fed back through Wh, "
                     "and reads the scores r_T @ W_out + b_out of the last step only; if your "
                     "own evaluation disagrees, check those")
    return frac, lines
