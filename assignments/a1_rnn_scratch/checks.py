"""Assignment 1's own check: the character model the student trained must predict its text.

Named in ``tests.py`` as ``"checks:charlm_loss_drops"``; the grader loads this file from
the assignment folder (and the release notebook carries it for ``check("q10")``). It
recomputes the loss from the returned weights with coursekit's numpy char-RNN, never with
anything the submission provides.
"""
from __future__ import annotations

import math

from coursekit.grading.compare import check_params
from coursekit.models.charrnn import PARAM_SHAPES, stream_loss

def charlm_loss_drops(question, case, inputs: dict, got: dict, expected) -> tuple[float, list[str]]:
    """A trained char model must predict its training text well.

    The grader recomputes the loss from the returned weights with coursekit's numpy
    char-RNN and compares it with ln V (the loss of a uniform guess). Full points when
    the loss is below ``options["ratio"] * ln V``.
    """
    V = int(case.sizes["V"])
    params, problem = check_params(got, PARAM_SHAPES, {"V": V})
    if params is None:
        return 0.0, [problem]
    loss = stream_loss(params, inputs[question.options["data"]])
    target = question.options["ratio"] * math.log(V)
    lines = [f"loss of your trained model on the training text, recomputed by the grader: "
             f"{loss:.4f} nats/char (uniform guessing: ln {V} = {math.log(V):.4f}; "
             f"needed below {target:.4f})"]
    return (1.0 if loss < target else 0.0), lines
