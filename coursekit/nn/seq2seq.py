"""Encoder-decoders (GRU, torch) in three forms, the masked sequence loss, and the seeds' step in numpy.

The encoder reads the source ``x_1..x_T`` (embedded) with a GRU, ``h_t = GRU(x_t, h_{t-1})``
(the seeds write the plain form ``h_t = phi(W_x x_t + W_h h_{t-1} + b_h)``), and its final
state is the context vector ``c = h_T`` (both directions' final states, concatenated, for a
bidirectional encoder; padding is skipped, so ``T`` is each sentence's own length).

The decoder state ``s_t`` comes from the previous output ``y_{t-1}``, the previous state and,
depending on the form (``context=``):

- ``"every_step"`` (Cho et al. 2014; the seeds): ``s_t = GRU([E y_{t-1}; c], s_{t-1})``, the
  context enters every step; the seeds' plain form is ``s_t = phi(W_y y_{t-1} + W_s s_{t-1}
  + W_c c + b_s)`` (:func:`context_decoder_step` below computes it in numpy);
- ``"init"`` (Sutskever et al. 2014): ``s_0`` is the context, ``s_t = GRU(E y_{t-1}, s_{t-1})``;
- ``"attention"`` (Luong et al. 2015, attention after the recurrence): ``s_t = GRU(E y_{t-1},
  s_{t-1})``, then ``c_t = attend(s_t, h_1..h_T)`` and ``s~_t = tanh(W_c [s_t; c_t] + b_c)``.

In every form ``s_0 = tanh(W_b c + b_b)`` (for ``"init"`` with equal sizes, ``s_0 = c``), and the
output layer is ``p(y_t | ...) = softmax(W_o s_t + b_o)`` (``s~_t`` with attention); the most
probable token is the greedy choice.

Training is teacher-forced with a ratio: the decoder input at step t is the true ``y_{t-1}``
with probability ``teacher_forcing``, else the model's own previous prediction.
The loss, :func:`masked_sequence_loss`, is the sum of the cross-entropies of the real (non-padding)
target tokens divided by their number: every token weighs the same, whatever the length of
its sentence and however much padding its batch has. Averaging over time steps first (padding
counted as zeros) and then over the batch, :func:`time_then_batch_loss` (d2l's
``MaskedSoftmaxCELoss``, d2l issue #2076), weighs a token of a short sentence less and
changes with the amount of padding; it is kept only to show that.

Chapter 9: Sequence to sequence; chapter 10: Attention.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from coursekit._validate import (Dims, check_array, check_bool_or_01, check_int_array,
                                 check_positive_int, check_same_dtype)
from coursekit.nn.attention import Attention
from coursekit.train.checkpoint import load_checkpoint as _load
from coursekit.train.checkpoint import save_checkpoint as _save

__all__ = ["CONTEXTS", "Seq2Seq", "masked_sequence_loss", "time_then_batch_loss",
           "sequence_cross_entropy", "context_decoder_step", "PAD"]

CONTEXTS = ("every_step", "init", "attention")
PAD = 0


# ---------------------------------------------------------------------- numpy
def context_decoder_step(y_prev, prev_s, c, Wy, Ws, Wc, bs, Wo, bo):
    """The seeds' decoder step with the context fed in, and its softmax output, in numpy.

    Shapes: y_prev (N, V) one-hot (or embedded) previous output, prev_s (N, H), c (N, C),
    Wy (V, H), Ws (H, H), Wc (C, H), bs (H,), Wo (H, K), bo (K,) -> (s (N, H), p (N, K)).
    Formula: s_t = tanh(W_y y_{t-1} + W_s s_{t-1} + W_c c + b_s); p_t = softmax(W_o s_t + b_o).
    Chapter 9: Sequence to sequence.
    """
    dims = Dims()
    for name, a, shape in (("y_prev", y_prev, ("N", "V")), ("prev_s", prev_s, ("N", "H")),
                           ("c", c, ("N", "C")), ("Wy", Wy, ("V", "H")), ("Ws", Ws, ("H", "H")),
                           ("Wc", Wc, ("C", "H")), ("bs", bs, ("H",)), ("Wo", Wo, ("H", "K")),
                           ("bo", bo, ("K",))):
        check_array(name, a, shape, dims)
    check_same_dtype(y_prev=y_prev, prev_s=prev_s, c=c, Wy=Wy, Ws=Ws, Wc=Wc, bs=bs, Wo=Wo, bo=bo)
    s = np.tanh(y_prev @ Wy + prev_s @ Ws + c @ Wc + bs)
    o = s @ Wo + bo
    e = np.exp(o - o.max(axis=1, keepdims=True))
    return s, e / e.sum(axis=1, keepdims=True)


def sequence_cross_entropy(scores, y, mask):
    """Masked sequence cross-entropy, averaged over the real tokens, and its gradient (numpy).

    Shapes: scores (N, T, V), y (N, T) ints in [0, V), mask (N, T) (1 = real token)
    -> loss (scalar), dscores (N, T, V).
    Formula: L = -(1 / sum m) sum_{n,t} m_{n,t} log softmax(o_{n,t})[y_{n,t}];
    dL/do_{n,t} = m_{n,t} (softmax(o_{n,t}) - onehot(y_{n,t})) / sum m.
    Chapter 9: Sequence to sequence.
    """
    dims = Dims()
    check_array("scores", scores, ("N", "T", "V"), dims)
    check_int_array("y", y, ("N", "T"), dims, low=0, high=scores.shape[2])
    m = check_bool_or_01("mask", mask, ("N", "T"), dims).astype(scores.dtype)
    count = m.sum()
    if count == 0:
        raise ValueError("mask has no real token: the mean over real tokens is undefined")
    shifted = scores - scores.max(axis=2, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))  # (N, T, V)
    picked = np.take_along_axis(logp, y[..., None], axis=2)[..., 0]  # (N, T)
    loss = -(m * picked).sum() / count
    dscores = np.exp(logp)
    np.put_along_axis(dscores, y[..., None], np.take_along_axis(dscores, y[..., None], 2) - 1, 2)
    return scores.dtype.type(loss), dscores * (m / count)[..., None]


# ---------------------------------------------------------------------- torch
def masked_sequence_loss(logits, targets, pad: int = PAD):
    """Cross-entropy summed over real target tokens / their number (padding ignored).

    Shapes: logits (N, T, V), targets (N, T) with ``pad`` on padding -> scalar.
    Formula: L = -(1 / #{y != pad}) sum_{(n,t): y != pad} log p(y_{n,t}).
    Chapter 9: Sequence to sequence.
    """
    total = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                            ignore_index=pad, reduction="sum")
    return total / (targets != pad).sum().clamp(min=1)


def time_then_batch_loss(logits, targets, pad: int = PAD):
    """The classic mistake (d2l's MaskedSoftmaxCELoss): mean over all T steps, then over the batch.

    Shapes: logits (N, T, V), targets (N, T) -> scalar.
    Formula: L' = (1/N) sum_n (1/T) sum_t m_{n,t} (-log p(y_{n,t})), with T the padded length.
    Chapter 9 shows why not: L' depends on how much padding the batch has.
    """
    per_token = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")  # (N, T)
    return (per_token * (targets != pad)).mean(dim=1).mean()


class Seq2Seq(nn.Module):
    """A GRU encoder-decoder: context at every step, context as initial state, or attention.

    Shapes: src (N, S) ids padded with 0, src_len (N,), tgt_in (N, T) = <bos> y_1..y_{T-1}
    -> logits (N, T, V_tgt) and attention weights (N, T, S) (``None`` without attention).
    Formula: module docstring. ``init_state`` and ``decoder_step`` give the step function
    that :mod:`coursekit.decode` searches with: ``decoder_step(tokens (R,), state) ->
    (log_probs (R, V), state)``, every tensor of the state batch-first.
    Chapters 9 and 10.
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, *, embed: int = 64, hidden: int = 256,
                 context: str = "attention", attention: str = "general",
                 bidirectional: bool = False, encoder_layers: int = 1, dropout: float = 0.0,
                 device=None, dtype=None):
        super().__init__()
        if context not in CONTEXTS:
            raise ValueError(f"context must be one of {CONTEXTS}, got {context!r}")
        V_s, V_t = check_positive_int("src_vocab", src_vocab), check_positive_int("tgt_vocab", tgt_vocab)
        E, H = check_positive_int("embed", embed), check_positive_int("hidden", hidden)
        f = {"device": device, "dtype": dtype}
        self.config = dict(src_vocab=V_s, tgt_vocab=V_t, embed=E, hidden=H, context=context,
                           attention=attention, bidirectional=bool(bidirectional),
                           encoder_layers=encoder_layers, dropout=dropout)
        self.context = context
        He = H * (2 if bidirectional else 1)
        self.src_embed = nn.Embedding(V_s, E, padding_idx=PAD, **f)
        self.tgt_embed = nn.Embedding(V_t, E, padding_idx=PAD, **f)
        self.encoder = nn.GRU(E, H, num_layers=encoder_layers, batch_first=True,
                              bidirectional=bidirectional,
                              dropout=dropout if encoder_layers > 1 else 0.0, **f)
        self.decoder = nn.GRU(E + (He if context == "every_step" else 0), H, batch_first=True, **f)
        self.bridge = None if (context == "init" and He == H) else nn.Linear(He, H, **f)
        self.attn = self.combine = None
        if context == "attention":
            self.attn = Attention(attention, H, He, device=device, dtype=dtype)
            self.combine = nn.Linear(H + He, H, **f)
        self.out = nn.Linear(H, V_t, **f)
        self.drop = nn.Dropout(dropout)

    # ---------------------------------------------------------------- encoder
    def encode(self, src, src_len):
        """-> (h (N, S, He) encoder states, zero on padding; c (N, He) context; mask (N, S) bool)."""
        if src.dim() != 2 or src_len.shape != src.shape[:1]:
            raise ValueError(f"src must be (N, S) and src_len (N,), got {tuple(src.shape)} "
                             f"and {tuple(src_len.shape)}")
        emb = self.drop(self.src_embed(src))
        packed = pack_padded_sequence(emb, src_len.cpu(), batch_first=True, enforce_sorted=False)
        out, h_n = self.encoder(packed)
        h, _ = pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        if self.encoder.bidirectional:  # last layer, both directions: (N, 2H)
            c = torch.cat([h_n[-2], h_n[-1]], dim=1)
        else:
            c = h_n[-1]
        mask = torch.arange(src.shape[1], device=src.device)[None, :] < src_len.to(src.device)[:, None]
        return h, c, mask

    def init_state(self, src, src_len):
        """The decoder's starting state (s_0 (N, H), c, h, keys, mask); c (N, He) only for
        "every_step", h (N, S, He) and mask (N, S) only with attention, keys (N, S, A) only
        for additive attention (else empty tensors)."""
        h, c, mask = self.encode(src, src_len)
        s0 = c if self.bridge is None else torch.tanh(self.bridge(c))
        # only what the decoder reads travels with each hypothesis (beam search copies it)
        keys = self.attn.prepare(h) if self.attn is not None and self.attn.kind == "additive" \
            else h[:, :0]
        if self.attn is None:
            h, mask = h[:, :0], mask[:, :0]
        if self.context != "every_step":
            c = c[:, :0]
        return (s0, c, h, keys, mask)

    # ---------------------------------------------------------------- decoder
    def _readout(self, s, state):
        """Decoder outputs s (N, T, H) -> logits (N, T, V), attention (N, T, S) or None."""
        _, _, h, keys, mask = state
        if self.attn is None:
            return self.out(self.drop(s)), None
        ctx, alpha = self.attn(s, h, mask, prepared=keys if keys.shape[1] else None)
        s_tilde = torch.tanh(self.combine(torch.cat([s, ctx], dim=-1)))
        return self.out(self.drop(s_tilde)), alpha

    def _decode(self, tokens, state):
        """Teacher-forced decoder over tokens (N, T) from state -> logits, alpha, next state."""
        s0, c = state[0], state[1]
        inp = self.drop(self.tgt_embed(tokens))  # (N, T, E)
        if self.context == "every_step":
            inp = torch.cat([inp, c[:, None, :].expand(-1, tokens.shape[1], -1)], dim=-1)
        s, s_last = self.decoder(inp, s0[None].contiguous())
        logits, alpha = self._readout(s, state)
        return logits, alpha, (s_last[0],) + tuple(state[1:])

    def decoder_step(self, tokens, state):
        """One decoding step for a batch of hypotheses: tokens (R,) -> (log_probs (R, V), state)."""
        logits, _, state = self._decode(tokens[:, None], state)
        return torch.log_softmax(logits[:, 0].float(), dim=-1), state

    def forward(self, src, src_len, tgt_in, *, teacher_forcing: float = 1.0, generator=None):
        """Logits (N, T, V) and attention (N, T, S) or None, teacher-forced with that ratio.

        With ``teacher_forcing < 1`` the decoder runs one step at a time and, at each step
        t >= 1, each sentence feeds its own previous prediction (argmax) instead of the true
        ``tgt_in[:, t]`` with probability ``1 - teacher_forcing`` (drawn from ``generator``).
        """
        if not 0.0 <= teacher_forcing <= 1.0:
            raise ValueError(f"teacher_forcing must be in [0, 1], got {teacher_forcing!r}")
        state = self.init_state(src, src_len)
        if teacher_forcing == 1.0:
            logits, alpha, _ = self._decode(tgt_in, state)
            return logits, alpha
        N, T = tgt_in.shape
        use_truth = torch.rand(N, T, generator=generator, device="cpu").to(tgt_in.device) < teacher_forcing
        tokens, all_logits, all_alpha = tgt_in[:, 0], [], []
        for t in range(T):
            if t > 0:
                tokens = torch.where(use_truth[:, t], tgt_in[:, t], all_logits[-1].argmax(-1))
            logits, alpha, state = self._decode(tokens[:, None], state)
            all_logits.append(logits[:, 0])
            all_alpha.append(alpha)
        alpha = None if self.attn is None else torch.cat(all_alpha, dim=1)
        return torch.stack(all_logits, dim=1), alpha

    # ------------------------------------------------------------ inference
    def _batches(self, sources, batch_size):
        device = self.out.weight.device
        order = sorted(range(len(sources)), key=lambda i: len(sources[i]))  # less padding
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            lengths = torch.tensor([len(sources[i]) for i in idx], device=device)
            src = torch.zeros(len(idx), int(lengths.max()), dtype=torch.long, device=device)
            for row, i in enumerate(idx):
                src[row, :len(sources[i])] = torch.as_tensor(sources[i], device=device)
            yield idx, src, lengths

    @torch.no_grad()
    def generate(self, sources, *, beam_size: int = 1, alpha: float = 0.0, max_len: int = 40,
                 batch_size: int = 256, bos: int = 1, eos: int = 2):
        """Decode source id lists -> target id lists (without ``eos``), greedy or beam search.

        Batched over sentences (and beams) with :func:`coursekit.decode.greedy_decode` /
        :func:`coursekit.decode.beam_search_batched`; the model is put in eval mode.
        """
        from coursekit.decode import beam_search_batched, greedy_decode
        was = self.training
        self.eval()
        out = [None] * len(sources)
        for idx, src, lengths in self._batches(sources, batch_size):
            state = self.init_state(src, lengths)
            if beam_size == 1:
                tokens, n, _ = greedy_decode(self.decoder_step, state, bos, eos, max_len)
            else:
                tokens, n, _ = beam_search_batched(self.decoder_step, state, bos, eos,
                                                   beam_size, max_len, alpha)
            for row, i in enumerate(idx):
                seq = tokens[row, :int(n[row])].tolist()
                out[i] = seq[:-1] if seq and seq[-1] == eos else seq
        self.train(was)
        return out

    @torch.no_grad()
    def alignment(self, source, target, *, bos: int = 1):
        """Attention weights (T+1, S) of one teacher-forced pass: row t is where the decoder
        looked while emitting target token t (the last row: while emitting ``eos``)."""
        if self.attn is None:
            raise ValueError("this model has no attention (context != 'attention')")
        device = self.out.weight.device
        was = self.training
        self.eval()
        src = torch.as_tensor([list(source)], device=device)
        tgt = torch.as_tensor([[bos] + list(target)], device=device)
        _, alpha = self(src, torch.tensor([len(source)], device=device), tgt)
        self.train(was)
        return alpha[0].cpu().numpy()


# ----------------------------------------------------------------- checkpoints
def save_checkpoint(path, model: Seq2Seq, src_itos, tgt_itos, *, metrics: dict | None = None,
                    extra: dict | None = None):
    """:func:`coursekit.train.checkpoint.save_checkpoint` with both vocabularies in ``extra``
    (plus any other plain data in ``extra``, for instance a subword segmenter's merges)."""
    return _save(path, model, extra={**(extra or {}), "src_itos": list(src_itos),
                                     "tgt_itos": list(tgt_itos)}, metrics=metrics)


def load_checkpoint(path, *, device="cpu", dtype=torch.float32):
    """-> (model in eval mode, src_itos, tgt_itos, metrics), via coursekit.train.checkpoint."""
    model, info = _load(path, device=device, dtype=dtype)
    if not isinstance(model, Seq2Seq):
        raise ValueError(f"{path} holds a {type(model).__name__}, not a Seq2Seq")
    return model, info["extra"]["src_itos"], info["extra"]["tgt_itos"], info["metrics"]
