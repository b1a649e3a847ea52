"""The numpy image captioner in the API instructors know from CS231n: ``CaptioningRNN``.

A CNN has already turned each image into a feature vector ``x_img`` (D,). The
captioner is chapter 1's one-to-many network made concrete::

    h_0 = W_proj^T x_img + b_proj            (c_0 = 0 for the LSTM)
    e_t = W_embed[w_t]                       the word fed at step t (w_0 = <START>)
    h_t = cell(e_t, h_{t-1})                 tanh RNN or LSTM (gates i, f, g, o)
    o_t = W_vocab^T h_t + b_vocab            scores over the vocabulary

Training (teacher forcing) feeds ``captions[:, :-1]`` and predicts
``captions[:, 1:]``; ``<NULL>`` targets (padding) are masked out; the loss is
the cross-entropy summed over time and averaged over the batch. Everything is
composed from :mod:`coursekit.nn.layers`, :mod:`coursekit.nn.rnn` and
:mod:`coursekit.nn.lstm`; nothing here is a new layer. Chapter 11.
"""
from __future__ import annotations

import numpy as np

from coursekit._validate import Dims, check_array, check_int_array, check_positive_int
from coursekit.nn import lstm, rnn
from coursekit.nn.layers import (affine_backward, affine_forward, embedding_backward,
                                 embedding_forward, temporal_affine_backward,
                                 temporal_affine_forward, temporal_softmax_loss)

__all__ = ["CaptioningRNN", "decode_captions"]

PARAM_NAMES = ("W_proj", "b_proj", "W_embed", "Wx", "Wh", "b", "W_vocab", "b_vocab")


