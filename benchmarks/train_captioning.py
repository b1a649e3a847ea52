"""Captioning emoji: Show and Tell against Show, Attend and Tell against a nearest neighbour.

Usage (heavy: run under the shared lock)::

    flock /work/locks/cpu .venv/bin/python benchmarks/train_captioning.py
    .venv/bin/python benchmarks/train_captioning.py --steps 20 --scene-steps 20 --no-save  # smoke

1. Emoji (``coursekit.data.emoji``, the compositional split: held-out skin tones of
   concepts seen in other tones). Both captioners have the same ConvEncoder, embedding,
   hidden size, data order, seed and number of updates. Each is decoded with beam search
   (``--beam`` beams) on the test images; corpus BLEU-4 (``coursekit.metrics.corpus_bleu``)
   on our tokens against the one CLDR name. The baseline: the caption of the training
   image nearest in the Show and Tell encoder's feature space (cosine), and, for scale,
   in pixel space.
2. Scenes (``coursekit.data.scenes``, held-out colour-shape pairs): an attention model
   trained on generated scenes; on test scenes, teacher-forced on the true caption, the
   share of the attention on the named object's pixels when the model emits a shape word,
   against that object's share of the image (what uniform attention would give).

Writes ``coursekit/data/results/captioning.json`` and the checkpoints
``coursekit/data/checkpoints/caption_{show_tell,attend,scenes}.pt`` that chapter 11 loads.
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

from coursekit.data import emoji, scenes
from coursekit.metrics import corpus_bleu
from coursekit.models.captioners import (ShowAndTell, ShowAttendTell, caption_loss,
                                         images_to_tensor)
from coursekit.train.checkpoint import save_checkpoint
from coursekit.train.loop import cosine_schedule, train

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = ROOT / "coursekit" / "data" / "checkpoints"
RESULTS = ROOT / "coursekit" / "data" / "results" / "captioning.json"


class CaptionBatches:
    """Shuffled batches ((images, captions_in), captions_out), a new order each epoch.

    Batches group captions of similar length (sorted within chunks of 20 batches) and are
    cut to their longest caption: most names are short, and padded steps cost as much as
    real ones. Images are shifted by up to ``shift`` pixels (white padding) as augmentation.
    """

    def __init__(self, images, captions, batch, *, seed=0, shift=2):
        self.images, self.captions, self.batch, self.shift = images, captions, batch, shift
        self.lengths = (captions != 0).sum(axis=1)  # <START> .. <END>
        self.rng = np.random.default_rng(seed)

    def __iter__(self):
        n, B, s = len(self.images), self.batch, self.shift
        order = self.rng.permutation(n)
        chunks = [order[i:i + 20 * B] for i in range(0, n, 20 * B)]
        batches = []
        for c in chunks:
            c = c[np.argsort(self.lengths[c], kind="stable")]
            batches += [c[i:i + B] for i in range(0, len(c) - B + 1, B)]
        padded = np.pad(self.images, ((0, 0), (s, s), (s, s), (0, 0)), constant_values=255) \
            if s else self.images
        H, W = self.images.shape[1:3]
        for b in self.rng.permutation(len(batches)):
            idx = batches[b]
            if s:
                dy, dx = self.rng.integers(0, 2 * s + 1, 2)
                imgs = padded[idx, dy:dy + H, dx:dx + W]
            else:
                imgs = self.images[idx]
            caps = torch.as_tensor(self.captions[idx, :int(self.lengths[idx].max())])
            yield (images_to_tensor(np.ascontiguousarray(imgs)), caps[:, :-1]), caps[:, 1:]


def loss_fn(model, x, y, hidden=None, n_last=None):
    (images, caps_in), caps_out = x, y
    logits, _ = model(images, caps_in)
    return caption_loss(logits, caps_out), None


def fit(cls, vocab_size, images, captions, args, steps, seed, minutes):
    torch.manual_seed(seed)
    model = cls(vocab_size, embed=args.embed, hidden=args.hidden, dropout=args.dropout,
                channels=args.channels, attn_size=args.attn, init_grid=args.init_grid,
                image_input=args.image_input and not cls.attention)
    t0 = time.perf_counter()
    hist = train(model, CaptionBatches(images, captions, args.batch, seed=seed), steps=steps,
                 lr=args.lr, clip=5.0, loss_fn=loss_fn, schedule=cosine_schedule(),
                 seed=seed, progress=True, log_every=100, time_limit=60 * minutes)
    with torch.no_grad():  # measure what is shipped: the checkpoint stores float16
        for t in list(model.parameters()) + list(model.buffers()):
            if t.is_floating_point():
                t.copy_(t.half().float())
    model.eval()
    return model, {"updates": len(hist["step"]), "stopped": hist["stopped"], "seconds": time.perf_counter() - t0,
                   "final_loss": float(np.mean(hist["loss"][-50:])),
                   "loss_curve": [float(v) for v in hist["loss"][::max(1, steps // 100)]]}


def words(ids, itos):
    return [itos[i] for i in ids if itos[i] not in emoji.SPECIALS]


@torch.no_grad()
def mean_features(model, images):
    f = model.features(images_to_tensor(images)).mean(dim=1)
    return torch.nn.functional.normalize(f, dim=1).numpy()


def nearest_neighbour(train_vecs, test_vecs):
    return np.argmax(test_vecs @ train_vecs.T, axis=1)  # cosine on normalised rows


def emoji_experiment(args):
    train_set, test_set = emoji.load_emoji("train"), emoji.load_emoji("test")
    w2i = emoji.build_vocab(train_set.captions)
    itos = sorted(w2i, key=w2i.get)
    caps = emoji.encode_captions(train_set.captions, w2i)
    refs = [[c] for c in test_set.captions]
    test_x = images_to_tensor(test_set.images)
    out = {"train_images": len(train_set), "test_images": len(test_set), "vocab": len(w2i)}
    models = {}
    for name, cls in (("show_tell", ShowAndTell), ("attend", ShowAttendTell)):
        model, info = fit(cls, len(w2i), train_set.images, caps, args, args.steps, args.seed,
                          args.minutes)
        t0 = time.perf_counter()
        hyps = [words(h, itos) for h in model.generate(test_x, beam_size=args.beam,
                                                       alpha=args.alpha, max_len=16)]
        greedy = [words(h, itos) for h in model.generate(test_x, beam_size=1, max_len=16)]
        info.update(bleu4=corpus_bleu(hyps, refs), bleu4_greedy=corpus_bleu(greedy, refs),
                    exact=float(np.mean([h == r[0] for h, r in zip(hyps, refs)])),
                    decode_seconds=time.perf_counter() - t0, beam=args.beam, alpha=args.alpha,
                    samples=[{"hexcode": test_set.hexcodes[i], "reference": test_set.labels[i],
                              "caption": " ".join(hyps[i])} for i in range(0, len(hyps), 25)])
        out[name], models[name] = info, model
        print(name, {k: v for k, v in info.items() if k not in ("loss_curve", "samples")})
    for space, vec in (("cnn", lambda x: mean_features(models["show_tell"], x)),
                       ("pixels", lambda x: _pixel_vecs(x))):
        nn_idx = nearest_neighbour(vec(train_set.images), vec(test_set.images))
        hyps = [train_set.captions[j] for j in nn_idx]
        out[f"nearest_{space}"] = {"bleu4": corpus_bleu(hyps, refs),
                                   "exact": float(np.mean([h == r[0] for h, r in zip(hyps, refs)]))}
        print(f"nearest_{space}", out[f"nearest_{space}"])
    return out, models, itos


def _pixel_vecs(images):
    v = images.reshape(len(images), -1).astype(np.float64)
    v -= v.mean(axis=1, keepdims=True)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)


@torch.no_grad()
def attention_on_objects(model, data, w2i):
    """Per shape word: attention mass on the named object's pixels vs its area share."""
    hits, mass, share = [], [], []
    caps = torch.as_tensor(emoji.encode_captions(data.captions, w2i))
    _, alpha = model(images_to_tensor(data.images), caps[:, :-1])  # (n, T, L)
    h, w = model.encoder.output_size(32, 32)
    m = data.masks.reshape(len(data), 2, h, 32 // h, w, 32 // w).mean(axis=(3, 5))  # (n, 2, h, w)
    m = m.reshape(len(data), 2, h * w)
    for i, cap in enumerate(data.captions):
        for k, pos in ((0, 2), (1, len(cap) - 1)):  # the shape words: 3rd and last
            a = alpha[i, pos].numpy()  # attention while emitting the shape word
            mass.append(float(a @ (m[i, k] > 0)))
            share.append(float((m[i, k] > 0).mean()))
            hits.append(bool(m[i, k][a.argmax()] > 0))
    return {"mass_on_object": float(np.mean(mass)), "uniform_mass": float(np.mean(share)),
            "argmax_on_object": float(np.mean(hits)), "words": len(mass)}


def scene_experiment(args):
    tr = scenes.make_scenes(args.scene_train, "train", seed=args.seed)
    te = scenes.make_scenes(500, "test", seed=args.seed)
    w2i = emoji.build_vocab(tr.captions)
    caps = emoji.encode_captions(tr.captions, w2i)
    model, info = fit(ShowAttendTell, len(w2i), tr.images, caps, args, args.scene_steps,
                      args.seed, args.scene_minutes)
    itos = sorted(w2i, key=w2i.get)
    hyps = [words(h, itos) for h in model.generate(images_to_tensor(te.images), max_len=12)]
    info.update(exact=float(np.mean([h == list(c) for h, c in zip(hyps, te.captions)])),
                bleu4=corpus_bleu(hyps, [[list(c)] for c in te.captions]),
                **attention_on_objects(model, te, w2i))
    print("scenes", {k: v for k, v in info.items() if k != "loss_curve"})
    return info, model, itos


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=3000, help="updates per emoji model")
    ap.add_argument("--minutes", type=float, default=8.0, help="time cap per emoji model")
    ap.add_argument("--scene-steps", type=int, default=500)
    ap.add_argument("--scene-minutes", type=float, default=1.5)
    ap.add_argument("--scene-train", type=int, default=6000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--embed", type=int, default=48)
    ap.add_argument("--hidden", type=int, default=160)
    ap.add_argument("--channels", type=int, nargs="+", default=[24, 48, 96])
    ap.add_argument("--attn", type=int, default=64)
    ap.add_argument("--init-grid", type=int, default=2,
                    help="the initial state reads the feature map pooled to this grid (1: the mean)")
    ap.add_argument("--image-input", action="store_true",
                    help="Show and Tell reads the image as its first LSTM input (Vinyals et al.)")
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--beam", type=int, default=3)
    ap.add_argument("--alpha", type=float, default=0.6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="2 threads are 5x slower on a loaded CPU")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--checkpoints", type=Path, default=CHECKPOINTS, help="where to write them")
    ap.add_argument("--results", type=Path, default=RESULTS, help="the JSON to write")
    ap.add_argument("--note", default="", help="how this run was made (kept in the JSON)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    result, models, itos = emoji_experiment(args)
    result["scenes"], scene_model, scene_itos = scene_experiment(args)
    result["settings"] = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    result["note"] = args.note
    result["machine"] = {"python": platform.python_version(), "torch": str(torch.__version__),
                         "threads": torch.get_num_threads(), "processor": platform.processor(),
                         "note": "measured on a shared 2-core CPU under contention"}
    result["total_seconds"] = time.perf_counter() - t0
    result["date"] = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    print(json.dumps({k: result[k] for k in ("total_seconds",)}))
    if args.no_save:
        return
    for name, model in models.items():
        metrics = {k: v for k, v in result[name].items() if k not in ("loss_curve", "samples")}
        save_checkpoint(args.checkpoints / f"caption_{name}.pt", model, extra={"itos": itos},
                        metrics=metrics)
    save_checkpoint(args.checkpoints / "caption_scenes.pt", scene_model, extra={"itos": scene_itos},
                    metrics={k: v for k, v in result["scenes"].items() if k != "loss_curve"})
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(result, indent=1) + "\n")
    print("wrote", args.results)


if __name__ == "__main__":
    main()
