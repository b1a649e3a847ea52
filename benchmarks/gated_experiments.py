"""Run the gated-cell experiments of chapters 4 and 5 and write their JSON results.

    python benchmarks/gated_experiments.py                 # all three, a few minutes on 2 cores
    python benchmarks/gated_experiments.py --only variants --out /tmp/results
    python benchmarks/gated_experiments.py --only solutions  # chapter 5, exercises 3 and 5

Writes ``gated_length.json``, ``gated_forget_bias.json``, ``gated_adding.json`` and
``gated_variants.json`` to ``coursekit/data/results/`` (or ``--out``); ``--only solutions``
writes ``gated_solutions.json`` (``ch05_gru.SOLUTION_CONFIG``: Cho's GRU added, eight seeds), each
holding the config it was run with (``coursekit.book.ch04_lstm.*_CONFIG`` and ``coursekit.book.ch05_gru.VARIANT_CONFIG``;
``tests/test_gated_experiments.py`` checks that the committed files match the
current configs), and prints the figures the chapters report.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

from coursekit.book import ch04_lstm as ge
from coursekit.book import ch05_gru as ch05
from coursekit.data import RESULTS_DIR

EXPERIMENTS = {
    "length": ge.length_experiment,
    "forget_bias": ge.forget_bias_experiment,
    "adding": ge.adding_experiment,  # chapter 4, exercise 5
    "variants": ch05.variant_experiment,
    # chapter 5's exercises 3 and 5: Cho's GRU added, eight seeds
    "solutions": lambda: ch05.variant_experiment(ch05.SOLUTION_CONFIG),
}


def report(name, result):
    if name == "adding":
        for cell, by_T in result["test_mse"].items():
            for T, curves in by_T.items():
                print(f"  {cell:5s} T={T}: final test MSE per seed {[c[-1] for c in curves]} "
                      f"(always 1: {1 / 6:.3f})")
    elif name == "length":
        for cell, by_T in result["accuracy"].items():
            cells = "  ".join(f"T={T}: {ge.summarize(a)[0]:.3f}" for T, a in by_T.items())
            print(f"  {cell:5s} accuracy at distance T-1  {cells}")
    elif name == "forget_bias":
        for bias, curves in result["accuracy"].items():
            final = ge.summarize([c[-1] for c in curves])
            print(f"  b_f = {bias}: final accuracy {final[0]:.3f} +- {final[1]:.3f}; "
                  f"per seed {[round(c[-1], 3) for c in curves]}")
    else:  # variants, solutions
        for cell, r in result["results"].items():
            acc, steps, loss = (ge.summarize(r[k]) for k in ("final_acc", "steps_to_solve", "final_loss"))
            print(f"  {cell:15s} acc {acc[0]:.3f} +- {acc[1]:.3f}  steps to {result['config']['solved_at']}: "
                  f"{steps[0]:.0f} +- {steps[1]:.0f} ({steps[2]}/{len(r['final_acc'])} solved)  "
                  f"loss {loss[0]:.4f} +- {loss[1]:.4f}  params {r['n_params'][0]}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=sorted(EXPERIMENTS), action="append")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest for these small models)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    total = time.perf_counter()
    for name in args.only or [n for n in EXPERIMENTS if n != "solutions"]:
        t0 = time.perf_counter()
        result = EXPERIMENTS[name]()
        seconds = time.perf_counter() - t0
        result["meta"] = {"seconds": round(seconds, 1), "threads": args.threads, "torch": torch.__version__,
                          "python": platform.python_version()}
        path = args.out / f"gated_{name}.json"
        path.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
        print(f"{name}: {seconds:.0f} s -> {path}")
        report(name, result)
        sys.stdout.flush()
    print(f"total {time.perf_counter() - total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
