"""Training throughput of the character model on the CPU and, where one exists, on CUDA.

    python benchmarks/cuda_throughput.py [--steps 60] [--cell lstm]

Trains ``CharLM`` (embedding 64, H=512, batch 64 x 128) on the Shakespeare corpus with
:func:`coursekit.train.loop.train` for ``--steps`` updates on each device, after a few
warm-up updates, and prints characters per second and the ratio. Without a CUDA device
it measures the CPU only and says so. Writes ``benchmarks/results/cuda_throughput.json``.
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from coursekit.data.batches import SequentialBatches
from coursekit.data.shakespeare import load_shakespeare
from coursekit.data.text import CharVocab
from coursekit.models.charlm import CharLM
from coursekit.train.loop import train

OUT = Path(__file__).resolve().parent / "results" / "cuda_throughput.json"


def throughput(device: str, ids: np.ndarray, V: int, steps: int, cell: str) -> float:
    """Characters per second of training on ``device`` (after 5 warm-up updates)."""
    batches = SequentialBatches(ids, 64, 128)
    model = CharLM(V, 512, cell=cell, embed_dim=64)
    train(model, batches, steps=5, lr=3e-3, clip=1.0, device=device, progress=False)
    if device == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    train(model, batches, steps=steps, lr=3e-3, clip=1.0, device=device, progress=False)
    if device == "cuda":
        torch.cuda.synchronize()
    return steps * 64 * 128 / (time.perf_counter() - t0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--cell", choices=("rnn", "lstm", "gru"), default="lstm")
    args = ap.parse_args(argv)
    vocab = CharVocab(load_shakespeare())
    ids = vocab.encode(load_shakespeare())
    figures = {"cpu_chars_per_s": throughput("cpu", ids, vocab.size, args.steps, args.cell),
               "cpu_threads": torch.get_num_threads()}
    print(f"cpu : {figures['cpu_chars_per_s']:,.0f} chars/s ({torch.get_num_threads()} threads)")
    if torch.cuda.is_available():
        figures["cuda_device"] = torch.cuda.get_device_name(0)
        figures["cuda_chars_per_s"] = throughput("cuda", ids, vocab.size, args.steps, args.cell)
        figures["cuda_over_cpu"] = figures["cuda_chars_per_s"] / figures["cpu_chars_per_s"]
        print(f"cuda: {figures['cuda_chars_per_s']:,.0f} chars/s on {figures['cuda_device']} "
              f"({figures['cuda_over_cpu']:.1f}x the CPU)")
    else:
        print("cuda: no CUDA device here; run this script on a GPU machine for the comparison")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"name": "cuda_throughput", "date": datetime.now(timezone.utc).isoformat(
        timespec="seconds"), "machine": {"platform": platform.platform(), "torch": torch.__version__},
        "config": vars(args), "figures": figures}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
