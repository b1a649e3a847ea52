"""A character-level vanilla-RNN language model from scratch in numpy (chapter 3).

The "hello" example grown up: characters -> one-hot vectors (or an embedding)
-> ``coursekit.nn.rnn.rnn_forward`` -> ``coursekit.nn.layers.temporal_affine_forward``
-> ``temporal_softmax_loss``; the backward pass chains the matching
``*_backward`` functions. Training reads one long text with truncated
backpropagation through time (chapter 2), updates with Adagrad from
``coursekit.train.optim`` and clips with ``coursekit.train.clip``::

    x_t = onehot(c_t)  (or E[c_t])
    h_t = tanh(W_hh h_{t-1} + W_xh x_t + b_h)
    o_t = W_hy h_t + b_y,   L = -sum_t log softmax(o_t)[c_{t+1}]

Parameters (row-vector code): ``Wx (D, H)``, ``Wh (H, H)``, ``b (H,)``,
``W_out (H, V)``, ``b_out (V,)`` and, with an embedding, ``W_embed (V, D)`` (the
names of the assignments).
"""
from __future__ import annotations

import time

import numpy as np

from coursekit._validate import Dims, check_array, check_int_array, check_positive_int
from coursekit.nn.layers import (embedding_backward, embedding_forward, one_hot, softmax,
                                 temporal_affine_backward, temporal_affine_forward,
                                 temporal_softmax_loss)
from coursekit.nn.rnn import init_params, rnn_backward, rnn_forward
from coursekit.train.clip import clip_grad_norm, clip_grad_value
from coursekit.train.optim import Adagrad

__all__ = ["PARAM_SHAPES", "init_charrnn", "charrnn_loss", "stream_loss", "train_charrnn",
           "sample_charrnn"]

#: parameter name -> shape (V characters, D embedding size, H hidden units), with an embedding
PARAM_SHAPES = {"W_embed": ("V", "D"), "Wx": ("D", "H"), "Wh": ("H", "H"), "b": ("H",),
                "W_out": ("H", "V"), "b_out": ("V",)}


def init_charrnn(V: int, H: int, *, embed_dim: int | None = None, seed: int = 0,
                 dtype=np.float64) -> dict[str, np.ndarray]:
    """Random parameters for a V-character model with H hidden units.

    Shapes: ``Wx (D, H)``, ``Wh (H, H)``, ``b (H,)`` (``coursekit.nn.rnn.init_params``),
    ``W_out (H, V)`` ~ U(-1/sqrt(H), 1/sqrt(H)), ``b_out (V,)`` = 0, and ``W_embed (V, D)`` ~ N(0, 1)
    when ``embed_dim`` = D is given (else D = V, one-hot input).
    """
    V, H = check_positive_int("V", V), check_positive_int("H", H)
    D = V if embed_dim is None else check_positive_int("embed_dim", embed_dim)
    params = init_params(D, H, seed=seed, dtype=dtype)
    rng = np.random.default_rng([seed, 1])
    k = 1.0 / np.sqrt(H)
    params["W_out"] = rng.uniform(-k, k, (H, V)).astype(dtype)
    params["b_out"] = np.zeros(V, dtype=dtype)
    if embed_dim is not None:
        params["W_embed"] = rng.standard_normal((V, D)).astype(dtype)
    return params


def _vocab_size(params) -> int:
    return params["W_out"].shape[1]


def _inputs(params, x):
    """ids (N, T) -> input vectors (N, T, D) and the embedding cache (or None)."""
    if "W_embed" in params:
        return embedding_forward(x, params["W_embed"])
    return one_hot(x, _vocab_size(params), dtype=params["Wx"].dtype), None


def charrnn_loss(params: dict, x: np.ndarray, y: np.ndarray, h0: np.ndarray | None = None,
                 mask: np.ndarray | None = None):
    """Loss and gradients of the character model on one window.

    Shapes: x, y (N, T) ids, h0 (N, H) or None (zeros), mask (N, T) or None ->
    loss (scalar: summed over unmasked steps, averaged over the N rows),
    grads (dict shaped like params), h (N, T, H) the hidden states.
    Formula: L = -(1/N) sum_n sum_t m_{n,t} log softmax(W_hy h_t + b_y)[y_{n,t}].
    """
    dims = Dims(V=_vocab_size(params))
    check_int_array("x", x, ("N", "T"), dims, low=0, high=dims["V"])
    check_int_array("y", y, ("N", "T"), dims, low=0, high=dims["V"])
    H = params["Wh"].shape[0]
    if h0 is None:
        h0 = np.zeros((x.shape[0], H), dtype=params["Wh"].dtype)
    check_array("h0", h0, ("N", H), dims)
    inp, emb_cache = _inputs(params, x)                               # (N, T, D)
    h, rnn_cache = rnn_forward(inp, h0, params["Wx"], params["Wh"], params["b"])  # (N, T, H)
    scores, aff_cache = temporal_affine_forward(h, params["W_out"], params["b_out"])    # (N, T, V)
    loss, dscores = temporal_softmax_loss(scores, y, mask)
    grads = {}
    dh, grads["W_out"], grads["b_out"] = temporal_affine_backward(dscores, aff_cache)
    dinp, _, grads["Wx"], grads["Wh"], grads["b"] = rnn_backward(dh, rnn_cache)
    if emb_cache is not None:
        grads["W_embed"] = embedding_backward(dinp, emb_cache)
    return loss, grads, h


