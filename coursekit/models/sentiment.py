"""Sentiment classification, a many-to-one task: a review's token ids -> P(positive).

``SentimentRNN`` embeds the ids, runs an LSTM or GRU (one direction or both) over
the *packed* batch, so that padding never enters a state, pools the valid steps
(:mod:`coursekit.nn.pooling`) and scores the summary with one linear layer::

    x_t = E[w_t]                              (N, T, D)
    h_t = GRU(x_t, h_{t-1})  (both ways: [h_fwd_t ; h_bwd_t])   (N, T, dirs*H)
    z   = pool(h_1..h_len)                    (N, P)   last, mean, max or mean+max
    p   = sigmoid(w^T z + b)                  (N,)

Also here: ``batches`` (length-bucketed, padded mini-batches), ``predict_proba``,
``prefix_proba`` (the prediction after each word of one review, for the explorer)
and ``train_sentiment`` (a seeded Adam loop with clipping and a progress bar).
Chapter 7: Applications.
"""
from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from coursekit.nn.pooling import Pool

__all__ = ["SentimentRNN", "batches", "predict_proba", "prefix_proba", "train_sentiment"]

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU}


class SentimentRNN(nn.Module):
    """Embedding -> LSTM/GRU over a packed batch -> pooling -> one logit per review.

    Args:
        vocab_size: V (id 0 is ``<pad>``; its embedding row stays 0).
        embed_dim: D. hidden_size: H per direction.
        cell: ``"lstm"`` or ``"gru"``. bidirectional: run a second layer right to left.
        pool: ``"last"``, ``"mean"``, ``"max"`` or ``"meanmax"`` (over the valid steps;
            ``"last"`` with both directions concatenates the forward state at the last
            real word and the backward state at the first, i.e. both final states).
        dropout: on the embeddings and on the pooled summary.

    ``forward(ids (N, T) int64, lengths (N,) int64) -> logits (N,)``.
    """

    def __init__(self, vocab_size: int, *, embed_dim: int = 64, hidden_size: int = 64,
                 cell: str = "gru", bidirectional: bool = True, pool: str = "meanmax",
                 dropout: float = 0.3, device=None, dtype=None):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {tuple(CELLS)}, got {cell!r}")
        self.config = dict(vocab_size=vocab_size, embed_dim=embed_dim, hidden_size=hidden_size,
                           cell=cell, bidirectional=bidirectional, pool=pool, dropout=dropout)
        kw = dict(device=device, dtype=dtype)
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0, **kw)
        self.rnn = CELLS[cell](embed_dim, hidden_size, batch_first=True,
                               bidirectional=bidirectional, **kw)
        self.pool = Pool(pool)
        self.drop = nn.Dropout(dropout)
        self.dirs = 2 if bidirectional else 1
        self.out = nn.Linear(self.pool.out_features(self.dirs * hidden_size), 1, **kw)

    def states(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The recurrent states ``(N, T, dirs*H)``, zero on padding (the packed run skips it)."""
        if ids.dim() != 2:
            raise ValueError(f"ids must have shape (N, T), got {tuple(ids.shape)}")
        lengths = torch.as_tensor(lengths).long().cpu()
        if lengths.shape != (ids.shape[0],) or lengths.min() < 1 or lengths.max() > ids.shape[1]:
            raise ValueError(f"lengths must have shape ({ids.shape[0]},) with values in "
                             f"[1, {ids.shape[1]}], got {lengths.tolist()[:8]}")
        x = self.drop(self.embed(ids))                               # (N, T, D)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.rnn(packed)
        h, _ = pad_packed_sequence(out, batch_first=True, total_length=ids.shape[1])
        return h                                                     # (N, T, dirs*H)

    def summary(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The pooled vector ``z`` (N, P) that the classifier reads."""
        h = self.states(ids, lengths)
        lengths = torch.as_tensor(lengths, device=h.device).long()
        if self.pool.mode == "last" and self.dirs == 2:
            H = h.shape[-1] // 2
            fwd = Pool("last")(h[..., :H], lengths)                  # forward, at the last word
            return torch.cat([fwd, h[:, 0, H:]], dim=-1)             # backward, at the first
        return self.pool(h, lengths)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.out(self.drop(self.summary(ids, lengths))).squeeze(-1)


def batches(ids_list, labels, batch_size: int, *, shuffle: bool, seed: int = 0):
    """Padded mini-batches ``(ids (B, T), lengths (B,), labels (B,))`` of similar lengths.

    Reviews are sorted by length and cut into batches (little padding), and the order of
    the batches is shuffled with ``seed`` when ``shuffle``. ``ids_list``: lists of ids.
    """
    lengths = np.array([max(len(s), 1) for s in ids_list])
    order = np.argsort(lengths, kind="stable")
    if shuffle:                                   # jitter within similar lengths, then shuffle
        rng = np.random.default_rng(seed)
        order = np.argsort(lengths + rng.uniform(0, 8, len(lengths)), kind="stable")
    chunks = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if shuffle:
        rng.shuffle(chunks)
    labels = np.asarray(labels)
    for idx in chunks:
        L = lengths[idx]
        ids = np.zeros((len(idx), L.max()), dtype=np.int64)
        for row, i in enumerate(idx):
            ids[row, :len(ids_list[i])] = ids_list[i]
        yield torch.from_numpy(ids), torch.from_numpy(L), torch.from_numpy(labels[idx])


@torch.no_grad()
def predict_proba(model: SentimentRNN, ids_list, *, batch_size: int = 256,
                  device="cpu") -> np.ndarray:
    """P(positive) for each review (lists of ids) -> float64 array (N,), in input order."""
    model.eval()
    out = np.zeros(len(ids_list))
    lengths = np.array([max(len(s), 1) for s in ids_list])
    order = np.argsort(lengths, kind="stable")
    fake = np.zeros(len(ids_list), dtype=np.int64)
    pos = 0
    for ids, L, _ in batches([ids_list[i] for i in order], fake, batch_size, shuffle=False):
        p = torch.sigmoid(model(ids.to(device), L)).double().cpu().numpy()
        out[order[pos:pos + len(p)]] = p
        pos += len(p)
    return out


@torch.no_grad()
def prefix_proba(model: SentimentRNN, ids) -> np.ndarray:
    """P(positive) after each word of one review: ``ids`` (T,) -> (T,), entry t reads w_1..w_t.

    All T prefixes run as one padded batch (lengths 1..T), so a bidirectional model
    sees only the prefix, never the words still to come.
    """
    model.eval()
    ids = torch.as_tensor(np.asarray(ids, dtype=np.int64))
    T = ids.shape[0]
    if ids.dim() != 1 or T == 0:
        raise ValueError(f"ids must be a non-empty 1-D sequence, got shape {tuple(ids.shape)}")
    batch = ids.expand(T, T) * (torch.arange(T)[None, :] <= torch.arange(T)[:, None])
    return torch.sigmoid(model(batch, torch.arange(1, T + 1))).double().numpy()


def train_sentiment(model: SentimentRNN, train_ids, train_labels, *, valid=None, epochs=3,
                    batch_size=64, lr=2e-3, clip=1.0, seed=0, budget_s=None, device="cpu",
                    progress=True):
    """Adam on the binary cross-entropy, gradients clipped to norm ``clip``; seeded.

    ``valid``: ``(ids_list, labels)``, scored after each epoch. ``budget_s`` stops
    training after that many seconds (at the end of the batch that crosses it).
    Returns the history: a dict of lists (``loss`` per batch, ``valid_acc`` and
    ``seconds`` per epoch) and ``best_state`` (weights of the best validation epoch).
    """
    from tqdm.auto import tqdm

    torch.manual_seed(seed)
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    hist = {"loss": [], "valid_acc": [], "seconds": [], "best_state": None}
    start, best = time.perf_counter(), -1.0
    for epoch in range(epochs):
        model.train()
        n_batches = -(-len(train_ids) // batch_size)
        bar = tqdm(batches(train_ids, train_labels, batch_size, shuffle=True, seed=seed + epoch),
                   total=n_batches, desc=f"epoch {epoch + 1}", disable=not progress)
        for ids, L, y in bar:
            loss = F.binary_cross_entropy_with_logits(model(ids.to(device), L),
                                                      y.to(device, torch.float32))
            opt.zero_grad()
            loss.backward()
            if clip:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            hist["loss"].append(loss.item())
            bar.set_postfix(loss=f"{np.mean(hist['loss'][-50:]):.3f}")
            if budget_s is not None and time.perf_counter() - start > budget_s:
                break
        hist["seconds"].append(time.perf_counter() - start)
        if valid is not None:
            acc = float(((predict_proba(model, valid[0], device=device) > 0.5)
                         == np.asarray(valid[1])).mean())
            hist["valid_acc"].append(acc)
            if acc > best:
                best = acc
                hist["best_state"] = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if budget_s is not None and time.perf_counter() - start > budget_s:
            break
    return hist