class CaptioningRNN:
    """An image-conditioned RNN/LSTM language model (numpy, forward and backward).

    Args:
        word_to_idx: dict word -> index in [0, V); must contain ``"<NULL>"``,
            ``"<START>"`` and ``"<END>"``.
        input_dim: D, the size of an image feature vector.
        wordvec_dim: W, the size of a word vector.
        hidden_dim: H, the size of the hidden state.
        cell_type: ``"rnn"`` (tanh) or ``"lstm"`` (gates stacked i, f, g, o).
        dtype: np.float32 or np.float64 (use float64 for gradient checks).
        seed: seed of the random initialisation.

    Parameters (``self.params``): W_proj (D, H), b_proj (H,), W_embed (V, W),
    Wx (W, G*H), Wh (H, G*H), b (G*H,), W_vocab (H, V), b_vocab (V,) with
    G = 1 for the RNN and 4 for the LSTM. Chapter 11.
    """

    def __init__(self, word_to_idx, input_dim=512, wordvec_dim=128, hidden_dim=128,
                 cell_type="rnn", dtype=np.float64, *, seed=0):
        if cell_type not in ("rnn", "lstm"):
            raise ValueError(f'cell_type must be "rnn" or "lstm", got {cell_type!r}')
        if np.dtype(dtype) not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {np.dtype(dtype)}")
        if not isinstance(word_to_idx, dict):
            raise TypeError(f"word_to_idx must be a dict word -> index, got {type(word_to_idx).__name__}")
        missing = [w for w in ("<NULL>", "<START>", "<END>") if w not in word_to_idx]
        if missing:
            raise ValueError(f"word_to_idx must contain the special tokens {missing}")
        V = len(word_to_idx)
        if sorted(word_to_idx.values()) != list(range(V)):
            raise ValueError(f"word_to_idx must map its {V} words onto the indices 0..{V - 1}")
        D = check_positive_int("input_dim", input_dim)
        W = check_positive_int("wordvec_dim", wordvec_dim)
        H = check_positive_int("hidden_dim", hidden_dim)
        self.cell_type = cell_type
        self.dtype = np.dtype(dtype)
        self.word_to_idx = dict(word_to_idx)
        self.idx_to_word = {i: w for w, i in word_to_idx.items()}
        self._null = word_to_idx["<NULL>"]
        self._start = word_to_idx["<START>"]
        self._end = word_to_idx["<END>"]
        G = 4 if cell_type == "lstm" else 1
        rng = np.random.default_rng(seed)
        p = {"W_proj": rng.standard_normal((D, H)) / np.sqrt(D), "b_proj": np.zeros(H),
             "W_embed": rng.standard_normal((V, W)) / 100,
             "Wx": rng.standard_normal((W, G * H)) / np.sqrt(W),
             "Wh": rng.standard_normal((H, G * H)) / np.sqrt(H), "b": np.zeros(G * H),
             "W_vocab": rng.standard_normal((H, V)) / np.sqrt(H), "b_vocab": np.zeros(V)}
        self.params = {k: p[k].astype(self.dtype) for k in PARAM_NAMES}

    # ---------------------------------------------------------------- helpers
    def _check_features(self, features, dims):
        check_array("features", features, ("N", self.params["W_proj"].shape[0]), dims)
        if features.dtype != self.dtype:
            raise ValueError(f"features must have the model's dtype {self.dtype}, got {features.dtype}")

    def _recurrence_forward(self, x, h0):
        p = self.params
        if self.cell_type == "rnn":
            return rnn.rnn_forward(x, h0, p["Wx"], p["Wh"], p["b"])
        h, _, cache = lstm.lstm_forward(x, h0, p["Wx"], p["Wh"], p["b"])
        return h, cache

    def _recurrence_backward(self, dh, cache):
        if self.cell_type == "rnn":
            return rnn.rnn_backward(dh, cache)
        dx, dh0, _, dWx, dWh, db = lstm.lstm_backward(dh, cache)
        return dx, dh0, dWx, dWh, db

    # ------------------------------------------------------------------- loss
    def loss(self, features, captions):
        """Teacher-forced loss of a batch of captions and the gradient of every parameter.

        Shapes: features (N, D), captions (N, T+1) ints in [0, V) (each starts with
        <START>, ends with <END>, padded with <NULL>) -> loss (scalar), grads (dict
        with the keys and shapes of ``params``).
        Formula: L = -(1/N) sum_n sum_{t=1..T} [w_{n,t} != <NULL>] log p(w_{n,t} | w_{n,<t}, x_n),
        the inputs being captions[:, :-1] and the targets captions[:, 1:].
        Chapter 11.
        """
        dims = Dims()
        self._check_features(features, dims)
        check_int_array("captions", captions, ("N", "T"), dims, low=0, high=len(self.word_to_idx))
        if captions.shape[1] < 2:
            raise ValueError(f"captions must have shape (N, T+1) with T+1 >= 2 (<START> and a "
                             f"target), got shape {captions.shape}")
        p = self.params
        captions_in, captions_out = captions[:, :-1], captions[:, 1:]  # (N, T) each
        mask = captions_out != self._null  # (N, T): padding is not a target
        h0, proj_cache = affine_forward(features, p["W_proj"], p["b_proj"])  # (N, H)
        x, embed_cache = embedding_forward(captions_in, p["W_embed"])  # (N, T, W)
        h, rec_cache = self._recurrence_forward(x, h0)  # (N, T, H)
        scores, vocab_cache = temporal_affine_forward(h, p["W_vocab"], p["b_vocab"])  # (N, T, V)
        loss, dscores = temporal_softmax_loss(scores, captions_out, mask)

        grads = {}
        dh, grads["W_vocab"], grads["b_vocab"] = temporal_affine_backward(dscores, vocab_cache)
        dx, dh0, grads["Wx"], grads["Wh"], grads["b"] = self._recurrence_backward(dh, rec_cache)
        grads["W_embed"] = embedding_backward(dx, embed_cache)
        _, grads["W_proj"], grads["b_proj"] = affine_backward(dh0, proj_cache)
        return loss, {k: grads[k] for k in PARAM_NAMES}

    # ----------------------------------------------------------------- sample
    def sample(self, features, max_length=30):
        """Greedy captions: feed <START>, then each step's most likely word.

        Shapes: features (N, D) -> captions (N, max_length) ints; column 0 is the
        first generated word (not <START>). After a caption produces <END>, its
        remaining positions hold <NULL> (up to and including the first <END> this
        is CS231n's greedy sampler, which keeps going).
        Formula: w_t = argmax_v o_t[v] with o_t = W_vocab^T h_t + b_vocab,
        h_t = cell(W_embed[w_{t-1}], h_{t-1}), h_0 = W_proj^T x + b_proj.
        Chapter 11.
        """
        dims = Dims()
        self._check_features(features, dims)
        max_length = check_positive_int("max_length", max_length)
        p = self.params
        N = features.shape[0]
        captions = np.full((N, max_length), self._null, dtype=np.int64)
        h, _ = affine_forward(features, p["W_proj"], p["b_proj"])  # (N, H)
        c = np.zeros_like(h)
        word = np.full(N, self._start, dtype=np.int64)
        done = np.zeros(N, dtype=bool)
        for t in range(max_length):
            x, _ = embedding_forward(word[:, None], p["W_embed"])  # (N, 1, W)
            if self.cell_type == "rnn":
                h, _ = rnn.rnn_step_forward(x[:, 0], h, p["Wx"], p["Wh"], p["b"])
            else:
                h, c, _ = lstm.lstm_step_forward(x[:, 0], h, c, p["Wx"], p["Wh"], p["b"])
            scores, _ = affine_forward(h, p["W_vocab"], p["b_vocab"])  # (N, V)
            word = scores.argmax(axis=1)
            captions[~done, t] = word[~done]
            done |= word == self._end
            if done.all():
                break
        return captions


def decode_captions(captions, idx_to_word):
    """Turn int captions into strings, stopping at <END> and skipping <NULL> and <START>.

    Shapes: captions (N, T) or (T,) ints -> a list of N strings (or one string).
    Chapter 11.
    """
    check_int_array("captions", captions)
    single = captions.ndim == 1
    rows = captions[None] if single else captions
    out = []
    for row in rows:
        words = []
        for i in row:
            w = idx_to_word[int(i)]
            if w == "<END>":
                break
            if w not in ("<NULL>", "<START>"):
                words.append(w)
        out.append(" ".join(words))
    return out[0] if single else out
