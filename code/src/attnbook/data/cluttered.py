"""Cluttered digits: scikit-learn's bundled 8x8 digits, enlarged and placed at random on a
larger canvas among clutter fragments cut from other digits (after the cluttered MNIST
of Mnih et al., 2014, https://arxiv.org/abs/1406.6247, at a size a laptop trains on).

Nothing is downloaded: ``sklearn.datasets.load_digits`` reads a file inside the
scikit-learn package. Digits 0-1199 of that set feed the training split, 1200-1796
the test split, so no test digit is ever seen in training.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from .._checks import check_int

__all__ = ["ClutteredDigits", "make_cluttered_digits"]

_SPLITS = {"train": slice(0, 1200), "test": slice(1200, None)}


class ClutteredDigits(NamedTuple):
    """Attributes:
        images: ``(count, 1, canvas, canvas)`` in [0, 1].
        labels: ``(count,)`` digit classes 0-9.
        boxes: ``(count, 4)`` digit boxes as (top, left, height, width) in pixels.
    """

    images: torch.Tensor
    labels: torch.Tensor
    boxes: torch.Tensor


def _source_digits(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32)[_SPLITS[split]] / 16.0
    return images, torch.tensor(digits.target)[_SPLITS[split]]


def make_cluttered_digits(count: int, seed: int, split: str = "train", canvas: int = 40, scale: int = 2,
                          clutter: int = 6, fragment: int = 6) -> ClutteredDigits:
    """Generate ``count`` cluttered digit images, the same for the same arguments.

    Args:
        count: number of images, >= 1.
        seed: seed of the generator.
        split: ``"train"`` or ``"test"``: which source digits to draw from.
        canvas: side of the square canvas in pixels.
        scale: enlargement of the 8x8 digits (bilinear), so digits are ``8 * scale`` pixels wide.
        clutter: number of fragments per image.
        fragment: side of each square fragment, cut from a random other digit.

    Returns:
        :class:`ClutteredDigits`.
    """
    for name, value, smallest in (("count", count, 1), ("canvas", canvas, 1), ("scale", scale, 1),
                                  ("clutter", clutter, 0), ("fragment", fragment, 1)):
        check_int(name, value, smallest)
    if split not in _SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    size = 8 * scale
    if size > canvas or fragment > size:
        raise ValueError(f"digits of {size} pixels and fragments of {fragment} must fit a canvas of {canvas}, "
                         f"got canvas={canvas}, scale={scale}, fragment={fragment}")
    source, targets = _source_digits(split)
    large = F.interpolate(source[:, None], size=(size, size), mode="bilinear", align_corners=False)[:, 0]
    generator = torch.Generator().manual_seed(seed)
    picks = torch.randint(len(source), (count,), generator=generator)
    images = torch.zeros(count, 1, canvas, canvas)
    boxes = torch.zeros(count, 4, dtype=torch.long)
    for row in range(count):
        for _ in range(clutter):
            other = large[torch.randint(len(source), (1,), generator=generator).item()]
            top, left = torch.randint(size - fragment + 1, (2,), generator=generator).tolist()
            y, x = torch.randint(canvas - fragment + 1, (2,), generator=generator).tolist()
            patch = images[row, 0, y:y + fragment, x:x + fragment]
            patch.copy_(torch.maximum(patch, other[top:top + fragment, left:left + fragment]))
        y, x = torch.randint(canvas - size + 1, (2,), generator=generator).tolist()
        region = images[row, 0, y:y + size, x:x + size]
        region.copy_(torch.maximum(region, large[picks[row]]))
        boxes[row] = torch.tensor([y, x, size, size])
    return ClutteredDigits(images.clamp(0, 1), targets[picks], boxes)
