"""Torch image captioners: Show and Tell (Vinyals et al. 2015) and Show, Attend and Tell (Xu et al. 2015).

Both encode an image with a :class:`~coursekit.nn.cnn.ConvEncoder` into a map of
``L = H' x W'`` feature vectors ``a_1 .. a_L`` (C each) and decode with an LSTM
cell, starting from ``h_0 = tanh(W_h abar)``, ``c_0 = tanh(W_c abar)`` where
``abar`` is the feature map average-pooled to an ``init_grid x init_grid`` grid and
flattened (``init_grid=1``: the mean feature; a grid as fine as the map: the whole map,
as the fully connected image embedding of Vinyals et al.). With ``image_input=True``
(Show and Tell only) the image is instead the LSTM's first input, as in Vinyals et al.:
``h_0, c_0 = LSTM(x_{-1} = W_I abar, (0, 0))``, and the words follow from there::

    Show and Tell:           h_t = LSTM(E w_{t-1}, h_{t-1});         o_t = W_o h_t
    Show, Attend and Tell:   alpha_t = softmax_l(v^T tanh(W_q h_{t-1} + W_k a_l))
                             z_t = sum_l alpha_{t,l} a_l             (the context)
                             h_t = LSTM([E w_{t-1}; z_t], h_{t-1});  o_t = W_o [h_t; z_t]

The attention is :class:`coursekit.nn.attention.Attention` (additive) of chapter
10; decoding runs :func:`coursekit.decode.greedy_decode` and
:func:`coursekit.decode.beam_search_batched` over :meth:`Captioner.decoder_step`,
as the seq2seq models of chapter 9 do. Token ids follow
:func:`coursekit.data.emoji.build_vocab`: ``<NULL>`` = 0, ``<START>`` = 1, ``<END>`` = 2.
Chapter 11.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from coursekit._validate import check_positive_int
from coursekit.nn.attention import Attention
from coursekit.nn.cnn import ConvEncoder

__all__ = ["Captioner", "ShowAndTell", "ShowAttendTell", "images_to_tensor", "caption_loss",
           "NULL", "START", "END"]

NULL, START, END = 0, 1, 2


def images_to_tensor(images: np.ndarray, device=None, dtype=torch.float32) -> torch.Tensor:
    """uint8 images (N, H, W, 3) -> normalised float (N, 3, H, W): (x / 255 - 0.5) / 0.25."""
    if not isinstance(images, np.ndarray) or images.ndim != 4 or images.shape[-1] != 3 \
            or images.dtype != np.uint8:
        raise ValueError(f"images must be a uint8 numpy array of shape (N, H, W, 3), got "
                         f"{getattr(images, 'dtype', type(images).__name__)} "
                         f"{getattr(images, 'shape', '')}")
    x = torch.as_tensor(images, device=device).permute(0, 3, 1, 2).to(dtype)
    return (x / 255 - 0.5) / 0.25


def caption_loss(logits, targets, null: int = NULL):
    """Cross-entropy summed over the real (non-``<NULL>``) target words / their number.

    Shapes: logits (N, T, V), targets (N, T) -> scalar. (The numpy CaptioningRNN sums
    over time and averages over captions; per word is the same up to the mean length
    and keeps the learning rate independent of it.)
    """
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                           ignore_index=null, reduction="sum") / (targets != null).sum().clamp(min=1)


class Captioner(nn.Module):
    """The shared encoder, embedding, initial state and decoding of both captioners.

    Args: vocab_size V; embed E; hidden H; channels and pools of the ConvEncoder;
    dropout on the embedding and the read-out; attn_size A (attention only); init_grid g:
    the initial state reads the map average-pooled to g x g cells (C g^2 numbers);
    image_input: the pooled map enters as the first LSTM input x_{-1} instead of setting
    (h_0, c_0) through tanh layers (Show and Tell only).
    Shapes: images (N, 3, H_img, W_img), captions_in (N, T) (``<START> w_1 ..``) ->
    logits (N, T, V) and attention (N, T, L) (``None`` for Show and Tell).
    """

    attention = False

    def __init__(self, vocab_size: int, *, embed: int = 64, hidden: int = 256,
                 channels=(32, 64, 128), pools=None, dropout: float = 0.2,
                 attn_size: int = 128, init_grid: int = 1, image_input: bool = False,
                 device=None, dtype=None):
        super().__init__()
        V, E, H = (check_positive_int(n, v) for n, v in
                   (("vocab_size", vocab_size), ("embed", embed), ("hidden", hidden)))
        self.config = dict(vocab_size=V, embed=E, hidden=H, channels=list(channels),
                           pools=None if pools is None else [p if isinstance(p, int) else list(p)
                                                             for p in pools],
                           dropout=float(dropout), attn_size=int(attn_size),
                           init_grid=check_positive_int("init_grid", init_grid),
                           image_input=bool(image_input))
        if image_input and self.attention:
            raise ValueError("image_input=True is Show and Tell's form; Show, Attend and Tell "
                             "reads the image through its attention")
        f = {"device": device, "dtype": dtype}
        self.encoder = ConvEncoder(3, channels, pools, device=device, dtype=dtype)
        C = self.encoder.out_channels
        self.embed = nn.Embedding(V, E, padding_idx=NULL, **f)
        G = C * self.config["init_grid"] ** 2
        if image_input:  # x_{-1} = W_I abar, an input like a word embedding
            self.init_x = nn.Linear(G, E, **f)
        else:
            self.init_h = nn.Linear(G, H, **f)
            self.init_c = nn.Linear(G, H, **f)
        self.attn = Attention("additive", H, C, attn_size, device=device, dtype=dtype) \
            if self.attention else None
        self.cell = nn.LSTMCell(E + (C if self.attention else 0), H, **f)
        self.out = nn.Linear(H + (C if self.attention else 0), V, **f)
        self.drop = nn.Dropout(dropout)

    # ---------------------------------------------------------------- encoder
    def features(self, images):
        """Images -> the feature map as L vectors: (N, L, C), L = H' * W' (row-major)."""
        a = self.encoder(images)  # (N, C, H', W')
        return a.flatten(2).transpose(1, 2)  # (N, L, C)

    def init_state(self, images):
        """{"h", "c"} (N, H) from the pooled map abar (N, C g^2) (through tanh layers, or one
        LSTM step on x_{-1} = W_I abar with ``image_input``); "feats" (N, L, C) and
        "keys" (N, L, A) for the attention model (only what the decoder reads: beam search
        copies it)."""
        a = self.encoder(images)  # (N, C, H', W')
        feats = a.flatten(2).transpose(1, 2)  # (N, L, C)
        g = self.config["init_grid"]
        abar = a.mean(dim=(2, 3)) if g == 1 else F.adaptive_avg_pool2d(a, g).flatten(1)
        if self.config["image_input"]:
            zero = abar.new_zeros(abar.shape[0], self.cell.hidden_size)
            h, c = self.cell(self.init_x(abar), (zero, zero))
            state = {"h": h, "c": c}
        else:
            state = {"h": torch.tanh(self.init_h(abar)), "c": torch.tanh(self.init_c(abar))}
        if self.attention:
            state["feats"], state["keys"] = feats, self.attn.prepare(feats)
        return state

    # ---------------------------------------------------------------- decoder
    def _step(self, tokens, state):
        """tokens (R,) -> logits (R, V), attention (R, L) or None, next state."""
        x = self.drop(self.embed(tokens))  # (R, E)
        alpha = None
        if self.attention:
            z, alpha = self.attn(state["h"], state["feats"], prepared=state["keys"])  # (R, C)
            x = torch.cat([x, z], dim=1)
        h, c = self.cell(x, (state["h"], state["c"]))
        read = torch.cat([h, z], dim=1) if self.attention else h
        return self.out(self.drop(read)), alpha, {**state, "h": h, "c": c}

    def decoder_step(self, tokens, state):
        """One step for a batch of hypotheses: tokens (R,) -> (log_probs (R, V), state)."""
        logits, _, state = self._step(tokens, state)
        return torch.log_softmax(logits.float(), dim=-1), state

    def forward(self, images, captions_in):
        """Teacher-forced logits (N, T, V) and attention (N, T, L) or None."""
        if not isinstance(captions_in, torch.Tensor) or captions_in.dim() != 2 \
                or captions_in.shape[0] != images.shape[0]:
            raise ValueError(f"captions_in must be a (N, T) tensor of ids with N = "
                             f"{images.shape[0]}, got {tuple(getattr(captions_in, 'shape', ()))}")
        state = self.init_state(images)
        logits, alphas = [], []
        for t in range(captions_in.shape[1]):
            lg, alpha, state = self._step(captions_in[:, t], state)
            logits.append(lg)
            alphas.append(alpha)
        return torch.stack(logits, 1), (torch.stack(alphas, 1) if self.attention else None)

    # ------------------------------------------------------------ inference
    @torch.no_grad()
    def generate(self, images, *, beam_size: int = 1, alpha: float = 0.0, max_len: int = 20,
                 batch_size: int = 256):
        """Caption images (N, 3, H, W) -> a list of N id lists (without ``<END>``).

        Greedy (``beam_size=1``) or beam search with length normalisation ``alpha``,
        batched with :mod:`coursekit.decode`; the model is put in eval mode.
        """
        from coursekit.decode import beam_search_batched, greedy_decode
        was = self.training
        self.eval()
        out = []
        for s in range(0, images.shape[0], batch_size):
            state = self.init_state(images[s:s + batch_size])
            if beam_size == 1:
                tokens, n, _ = greedy_decode(self.decoder_step, state, START, END, max_len)
            else:
                tokens, n, _ = beam_search_batched(self.decoder_step, state, START, END,
                                                   beam_size, max_len, alpha)
            for row in range(tokens.shape[0]):
                seq = tokens[row, :int(n[row])].tolist()
                out.append(seq[:-1] if seq and seq[-1] == END else seq)
        self.train(was)
        return out

    @torch.no_grad()
    def attention_maps(self, image, tokens):
        """Where the model looked while emitting each of ``tokens`` and then ``<END>``:
        image (3, H, W), tokens (T,) ids -> (T + 1, H', W') weights, each map summing to 1."""
        if not self.attention:
            raise ValueError("Show and Tell has no attention: use ShowAttendTell")
        was = self.training
        self.eval()
        caps = torch.tensor([[START] + list(tokens)], device=image.device)
        _, alpha = self(image[None], caps)  # (1, T+1, L)
        self.train(was)
        h, w = self.encoder.output_size(image.shape[1], image.shape[2])
        return alpha[0].reshape(-1, h, w).cpu().numpy()


class ShowAndTell(Captioner):
    """Show and Tell: the image initialises the LSTM; every word is read from h_t alone.
    Chapter 11."""
    attention = False


class ShowAttendTell(Captioner):
    """Show, Attend and Tell: soft additive attention over the CNN's feature map at every
    step; the context z_t enters the LSTM and the read-out. Chapter 11."""
    attention = True
