"""Assignment 4's own inputs and check: a bidirectional sentiment classifier trained on IMDB.

Named in ``tests.py``. The inputs of q7 are a sample of the shipped IMDB training reviews:
``imdb_rows`` draws which reviews (without replacement), then ``imdb_ids``,
``imdb_lengths`` and ``imdb_labels`` give them encoded: the first ``T`` tokens of each,
ids from a vocabulary of the ``V`` commonest tokens *of that sample*
(:func:`coursekit.data.imdb.build_vocab`), padded with 0. :func:`sentiment_accuracy`
rebuilds the submitted network as :class:`coursekit.models.sentiment.SentimentRNN` and
scores it on held-out test reviews that the submission never sees, encoded with the same
vocabulary. The release notebook carries this file for ``check("q7")``.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np

from coursekit.data.imdb import build_vocab, encode_batch, load_imdb, tokenize
from coursekit.data.text import SPECIALS
from coursekit.grading.compare import check_params

MAX_SIZE = 256  # largest embedding / hidden size the grader runs (bounds its own work)
GATES = {3: "gru", 4: "lstm"}  # rows of weight_ih per hidden unit -> the cell


@lru_cache(maxsize=4)
def _sample(rows: bytes, T: int, V: int):
    """(ids (N, T') int64, lengths (N,), labels (N,), vocab) of training reviews ``rows``."""
    texts, labels = load_imdb("train")
    idx = np.frombuffer(rows, dtype=np.int64)
    toks = [tokenize(texts[i])[:T] for i in idx]
    vocab = build_vocab(toks, max_size=V)
    ids, lengths = encode_batch(toks, vocab, max_len=T)
    return ids, lengths, labels[idx], vocab


def _of_rows(drawn: dict, case):
    rows = np.ascontiguousarray(drawn["rows"], dtype=np.int64)
    return _sample(rows.tobytes(), int(case.sizes["T"]), int(case.sizes["V"]))


def imdb_rows(arg, case, rng, drawn):
    """``N`` distinct indices into the training split: which reviews this case trains on."""
    n_train = len(load_imdb("train")[1])
    return rng.choice(n_train, int(case.sizes["N"]), replace=False).astype(np.int64)


def imdb_ids(arg, case, rng, drawn):
    """Token ids (N, T') of the sampled reviews, right-padded with 0 (T' <= T)."""
    return _of_rows(drawn, case)[0]


def imdb_lengths(arg, case, rng, drawn):
    """Tokens per sampled review (N,), at least 1."""
    return _of_rows(drawn, case)[1]


def imdb_labels(arg, case, rng, drawn):
    """Sentiment of the sampled reviews (N,): 1 positive, 0 negative."""
    return _of_rows(drawn, case)[2]


def _shapes() -> dict:
    """Name -> shape of the weights (torch's layout; G = 3H for a GRU, 4H for an LSTM)."""
    rnn = {f"rnn.{w}_l0{sfx}": s for sfx in ("", "_reverse") for w, s in (
        ("weight_ih", ("G", "E")), ("weight_hh", ("G", "H")), ("bias_ih", ("G",)),
        ("bias_hh", ("G",)))}
    return {"embed.weight": ("V", "E"), **rnn, "out.weight": ("1", "4H"), "out.bias": ("1",)}


WEIGHTS = tuple(_shapes())


def _model(got: dict, V: int, dtype):
    """The submitted network as a SentimentRNN, or (None, problem in words)."""
    import torch

    from coursekit.models.sentiment import SentimentRNN
    hh = got.get("rnn.weight_hh_l0")
    H = hh.shape[1] if isinstance(hh, np.ndarray) and hh.ndim == 2 else None
    dims = {"V": V, "1": 1} | ({"H": H, "4H": 4 * H} if H else {})
    params, problem = check_params(got, _shapes(), dims, dtype=dtype)
    if params is None:
        return None, problem
    E, G = params["embed.weight"].shape[1], params["rnn.weight_ih_l0"].shape[0]
    if G % H or G // H not in GATES:
        return None, (f"rnn.weight_ih_l0: {G} rows for hidden size {H}; a GRU has 3H rows "
                      f"(gates r, z, n), an LSTM 4H (i, f, g, o)")
    if max(E, H) > MAX_SIZE:
        return None, f"embedding size {E}, hidden size {H}: at most {MAX_SIZE} each"
    model = SentimentRNN(V, embed_dim=E, hidden_size=H, cell=GATES[G // H], bidirectional=True,
                         pool="meanmax", dropout=0.0)
    model.load_state_dict({k: torch.as_tensor(a, dtype=torch.float32) for k, a in params.items()})
    return model, GATES[G // H]


def held_out(rows: np.ndarray, n: int, T: int, vocab) -> tuple[list, np.ndarray]:
    """``n`` reviews of the *test* split (ids lists, labels), chosen by a seed from ``rows``."""
    texts, labels = load_imdb("test")
    seed = int.from_bytes(hashlib.sha256(np.ascontiguousarray(rows).tobytes()).digest()[:8],
                          "little")
    pick = np.random.default_rng(seed).choice(len(texts), n, replace=False)
    unk = SPECIALS.index("<unk>")  # an empty review keeps one <unk>, as in encode_batch
    return [vocab.encode(tokenize(texts[i])[:T]) or [unk] for i in pick], labels[pick]


def sentiment_accuracy(question, case, inputs: dict, got: dict, expected):
    """Accuracy of the trained network on ``options["n_eval"]`` held-out test reviews.

    The grader runs the returned weights as embedding -> bidirectional GRU or LSTM over the
    packed reviews -> [mean ; max] over the valid steps -> ``out`` (a logit; positive above
    0). Full points from ``options["accuracy"]``, half from ``options["half_accuracy"]``.
    """
    from coursekit.models.sentiment import predict_proba
    V, T = int(case.sizes["V"]), int(case.sizes["T"])
    model, cell = _model(got, V, np.dtype(case.dtype))
    if model is None:
        return 0.0, [cell + " (return model.state_dict() as numpy arrays, see the question)"]
    ids, labels = held_out(inputs["rows"], int(question.options["n_eval"]), T,
                           _of_rows(inputs, case)[3])
    acc = float(np.mean((predict_proba(model, ids) > 0.5) == labels))
    full, half = question.options["accuracy"], question.options["half_accuracy"]
    frac = 1.0 if acc >= full else 0.5 if acc >= half else 0.0
    lines = [(f"accuracy of your trained bidirectional {cell.upper()} on {len(ids)} held-out test "
             f"reviews (never shown to your code; first {T} tokens, your vocabulary of {V}), "
             f"computed by the grader: {acc:.3f} (guessing one class scores about "
             f"{max(labels.mean(), 1 - labels.mean()):.3f}; full points from {full:.2f}, half "
             f"from {half:.2f})")]
    if frac < 1.0:
        lines.append("the grader packs each review (padding never enters a state, the backward "
                     "direction starts at the last real token), pools [mean ; max] over the "
                     "valid steps and reads out.weight @ z + out.bias; if your own accuracy on "
                     "reviews you held out disagrees, check those. To do better: train longer "
                     "(more epochs), Adam with a learning rate near 3e-3, clip the gradient "
                     "norm, batches of similar lengths, and an embedding and hidden size of "
                     "about 32")
    return frac, lines
