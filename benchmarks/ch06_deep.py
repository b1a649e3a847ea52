"""Train the models of chapter 6 and write their figures and checkpoints.

    flock /work/locks/cpu python benchmarks/ch06_deep.py             # about 8 minutes, 2 cores
    python benchmarks/ch06_deep.py --steps 20 --out /tmp/ch06        # a smoke test

Runs :data:`coursekit.book.ch06_deep.EXPERIMENTS` in order (word-boundary taggers reading
left to right, right to left and both ways; character language models of depth 1, 2 and 3
at about equal parameter counts; a bidirectional character "language model"), writes
``ch06_deep.json`` to ``coursekit/data/results/`` (or ``--out``) and the checkpoints of
:data:`~coursekit.book.ch06_deep.CHECKPOINTS` (float16) to ``coursekit/data/checkpoints/``,
and prints every figure. Each run stops at ``--steps`` updates or ``--seconds`` seconds,
whichever comes first; the JSON records the updates done and the seconds taken.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

from coursekit.book import ch06_deep as ch06
from coursekit.data import CHECKPOINT_DIR, RESULTS_DIR
from coursekit.train.checkpoint import save_checkpoint


def resolve(kw, results, V):
    """Replace hidden_size="match:NAME" by the size that matches NAME's parameter count."""
    kw = dict(kw)
    if isinstance(kw["hidden_size"], str):
        target = results[kw["hidden_size"].split(":", 1)[1]]["parameters"]
        K = 2 if kw["task"] == "boundary" else V[kw["task"]]
        kw["hidden_size"] = ch06.matched_hidden(
            target, V=V[kw["task"]], K=K, num_layers=kw.get("num_layers", 1),
            bidirectional=kw.get("bidirectional", False))
    return kw


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--seconds", type=float, default=60.0, help="time limit of each run")
    ap.add_argument("--only", nargs="*", help="names of EXPERIMENTS to run")
    ap.add_argument("--out", type=Path, default=None, help="folder for JSON and checkpoints")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    out_json = (args.out or RESULTS_DIR) / "ch06_deep.json"
    out_ckpt = args.out or CHECKPOINT_DIR
    V = {task: ch06._corpus(task)[0].size for task in ("boundary", "lm")}
    results, t0 = {}, time.perf_counter()
    for name, kw in ch06.EXPERIMENTS.items():
        if args.only and name not in args.only:
            continue
        kw = resolve(kw, results, V)
        print(f"{name}: {kw}", flush=True)
        model, vocab, res = ch06.train_model(steps=args.steps, time_limit=args.seconds,
                                             log=lambda s: print(s, flush=True), **kw)
        results[name] = res
        f = res["final"]
        print(f"  -> {res['parameters']} parameters, {res['steps_done']} updates in "
              f"{res['seconds']:.0f} s, val loss {f['loss']:.3f} nats "
              f"({ch06.bits(f['loss']):.3f} bits), accuracy {f['accuracy']:.4f}"
              + (f", F1 {f['f1']:.4f}, majority {f['majority']:.4f}" if "f1" in f else ""),
              flush=True)
        if name in ch06.CHECKPOINTS:
            save_checkpoint(out_ckpt / ch06.CHECKPOINTS[name], model,
                            extra={"chars": vocab.chars, "experiment": name},
                            metrics={k: v for k, v in f.items()})
    blob = {"experiments": {k: ch06.EXPERIMENTS[k] for k in results},
            "args": {"steps": args.steps, "seconds": args.seconds, "threads": args.threads},
            "results": results,
            "machine": {"python": sys.version.split()[0], "torch": torch.__version__,
                        "platform": platform.platform(), "total_seconds": time.perf_counter() - t0,
                        "note": "2-core CPU shared with other jobs (contended)"}}
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(blob, indent=1) + "\n")
    print(f"wrote {out_json} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
