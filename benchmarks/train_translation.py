"""German->English on the Ding sentence pairs: no attention against attention, same data and budget.

Usage (heavy: run under the shared lock)::

    flock /work/locks/cpu .venv/bin/python benchmarks/train_translation.py     # 2 x 2000 updates
    # BPE subwords, one process per system on one thread each (the 2026-12-03 comparison)
    python benchmarks/train_translation.py --unit bpe --steps 5000 --threads 1 --only attention \
        --results /tmp/att.json --checkpoint /tmp/att.pt
    .venv/bin/python benchmarks/train_translation.py --steps 20 --no-save      # smoke test

Two systems with the same bidirectional GRU encoder, embedding and hidden sizes, data, seed
and budget (the same number of updates, about 13 epochs; a budget in seconds is not fair on
a CPU that other jobs share, and attention costs more per update, see the JSON): the context fed into every decoder step (Cho et al. 2014, the seeds' form)
and Luong-style general attention. Each is decoded greedily and with beam search (5 beams,
alpha = 0.6) on the held-out test pairs: corpus BLEU on our tokens (``de_en.tokenize``,
several references where a German sentence has several translations; equal to sacrebleu
with tokenize="none"), overall and by source length.
Writes ``benchmarks/results/translation.json`` and the attention model's checkpoint
``coursekit/data/checkpoints/de_en_attention.pt``.
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import torch

from coursekit.data import de_en
from coursekit.data.bpe import BPE, learn_bpe
from coursekit.data.pairs import PairBatches, TokenVocab
from coursekit.metrics import corpus_bleu
from coursekit.nn.seq2seq import Seq2Seq, masked_sequence_loss, save_checkpoint
from coursekit.train.loop import cosine_schedule, train

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINT = ROOT / "coursekit" / "data" / "checkpoints" / "de_en_attention.pt"
RESULTS = ROOT / "benchmarks" / "results" / "translation.json"
BUCKETS = ((1, 4), (5, 6), (7, 8), (9, 10), (11, 99))  # German tokens


class Segmenter:
    """Sentence -> model tokens: words (``unit="word"``) or BPE pieces learned on the
    training sentences of one side (``unit="bpe"``); ``words(pieces)`` undoes it."""

    def __init__(self, unit, side, merges=0):
        self.bpe = None
        if unit == "bpe":
            counts = Counter(t for pair in de_en.load_pairs("train") for t in de_en.tokenize(pair[side]))
            self.bpe = BPE(learn_bpe(counts, merges))

    def __call__(self, sentence):
        tokens = de_en.tokenize(sentence)
        return self.bpe.encode(tokens) if self.bpe else tokens

    def words(self, tokens):
        return BPE.decode(tokens) if self.bpe else list(tokens)


def vocabularies(min_freq, seg_src, seg_tgt):
    train_pairs = de_en.load_pairs("train")
    src = TokenVocab([seg_src(d) for d, _ in train_pairs], min_freq=min_freq)
    tgt = TokenVocab([seg_tgt(e) for _, e in train_pairs], min_freq=min_freq)
    return src, tgt


def test_set(src_vocab, seg_src):
    """The test split: sources (ids), tokenised references, and each source's length in
    German words (``de_en.tokenize``, whatever the model's unit: the BLEU buckets use it)."""
    refs = de_en.references("test")
    sources = [src_vocab.encode(seg_src(d)) for d, _ in refs]
    return (sources, [[de_en.tokenize(e) for e in ens] for _, ens in refs],
            [len(de_en.tokenize(d)) for d, _ in refs])


def bleu_report(model, sources, references, src_words, tgt_vocab, words, max_len, **kw):
    """BLEU is always on ``de_en.tokenize`` words: BPE output is joined back into words."""
    hyps = [words(tgt_vocab.decode(o)) for o in model.generate(sources, max_len=max_len, **kw)]
    by_length = {}
    for lo, hi in BUCKETS:
        idx = [i for i, n in enumerate(src_words) if lo <= n <= hi]
        if idx:
            by_length[f"{lo}-{hi}"] = {"bleu": corpus_bleu([hyps[i] for i in idx],
                                                           [references[i] for i in idx]),
                                       "sentences": len(idx)}
    return {"bleu": corpus_bleu(hyps, references), "by_source_length": by_length}, hyps


def train_one(context, args, pairs, src_vocab, tgt_vocab):
    torch.manual_seed(args.seed)
    model = Seq2Seq(len(src_vocab), len(tgt_vocab), embed=args.embed, hidden=args.hidden,
                    context=context, attention="general", bidirectional=True,
                    dropout=args.dropout)

    def loss_fn(model, x, y, hidden=None, n_last=None):
        (src, src_len), (tgt_in, tgt_out) = x, y
        logits, _ = model(src, src_len, tgt_in)
        return masked_sequence_loss(logits, tgt_out), None

    t0 = time.perf_counter()
    hist = train(model, PairBatches(pairs, args.batch, seed=args.seed), steps=args.steps,
                 lr=args.lr, clip=1.0, loss_fn=loss_fn,
                 schedule=cosine_schedule(warmup=0.03, final=0.05), seed=args.seed, progress=False,
                 log=lambda d: print(context, d, flush=True), log_every=200)
    return model.eval(), hist, time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=2000, help="updates of each system")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--embed", type=int, default=64)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--dropout", type=float, default=0.3)
    ap.add_argument("--min-freq", type=int, default=3, help="word units: rarer words are <unk>")
    ap.add_argument("--unit", choices=("word", "bpe"), default="word",
                    help="model tokens: words, or BPE subwords (every word spelled, no <unk>)")
    ap.add_argument("--merges", type=int, default=3000, help="BPE merges per language")
    ap.add_argument("--only", choices=("every_step", "attention"),
                    help="train one system (two processes can then share the two cores)")
    ap.add_argument("--results", default=str(RESULTS))
    ap.add_argument("--checkpoint", default=str(CHECKPOINT), help="where the attention model goes")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    seg_src, seg_tgt = Segmenter(args.unit, 0, args.merges), Segmenter(args.unit, 1, args.merges)
    src_vocab, tgt_vocab = vocabularies(args.min_freq if args.unit == "word" else 1,
                                        seg_src, seg_tgt)
    pairs = [(src_vocab.encode(seg_src(d)), tgt_vocab.encode(seg_tgt(e)))
             for d, e in de_en.load_pairs("train")]
    sources, references, src_words = test_set(src_vocab, seg_src)
    max_len = 30 if args.unit == "word" else 60
    systems, examples = {}, {}
    attention_model = None
    for context in [args.only] if args.only else ("every_step", "attention"):
        model, hist, seconds = train_one(context, args, pairs, src_vocab, tgt_vocab)
        systems[context] = {"train_seconds": seconds, "steps": len(hist["step"]),
                            "epochs": len(hist["step"]) / -(-len(pairs) // args.batch),
                            "final_train_loss": sum(hist["loss"][-50:]) / min(50, len(hist["loss"])),
                            "parameters": sum(p.numel() for p in model.parameters())}
        for name, kw in (("greedy", {}), ("beam5", {"beam_size": 5, "alpha": 0.6})):
            systems[context][name], hyps = bleu_report(model, sources, references, src_words,
                                                       tgt_vocab, seg_tgt.words, max_len, **kw)
            examples.setdefault(context + "_" + name, [" ".join(h) for h in hyps[:20]])
            print(context, name, round(systems[context][name]["bleu"], 4), flush=True)
        if context == "attention":
            attention_model = model
    gain = {k: systems["attention"][k]["bleu"] - systems["every_step"][k]["bleu"]
            for k in ("greedy", "beam5")} if len(systems) == 2 else None
    record = {
        "benchmark": "translation", "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "torch": torch.__version__, "threads": args.threads},
        "settings": vars(args), "train_pairs": len(pairs), "test_sentences": len(sources),
        "vocab": {"src": len(src_vocab), "tgt": len(tgt_vocab)}, "systems": systems,
        "attention_gain_bleu": gain, "examples": examples,
    }
    print(json.dumps({k: v for k, v in record.items() if k != "examples"}, indent=1))
    if not args.no_save:
        Path(args.results).parent.mkdir(exist_ok=True)
        Path(args.results).write_text(json.dumps(record, indent=1) + "\n")
        if attention_model is not None:
            merges = {"src_merges": seg_src.bpe.merges, "tgt_merges": seg_tgt.bpe.merges} \
                if args.unit == "bpe" else {}
            save_checkpoint(args.checkpoint, attention_model, src_vocab.itos, tgt_vocab.itos,
                            metrics={k: v for k, v in record.items() if k != "examples"},
                            extra=merges)


if __name__ == "__main__":
    main()
