"""Translation: no attention against attention, same data and budget (chapters 9 and 10).

Usage (heavy: about 35 minutes on the 2-core CPU; run it alone)::

    python benchmarks/train_translation.py                  # Spanish->English verses, 2 x 4000 updates
    python benchmarks/train_translation.py --corpus ding --steps 5000 --embed 64   # German->English
    python benchmarks/train_translation.py --unit bpe --only attention --threads 1 \
        --results /tmp/att.json --checkpoint /tmp/att.pt   # BPE subwords, one system
    python benchmarks/train_translation.py --steps 20 --eval-every 10 --no-save     # smoke test

Two systems with the same bidirectional GRU encoder, embedding and hidden sizes, data, seed
and budget (the same number of updates; a budget in seconds is not fair on a CPU that
other jobs share, and attention costs more per update, see the JSON): the context fed into
every decoder step (Cho et al. 2014, the seeds' form) and Luong-style general attention.
Every ``--eval-every`` updates each is scored on the valid pairs and its best weights are
kept. Each is decoded greedily and with beam search (5 beams, alpha = 0.6) on the held-out
test pairs: corpus BLEU on our tokens (``corpus.tokenize``, several references where a
source has several translations; equal to sacrebleu with tokenize="none"), overall and by
source length.

Corpora (``--corpus``): ``verses``, the Reina-Valera 1909 / King James verse pairs of 3-20
words (``coursekit.data.verses``), writes ``benchmarks/results/translation_verses.json`` and
the attention model ``coursekit/data/checkpoints/es_en_attention.pt`` that the chapters
load; ``ding``, the German-English dictionary sentences (``coursekit.data.de_en``), writes
``benchmarks/results/translation_ding.json`` (too few, too idiomatic pairs for either model
to generalise: about 2.5 BLEU, see coursekit/data/README.md).
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import torch

from coursekit.data import de_en, verses
from coursekit.data.bpe import BPE, learn_bpe
from coursekit.data.pairs import PairBatches, TokenVocab
from coursekit.data.text import PAD
from coursekit.metrics import corpus_bleu, paired_bootstrap
from coursekit.nn.seq2seq import Seq2Seq, masked_sequence_loss, save_checkpoint
from coursekit.train.loop import cosine_schedule, train

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = ROOT / "coursekit" / "data" / "checkpoints"
RESULTS = ROOT / "benchmarks" / "results"
# corpus -> (data module, results file, attention checkpoint, source-length buckets in tokens)
CORPORA = {
    "verses": (verses, "translation_verses.json", "es_en_attention.pt",
               ((1, 8), (9, 12), (13, 16), (17, 20), (21, 99))),
    "ding": (de_en, "translation_ding.json", "de_en_attention.pt",
             ((1, 4), (5, 6), (7, 8), (9, 10), (11, 99))),
}


class Segmenter:
    """Sentence -> model tokens: words (``unit="word"``) or BPE pieces learned on the
    training sentences of one side (``unit="bpe"``); ``words(pieces)`` undoes it."""

    def __init__(self, corpus, unit, side, merges=0):
        self.corpus, self.bpe = corpus, None
        if unit == "bpe":
            counts = Counter(t for pair in corpus.load_pairs("train")
                             for t in corpus.tokenize(pair[side]))
            self.bpe = BPE(learn_bpe(counts, merges))

    def __call__(self, sentence):
        tokens = self.corpus.tokenize(sentence)
        return self.bpe.encode(tokens) if self.bpe else tokens

    def words(self, tokens):
        return BPE.decode(tokens) if self.bpe else list(tokens)


def vocabularies(corpus, min_freq, seg_src, seg_tgt):
    train_pairs = corpus.load_pairs("train")
    src = TokenVocab([seg_src(d) for d, _ in train_pairs], min_freq=min_freq)
    tgt = TokenVocab([seg_tgt(e) for _, e in train_pairs], min_freq=min_freq)
    return src, tgt


def test_set(corpus, src_vocab, seg_src, split="test"):
    """A held-out split: sources (ids), tokenised references, and each source's length in
    tokens (``corpus.tokenize``, whatever the model's unit: the BLEU buckets use it)."""
    refs = corpus.references(split)
    sources = [src_vocab.encode(seg_src(d)) for d, _ in refs]
    return (sources, [[corpus.tokenize(e) for e in ens] for _, ens in refs],
            [len(corpus.tokenize(d)) for d, _ in refs])


def bleu_report(model, sources, references, src_words, tgt_vocab, words, max_len, buckets, **kw):
    """BLEU is always on ``corpus.tokenize`` words: BPE output is joined back into words."""
    hyps = [words(tgt_vocab.decode(o)) for o in model.generate(sources, max_len=max_len, **kw)]
    by_length = {}
    for lo, hi in buckets:
        idx = [i for i, n in enumerate(src_words) if lo <= n <= hi]
        if idx:
            by_length[f"{lo}-{hi}"] = {"bleu": corpus_bleu([hyps[i] for i in idx],
                                                           [references[i] for i in idx]),
                                       "sentences": len(idx)}
    return {"bleu": corpus_bleu(hyps, references), "by_source_length": by_length}, hyps


def train_one(context, args, pairs, valid_pairs, src_vocab, tgt_vocab):
    """Train one system; every ``args.eval_every`` updates the loss on the valid pairs is
    measured, and the weights with the lowest one are kept (``train(keep_best=True)``: model
    selection, the same rule for both systems)."""
    torch.manual_seed(args.seed)
    model = Seq2Seq(len(src_vocab), len(tgt_vocab), embed=args.embed, hidden=args.hidden,
                    context=context, attention="general", bidirectional=True,
                    dropout=args.dropout)

    def loss_fn(model, x, y, hidden=None, n_last=None):
        (src, src_len), (tgt_in, tgt_out) = x, y
        logits, _ = model(src, src_len, tgt_in)
        return masked_sequence_loss(logits, tgt_out), None

    valid_batches = [tuple(tuple(torch.as_tensor(a) for a in part) for part in batch)
                     for batch in PairBatches(valid_pairs, 256, seed=0)]

    def valid_loss(model):
        """Loss per valid target token over the whole valid split."""
        total = tokens = 0.0
        for x, y in valid_batches:
            n = float((y[1] != PAD).sum())
            total += float(loss_fn(model, x, y)[0]) * n
            tokens += n
        return total / tokens

    t0 = time.perf_counter()
    hist = train(model, PairBatches(pairs, args.batch, seed=args.seed), steps=args.steps,
                 lr=args.lr, clip=1.0, loss_fn=loss_fn,
                 schedule=cosine_schedule(warmup=0.03, final=0.05), seed=args.seed, progress=False,
                 eval_fn=valid_loss, eval_every=args.eval_every, keep_best=True,
                 log=lambda d: print(context, d, flush=True), log_every=200)
    seconds = time.perf_counter() - t0
    return model.eval(), hist, seconds, {
        "best_step": hist["best_step"], "best_valid_loss": hist["best_val_loss"],
        "valid_curve": [list(t) for t in zip(hist["val_step"], hist["val_loss"])]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", choices=sorted(CORPORA), default="verses",
                    help="verses: Spanish-English Bible verses (3-20 words); ding: German-English "
                         "dictionary sentences (2-10 English words)")
    ap.add_argument("--steps", type=int, default=4000, help="updates of each system")
    ap.add_argument("--eval-every", type=int, default=250,
                    help="updates between valid-loss checks (the best weights are kept)")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--embed", type=int, default=128)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--dropout", type=float, default=0.3)
    ap.add_argument("--min-freq", type=int, default=3, help="word units: rarer words are <unk>")
    ap.add_argument("--unit", choices=("word", "bpe"), default="word",
                    help="model tokens: words, or BPE subwords (every word spelled, no <unk>)")
    ap.add_argument("--merges", type=int, default=3000, help="BPE merges per language")
    ap.add_argument("--only", choices=("every_step", "attention"),
                    help="train one system (two processes can then share the two cores)")
    ap.add_argument("--results", help="JSON to write (default benchmarks/results/<corpus's file>)")
    ap.add_argument("--checkpoint", help="where the attention model goes (default "
                                         "coursekit/data/checkpoints/<corpus's file>)")
    ap.add_argument("--baseline-checkpoint",
                    help="also save the model without attention here (not shipped)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args(argv)
    corpus, results_name, checkpoint_name, buckets = CORPORA[args.corpus]
    args.results = args.results or str(RESULTS / results_name)
    args.checkpoint = args.checkpoint or str(CHECKPOINTS / checkpoint_name)
    torch.set_num_threads(args.threads)
    seg_src = Segmenter(corpus, args.unit, 0, args.merges)
    seg_tgt = Segmenter(corpus, args.unit, 1, args.merges)
    src_vocab, tgt_vocab = vocabularies(corpus, args.min_freq if args.unit == "word" else 1,
                                        seg_src, seg_tgt)

    def encode(split):
        return [(src_vocab.encode(seg_src(d)), tgt_vocab.encode(seg_tgt(e)))
                for d, e in corpus.load_pairs(split)]

    pairs, valid_pairs = encode("train"), encode("valid")
    sources, references, src_words = test_set(corpus, src_vocab, seg_src)
    max_len = max(len(e) for _, e in pairs) + 10
    systems, examples, outputs, models = {}, {}, {}, {}
    for context in [args.only] if args.only else ("every_step", "attention"):
        model, hist, seconds, selection = train_one(context, args, pairs, valid_pairs,
                                                    src_vocab, tgt_vocab)
        systems[context] = {"train_seconds": seconds, "steps": len(hist["step"]),
                            "epochs": len(hist["step"]) / -(-len(pairs) // args.batch),
                            "final_train_loss": sum(hist["loss"][-50:]) / min(50, len(hist["loss"])),
                            "parameters": sum(p.numel() for p in model.parameters()),
                            **selection}
        for name, kw in (("greedy", {}), ("beam5", {"beam_size": 5, "alpha": 0.6})):
            systems[context][name], hyps = bleu_report(model, sources, references, src_words,
                                                       tgt_vocab, seg_tgt.words, max_len,
                                                       buckets, **kw)
            examples.setdefault(context + "_" + name, [" ".join(h) for h in hyps[:20]])
            outputs[context, name] = hyps
            print(context, name, round(systems[context][name]["bleu"], 4), flush=True)
        models[context] = model
    gain = bootstrap = None
    if len(systems) == 2:
        gain = {k: systems["attention"][k]["bleu"] - systems["every_step"][k]["bleu"]
                for k in ("greedy", "beam5")}
        # is the gain more than the choice of test sentences explains? (Koehn 2004)
        bootstrap = {k: paired_bootstrap(outputs["every_step", k], outputs["attention", k],
                                         references, samples=1000, seed=args.seed)
                     for k in ("greedy", "beam5")}
    record = {
        "benchmark": "translation", "corpus": args.corpus,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "torch": torch.__version__, "threads": args.threads},
        "settings": vars(args), "train_pairs": len(pairs), "test_sentences": len(sources),
        "vocab": {"src": len(src_vocab), "tgt": len(tgt_vocab)}, "systems": systems,
        "attention_gain_bleu": gain, "bootstrap_attention_minus_no_attention": bootstrap,
        "examples": examples,
    }
    summary = {k: v for k, v in record.items() if k != "examples"}
    print(json.dumps(summary, indent=1))
    if not args.no_save:
        Path(args.results).parent.mkdir(exist_ok=True)
        Path(args.results).write_text(json.dumps(record, indent=1) + "\n")
        merges = {"src_merges": seg_src.bpe.merges, "tgt_merges": seg_tgt.bpe.merges} \
            if args.unit == "bpe" else {}
        for context, path in (("attention", args.checkpoint),
                              ("every_step", args.baseline_checkpoint)):
            if context in models and path:
                save_checkpoint(path, models[context], src_vocab.itos, tgt_vocab.itos,
                                metrics=summary, extra=merges)


if __name__ == "__main__":
    main()
