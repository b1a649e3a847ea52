"""Speed of the numpy LSTM (and GRU) against torch.nn.LSTM (GRU) on the CPU.

Times one forward plus backward pass over a batch of sequences (default
N=32, T=50, D=H=128, float64), takes the median (and the minimum) over
``--repeats`` interleaved runs after a warm-up, and prints both times and the ratio numpy / torch (the
course's goal for the LSTM is at most 2). Prints, never asserts.

    python benchmarks/bench_lstm.py [--N 32 --T 50 --D 128 --H 128 --dtype float64
                                      --repeats 11 --threads 1 --no-gru]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--N", type=int, default=32)
    ap.add_argument("--T", type=int, default=50)
    ap.add_argument("--D", type=int, default=128)
    ap.add_argument("--H", type=int, default=128)
    ap.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    ap.add_argument("--repeats", type=int, default=11)
    ap.add_argument("--threads", type=int, default=1,
                    help="threads for both numpy's BLAS and torch (default 1: fairer and steadier "
                         "on a shared CPU; 0 leaves both libraries' defaults)")
    ap.add_argument("--no-gru", action="store_true", help="skip the GRU comparison")
    ap.add_argument("--no-save", action="store_true", help="do not write benchmarks/results/bench_lstm.json")
    return ap.parse_args(argv)


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None and ARGS.threads:  # must happen before numpy loads its BLAS
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from coursekit.nn import gru, lstm


def interleaved_times(fns, repeats):
    """Run each fn once to warm up, then ``repeats`` rounds of all of them in turn.

    Interleaving spreads any background load on a shared machine evenly over
    the contenders. Returns, per fn, the list of wall-clock times in seconds.
    """
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
    return times


def numpy_lstm(x, h0, P, dh):
    h, c, cache = lstm.lstm_forward(x, h0, P["Wx"], P["Wh"], P["b"])
    lstm.lstm_backward(dh, cache)


def numpy_gru(x, h0, P, dh):
    h, cache = gru.gru_forward(x, h0, P["Wx"], P["Wh"], P["b"], P["bhn"])
    gru.gru_backward(dh, cache)


def torch_pass(module, x, h0, dh, lstm_state):
    xt = x.clone().requires_grad_(True)
    state = (h0[None], torch.zeros_like(h0)[None]) if lstm_state else h0[None]
    out, _ = module(xt, state)
    out.backward(dh)


def main(args):
    if args.threads:
        torch.set_num_threads(args.threads)
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    np_dtype, t_dtype = np.dtype(args.dtype), getattr(torch, args.dtype)
    rng = np.random.default_rng(0)
    N, T, D, H = args.N, args.T, args.D, args.H
    x = rng.standard_normal((N, T, D)).astype(np_dtype)
    h0 = rng.standard_normal((N, H)).astype(np_dtype)
    dh = rng.standard_normal((N, T, H)).astype(np_dtype)
    xt, h0t, dht = (torch.from_numpy(a) for a in (x, h0, dh))
    print(f"N={N} T={T} D={D} H={H} {args.dtype}, median of {args.repeats}, "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"numpy {np.__version__} ({blas}, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'default')}), "
          f"{os.cpu_count()} CPUs")

    cells = [("LSTM", lstm, torch.nn.LSTM, numpy_lstm, True)]
    if not args.no_gru:
        cells.append(("GRU", gru, torch.nn.GRU, numpy_gru, False))
    figures = {}
    for name, mod, torch_cls, numpy_fn, is_lstm in cells:
        torch.manual_seed(0)
        ref = torch_cls(D, H, batch_first=True, dtype=t_dtype)
        P = {k: v.astype(np_dtype) for k, v in mod.from_torch(ref).items()}
        ts_np, ts_torch = interleaved_times([lambda: numpy_fn(x, h0, P, dh),
                                             lambda: torch_pass(ref, xt, h0t, dht, is_lstm)], args.repeats)
        t_np, t_torch = statistics.median(ts_np), statistics.median(ts_torch)
        print(f"{name:4s} forward+backward: numpy {t_np * 1e3:7.1f} ms (min {min(ts_np) * 1e3:.1f})   "
              f"torch.nn.{name} {t_torch * 1e3:7.1f} ms (min {min(ts_torch) * 1e3:.1f})   "
              f"ratio numpy/torch: median {t_np / t_torch:.2f}, min {min(ts_np) / min(ts_torch):.2f}")
        figures[name] = {args.dtype: {"numpy_s": t_np, "torch_s": t_torch, "ratio": t_np / t_torch,
                                      "ratio_min": min(ts_np) / min(ts_torch)}}
    if not args.no_save:
        from _record import write_result
        write_result("bench_lstm", figures, {k: v for k, v in vars(args).items() if k != "no_save"})


if __name__ == "__main__":
    main(ARGS)
