"""A deep recurrent tagger: ids -> embedding -> L recurrent layers (uni- or bidirectional) -> scores.

``DeepTagger`` scores ``n_classes`` tags at every step (a tagger, or with
``n_classes = V`` a language model; the states of the top layer are also an
encoder's output)::

    e_t     = E[c_t]                                   embedding (N, T, E)
    h^(1)_t = layer_1(e)_t
    h^(l)_t = layer_l(drop(h^(l-1)))_t (+ h^(l-1)_t if residual, l >= 2)
    o_t     = W_hy drop(h^(L)_t) + b_y                 (N, T, K)

Each layer is one ``torch.nn.RNN`` (tanh), ``LSTM`` or ``GRU`` of one layer,
so dropout and the residual connection sit between layers (torch's
``num_layers`` offers dropout but no residual). Bidirectional layers output
``2H`` features, the forward half first. ``forward(ids, hidden=None, lengths=None)
-> (scores, hidden)`` fits :func:`coursekit.train.loop.train`; with ``lengths``
each layer runs on a packed sequence (``pack_padded_sequence``), so padding at the
end changes no output at a valid step, in either direction.
``layer_outputs`` keeps every layer's output of the last call, to read how the
gradient fades across depth. Chapter 6: Deep and bidirectional networks.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from coursekit._validate import check_positive_int

__all__ = ["DeepTagger", "count_parameters"]

_TORCH = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def count_parameters(model: nn.Module) -> int:
    """The number of trainable scalars of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class DeepTagger(nn.Module):
    """Stacked (optionally bidirectional, residual) recurrent tagger: ids (N, T) -> scores (N, T, K).

    Args:
        n_inputs: V, the vocabulary size.
        hidden_size: H per direction.
        n_classes: K tags (default V).
        num_layers: L >= 1.
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        bidirectional: two directions per layer (features 2H).
        residual: add each layer's input to its output from layer 2 on.
        dropout: probability, applied to each layer's input from layer 2 on and to the head's.
        embed_size: E (default: one-hot inputs, E = V, no embedding parameters).
        seed: seeds the initialisation (the global RNG is left untouched).
    """

    def __init__(self, n_inputs, hidden_size, n_classes=None, *, num_layers=1, cell="gru",
                 bidirectional=False, residual=False, dropout=0.0, embed_size=None, seed=0,
                 device=None, dtype=None):
        super().__init__()
        V = check_positive_int("n_inputs", n_inputs)
        H = check_positive_int("hidden_size", hidden_size)
        K = V if n_classes is None else check_positive_int("n_classes", n_classes)
        L = check_positive_int("num_layers", num_layers)
        if cell not in _TORCH:
            raise ValueError(f"cell must be one of {sorted(_TORCH)}, got {cell!r}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        E = None if embed_size is None else check_positive_int("embed_size", embed_size)
        self.config = dict(n_inputs=V, hidden_size=H, n_classes=K, num_layers=L, cell=cell,
                           bidirectional=bool(bidirectional), residual=bool(residual),
                           dropout=float(dropout), embed_size=E, seed=seed)
        self.n_inputs, self.dirs = V, 2 if bidirectional else 1
        kw = dict(device=device, dtype=dtype)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.embed = None if E is None else nn.Embedding(V, E, **kw)
            width = V if E is None else E
            self.layers = nn.ModuleList()
            for _ in range(L):
                self.layers.append(_TORCH[cell](width, H, batch_first=True,
                                                bidirectional=bool(bidirectional), **kw))
                width = self.dirs * H
            self.drop = nn.Dropout(float(dropout))
            self.head = nn.Linear(width, K, **kw)
        self.layer_outputs: list[torch.Tensor] = []

    def forward(self, ids, hidden=None, lengths=None):
        """ids (N, T) -> scores (N, T, K), hidden: a list of each layer's final states.

        ``hidden`` (a list as returned, or None) seeds every layer; ``lengths`` (N,) marks
        the valid prefix of each row (scores at padded steps are then those of zeros).
        """
        if not isinstance(ids, torch.Tensor) or ids.dim() != 2:
            raise ValueError(f"ids must be a torch.Tensor of shape (N, T), got "
                             f"{getattr(ids, 'shape', type(ids).__name__)}")
        if hidden is not None and len(hidden) != len(self.layers):
            raise ValueError(f"hidden must be a list of {len(self.layers)} layer states, "
                             f"got {len(hidden)}")
        if lengths is not None:
            lengths = torch.as_tensor(lengths).cpu()
            if lengths.shape != (ids.shape[0],) or lengths.min() < 1 or lengths.max() > ids.shape[1]:
                raise ValueError(f"lengths must have shape ({ids.shape[0]},) with values in "
                                 f"1..{ids.shape[1]}, got {tuple(lengths.shape)}")
        if self.embed is None:
            x = nn.functional.one_hot(ids, self.n_inputs).to(self.head.weight.dtype)  # (N, T, V)
        else:
            x = self.embed(ids)  # (N, T, E)
        self.layer_outputs, states = [], []
        for l, rnn in enumerate(self.layers):
            inp = x if l == 0 else self.drop(x)
            h0 = None if hidden is None else hidden[l]
            if lengths is None:
                out, h_l = rnn(inp, h0)
            else:
                packed = pack_padded_sequence(inp, lengths, batch_first=True, enforce_sorted=False)
                out, h_l = rnn(packed, h0)
                out, _ = pad_packed_sequence(out, batch_first=True, total_length=ids.shape[1])
            if self.config["residual"] and l > 0:
                out = out + x  # (N, T, dirs*H): same width from layer 2 on
            self.layer_outputs.append(out)
            states.append(h_l)
            x = out
        return self.head(self.drop(x)), states
