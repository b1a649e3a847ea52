"""Time the level-batched Tree-LSTMs against node-by-node recursion, forward and backward.

Usage (a timing run: under the shared lock)::

    flock /work/locks/cpu .venv/bin/python benchmarks/bench_tree.py
    .venv/bin/python benchmarks/bench_tree.py --trees 16 --no-save      # smoke test

The batch: ``--trees`` ListOps expressions (seed 3000) whose tree has 20..60 nodes,
as binary trees for :class:`~coursekit.nn.tree_torch.BinaryTreeLSTM` and as n-ary trees
(operators at the internal nodes) for :class:`~coursekit.nn.tree_torch.ChildSumTreeLSTM`,
all trees of a batch as one forest. Inputs are random (n, 32), hidden size 64, float32.
"Forward" is one pass; "forward+backward" adds the backward of the sum of the root
states. Each time is the best of ``--repeats`` runs after one untimed warm-up (node by
node: of ``--repeats // 3``, at least 1);
the level plan is built inside the timed region for the batched passes too.
Writes ``coursekit/data/results/tree_timing.json``.
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

from coursekit.data import listops
from coursekit.data.trees import forest, levels
from coursekit.nn.tree_torch import (
    BinaryTreeLSTM,
    ChildSumTreeLSTM,
    level_plan,
    node_by_node,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "coursekit" / "data" / "results" / "tree_timing.json"


def batch_of_trees(n_trees, binary, lo=20, hi=60, seed=3000):
    """Child lists of ``n_trees`` ListOps trees with lo..hi nodes (depths 2..6 drawn in turn)."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n_trees:
        e = listops.random_expression(rng, 2 + len(out) % 5)
        kids = listops.binary_tree(e)[1] if binary else listops.nary_tree(e)[1]
        if lo <= len(kids) <= hi:
            out.append(kids)
    return out


def best_time(fn, repeats):
    fn()  # warm-up, untimed (first calls allocate)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def time_module(module, trees, repeats, D=32):
    children, roots = forest(trees)
    x = torch.randn(len(children), D, generator=torch.Generator().manual_seed(0))
    binary = isinstance(module, BinaryTreeLSTM)

    def batched(backward):
        h, _ = module(x, level_plan(children, binary=binary))
        if backward:
            h[roots].sum().backward()

    def nodewise(backward):
        h, _ = node_by_node(module, x, children)
        if backward:
            h[roots].sum().backward()

    out = {"nodes": len(children), "levels": int(levels(children).max()) + 1}
    for name, fn in (("batched", batched), ("node_by_node", nodewise)):
        for backward in (False, True):
            key = f"{name}_{'forward_backward' if backward else 'forward'}_s"
            reps = repeats if name == "batched" else max(1, repeats // 3)
            if backward:
                out[key] = best_time(lambda fn=fn: fn(True), reps)
            else:
                with torch.no_grad():
                    out[key] = best_time(lambda fn=fn: fn(False), reps)
    for kind in ("forward", "forward_backward"):
        out[f"speedup_{kind}"] = out[f"node_by_node_{kind}_s"] / out[f"batched_{kind}_s"]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trees", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    results = {}
    for name, cls, binary in (("binary", BinaryTreeLSTM, True), ("childsum", ChildSumTreeLSTM, False)):
        results[name] = time_module(cls(32, 64), batch_of_trees(args.trees, binary), args.repeats)
        print(name, {k: round(v, 4) if isinstance(v, float) else v for k, v in results[name].items()},
              flush=True)
    out = {"created": datetime.now(UTC).isoformat(timespec="seconds"),
           "machine": f"{platform.machine()}, {torch.get_num_threads()} threads, shared CPU",
           "torch": torch.__version__, "trees": args.trees, "nodes_per_tree": [20, 60],
           "hidden_size": 64, "input_size": 32, "repeats": args.repeats, "results": results}
    if not args.no_save:
        RESULTS.write_text(json.dumps(out, indent=1) + "\n")
        print("wrote", RESULTS.relative_to(ROOT))
    return out


if __name__ == "__main__":
    main()
