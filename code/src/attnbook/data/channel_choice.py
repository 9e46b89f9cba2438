"""Channel choice: two digits on two input channels, and a cue far from both that says which
one is the label (issue 19: a task whose label needs a global, input-dependent choice).

Each image has two channels. Channel 0 holds one of scikit-learn's 8x8 digits, enlarged,
channel 1 another digit of a different class, each at its own random place in the lower part
of the canvas. A solid square, the *cue*, is drawn in both channels at a random column of
the top band in half of the images. The two labels of the same images:

* ``choice``: the digit of channel 1 when the cue is there, of channel 0 when it is not;
* ``control``: always the digit of channel 0 (reading one digit, no choice).

Why a plain ResNet should find ``choice`` hard: the cue and the digits are at least ``gap``
rows apart, more than most of the receptive field of the book's small ResNet (25 pixels, and
its effective field is smaller), so no unit sees the cue and a whole digit at once; and the
final average pooling adds up what the positions found, so a linear classifier on it scores
``a(cue) + h(digit 0, digit 1)`` per class (one unit may see both digits, which overlap in
place on different channels), up to the units at the top of the map whose field reaches both
the cue and a digit's first rows. Such a sum cannot pick digit 1's class when the cue is there
and digit 0's when it is not (the cue is independent of both digits), and is right about half
the time (the two digits always differ). A gate whose squeeze
pools the whole map (SE, the GC block, a global gather-excite) can see the cue in one block
and turn down the channels that carry the other digit in the next.

Nothing is downloaded (``sklearn.datasets.load_digits``); digits 0-1199 feed the training
split and 1200-1796 the test split, as in :func:`attnbook.data.make_cluttered_digits`.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from .._checks import check_int
from .cluttered import _SPLITS, _source_digits

__all__ = ["ChannelChoice", "make_channel_choice"]


class ChannelChoice(NamedTuple):
    """Attributes:
        images: ``(count, 2, canvas, canvas)`` in [0, 1]: digit ``digits[:, k]`` on channel k,
            the cue (when present) on both.
        choice: ``(count,)`` the label that needs the choice: ``digits[:, 1]`` where ``cue``,
            else ``digits[:, 0]``.
        control: ``(count,)`` the label that needs none: ``digits[:, 0]``.
        digits: ``(count, 2)`` the classes on channels 0 and 1 (always different).
        cue: ``(count,)`` bool, whether the cue is drawn.
        boxes: ``(count, 2, 4)`` each digit's box as (top, left, height, width).
        cue_boxes: ``(count, 4)`` the cue's box (all zeros where there is no cue).
    """

    images: torch.Tensor
    choice: torch.Tensor
    control: torch.Tensor
    digits: torch.Tensor
    cue: torch.Tensor
    boxes: torch.Tensor
    cue_boxes: torch.Tensor


def make_channel_choice(count: int, seed: int, split: str = "train", canvas: int = 40, scale: int = 2,
                        cue_size: int = 4, gap: int = 16) -> ChannelChoice:
    """Generate ``count`` two-channel images with their choice and control labels, the same for
    the same arguments.

    Args:
        count: number of images, >= 1.
        seed: seed of the generator.
        split: ``"train"`` or ``"test"``: which source digits to draw from.
        canvas: side of the square canvas in pixels.
        scale: enlargement of the 8x8 digits (bilinear): digits are ``8 * scale`` pixels wide.
        cue_size: side of the square cue, drawn in rows ``0 .. cue_size - 1``.
        gap: rows between the cue's last row and a digit's first row, at least; the digits'
            tops lie in ``cue_size + gap .. canvas - 8 * scale``.

    Returns:
        :class:`ChannelChoice`.

    Raises:
        ValueError: for a bad argument, or a layout that does not fit the canvas.
    """
    for name, value, smallest in (("count", count, 1), ("canvas", canvas, 1), ("scale", scale, 1),
                                  ("cue_size", cue_size, 1), ("gap", gap, 0)):
        check_int(name, value, smallest)
    if split not in _SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    size = 8 * scale
    lowest_top = cue_size + gap
    if lowest_top + size > canvas or cue_size > canvas:
        raise ValueError(f"a cue of {cue_size} rows, a gap of {gap} and digits of {size} pixels need a canvas of at "
                         f"least {lowest_top + size}, got canvas={canvas}")
    source, targets = _source_digits(split)
    large = F.interpolate(source[:, None], size=(size, size), mode="bilinear", align_corners=False)[:, 0]
    generator = torch.Generator().manual_seed(seed)
    images = torch.zeros(count, 2, canvas, canvas)
    digits = torch.zeros(count, 2, dtype=torch.long)
    boxes = torch.zeros(count, 2, 4, dtype=torch.long)
    cue_boxes = torch.zeros(count, 4, dtype=torch.long)
    cue = torch.rand(count, generator=generator) < 0.5
    for row in range(count):
        first = torch.randint(len(source), (1,), generator=generator).item()
        second = torch.randint(len(source), (1,), generator=generator).item()
        while targets[second] == targets[first]:
            second = torch.randint(len(source), (1,), generator=generator).item()
        for channel, pick in enumerate((first, second)):
            y = torch.randint(lowest_top, canvas - size + 1, (1,), generator=generator).item()
            x = torch.randint(canvas - size + 1, (1,), generator=generator).item()
            images[row, channel, y:y + size, x:x + size] = large[pick]
            boxes[row, channel] = torch.tensor([y, x, size, size])
            digits[row, channel] = targets[pick]
        x = torch.randint(canvas - cue_size + 1, (1,), generator=generator).item()
        if cue[row]:
            images[row, :, :cue_size, x:x + cue_size] = 1.0
            cue_boxes[row] = torch.tensor([0, x, cue_size, cue_size])
    choice = torch.where(cue, digits[:, 1], digits[:, 0])
    return ChannelChoice(images.clamp(0, 1), choice, digits[:, 0].clone(), digits, cue, boxes, cue_boxes)
