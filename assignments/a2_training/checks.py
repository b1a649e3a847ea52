"""Assignment 2's own check: a trained character model must predict fresh text from its source.

Named in ``tests.py`` as ``"checks:markov_val_loss"``. The grader fits the bigram
(Markov) statistics of the training text, draws fresh validation text from them that
the submission never sees, and recomputes the loss of the returned weights on it with
coursekit's numpy char-RNN. The release notebook carries this file for ``check("q10")``.
"""
import hashlib
import math

import numpy as np

from coursekit.grading.compare import check_params
from coursekit.grading.inputs import markov_chain
from coursekit.models.charrnn import PARAM_SHAPES, stream_loss


def bigram_source(ids: np.ndarray, V: int, alpha: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Add-alpha bigram transitions of ``ids``, their stationary distribution and entropy rate.

    Returns P (V, V), pi (V,), H = -sum_a pi_a sum_b P_ab ln P_ab (nats per character).
    """
    counts = np.zeros((V, V))
    np.add.at(counts, (ids[:-1], ids[1:]), 1.0)
    P = (counts + alpha) / (counts.sum(axis=1, keepdims=True) + alpha * V)
    pi = np.full(V, 1.0 / V)
    for _ in range(2000):
        pi = pi @ P
    pi /= pi.sum()
    H = float(-(pi * (P * np.log(P)).sum(axis=1)).sum())
    return P, pi, H


def markov_val_loss(question, case, inputs: dict, got: dict, expected) -> tuple[float, list[str]]:
    """A trained character model must predict fresh text from its training source.

    The grader estimates the source from the training text (add-``alpha`` bigram
    counts), draws ``val_length`` characters of new text from it (seeded by the
    training text and the returned weights, never shown to the submission), and
    recomputes the loss of the returned weights on that text with the coursekit
    references. With H the source's entropy rate and ln V the uniform guess, the
    fraction of points is 1 below ``H + full * (ln V - H)``, 0 above
    ``H + zero * (ln V - H)`` and linear in between.
    """
    o = question.options
    V = int(case.sizes["V"])
    params, problem = check_params(got, PARAM_SHAPES, {"V": V})
    if params is None:
        return 0.0, [problem]
    train = np.asarray(inputs[o["data"]], dtype=np.int64)
    P, pi, H = bigram_source(train, V, o.get("alpha", 0.1))
    h = hashlib.sha256(train.tobytes())
    for k in PARAM_SHAPES:
        h.update(params[k].tobytes())
    rng = np.random.default_rng(int.from_bytes(h.digest()[:8], "little"))
    val = markov_chain(P, int(o.get("val_length", 2000)), rng, int(rng.choice(V, p=pi)))
    loss = stream_loss(params, val)
    lnV = math.log(V)
    full, zero = H + o["full"] * (lnV - H), H + o["zero"] * (lnV - H)
    frac = float(np.clip((zero - loss) / (zero - full), 0.0, 1.0))
    frac = math.floor(frac * 100) / 100  # whole percents: stable feedback
    lines = [f"validation loss of your trained model on {len(val)} fresh characters from the "
             f"training text's source, computed by the grader: {loss:.4f} nats/char "
             f"(source entropy {H:.4f}, uniform guessing ln {V} = {lnV:.4f}); full marks below "
             f"{full:.4f}, none above {zero:.4f}: {frac:.0%} of the points"]
    return frac, lines
