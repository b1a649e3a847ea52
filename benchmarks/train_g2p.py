"""Train the G2P encoder-decoder with attention on CMUdict; print PER/WER; save the checkpoint.

Usage (heavy: run under the shared lock)::

    flock /work/locks/cpu .venv/bin/python benchmarks/train_g2p.py            # 20 minutes
    .venv/bin/python benchmarks/train_g2p.py --minutes 0.5 --no-save          # smoke test

Training: every pronunciation of every training word is one pair (117,678 pairs); a
bidirectional GRU encoder, a GRU decoder with general (Luong) attention; Adam with a cosine
schedule over the time budget, gradient clipping at 1, dropout 0.1, teacher forcing 1.
Evaluation on the 12,439 held-out test words (no word of them, nor any of its
pronunciations, is in training): phoneme error rate against the closest reference
pronunciation and word error rate (the fraction of words whose output matches none), for
greedy decoding and beam search (5 beams, alpha = 0.6 length normalisation); then the
time of batched beam search against greedy on the same batch.
Writes ``coursekit/data/checkpoints/g2p_attention.pt`` and ``benchmarks/results/g2p.json``.
Anchor: Yao and Zweig (2015) report 7.63% PER for an encoder-decoder LSTM on CMUdict.
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from coursekit.data import cmudict
from coursekit.data.pairs import PairBatches, TokenVocab
from coursekit.metrics import closest_reference_errors
from coursekit.nn.seq2seq import Seq2Seq, save_checkpoint, masked_sequence_loss
from coursekit.train.loop import cosine_schedule, train

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINT = ROOT / "coursekit" / "data" / "checkpoints" / "g2p_attention.pt"
RESULTS = ROOT / "benchmarks" / "results" / "g2p.json"


def vocabularies():
    return TokenVocab(cmudict.GRAPHEMES, ordered=True), TokenVocab(cmudict.PHONEMES, ordered=True)


def evaluate(model, entries, src_vocab, tgt_vocab, *, beam_size=1, alpha=0.0):
    """PER, WER and the decoded phonemes of ``entries`` [(word, prons)]."""
    sources = [src_vocab.encode(w) for w, _ in entries]
    out = model.generate(sources, beam_size=beam_size, alpha=alpha, max_len=40)
    hyps = [tgt_vocab.decode(o) for o in out]
    errors, length, wrong = closest_reference_errors(hyps, [[list(p) for p in prons]
                                                            for _, prons in entries])
    return {"per": errors / length, "wer": wrong / len(entries), "errors": errors,
            "phonemes": length, "words": len(entries)}, hyps


def time_decoding(model, entries, src_vocab, repeats=3):
    """Seconds for greedy and 5-beam decoding of the same batch of words (best of repeats)."""
    sources = [src_vocab.encode(w) for w, _ in entries]
    times = {}
    for name, kw in (("greedy", {"beam_size": 1}), ("beam5", {"beam_size": 5, "alpha": 0.6})):
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            model.generate(sources, batch_size=len(sources), max_len=40, **kw)
            best = min(best, time.perf_counter() - t0)
        times[name] = best
    return times


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--embed", type=int, default=64)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    src_vocab, tgt_vocab = vocabularies()
    pairs = [(src_vocab.encode(w), tgt_vocab.encode(p))
             for w, p in cmudict.training_pairs(cmudict.load_g2p("train"))]
    batches = PairBatches(pairs, args.batch, seed=args.seed)
    model = Seq2Seq(len(src_vocab), len(tgt_vocab), embed=args.embed, hidden=args.hidden,
                    context="attention", attention="general", bidirectional=True,
                    dropout=args.dropout)

    def loss_fn(model, x, y, hidden=None, n_last=None):
        (src, src_len), (tgt_in, tgt_out) = x, y
        logits, _ = model(src, src_len, tgt_in)
        return masked_sequence_loss(logits, tgt_out), None

    t0 = time.perf_counter()
    hist = train(model, batches, steps=10**9, lr=args.lr, clip=1.0, loss_fn=loss_fn,
                 schedule=cosine_schedule(warmup=0.02, final=0.02),
                 time_limit=args.minutes * 60, seed=args.seed, progress=False,
                 log=lambda d: print(d, flush=True), log_every=200)
    train_seconds = time.perf_counter() - t0
    model.eval()
    test = cmudict.load_g2p("test")
    results = {}
    for name, kw in (("greedy", {}), ("beam5", {"beam_size": 5, "alpha": 0.6})):
        t1 = time.perf_counter()
        results[name], _ = evaluate(model, test, src_vocab, tgt_vocab, **kw)
        results[name]["seconds"] = time.perf_counter() - t1
        print(name, results[name], flush=True)
    timing = time_decoding(model, test[:1000], src_vocab)
    timing["ratio_beam5_over_greedy"] = timing["beam5"] / timing["greedy"]
    print("decoding 1000 words:", timing, flush=True)
    record = {
        "benchmark": "g2p", "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "torch": torch.__version__, "threads": args.threads},
        "settings": vars(args), "train_pairs": len(pairs), "steps": len(hist["step"]),
        "epochs": len(hist["step"]) / len(batches), "train_seconds": train_seconds,
        "final_train_loss": sum(hist["loss"][-50:]) / min(50, len(hist["loss"])),
        "parameters": sum(p.numel() for p in model.parameters()),
        "test": results, "decode_time_1000_words": timing,
        "anchor": "Yao and Zweig 2015: 7.63% PER (encoder-decoder LSTM, CMUdict)",
    }
    print(json.dumps(record, indent=1))
    if not args.no_save:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(record, indent=1) + "\n")
        save_checkpoint(CHECKPOINT, model, src_vocab.itos, tgt_vocab.itos,
                        metrics={k: v for k, v in record.items() if k != "settings"})


if __name__ == "__main__":
    main()
