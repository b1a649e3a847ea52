"""Small convolutional encoders written with ``torch.nn``, for the image chapters.

No torchvision (it does not import beside the course's pinned CPU torch): a
:class:`ConvEncoder` is a stack of blocks ``conv 3x3 -> batch norm -> ReLU ->
max-pool``, configurable in channels and in the pooling of each block, so that
one class gives both

- a captioning encoder (chapter 11): square pooling, the output is a spatial
  feature map ``(N, C, H', W')`` whose cells an attention decoder looks at, or its
  average, one feature vector per image; and
- a CRNN front end (chapter 12): pooling that shrinks the height faster than
  the width, so each of the ``W'`` output columns becomes one step of a sequence.

Shapes: images ``(N, C_in, H, W)`` -> features ``(N, channels[-1], H', W')`` where
each block divides H and W by its pool size (floor).
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["ConvEncoder"]


def _pair(p) -> tuple[int, int]:
    if isinstance(p, int) and not isinstance(p, bool):
        return (p, p)
    if (isinstance(p, (tuple, list)) and len(p) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in p)):
        return (int(p[0]), int(p[1]))
    raise ValueError(f"each pool must be an int >= 1 or a pair (pool_h, pool_w), got {p!r}")


class ConvEncoder(nn.Module):
    """A stack of conv-BN-ReLU-pool blocks: images (N, C_in, H, W) -> features (N, C, H', W').

    Args:
        in_channels: C_in (1 for grey images, 3 for colour).
        channels: output channels of each block, e.g. ``(32, 64, 128)``.
        pools: one pool per block: an int (square) or ``(pool_h, pool_w)``; 1 means no
            pooling. Default 2 for every block.
        dropout: dropout on the output feature map (0 = none).

    ``config`` holds the constructor arguments (for checkpoints); ``out_channels`` is
    ``channels[-1]``; :meth:`output_size` gives ``(H', W')`` for an input size.
    Formula per block: y = maxpool(relu(BN(conv3x3(x)))). Chapters 11 and 12.
    """

    def __init__(self, in_channels: int = 1, channels=(32, 64, 128), pools=None, *,
                 dropout: float = 0.0, device=None, dtype=None):
        super().__init__()
        if isinstance(in_channels, bool) or not isinstance(in_channels, int) or in_channels < 1:
            raise ValueError(f"in_channels must be a positive int, got {in_channels!r}")
        channels = tuple(channels)
        if not channels or not all(isinstance(c, int) and not isinstance(c, bool) and c > 0
                                   for c in channels):
            raise ValueError(f"channels must be a non-empty sequence of positive ints, got {channels!r}")
        pools = tuple(_pair(p) for p in (pools if pools is not None else [2] * len(channels)))
        if len(pools) != len(channels):
            raise ValueError(f"pools must give one pool per block ({len(channels)}), got {len(pools)}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        self.config = dict(in_channels=in_channels, channels=list(channels),
                           pools=[list(p) for p in pools], dropout=float(dropout))
        self.pools = pools
        kw = dict(device=device, dtype=dtype)
        blocks, c_in = [], in_channels
        for c_out, pool in zip(channels, pools):
            layers = [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False, **kw),
                      nn.BatchNorm2d(c_out, **kw), nn.ReLU(inplace=True)]
            if pool != (1, 1):
                layers.append(nn.MaxPool2d(pool))
            blocks.append(nn.Sequential(*layers))
            c_in = c_out
        self.blocks = nn.Sequential(*blocks)
        self.drop = nn.Dropout(dropout) if dropout else nn.Identity()
        self.out_channels = channels[-1]

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """(H', W') of the feature map for an input of ``height`` x ``width`` pixels."""
        for ph, pw in self.pools:
            height, width = height // ph, width // pw
        return height, width

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if not isinstance(images, torch.Tensor) or images.dim() != 4 \
                or images.shape[1] != self.config["in_channels"]:
            raise ValueError(f"images must be a torch.Tensor of shape (N, "
                             f"{self.config['in_channels']}, H, W), got "
                             f"{tuple(getattr(images, 'shape', ())) or type(images).__name__}")
        h, w = self.output_size(images.shape[2], images.shape[3])
        if h < 1 or w < 1:
            raise ValueError(f"images of {images.shape[2]}x{images.shape[3]} pixels are too small "
                             f"for pools {self.pools}: the feature map would be {h}x{w}")
        return self.drop(self.blocks(images))  # (N, C, H', W')
