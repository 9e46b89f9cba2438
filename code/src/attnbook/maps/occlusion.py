"""Occlusion maps: how the prediction changes when one patch is hidden (after Zeiler & Fergus,
2014, "Visualizing and Understanding Convolutional Networks", https://arxiv.org/abs/1311.2901,
who slid a grey square over the image and watched the class probability).

The behavioural reference for the attention maps: it asks the model itself. For each patch
``p`` of a ``patch_size`` grid, the patch's pixels are set to ``fill`` and the target class's
score is measured again; the map holds

    occlusion[p] = score(image) - score(image with patch p set to fill),

so a patch the model needs for the target class scores high, a patch it ignores scores 0 and
a patch that argued against the class scores below 0. ``fill`` defaults to 0, the background
of :func:`attnbook.data.make_cluttered_digits` (the canvas is black), so hiding a patch means
"nothing was drawn there". The score is the target's softmax probability (default) or its
logit.
"""

from __future__ import annotations

import torch

from .._checks import check_int
from ._grid import Predict, call_predict, check_images, check_target

__all__ = ["SCORES", "fill_patches", "occlusion_map"]

#: The scores :func:`occlusion_map` and :func:`attnbook.maps.deletion_insertion` can track.
SCORES = ("probability", "logit")


def fill_patches(images: torch.Tensor, hidden: torch.Tensor, patch_size: int, fill: float = 0.0) -> torch.Tensor:
    """Set the pixels of the chosen patches to ``fill``.

    Args:
        images: ``(batch, channels, height, width)``.
        hidden: boolean ``(..., batch, grid_h, grid_w)``, True = hide that patch; leading
            dimensions give several variants of each image.
        patch_size: side of a patch in pixels; must divide height and width.
        fill: the value written into hidden patches.

    Returns:
        ``(..., batch, channels, height, width)``.
    """
    check_images(images, patch_size)
    grid = (images.shape[-2] // patch_size, images.shape[-1] // patch_size)
    if not isinstance(hidden, torch.Tensor) or hidden.dtype != torch.bool:
        raise TypeError(f"hidden must be a boolean tensor, got {getattr(hidden, 'dtype', type(hidden).__name__)}")
    if hidden.ndim < 3 or tuple(hidden.shape[-3:]) != (images.shape[0], *grid):
        raise ValueError(f"hidden must have shape (..., {images.shape[0]}, {grid[0]}, {grid[1]}), "
                         f"got {tuple(hidden.shape)}")
    pixels = hidden.repeat_interleave(patch_size, -2).repeat_interleave(patch_size, -1).unsqueeze(-3)
    return torch.where(pixels, torch.as_tensor(fill, dtype=images.dtype, device=images.device), images)


def _score(logits: torch.Tensor, target: torch.Tensor, score: str) -> torch.Tensor:
    values = logits.softmax(-1) if score == "probability" else logits
    return values.gather(-1, target[..., None])[..., 0]


def occlusion_map(predict: Predict, images: torch.Tensor, patch_size: int, fill: float = 0.0,
                  target: torch.Tensor | None = None, score: str = "probability",
                  batch_size: int = 256) -> torch.Tensor:
    """The drop in the target's score when each patch in turn is set to ``fill``.

    Args:
        predict: ``images -> logits (batch, classes)``, e.g.
            ``lambda x: vit(x, need_weights=False).logits``; called without gradients.
        images: ``(batch, channels, height, width)``.
        patch_size: side of the occluded square; must divide height and width.
        fill: the value of an occluded pixel.
        target: ``(batch,)`` long classes (default: the predicted class of the whole image).
        score: one of :data:`SCORES`.
        batch_size: images per call of ``predict`` (the variants are batched), >= 1.

    Returns:
        ``(batch, grid_h, grid_w)``: ``score(image) - score(occluded)`` per patch.
    """
    check_images(images, patch_size)
    check_int("batch_size", batch_size, 1)
    if score not in SCORES:
        raise ValueError(f"score must be one of {SCORES}, got {score!r}")
    batch = images.shape[0]
    grid_h, grid_w = images.shape[-2] // patch_size, images.shape[-1] // patch_size
    patches = grid_h * grid_w
    one_hot = torch.eye(patches, dtype=torch.bool, device=images.device).view(patches, 1, grid_h, grid_w)
    with torch.no_grad():
        logits = call_predict(predict, images)
        chosen = check_target(target, batch, logits.shape[1], logits)
        base = _score(logits, chosen, score)
        drops = []
        per_call = max(1, batch_size // patches)
        for start in range(0, batch, per_call):
            part = slice(start, start + per_call)
            chunk = images[part]
            hidden = one_hot.expand(patches, chunk.shape[0], grid_h, grid_w)
            variants = fill_patches(chunk, hidden, patch_size, fill).transpose(0, 1)  # (chunk, patches, c, h, w)
            occluded = call_predict(predict, variants.flatten(0, 1)).view(chunk.shape[0], patches, -1)
            drops.append(base[part, None] - _score(occluded, chosen[part, None].expand(-1, patches), score))
    return torch.cat(drops).view(batch, grid_h, grid_w)
