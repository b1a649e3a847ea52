"""CRNN: a convolutional front end whose feature columns a bidirectional LSTM reads, trained with CTC.

Shi, Bai and Yao (2017)'s architecture, small enough for a CPU:

1. :class:`~coursekit.nn.cnn.ConvEncoder` turns a grey image ``(N, 1, H, W)`` into a
   feature map ``(N, C, H', W')``; its pools shrink the height faster than the width;
2. each of the ``W'`` columns (``C x H'`` numbers) is one step of a sequence
   ``x_t`` (the *columns as a sequence*), ``t = 1..T`` with ``T = W'``;
3. a bidirectional LSTM reads it: ``h_t = [h_t(forward); h_t(backward)]``;
4. a linear layer gives per-frame class scores ``logits[t] = W h_t + b`` over ``1 + 10``
   classes (class 0 is CTC's blank, class ``d + 1`` the digit ``d``);
5. the CTC loss (:mod:`coursekit.nn.ctc`) aligns the ``T`` frames with the digits, so no
   per-digit positions are needed; decoding is greedy or prefix beam
   (:mod:`coursekit.nn.ctc_decode`).

Shapes: images (N, H, W) or (N, 1, H, W) float -> logits (N, T, num_classes). Chapter 12.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from coursekit.metrics import error_rate
from coursekit.nn.cnn import ConvEncoder
from coursekit.nn.ctc import log_softmax
from coursekit.nn.ctc_decode import ctc_beam_decode, ctc_greedy_decode

__all__ = ["CRNN", "digits_to_text", "predict_log_probs", "recognise", "evaluate"]


class CRNN(nn.Module):
    """Conv columns -> bidirectional LSTM -> per-frame class scores for CTC.

    Args:
        height: image height in pixels (the columns have ``channels[-1] * H'`` features).
        channels, pools: the :class:`ConvEncoder`'s blocks (default three blocks that halve
            the height each time and the width twice: ``T = W / 4`` frames).
        hidden: LSTM hidden size per direction.
        num_classes: classes including the blank (11 for digits).
        dropout: dropout on the conv features and before the output layer.
        downsample: average-pool the image by this factor first (2: a 32 x 200 line is read
            at 16 x 100, four times less convolution work).

    ``config`` holds the constructor arguments (for checkpoints). Chapter 12.
    """

    def __init__(self, height: int = 32, channels=(16, 32, 64), pools=((2, 2), (2, 2), (2, 1)),
                 hidden: int = 64, num_classes: int = 11, dropout: float = 0.1,
                 downsample: int = 1, *, device=None, dtype=None):
        super().__init__()
        if isinstance(downsample, bool) or not isinstance(downsample, int) or downsample < 1 \
                or height % downsample:
            raise ValueError(f"downsample must be a positive int dividing height={height}, got "
                             f"{downsample!r}")
        self.config = dict(height=int(height), channels=[int(c) for c in channels],
                           pools=[list(p) for p in pools], hidden=int(hidden),
                           num_classes=int(num_classes), dropout=float(dropout),
                           downsample=int(downsample))
        kw = dict(device=device, dtype=dtype)
        self.shrink = nn.AvgPool2d(downsample) if downsample > 1 else nn.Identity()
        self.encoder = ConvEncoder(1, channels, pools, dropout=dropout, **kw)
        h_out, _ = self.encoder.output_size(height // downsample, 10 ** 6)
        if h_out < 1:
            raise ValueError(f"height {height} is too small for pools {pools}")
        self.features = self.encoder.out_channels * h_out
        self.rnn = nn.LSTM(self.features, hidden, batch_first=True, bidirectional=True, **kw)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(2 * hidden, num_classes, **kw)

    def frames(self, width: int) -> int:
        """T, the number of frames (columns) for an image ``width`` pixels wide."""
        d = self.config["downsample"]
        return self.encoder.output_size(self.config["height"] // d, width // d)[1]

    def columns(self, images: torch.Tensor) -> torch.Tensor:
        """The conv feature columns as a sequence: (N, 1, H, W) -> (N, T, C * H')."""
        if images.dim() == 3:
            images = images[:, None]
        if images.shape[2] != self.config["height"]:
            raise ValueError(f"images must be {self.config['height']} pixels high, got shape "
                             f"{tuple(images.shape)}")
        f = self.encoder(self.shrink(images))                 # (N, C, H', W')
        n, c, h, w = f.shape
        return f.permute(0, 3, 1, 2).reshape(n, w, c * h)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        h, _ = self.rnn(self.columns(images))                 # (N, T, 2H)
        return self.out(self.drop(h))                         # (N, T, num_classes)


def digits_to_text(labels) -> str:
    """CTC classes (digit ``d`` is class ``d + 1``) -> the string of digits."""
    return "".join(str(int(k) - 1) for k in labels)


@torch.no_grad()
def predict_log_probs(model: CRNN, images: np.ndarray, batch_size: int = 256,
                      device="cpu") -> np.ndarray:
    """Per-frame log-probabilities (N, T, C) as float64 numpy, model in eval mode."""
    model.eval()
    out = []
    for i in range(0, len(images), batch_size):
        x = torch.as_tensor(images[i:i + batch_size], dtype=torch.float32, device=device)
        out.append(model(x).double().cpu().numpy())
    return log_softmax(np.concatenate(out))


def recognise(model: CRNN, images: np.ndarray, *, beam_size: int = 0, log_probs=None) -> list:
    """The recognised strings: greedy (``beam_size=0``) or prefix beam search."""
    lp = predict_log_probs(model, images) if log_probs is None else log_probs
    seqs = ctc_beam_decode(lp, beam_size=beam_size) if beam_size else ctc_greedy_decode(lp)
    return [digits_to_text(s) for s in seqs]


def evaluate(model: CRNN, strings, *, beam_size: int = 8) -> dict:
    """Character error rate (greedy and prefix beam) and string accuracy on ``strings``.

    ``strings``: a :class:`~coursekit.data.mnist.DigitStrings`. Returns plain figures and
    the greedy and beam hypotheses.
    """
    lp = predict_log_probs(model, strings.images)
    greedy = recognise(model, strings.images, log_probs=lp)
    beam = recognise(model, strings.images, beam_size=beam_size, log_probs=lp)
    refs = list(strings.texts)
    return {"cer_greedy": error_rate(greedy, refs), "cer_beam": error_rate(beam, refs),
            "string_acc_greedy": float(np.mean([h == r for h, r in zip(greedy, refs)])),
            "string_acc_beam": float(np.mean([h == r for h, r in zip(beam, refs)])),
            "n_strings": len(refs), "n_chars": sum(len(r) for r in refs),
            "beam_size": beam_size, "greedy": greedy, "beam": beam}
