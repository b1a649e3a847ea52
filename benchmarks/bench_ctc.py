"""Time numpy ctc_loss + ctc_loss_backward against torch's ctc_loss forward + backward (CPU).

Both sides start from logits and include the log-softmax (torch: ``log_softmax`` then
``F.ctc_loss(reduction="none")``, backward through both). Prints the median seconds of
several repeats and the ratio numpy / torch (above 1: numpy is slower), and writes the
figures as JSON (``--json``, default ``coursekit/data/results/bench_ctc.json``). One thread
on each side by default. Never asserts. Example::

    python benchmarks/bench_ctc.py --N 32 --T 50 --C 11 --S 8 --repeats 21
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

_pre = argparse.ArgumentParser(add_help=False)
_pre.add_argument("--threads", type=int, default=1)
_THREADS = str(_pre.parse_known_args(sys.argv[1:] if __name__ == "__main__" else [])[0].threads)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = _THREADS  # must precede the numpy import

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from coursekit.data import RESULTS_DIR  # noqa: E402
from coursekit.nn import ctc  # noqa: E402


def median_seconds(fn, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def problem(n, t, c, s, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, t, c))
    targets = rng.integers(1, c, size=(n, s))
    il = rng.integers(t - t // 5, t + 1, size=n)
    tl = rng.integers(max(1, s // 2), s + 1, size=n)
    return logits, targets, il.astype(np.int64), tl.astype(np.int64)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--N", type=int, default=32)
    ap.add_argument("--T", type=int, default=50)
    ap.add_argument("--C", type=int, default=11)
    ap.add_argument("--S", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=21)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", default=str(RESULTS_DIR / "bench_ctc.json"))
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    logits, targets, il, tl = problem(args.N, args.T, args.C, args.S)
    dl = np.ones(args.N)

    def run_numpy():
        losses, cache = ctc.ctc_loss(logits, targets, il, tl)
        ctc.ctc_loss_backward(dl, cache)

    x = torch.tensor(logits, requires_grad=True)
    tt, ti, tlen = torch.tensor(targets), torch.tensor(il), torch.tensor(tl)

    def run_torch():
        x.grad = None
        lp = F.log_softmax(x, dim=-1).transpose(0, 1)
        F.ctc_loss(lp, tt, ti, tlen, reduction="none").sum().backward()

    t_np = median_seconds(run_numpy, args.repeats)
    t_torch = median_seconds(run_torch, args.repeats)
    record = dict(N=args.N, T=args.T, C=args.C, S=args.S, dtype="float64",
                  repeats=args.repeats, threads=args.threads, numpy_seconds=t_np,
                  torch_seconds=t_torch, ratio=t_np / t_torch, torch=torch.__version__,
                  numpy=np.__version__, machine=platform.machine(),
                  date=time.strftime("%Y-%m-%d"), note="shared 2-core CPU, under contention")
    print(f"CTC forward+backward, N={args.N} T={args.T} C={args.C} S={args.S} float64, median "
          f"of {args.repeats}, {args.threads} thread(s): numpy {t_np * 1e3:.2f} ms, torch "
          f"{t_torch * 1e3:.2f} ms, numpy/torch {t_np / t_torch:.2f}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(record, indent=1) + "\n")
    return record


if __name__ == "__main__":
    main()
