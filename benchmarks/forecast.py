"""Forecast yearly sunspots: persistence, linear AR and a GRU, one step and ten steps ahead.

The lab's steps on a real series: split by time (the last 40 years are the test
tail, the 30 before them validation), scale with the training part's mean and
standard deviation, cut 2-D data into 3-D windows (samples, timesteps, 1), fit,
and score MAE and RMSE on the tail in sunspot numbers. Multi-step: recursive
(one-step models fed their own output) against direct (one model, K outputs).
Writes the two GRU forecasters as checkpoints and every figure as JSON::

    python benchmarks/forecast.py
    python benchmarks/forecast.py --epochs 20 --out-dir /tmp/f      # a quick trial
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from coursekit.data import CHECKPOINT_DIR, RESULTS_DIR
from coursekit.data.timeseries import Scaler, load_sunspots, make_windows, split_by_time
from coursekit.models.forecast import (Forecaster, ar_forecast, fit_ar, mae, persistence_forecast,
                                       rmse, rnn_forecast, train_forecaster)
from coursekit.train.checkpoint import load_checkpoint, save_checkpoint

TIMESTEPS, HORIZON, VALID, TEST = 20, 10, 30, 40


def windows_for(z, part: slice, horizon: int):
    """Windows whose first target lies in ``part`` (their inputs may reach back before it)."""
    X, y, t = make_windows(z, TIMESTEPS, horizon, return_index=True)
    keep = (t >= part.start) & (t < part.stop - horizon + 1)
    return X[keep], y[keep], t[keep]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out-dir", type=Path, default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    years, spots = load_sunspots()
    train, valid, test = split_by_time(len(spots), VALID, TEST)
    scaler = Scaler.fit(spots[train])
    z = scaler.transform(spots)
    out = {"split_years": {k: [int(years[s.start]), int(years[s.stop - 1])]
                           for k, s in (("train", train), ("valid", valid), ("test", test))},
           "timesteps": TIMESTEPS, "horizon": HORIZON, "scaler": [float(scaler.mean[0]),
                                                                  float(scaler.std[0])]}
    unscale = scaler.inverse
    res = {}
    for K in (1, HORIZON):
        Xtr, ytr, _ = windows_for(z, train, K)
        Xva, yva, _ = windows_for(z, valid, K)
        Xte, yte, tte = windows_for(z, test, K)
        y_true = unscale(yte)
        coef = fit_ar(*windows_for(z, train, 1)[:2])
        preds = {"persistence": persistence_forecast(Xte, K), f"ar{TIMESTEPS}": ar_forecast(Xte, coef, K)}
        res[K] = {"windows": {"train": len(Xtr), "valid": len(Xva), "test": len(Xte)},
                  "target_years": years[tte].tolist()}
        models = {}
        for kind, outputs in (("recursive", 1), ("direct", K)) if K > 1 else (("one_step", 1),):
            if kind == "recursive":
                models[kind] = res[1]["_model"]
            else:
                model = Forecaster(1, args.hidden, outputs=outputs, cell="gru")
                yt, yv = (windows_for(z, train, outputs)[1], windows_for(z, valid, outputs)[1])
                Xt, Xv = windows_for(z, train, outputs)[0], windows_for(z, valid, outputs)[0]
                hist = train_forecaster(model, Xt, yt, valid=(Xv, yv), epochs=args.epochs,
                                        seed=args.seed)
                name = "forecast_gru_one_step.pt" if outputs == 1 else f"forecast_gru_direct{K}.pt"
                path = save_checkpoint((args.out_dir or CHECKPOINT_DIR) / name, model,
                                       extra={"scaler": out["scaler"], "timesteps": TIMESTEPS},
                                       half=False)
                model, _ = load_checkpoint(path)
                models[kind] = model
                res[K][f"{kind}_best_valid_mse"] = float(min(hist["valid"]))
                if K == 1:
                    res[1]["_model"] = model
            preds[f"gru_{kind}"] = rnn_forecast(models[kind], Xte, K)
        res[K]["scores"] = {k: {"mae": mae(y_true, unscale(p)), "rmse": rmse(y_true, unscale(p))}
                            for k, p in preds.items()}
        res[K]["forecasts"] = {k: np.round(unscale(p), 3).tolist() for k, p in preds.items()}
        res[K]["truth"] = np.round(y_true, 3).tolist()
        print(f"horizon {K}: " + ", ".join(f"{k} MAE {v['mae']:.2f} RMSE {v['rmse']:.2f}"
                                           for k, v in res[K]["scores"].items()), flush=True)
    res[1].pop("_model")
    out["ar_coef"] = coef.tolist()
    out["results"] = {str(k): v for k, v in res.items()}
    out["settings"] = {"epochs": args.epochs, "hidden": args.hidden, "seed": args.seed,
                       "threads": args.threads, "seconds": time.perf_counter() - t0}
    path = (args.out_dir or RESULTS_DIR) / "forecast_sunspots.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path} in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
