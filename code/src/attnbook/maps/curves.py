"""Deletion and insertion curves (Petsiuk, Das & Saenko, 2018, "RISE: Randomized Input Sampling
for Explanation of Black-box Models", BMVC 2018, https://arxiv.org/abs/1806.07421, section 4.1).

A map ranks the patches. *Deletion* hides them in that order, most important first, and
tracks the target class's probability: a map that finds what the model uses makes it fall
fast, so a small area under the curve is good. *Insertion* starts from an image with every
patch hidden and puts the patches back in the same order: a good map makes the probability
rise fast, so a large area is good. The curves have one point per number of patches moved,
``0 .. patches``, on the x axis the fraction moved, and the areas are trapezoids over [0, 1].

Petsiuk et al. delete to zero and insert into a blurred copy of the image; here both use
one ``fill`` value (default 0, the cluttered digits' black background), so deleting every
patch and inserting none give the same image. Ties in the map are broken by patch index
(row-major), the same for every method.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from .._checks import check_int
from ._grid import Predict, call_predict, check_images, check_maps, check_target
from .occlusion import SCORES, _score, fill_patches

__all__ = ["Curves", "deletion_insertion", "area_under_curve"]


class Curves(NamedTuple):
    """What :func:`deletion_insertion` returns.

    Attributes:
        deletion: ``(batch, patches + 1)`` the target's score with the first ``k`` patches
            of the map's order hidden, ``k = 0 .. patches``.
        insertion: ``(batch, patches + 1)`` the score with only the first ``k`` patches shown.
        deletion_area: ``(batch,)`` area under ``deletion`` (lower: a better map).
        insertion_area: ``(batch,)`` area under ``insertion`` (higher: a better map).
    """

    deletion: torch.Tensor
    insertion: torch.Tensor
    deletion_area: torch.Tensor
    insertion_area: torch.Tensor


def area_under_curve(curve: torch.Tensor) -> torch.Tensor:
    """The trapezoid area under ``(..., points)`` values spaced evenly over [0, 1]."""
    if not isinstance(curve, torch.Tensor) or curve.ndim < 1 or curve.shape[-1] < 2:
        raise ValueError(f"curve must be a tensor with at least 2 points in its last dimension, "
                         f"got {getattr(curve, 'shape', type(curve).__name__)}")
    return (curve.sum(-1) - (curve[..., 0] + curve[..., -1]) / 2) / (curve.shape[-1] - 1)


def deletion_insertion(predict: Predict, images: torch.Tensor, maps: torch.Tensor, patch_size: int,
                       fill: float = 0.0, target: torch.Tensor | None = None, score: str = "probability",
                       batch_size: int = 256) -> Curves:
    """Deletion and insertion curves of ``maps`` for ``predict`` on ``images``.

    Args:
        predict: ``images -> logits (batch, classes)``; called without gradients.
        images: ``(batch, channels, height, width)``.
        maps: ``(batch, grid_h, grid_w)`` on the patch grid of ``patch_size``; higher = more
            important.
        patch_size: side of a patch in pixels.
        fill: the value of a hidden pixel.
        target: ``(batch,)`` long classes (default: the predicted class of the whole image).
        score: one of :data:`attnbook.maps.SCORES` (RISE tracks the probability).
        batch_size: images per call of ``predict``, >= 1.

    Returns:
        :class:`Curves`.
    """
    check_images(images, patch_size)
    check_maps(maps)
    check_int("batch_size", batch_size, 1)
    if score not in SCORES:
        raise ValueError(f"score must be one of {SCORES}, got {score!r}")
    batch = images.shape[0]
    grid = (images.shape[-2] // patch_size, images.shape[-1] // patch_size)
    if tuple(maps.shape) != (batch, *grid):
        raise ValueError(f"maps must have shape ({batch}, {grid[0]}, {grid[1]}) for these images and "
                         f"patch_size={patch_size}, got {tuple(maps.shape)}")
    patches = grid[0] * grid[1]
    order = torch.argsort(maps.flatten(1), dim=1, descending=True, stable=True)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(patches, device=order.device).expand(batch, -1))
    steps = torch.arange(patches + 1, device=images.device)
    # moved[k, b, p]: patch p of image b is among the first k of its order
    moved = (rank.to(images.device)[None] < steps[:, None, None]).view(patches + 1, batch, *grid)
    with torch.no_grad():
        logits = call_predict(predict, images)
        chosen = check_target(target, batch, logits.shape[1], logits)
        curves = {}
        per_call = max(1, batch_size // (patches + 1))
        for name, hidden in (("deletion", moved), ("insertion", ~moved)):
            parts = []
            for start in range(0, batch, per_call):
                part = slice(start, start + per_call)
                variants = fill_patches(images[part], hidden[:, part], patch_size, fill).transpose(0, 1)
                count = variants.shape[0]
                out = call_predict(predict, variants.flatten(0, 1)).view(count, patches + 1, -1)
                parts.append(_score(out, chosen[part, None].expand(-1, patches + 1), score))
            curves[name] = torch.cat(parts)
    return Curves(curves["deletion"], curves["insertion"], area_under_curve(curves["deletion"]),
                  area_under_curve(curves["insertion"]))
