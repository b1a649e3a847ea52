"""Assignment 2 (training recurrent networks): references, input kinds and checks.

Used by ``assignments/a2_training/tests.py`` in the grader's own process and by
``check("q10")`` in a student's kernel. What is here:

- :func:`charlm_params`: packs six arrays into the parameter (or gradient) dict
  of a character model; the tests call it to hand a dict to the student's
  functions (a test step can only pass arrays).
- References of the graded functions that coursekit has no exact match for
  (truncated-BPTT batching, one chunk forward and backward, the truncated
  gradient of a whole text and its TBPTT(k1, k2) form, sampling with
  uniforms, language-model metrics), each composed of the coursekit
  references (``layers``, ``rnn``, ``lm_tools``). They are forbidden to
  submissions.
- :func:`markov_val_loss`: the check of the training question. The grader
  fits the bigram (Markov) statistics of the training text, draws fresh
  validation text from them that the submission never sees, and recomputes
  the loss of the returned weights on it with the coursekit references.

Chapter 2 (truncated BPTT, clipping) and chapter 3 (sampling, perplexity).
"""

import hashlib
import math

import numpy as np

from coursekit.grading.compare import CHARLM_PARAMS, charlm_loss
from coursekit.grading.spec import markov_chain

PARAM_NAMES = tuple(CHARLM_PARAMS)  # W_embed, Wx, Wh, b, W_out, b_out


def charlm_params(W_embed, Wx, Wh, b, W_out, b_out) -> dict:
    """``{"W_embed": W_embed, ..., "b_out": b_out}``: the dict the tests hand to your functions.

    Shapes: W_embed (V, D), Wx (D, H), Wh (H, H), b (H,), W_out (H, V), b_out (V,).
    The same layout holds gradients (one per parameter).
    """
    return dict(zip(PARAM_NAMES, (W_embed, Wx, Wh, b, W_out, b_out)))


# ------------------------------------------------------------- references
def tbptt_batches(ids, batch_size, k):
    """Cut a long id stream into the chunks that truncated BPTT with length k reads.

    Shapes: ids (L,) ints -> X, Y (C, B, k) int64 with B = batch_size,
    S = (L - 1) // B targets per stream and C = S // k chunks.
    Stream b is ids[b S : (b + 1) S] (inputs) and ids[b S + 1 : (b + 1) S + 1] (targets);
    chunk c holds columns c k .. (c + 1) k - 1 of every stream. Chapter 2 (truncated BPTT).
    """
    ids = np.asarray(ids, dtype=np.int64)
    S = (len(ids) - 1) // batch_size
    C = S // k
    X = ids[:batch_size * S].reshape(batch_size, S)[:, :C * k]        # (B, C k)
    Y = ids[1:batch_size * S + 1].reshape(batch_size, S)[:, :C * k]
    X = X.reshape(batch_size, C, k).transpose(1, 0, 2)                 # (C, B, k)
    Y = Y.reshape(batch_size, C, k).transpose(1, 0, 2)
    return np.ascontiguousarray(X), np.ascontiguousarray(Y)


def chunk_forward_backward(params, x, y, h0, n_last=None):
    """Loss and gradients of the character model on one chunk, from a carried state.

    Shapes: params as :func:`charlm_params`, x, y (N, k) ids, h0 (N, H) ->
    loss (mean nats per counted character), grads (dict like params), h_last (N, H).
    ``n_last``: count only the last ``n_last`` targets (all when None); the
    gradient still flows through all k steps (TBPTT(k1, k2) windows).
    Formula: h_t = tanh(W_hh h_{t-1} + W_xh e_t + b_h) from h_0 = h0 (a constant: no
    gradient reaches it), o_t = W_hy h_t + b_y, L = -(1/(N n)) sum log softmax(o_t)[y_t].
    Chapter 2 (truncated BPTT).
    """
    from coursekit import layers, rnn
    N, k = x.shape
    n = k if n_last is None else int(n_last)
    mask = np.zeros((N, k), dtype=bool)
    mask[:, k - n:] = True
    emb, ec = layers.embedding_forward(x, params["W_embed"])                    # (N, k, D)
    h, rc = rnn.rnn_forward(emb, h0, params["Wx"], params["Wh"], params["b"])   # (N, k, H)
    scores, ac = layers.temporal_affine_forward(h, params["W_out"], params["b_out"])
    loss, dscores = layers.temporal_softmax_loss(scores, y, mask)               # sum / N
    dh, dW_out, db_out = layers.temporal_affine_backward(dscores, ac)
    demb, _, dWx, dWh, db = rnn.rnn_backward(dh, rc)
    dW_embed = layers.embedding_backward(demb, ec)
    grads = charlm_params(dW_embed, dWx, dWh, db, dW_out, db_out)
    scale = h0.dtype.type(1.0 / n)
    return loss * scale, {n_: g * scale for n_, g in grads.items()}, h[:, -1].copy()


def tbptt_gradient(params, ids, batch_size, k):
    """The truncated-BPTT loss and gradient of a whole text, carrying the state across chunks.

    Shapes: ids (L,) -> loss (mean nats per character over all chunks), grads (dict,
    the mean of the chunk gradients), h_last (B, H) the state after the last chunk.
    The state starts at zero and passes from chunk to chunk; each chunk's gradient
    stops at its first step. Chapter 2 (truncated BPTT).
    """
    X, Y = tbptt_batches(ids, batch_size, k)
    dtype = params["Wh"].dtype
    h = np.zeros((batch_size, params["Wh"].shape[0]), dtype=dtype)
    total, acc = 0.0, {n: np.zeros_like(p) for n, p in params.items()}
    for c in range(len(X)):
        loss, grads, h = chunk_forward_backward(params, X[c], Y[c], h)
        total += float(loss)
        for n in acc:
            acc[n] += grads[n]
    C = dtype.type(len(X))
    return dtype.type(total / len(X)), {n: g / C for n, g in acc.items()}, h


