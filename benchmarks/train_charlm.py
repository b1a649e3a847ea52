"""Train the character language model on the shipped Shakespeare split within a time budget.

Prints the validation loss (nats and bits per character), perplexity, steps
and wall time, and writes the small checkpoint the chapters load::

    python benchmarks/train_charlm.py                        # vanilla RNN, 15 minutes
    python benchmarks/train_charlm.py --cell lstm --minutes 20
    python benchmarks/train_charlm.py --minutes 2 --out /tmp/try.pt   # a quick trial

Goals (issues 4 and 5): vanilla RNN <= 1.80 nats/char in 15 minutes, LSTM
<= 1.55 in 20 minutes, on a 2-core CPU. The figure stored in the checkpoint is
measured on the weights as saved (float16), on the whole validation split.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from coursekit.decode import sample
from coursekit.metrics import nats_to_bits, perplexity
from coursekit.models.charlm import (CharLM, evaluate, load_charlm, save_charlm)
from coursekit.data import CHECKPOINT_DIR
from coursekit.data.batches import SequentialBatches
from coursekit.data.shakespeare import load_shakespeare, split_text
from coursekit.data.text import CharVocab
from coursekit.train.loop import cosine_schedule, train

#: The settings of the shipped checkpoints (figures in coursekit/data/README.md). Adam with
#: a 2% warm-up and a cosine decay to 5% over the time budget; the hidden state is carried
#: across batches (truncated BPTT with k1 = k2 = seq_len); gradients clipped to norm 1.
DEFAULTS = {
    "rnn": dict(hidden=512, layers=1, embed=64, seq_len=128, batch=64, lr=3e-3, clip=1.0,
                dropout=0.0, minutes=15.0),
    "lstm": dict(hidden=384, layers=1, embed=64, seq_len=64, batch=64, lr=4e-3, clip=1.0,
                 dropout=0.0, minutes=20.0),
    "gru": dict(hidden=384, layers=1, embed=64, seq_len=64, batch=64, lr=4e-3, clip=1.0,
                dropout=0.0, minutes=20.0),
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cell", choices=sorted(DEFAULTS), default="rnn")
    for name, typ in (("minutes", float), ("hidden", int), ("layers", int), ("embed", int),
                      ("seq-len", int), ("batch", int), ("lr", float), ("clip", float),
                      ("dropout", float)):
        ap.add_argument(f"--{name}", type=typ, default=None)
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-every", type=int, default=500, help="steps between validation checks")
    ap.add_argument("--out", type=Path, default=None,
                    help="checkpoint path (default coursekit/data/checkpoints/charlm_<cell>.pt)")
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument("--steps", type=int, default=None,
                    help="stop after this many updates (default: only the time budget)")
    args = ap.parse_args(argv)
    cfg = dict(DEFAULTS[args.cell])
    for key in cfg:
        v = getattr(args, key.replace("-", "_"), None)
        if v is not None:
            cfg[key] = v
    cfg["embed"] = cfg["embed"] or None
    out = args.out or CHECKPOINT_DIR / f"charlm_{args.cell}.pt"

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    text = load_shakespeare()
    train_text, val_text = split_text(text)
    vocab = CharVocab(text)
    train_ids, val_ids = vocab.encode(train_text), vocab.encode(val_text)
    print(f"corpus {len(text)} chars, vocab {vocab.size}; train {len(train_ids)}, val {len(val_ids)}")
    print("config", json.dumps({"cell": args.cell, **cfg}))

    model = CharLM(vocab.size, cfg["hidden"], cell=args.cell, num_layers=cfg["layers"],
                   embed_dim=cfg["embed"], dropout=cfg["dropout"])
    n_params = sum(p.numel() for p in model.parameters())
    print(f"parameters {n_params}")
    batches = SequentialBatches(train_ids, cfg["batch"], cfg["seq_len"], seed=args.seed)
    val_slice = val_ids[:20_000]                       # quick check during training

    def log(d):
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in d.items()}),
              flush=True)

    budget = cfg["minutes"] * 60
    t0 = time.perf_counter()
    hist = train(model, batches, steps=args.steps or 10**9, lr=cfg["lr"], optimizer="adam",
                 weight_decay=args.weight_decay, clip=cfg["clip"], tbptt=cfg["seq_len"],
                 schedule=cosine_schedule(warmup=0.02, final=0.05), time_limit=budget,
                 eval_fn=lambda m: evaluate(m, val_slice, batch_size=16),
                 eval_every=args.eval_every, seed=args.seed, progress=not args.no_progress,
                 log=log, log_every=100)
    train_s = time.perf_counter() - t0
    steps = len(hist["step"])
    chars = steps * cfg["batch"] * cfg["seq_len"]

    save_charlm(out, model, vocab, metrics={})     # float16 weights ...
    loaded, _, _ = load_charlm(out)                # ... evaluated as saved
    val = evaluate(loaded, val_ids, batch_size=32)
    train_loss = evaluate(loaded, train_ids[:len(val_ids)], batch_size=32)
    metrics = {"val_loss_nats": val, "val_bits": nats_to_bits(val), "val_perplexity": perplexity(val),
               "train_loss_nats_first_val_size": train_loss, "steps": steps,
               "train_seconds": train_s, "train_chars": chars, "threads": args.threads,
               "parameters": n_params, "seq_len": cfg["seq_len"], "batch": cfg["batch"],
               "lr": cfg["lr"], "clip": cfg["clip"], "budget_minutes": cfg["minutes"],
               "torch": str(torch.__version__), "split": "split_text(load_shakespeare()) val",
               "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    save_charlm(out, model, vocab, metrics=metrics)
    size = out.stat().st_size
    print(f"\n{args.cell}: validation loss {val:.4f} nats/char = {nats_to_bits(val):.4f} bits/char, "
          f"perplexity {perplexity(val):.3f}")
    print(f"train loss (first {len(val_ids)} train chars) {train_loss:.4f} nats/char")
    print(f"steps {steps}, {chars} characters seen ({chars / len(train_ids):.2f} epochs), "
          f"wall {train_s:.0f} s ({hist['stopped']}), threads {args.threads}")
    print(f"checkpoint {out} ({size / 1e6:.2f} MB)")
    print("sample:", repr(sample(loaded, vocab, 300, prefix="ROMEO:\n", temperature=0.8, seed=0)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
