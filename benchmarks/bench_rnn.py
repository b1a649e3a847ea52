"""Time numpy rnn_forward + rnn_backward against torch.nn.RNN forward + backward.

Prints the median seconds of several repeats for each dtype and the ratio
numpy / torch (above 1 means numpy is slower). Both sides use the same number
of threads (``--threads``, default 1): numpy's BLAS reads its thread count when
numpy is imported, so this script sets it before that import. It prints
figures; it never asserts. Example::

    python benchmarks/bench_rnn.py --N 32 --T 50 --D 128 --H 128 --repeats 7
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

_pre = argparse.ArgumentParser(add_help=False)
_pre.add_argument("--threads", type=int, default=1)
_THREADS = str(_pre.parse_known_args(sys.argv[1:] if __name__ == "__main__" else [])[0].threads)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = _THREADS  # must precede the numpy import

import numpy as np  # noqa: E402
import torch  # noqa: E402

from coursekit.nn import rnn


def median_seconds(fn, repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def numpy_step(x, h0, p, dh):
    h, cache = rnn.rnn_forward(x, h0, **p)
    rnn.rnn_backward(dh, cache)


def torch_step(module, x, h0, dh):
    module.zero_grad(set_to_none=True)
    out, _ = module(x, h0)
    out.backward(dh)


def bench(args, np_dtype, torch_dtype) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    p = rnn.init_params(args.D, args.H, seed=0, dtype=np_dtype)
    x = rng.standard_normal((args.N, args.T, args.D)).astype(np_dtype)
    h0 = np.zeros((args.N, args.H), np_dtype)
    dh = rng.standard_normal((args.N, args.T, args.H)).astype(np_dtype)
    t_np = median_seconds(lambda: numpy_step(x, h0, p, dh), args.repeats)

    module = rnn.to_torch(**p, dtype=torch_dtype, device=args.device)
    tx = torch.tensor(x, device=args.device, requires_grad=True)
    th0 = torch.tensor(h0, device=args.device)[None]  # (1, N, H)
    tdh = torch.tensor(dh, device=args.device)

    def run_torch():
        torch_step(module, tx, th0, tdh)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()

    t_torch = median_seconds(run_torch, args.repeats)
    return t_np, t_torch


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--N", type=int, default=32, help="batch size")
    ap.add_argument("--T", type=int, default=50, help="sequence length")
    ap.add_argument("--D", type=int, default=128, help="input size")
    ap.add_argument("--H", type=int, default=128, help="hidden size")
    ap.add_argument("--repeats", type=int, default=7, help="timed repeats (median is reported)")
    ap.add_argument("--threads", type=int, default=1, help="threads for torch and numpy's BLAS")
    ap.add_argument("--device", default="cpu", help="torch device for nn.RNN (numpy is always CPU)")
    ap.add_argument("--no-save", action="store_true", help="do not write benchmarks/results/bench_rnn.json")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    print(f"RNN forward+backward, N={args.N} T={args.T} D={args.D} H={args.H}, "
          f"median of {args.repeats}, torch {torch.__version__} on {args.device} "
          f"({torch.get_num_threads()} thread(s)), numpy {np.__version__} "
          f"(OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']})")
    print(f"{'dtype':>8} {'numpy s':>10} {'torch s':>10} {'numpy/torch':>12}")
    figures = {}
    for np_dtype, torch_dtype in [(np.float64, torch.float64), (np.float32, torch.float32)]:
        t_np, t_torch = bench(args, np_dtype, torch_dtype)
        print(f"{np.dtype(np_dtype).name:>8} {t_np:10.4f} {t_torch:10.4f} {t_np / t_torch:12.2f}")
        figures[np.dtype(np_dtype).name] = {"numpy_s": t_np, "torch_s": t_torch, "ratio": t_np / t_torch}
    if not args.no_save:
        from _record import write_result
        write_result("bench_rnn", {"RNN": figures}, {k: v for k, v in vars(args).items() if k != "no_save"})


if __name__ == "__main__":
    main()
