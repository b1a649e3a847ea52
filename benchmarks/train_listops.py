"""ListOps: a binary Tree-LSTM given the true trees against an LSTM and a bidirectional LSTM.

Usage (heavy: run under the shared lock)::

    flock /work/locks/cpu .venv/bin/python benchmarks/train_listops.py           # 3 seeds
    .venv/bin/python benchmarks/train_listops.py --steps 20 --seeds 0 --no-save   # smoke test

Data (:mod:`coursekit.data.listops`, fixed seeds): training expressions of depths
1..5 (``--train-per-depth`` of each, seed 1000), held-out test expressions of depths
1..5 (``--test-per-depth`` of each, seed 2000; a separate draw, so only chance
collisions with training, counted and reported). Every model has hidden size 64 and
embeddings of 32, and is trained with Adam (lr 2e-3), clipping at 5, batches of 64,
for the same number of updates on the same minibatches (same seed), so the
budget in examples is equal. Accuracy is measured on the test set per depth, with the
weights rounded to float16 (what the checkpoint stores).
Writes ``coursekit/data/results/listops.json`` (per model, per seed: accuracy by
depth, training time, final loss) and the seed-0 Tree-LSTM checkpoint
``coursekit/data/checkpoints/listops_treelstm.pt`` (float16, for chapter 8's explorer).
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from coursekit.data import listops
from coursekit.models.listops import (
    SequenceClassifier,
    TreeClassifier,
    accuracy_by_depth,
    fit,
    predict,
    prepare,
)
from coursekit.train.checkpoint import save_checkpoint

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "coursekit" / "data" / "results" / "listops.json"
CHECKPOINT = ROOT / "coursekit" / "data" / "checkpoints" / "listops_treelstm.pt"
DEPTHS = (1, 2, 3, 4, 5)
MODELS = {
    "treelstm": lambda seed: TreeClassifier(64, 32, cell="nary", seed=seed),
    "lstm": lambda seed: SequenceClassifier(64, 32, bidirectional=False, seed=seed),
    "bilstm": lambda seed: SequenceClassifier(64, 32, bidirectional=True, seed=seed),
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    ap.add_argument("--train-per-depth", type=int, default=2000)
    ap.add_argument("--test-per-depth", type=int, default=300)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    train_x, train_y, _ = listops.dataset(args.train_per_depth, DEPTHS, seed=1000)
    test_x, test_y, test_d = listops.dataset(args.test_per_depth, DEPTHS, seed=2000)
    seen = {listops.to_string(e) for e in train_x}
    overlap = sum(listops.to_string(e) in seen for e in test_x)
    print(f"train {len(train_x)}, test {len(test_x)}, test expressions also in training: {overlap}")
    runs = {}
    t_all = time.perf_counter()
    for name in args.models:
        runs[name] = []
        prepared = None
        for seed in args.seeds:
            model = MODELS[name](seed)
            if prepared is None:  # the trees / token ids, once per kind of model
                prepared = (prepare(model, train_x), prepare(model, test_x))
            t0 = time.perf_counter()
            hist = fit(model, train_x, train_y, steps=args.steps, seed=seed, prepared=prepared[0],
                       progress=lambda r, d=f"{name} seed {seed}": tqdm(r, desc=d, mininterval=10))
            seconds = time.perf_counter() - t0
            with torch.no_grad():  # measure the weights the checkpoint keeps (float16)
                for prm in model.parameters():
                    prm.copy_(prm.half().float())
            pred = predict(model, test_x, prepared=prepared[1])
            acc = accuracy_by_depth(pred, test_y, test_d)
            run = {"seed": seed, "seconds": round(seconds, 1), "accuracy": float((pred == test_y).mean()),
                   "accuracy_by_depth": acc,
                   "final_loss": float(np.mean(hist["loss"][-50:])),
                   "loss_curve": [round(float(np.mean(hist["loss"][i:i + 50])), 4)
                                  for i in range(0, len(hist["loss"]), 50)]}
            runs[name].append(run)
            print(name, seed, f"{seconds:.0f} s", f"accuracy {run['accuracy']:.3f}",
                  {d: round(a, 3) for d, a in acc.items()}, flush=True)
            if name == "treelstm" and seed == args.seeds[0] and not args.no_save:
                save_checkpoint(CHECKPOINT, model, half=True,
                                metrics={"test_accuracy": run["accuracy"], "steps": args.steps})
    out = {"created": datetime.now(UTC).isoformat(timespec="seconds"),
           "machine": f"{platform.machine()}, {torch.get_num_threads()} threads, shared CPU",
           "torch": torch.__version__, "steps": args.steps, "batch_size": 64, "lr": 2e-3,
           "hidden_size": 64, "embed_size": 32, "depths": list(DEPTHS),
           "train_examples": len(train_x), "test_per_depth": args.test_per_depth,
           "test_in_training": overlap, "total_seconds": round(time.perf_counter() - t_all, 1),
           "runs": runs}
    if not args.no_save:
        RESULTS.write_text(json.dumps(out, indent=1) + "\n")
        print("wrote", RESULTS.relative_to(ROOT))
    return out


if __name__ == "__main__":
    main()