def stream_loss(params: dict, ids: np.ndarray) -> float:
    """Mean next-character loss (nats per character) on one id stream, from h_0 = 0.

    Shapes: ids (L,) ints -> float. Formula: -(1/(L-1)) sum_t log softmax(o_t)[ids_{t+1}].
    """
    ids = check_int_array("ids", ids, ("L",), low=0, high=_vocab_size(params))
    if len(ids) < 2:
        raise ValueError(f"ids must hold at least 2 ids, got {len(ids)}")
    loss, _, _ = charrnn_loss(params, ids[None, :-1], ids[None, 1:])  # summed over L-1 steps
    return float(loss) / (len(ids) - 1)


def train_charrnn(params: dict, ids: np.ndarray, *, steps: int, k1: int = 25, k2: int | None = None,
                  batch_size: int = 1, lr: float = 0.1, clip: float | None = None,
                  clip_value: float | None = 5.0, progress: bool = False, log_every: int = 100,
                  log=None) -> dict:
    """Train ``params`` in place on the id stream ``ids`` with truncated BPTT and Adagrad.

    The stream is cut into ``batch_size`` contiguous rows read in order. Every
    ``k1`` characters one update is made whose gradient reaches back ``k2``
    steps (default ``k2 = k1``): the window of the last ``k2`` characters is
    run from the hidden state saved ``k2`` steps back (a constant: no
    gradient crosses it) and only the ``k1`` new targets count in the loss
    (a mask). The hidden state is carried from window to window and reset to
    zero when the stream wraps around. Clipping by value (default 5, as
    min-char-rnn) and/or by global norm (``clip``) before Adagrad.

    Returns a history: ``step``, ``loss`` (nats per character of each update),
    ``smooth_loss`` (exponential moving average), ``seconds``.
    """
    steps, k1 = check_positive_int("steps", steps), check_positive_int("k1", k1)
    k2 = k1 if k2 is None else check_positive_int("k2", k2)
    if k2 < k1:
        raise ValueError(f"k2 must be >= k1, got k1={k1}, k2={k2}")
    batch_size = check_positive_int("batch_size", batch_size)
    check_int_array("ids", ids, ("L",), low=0, high=_vocab_size(params))
    L = (len(ids) - 1) // batch_size                                  # targets per row
    if L < k1:
        raise ValueError(f"ids has {len(ids)} ids: too short for batch_size={batch_size}, k1={k1}")
    X = ids[:batch_size * L].reshape(batch_size, L)                   # (B, L) input streams
    Y = ids[1:batch_size * L + 1].reshape(batch_size, L)              # (B, L) next characters
    dtype, H = params["Wh"].dtype, params["Wh"].shape[0]
    zeros = np.zeros((batch_size, H), dtype=dtype)
    opt = Adagrad(params, lr=lr)
    hist = {"step": [], "loss": [], "smooth_loss": [], "seconds": []}
    smooth = float(np.log(_vocab_size(params)))                       # loss of a uniform guess
    t, states, s = 0, None, 0    # t: next new target; states: hidden after positions s-1 .. t-1
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=steps, desc="numpy char-RNN")
    t0 = time.perf_counter()
    for step in range(1, steps + 1):
        if t + k1 > L:                                                # wrap: new pass, fresh state
            t, states, s = 0, None, 0
        start = max(0, t + k1 - k2)                                   # window [start, t + k1)
        h0 = zeros if start == 0 else states[:, start - s]            # state after start - 1
        mask = np.zeros((batch_size, t + k1 - start), dtype=bool)
        mask[:, t - start:] = True                                    # only the k1 new targets
        loss, grads, h = charrnn_loss(params, X[:, start:t + k1], Y[:, start:t + k1], h0, mask)
        if clip_value is not None:
            clip_grad_value(grads, clip_value)
        if clip is not None:
            clip_grad_norm(grads, clip)
        opt.step(grads)
        states = np.concatenate([h0[:, None], h], axis=1)             # (B, 1 + window, H)
        s, t = start, t + k1
        per_char = float(loss) / k1
        smooth = 0.99 * smooth + 0.01 * per_char
        hist["step"].append(step)
        hist["loss"].append(per_char)
        hist["smooth_loss"].append(smooth)
        hist["seconds"].append(time.perf_counter() - t0)
        if bar is not None:
            bar.update(1)
            if step % 10 == 0:
                bar.set_postfix(loss=f"{smooth:.3f}")
        if log is not None and step % log_every == 0:
            log({"step": step, "smooth_loss": smooth})
    if bar is not None:
        bar.close()
    return hist


def sample_charrnn(params: dict, vocab, n: int, *, prefix: str = "", temperature: float = 1.0,
                   seed: int = 0) -> str:
    """Sample ``n`` characters after ``prefix`` (returns ``prefix + sample``); ``temperature=0`` is greedy.

    Formula: p(c_{t+1}) = softmax(o_t / tau); with no prefix the first character is uniform.
    """
    n = int(n)
    rng = np.random.default_rng(seed)
    V, H = _vocab_size(params), params["Wh"].shape[0]
    h = np.zeros((1, H), dtype=params["Wh"].dtype)
    out = []
    scores = None

    def feed(ids, h):
        inp, _ = _inputs(params, np.asarray(ids, dtype=np.int64)[None, :])
        hs, _ = rnn_forward(inp, h, params["Wx"], params["Wh"], params["b"])
        return hs[:, -1] @ params["W_out"] + params["b_out"], hs[:, -1]     # (1, V), (1, H)

    if prefix:
        scores, h = feed(vocab.encode(prefix), h)
    for _ in range(n):
        if scores is None:
            nxt = int(rng.integers(V))
        elif temperature == 0:
            nxt = int(np.argmax(scores[0]))
        else:
            p = softmax(scores[0].astype(np.float64) / temperature)
            nxt = int(rng.choice(V, p=p / p.sum()))
        out.append(nxt)
        scores, h = feed([nxt], h)
    return prefix + vocab.decode(np.asarray(out, dtype=np.int64))