def tbptt_k1k2_gradient(params, ids, batch_size, k1, k2):
    """TBPTT(k1, k2): every k1 characters, backpropagate through the last k2 steps.

    Shapes: ids (L,) -> loss (mean over updates of the mean nats per new character),
    grads (dict, mean over updates), h_last (B, H) the state after the last counted step.
    Streams as :func:`tbptt_batches` (B streams of S targets); U = S // k1 updates.
    Update u counts the targets u k1 .. (u + 1) k1 - 1 and runs the window that ends
    there and starts k2 steps earlier (at 0 at the latest) from the forward state before
    it (a constant). k1 = k2 is :func:`tbptt_gradient` with k = k1. Chapter 2.
    """
    from coursekit import rnn
    ids = np.asarray(ids, dtype=np.int64)
    S = (len(ids) - 1) // batch_size
    Xs = ids[:batch_size * S].reshape(batch_size, S)
    Ys = ids[1:batch_size * S + 1].reshape(batch_size, S)
    dtype = params["Wh"].dtype
    zeros = np.zeros((batch_size, params["Wh"].shape[0]), dtype=dtype)
    emb = params["W_embed"][Xs]                                                  # (B, S, D)
    states, _ = rnn.rnn_forward(emb, zeros, params["Wx"], params["Wh"], params["b"])  # (B, S, H)
    U = S // k1
    total, acc = 0.0, {n: np.zeros_like(p) for n, p in params.items()}
    for u in range(U):
        end = (u + 1) * k1
        start = max(0, end - k2)
        h0 = zeros if start == 0 else states[:, start - 1]
        loss, grads, _ = chunk_forward_backward(params, Xs[:, start:end], Ys[:, start:end], h0,
                                                n_last=k1)
        total += float(loss)
        for n in acc:
            acc[n] += grads[n]
    return dtype.type(total / U), {n: g / dtype.type(U) for n, g in acc.items()}, \
        states[:, U * k1 - 1].copy()


def sample_with_temperature(scores, u, temperature=1.0):
    """Inverse-CDF sampling from softmax(o / tau) with given uniforms; greedy at tau = 0.

    Shapes: scores (N, V), u (N,) in [0, 1) -> indices (N,) int64, the first k with
    cumsum(p)_k > u (the last index if rounding leaves the sum below u).
    Chapter 3 (sampling with temperature).
    """
    from coursekit.lm_tools import softmax_temperature
    p = softmax_temperature(scores, temperature)
    cdf = np.cumsum(p, axis=-1)                                               # (N, V)
    idx = (cdf <= u[:, None]).sum(axis=-1)
    return np.minimum(idx, scores.shape[-1] - 1).astype(np.int64)


def lm_metrics(scores, targets):
    """Cross-entropy in nats and bits per character, and perplexity.

    Shapes: scores (N, T, V), targets (N, T) -> three scalars.
    Formula: nats = -(1/(N T)) sum log softmax(o)[y], bits = nats / ln 2, ppl = e^nats.
    Chapter 3.
    """
    from coursekit.layers import log_softmax
    N, T, V = scores.shape
    logp = log_softmax(scores.astype(np.float64))
    nats = -logp.reshape(N * T, V)[np.arange(N * T), targets.reshape(-1)].mean()
    return nats, nats / math.log(2), math.exp(nats)


# ------------------------------------------------------------- the training check
def _params_problem(got: dict, V: int) -> str | None:
    dims = {"V": V}
    for name, shape in CHARLM_PARAMS.items():
        a = got.get(name)
        if a is None or not isinstance(a, np.ndarray):
            return f"{name}: the trained parameters must include {name} as a numpy array"
        if a.dtype != np.float64:
            return f"{name}: expected dtype float64, got {a.dtype}"
        if a.ndim != len(shape):
            return f"{name}: expected shape {shape}, got shape {a.shape}"
        for sym, n in zip(shape, a.shape):
            if dims.setdefault(sym, n) != n:
                return (f"{name}: expected shape {shape} with {sym}={dims[sym]}, "
                        f"got shape {a.shape}")
        if not np.isfinite(a).all():
            return f"{name}: contains NaN or inf"
    return None


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
    problem = _params_problem(got, V)
    if problem:
        return 0.0, [problem]
    params = {k: got[k] for k in CHARLM_PARAMS}
    train = np.asarray(inputs[o["data"]], dtype=np.int64)
    P, pi, H = bigram_source(train, V, o.get("alpha", 0.1))
    h = hashlib.sha256(train.tobytes())
    for k in PARAM_NAMES:
        h.update(params[k].tobytes())
    rng = np.random.default_rng(int.from_bytes(h.digest()[:8], "little"))
    val = markov_chain(P, int(o.get("val_length", 2000)), rng, int(rng.choice(V, p=pi)))
    loss = charlm_loss(params, val)
    lnV = math.log(V)
    full, zero = H + o["full"] * (lnV - H), H + o["zero"] * (lnV - H)
    frac = float(np.clip((zero - loss) / (zero - full), 0.0, 1.0))
    frac = math.floor(frac * 100) / 100  # whole percents: stable feedback
    lines = [f"validation loss of your trained model on {len(val)} fresh characters from the "
             f"training text's source, computed by the grader: {loss:.4f} nats/char "
             f"(source entropy {H:.4f}, uniform guessing ln {V} = {lnV:.4f}); full marks below "
             f"{full:.4f}, none above {zero:.4f}: {frac:.0%} of the points"]
    return frac, lines
