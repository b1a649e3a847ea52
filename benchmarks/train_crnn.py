"""Train chapter 12's CRNN on handwritten digit strings with CTC; write a checkpoint and JSON.

Every batch is a fresh set of strings built from MNIST *training* digits
(``coursekit.data.mnist.digit_strings("train", ...)``, seeded by the step); training stops
after ``--minutes`` of wall-clock time. The model is then saved (float16) and reloaded, and
the figures are measured on the saved weights: character error rate (CER), greedy and
prefix beam, on ``--test`` strings built only from MNIST *test* digits (writers disjoint
from the training writers), and on validation strings. Run it under the shared lock::

    flock /work/locks/cpu nice -n 0 python benchmarks/train_crnn.py --minutes 20

Writes ``coursekit/data/checkpoints/crnn_digits.pt`` and
``coursekit/data/results/crnn_digits.json`` (figures, settings, the loss curve).
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import time

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from coursekit.data import CHECKPOINT_DIR, RESULTS_DIR
from coursekit.data.mnist import digit_strings
from coursekit.models.crnn import CRNN, evaluate
from coursekit.train.checkpoint import load_checkpoint, save_checkpoint


def batch(step: int, size: int, split: str = "train", shear: float = 0.0, stretch: float = 0.0):
    s = digit_strings(split, size, seed=100_000 + step)
    x = torch.from_numpy(s.images)
    if shear or stretch:
        x = distort(x, torch.Generator().manual_seed(step), shear, stretch)
    return x, torch.from_numpy(s.ctc_targets()), torch.from_numpy(s.lengths)


def distort(images, gen, shear: float, stretch: float):
    """Training augmentation: each string image (N, H, W), ink on 0, gets its own slant
    (x += k y, k uniform in [-shear, shear]) and vertical shrink (by up to ``stretch``), so
    that the training digits do not always come in their one handwritten shape."""
    N, H, W = images.shape
    k = (torch.rand(N, generator=gen) * 2 - 1) * shear
    sy = 1 + torch.rand(N, generator=gen) * stretch
    theta = torch.zeros(N, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1], theta[:, 1, 1] = 1.0, k * H / W, sy
    grid = F.affine_grid(theta, (N, 1, H, W), align_corners=False)
    return F.grid_sample(images[:, None], grid, align_corners=False)[:, 0]


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--channels", type=int, nargs="+", default=[16, 32, 64])
    ap.add_argument("--downsample", type=int, default=2)
    ap.add_argument("--test", type=int, default=1000, help="test strings (test digits only)")
    ap.add_argument("--valid", type=int, default=300)
    ap.add_argument("--beam", type=int, default=8)
    ap.add_argument("--shear", type=float, default=0.0,
                    help="augmentation: random slant of each training string, up to this")
    ap.add_argument("--stretch", type=float, default=0.0,
                    help="augmentation: random vertical shrink of each training string, up to this")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(CHECKPOINT_DIR / "crnn_digits.pt"))
    ap.add_argument("--json", default=str(RESULTS_DIR / "crnn_digits.json"))
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument("--note", default="shared 2-core CPU under the lock (say otherwise with --note)",
                    help="how the run was made (stored in the JSON)")
    args = ap.parse_args(argv)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    model = CRNN(channels=args.channels, hidden=args.hidden, downsample=args.downsample)
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    budget = args.minutes * 60
    start = time.perf_counter()
    curve, step, running = [], 0, None
    bar = tqdm(total=int(budget), unit="s", disable=args.no_progress)
    model.train()
    while (elapsed := time.perf_counter() - start) < budget:
        lr = args.lr * 0.5 * (1 + math.cos(math.pi * min(elapsed / budget, 1.0)))
        for g in opt.param_groups:
            g["lr"] = lr
        x, y, yl = batch(step, args.batch, shear=args.shear, stretch=args.stretch)
        logits = model(x)                                     # (N, T, C)
        lp = F.log_softmax(logits, dim=-1).transpose(0, 1)    # (T, N, C)
        il = torch.full((x.shape[0],), lp.shape[0], dtype=torch.long)
        loss = F.ctc_loss(lp, y, il, yl, reduction="mean", zero_infinity=True)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        step += 1
        if step % 25 == 0:
            curve.append([step, round(elapsed, 1), round(running, 4)])
            bar.n = int(elapsed)
            bar.set_postfix(step=step, loss=f"{running:.3f}")
            if args.no_progress and step % 250 == 0:
                print(f"step {step} {elapsed:.0f} s loss {running:.3f}", flush=True)
    train_seconds = time.perf_counter() - start
    bar.close()

    save_checkpoint(args.out, model, extra={"classes": "blank + digits 0-9 as classes 1-10"})
    loaded, _ = load_checkpoint(args.out)
    t0 = time.perf_counter()
    test = evaluate(loaded, digit_strings("test", args.test, seed=12), beam_size=args.beam)
    valid = evaluate(loaded, digit_strings("valid", args.valid, seed=12), beam_size=args.beam)
    eval_seconds = time.perf_counter() - t0
    record = {
        "model": "CRNN", "config": loaded.config, "params": n_params, "steps": step,
        "batch": args.batch, "strings_seen": step * args.batch, "lr": args.lr,
        "schedule": "cosine over the time budget", "minutes_budget": args.minutes,
        "train_seconds": round(train_seconds, 1), "eval_seconds": round(eval_seconds, 1),
        "augment": {"shear": args.shear, "stretch": args.stretch},
        "threads": args.threads, "test_seed": 12, "valid_seed": 12,
        "test": {k: v for k, v in test.items() if k not in ("greedy", "beam")},
        "valid": {k: v for k, v in valid.items() if k not in ("greedy", "beam")},
        "curve": curve, "torch": torch.__version__, "numpy": np.__version__,
        "machine": platform.machine(), "date": time.strftime("%Y-%m-%d %H:%M"),
        "note": args.note,
    }
    save_checkpoint(args.out, model, extra={"classes": "blank + digits 0-9 as classes 1-10"},
                    metrics={k: record[k] for k in ("steps", "train_seconds", "params")}
                    | {"test_" + k: v for k, v in record["test"].items()})
    with open(args.json, "w") as f:
        json.dump(record, f, indent=1)
        f.write("\n")
    print(f"{step} steps in {train_seconds:.0f} s ({step * args.batch} strings), "
          f"{n_params} params; test CER greedy {test['cer_greedy']:.4f}, beam "
          f"{test['cer_beam']:.4f} on {test['n_strings']} strings ({test['n_chars']} digits); "
          f"valid CER greedy {valid['cer_greedy']:.4f}")
    return record


if __name__ == "__main__":
    main()
