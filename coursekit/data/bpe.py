"""Byte-pair encoding (Sennrich, Haddow and Birch 2016): subword units for translation.

A word-level vocabulary cut at a minimum count maps every rarer word to ``<unk>``: on the
Ding test pairs, 14% of the English reference tokens are outside a vocabulary of the words
seen at least three times in training, and no model can produce them. BPE instead starts
from characters and learns ``merges``, the most frequent adjacent pair of symbols in the
training words merged into one new symbol, again and again. Frequent words end up as one
symbol; a rare word is spelled from a few frequent pieces, so nothing is out of vocabulary.

- :func:`learn_bpe` ``(word_counts, merges) -> [(a, b), ...]``, the merges in order;
- :class:`BPE`: ``encode(tokens) -> pieces`` and ``decode(pieces) -> tokens``; the last
  piece of each word carries the end-of-word mark ``</w>``, so decoding is exact.

Example: with the counts ``low 5, lower 2, newest 6, widest 3`` the first merges are
``('s', 't</w>')`` (9 times, tied with ``('e', 's')`` and taken as the larger pair),
``('e', 'st</w>')`` and ``('l', 'o')``; ``lowest`` then encodes as ``lo west</w>``.
Used by ``benchmarks/train_translation.py --unit bpe`` on the translation task of chapters 9
and 10 (the shipped checkpoint is word-level: subwords did not score higher).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Iterable, Mapping, Sequence

from coursekit._validate import check_positive_int

__all__ = ["END", "learn_bpe", "BPE"]

#: appended to the last symbol of every word
END = "</w>"


def _symbols(word: str) -> tuple[str, ...]:
    return tuple(word[:-1]) + (word[-1] + END,)


def learn_bpe(word_counts: Mapping[str, int], merges: int) -> list[tuple[str, str]]:
    """Learn up to ``merges`` merges from ``word_counts`` (word -> count).

    Each step merges the adjacent symbol pair with the largest total count over all words
    (ties: the lexicographically largest pair, so the result is deterministic); it stops
    early when no pair occurs twice. Only the words containing the merged pair are
    re-counted, so learning 3,000 merges over ten thousand word types takes seconds.
    """
    merges = check_positive_int("merges", merges)
    if not isinstance(word_counts, Mapping) or not word_counts:
        raise ValueError("word_counts must be a non-empty mapping of word -> count")
    for w, c in word_counts.items():
        if not isinstance(w, str) or not w or END in w:
            raise ValueError(f"word_counts keys must be non-empty str without {END!r}, got {w!r}")
        if isinstance(c, bool) or not isinstance(c, int) or c <= 0:
            raise ValueError(f"word_counts values must be positive ints, got {c!r} for {w!r}")
    seqs = {w: _symbols(w) for w in word_counts}
    stats: Counter = Counter()
    where: dict = defaultdict(set)          # pair -> words that contain it
    for w, s in seqs.items():
        for pair in zip(s, s[1:]):
            stats[pair] += word_counts[w]
            where[pair].add(w)
    out = []
    while len(out) < merges and stats:
        best = max(stats, key=lambda p: (stats[p], p))
        if stats[best] < 2:
            break
        out.append(best)
        a, b = best
        for w in sorted(where.pop(best)):
            s, c = seqs[w], word_counts[w]
            for pair in zip(s, s[1:]):
                stats[pair] -= c
                if stats[pair] <= 0:
                    del stats[pair]
            new, i = [], 0
            while i < len(s):
                if i + 1 < len(s) and s[i] == a and s[i + 1] == b:
                    new.append(a + b)
                    i += 2
                else:
                    new.append(s[i])
                    i += 1
            seqs[w] = s = tuple(new)
            for pair in zip(s, s[1:]):
                stats[pair] += c
                where[pair].add(w)
    return out


class BPE:
    """Apply learned merges: ``encode(tokens) -> pieces``, ``decode(pieces) -> tokens``.

    A word is split into characters (the last one marked with ``</w>``) and the merges
    are applied in the order they were learned (the lowest-ranked adjacent pair first),
    as in learning. ``decode`` joins pieces up to each ``</w>``: for any tokens without
    ``</w>``, ``decode(encode(tokens)) == tokens``. ``merges`` is JSON-friendly (a list of
    pairs) and is what a checkpoint stores.
    """

    def __init__(self, merges: Iterable[Sequence[str]]):
        self.merges = [tuple(m) for m in merges]
        if any(len(m) != 2 or not all(isinstance(x, str) and x for x in m) for m in self.merges):
            raise ValueError("merges must be pairs of non-empty str")
        self.rank = {m: i for i, m in enumerate(self.merges)}
        self._cache: dict[str, list[str]] = {}

    def word(self, word: str) -> list[str]:
        """The pieces of one word."""
        if word in self._cache:
            return self._cache[word]
        if not isinstance(word, str) or not word or END in word:
            raise ValueError(f"word must be a non-empty str without {END!r}, got {word!r}")
        s = list(_symbols(word))
        never = len(self.rank)
        while len(s) > 1:
            r, i = min((self.rank.get(p, never), i) for i, p in enumerate(zip(s, s[1:])))
            if r == never:
                break
            s[i:i + 2] = [s[i] + s[i + 1]]
        self._cache[word] = s
        return s

    def encode(self, tokens: Sequence[str]) -> list[str]:
        """Word tokens -> subword pieces."""
        if isinstance(tokens, str):
            raise TypeError("tokens must be a sequence of word tokens, not one str")
        return [p for t in tokens for p in self.word(t)]

    @staticmethod
    def decode(pieces: Sequence[str]) -> list[str]:
        """Subword pieces -> word tokens (an unfinished last word is kept as it is)."""
        words, cur = [], ""
        for p in pieces:
            cur += p
            if cur.endswith(END):
                words.append(cur[:-len(END)])
                cur = ""
        if cur:
            words.append(cur)
        return words
