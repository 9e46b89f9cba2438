"""Scores of a map against the truth: the digit's box, and a reference map.

Every map here lives on a patch grid, ``(batch, grid_h, grid_w)``, and every box is
(top, left, height, width) in pixels, as :func:`attnbook.data.make_cluttered_digits` returns.
:func:`box_coverage` turns a box into the share of each patch that lies inside it; the
metrics are then

* **mass in the box** (the "energy-based pointing game" of Wang et al., 2020, Score-CAM,
  https://arxiv.org/abs/1910.01279): the share of the map's positive mass on the box,
  ``sum(max(m, 0) * coverage) / sum(max(m, 0))``; a map spread evenly scores the box's
  share of the image, :func:`box_share`, the chance level;
* **the pointing game** (Zhang et al., 2016, "Top-down Neural Attention by Excitation
  Backprop", https://arxiv.org/abs/1608.00507): a hit when the map's arg-max patch lies
  at least half inside the box; tied maxima count as the mean hit over the tie (a random
  tie-break, in expectation), so a constant map scores the chance level
  :func:`pointing_chance`, the share of patches at least half inside;
* **Spearman's rank correlation** of a map with a reference map (the occlusion map), over
  the patches of each image, with tied values given their average rank.
"""

from __future__ import annotations

import torch

from .._checks import check_int
from ._grid import check_boxes, check_maps

__all__ = ["box_coverage", "box_share", "mass_in_box", "pointing_game", "pointing_chance", "spearman"]


def box_coverage(boxes: torch.Tensor, image_size: int | tuple[int, int], patch_size: int) -> torch.Tensor:
    """The share of each patch's area that lies inside each image's box.

    Args:
        boxes: ``(batch, 4)`` as (top, left, height, width) in pixels.
        image_size: the image side, or (height, width); ``patch_size`` must divide it.
        patch_size: side of a patch in pixels.

    Returns:
        ``(batch, grid_h, grid_w)`` in [0, 1].
    """
    check_int("patch_size", patch_size, 1)
    height, width = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    check_int("image height", height, 1)
    check_int("image width", width, 1)
    if height % patch_size or width % patch_size:
        raise ValueError(f"patch_size must divide the image sides, got patch_size={patch_size} "
                         f"and image_size={height}x{width}")
    boxes = check_boxes(boxes, boxes.shape[0] if isinstance(boxes, torch.Tensor) and boxes.ndim else -1)
    boxes = boxes.to(torch.float64)

    def overlap(start: torch.Tensor, length: torch.Tensor, cells: int) -> torch.Tensor:
        edges = torch.arange(cells, dtype=torch.float64, device=boxes.device) * patch_size  # (cells,)
        low = torch.maximum(edges[None], start[:, None])
        high = torch.minimum(edges[None] + patch_size, (start + length)[:, None])
        return (high - low).clamp(min=0) / patch_size                                      # (batch, cells)

    rows = overlap(boxes[:, 0], boxes[:, 2], height // patch_size)
    cols = overlap(boxes[:, 1], boxes[:, 3], width // patch_size)
    return (rows[:, :, None] * cols[:, None, :]).float()


def box_share(coverage: torch.Tensor) -> torch.Tensor:
    """The box's share of the image (the chance level of :func:`mass_in_box`).

    Args:
        coverage: ``(batch, grid_h, grid_w)`` from :func:`box_coverage`.

    Returns:
        ``(batch,)``: the mean coverage, the box's area inside the image over the image's area.
    """
    return check_maps(coverage, "coverage").mean(dim=(1, 2))


def _check_pair(maps: torch.Tensor, other: torch.Tensor, other_name: str) -> None:
    check_maps(maps)
    check_maps(other, other_name)
    if maps.shape != other.shape:
        raise ValueError(f"maps and {other_name} must have the same shape, got {tuple(maps.shape)} "
                         f"and {tuple(other.shape)}")


def mass_in_box(maps: torch.Tensor, coverage: torch.Tensor) -> torch.Tensor:
    """The share of each map's positive mass that falls inside the box.

    Negative values (an occlusion map's patches that argued against the class) count as 0.
    A map with no positive mass carries no information and counts as spread evenly: it
    scores :func:`box_share`.

    Args:
        maps: ``(batch, grid_h, grid_w)``.
        coverage: ``(batch, grid_h, grid_w)`` from :func:`box_coverage`.

    Returns:
        ``(batch,)`` in [0, 1].
    """
    _check_pair(maps, coverage, "coverage")
    mass = maps.clamp(min=0).flatten(1).to(torch.float64)
    cover = coverage.flatten(1).to(torch.float64)
    total = mass.sum(1)
    inside = (mass * cover).sum(1) / total.clamp(min=torch.finfo(torch.float64).tiny)
    return torch.where(total > 0, inside, cover.mean(1)).to(maps.dtype)


def pointing_game(maps: torch.Tensor, coverage: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Whether each map's arg-max patch lies inside the box (at least ``threshold`` of it).

    Args:
        maps: ``(batch, grid_h, grid_w)``.
        coverage: ``(batch, grid_h, grid_w)`` from :func:`box_coverage`.
        threshold: the share of the patch that must be inside, in (0, 1].

    Returns:
        ``(batch,)``: 1.0 for a hit, 0.0 for a miss; with tied maxima, the share of them that hit.
    """
    _check_pair(maps, coverage, "coverage")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold <= 1:
        raise ValueError(f"threshold must be a number in (0, 1], got {threshold!r}")
    flat = maps.flatten(1)
    top = flat == flat.max(dim=1, keepdim=True).values
    hit = coverage.flatten(1) >= threshold
    return (top & hit).sum(1).to(maps.dtype) / top.sum(1).to(maps.dtype)


def pointing_chance(coverage: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """The pointing game's chance level: the share of patches at least ``threshold`` inside the box.

    Args:
        coverage: ``(batch, grid_h, grid_w)`` from :func:`box_coverage`.
        threshold: as in :func:`pointing_game`.

    Returns:
        ``(batch,)``.
    """
    return pointing_game(torch.zeros_like(check_maps(coverage, "coverage")), coverage, threshold)


def _average_ranks(values: torch.Tensor) -> torch.Tensor:
    """Ranks 1 .. n along the last dimension, tied values sharing their mean rank."""
    below = (values[..., None, :] < values[..., :, None]).sum(-1)
    equal = (values[..., None, :] == values[..., :, None]).sum(-1)
    return below.to(torch.float64) + (equal.to(torch.float64) + 1) / 2


def spearman(maps: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Spearman's rank correlation of each map with its reference, over the patches.

    Args:
        maps: ``(batch, grid_h, grid_w)``.
        reference: ``(batch, grid_h, grid_w)``, e.g. the occlusion map.

    Returns:
        ``(batch,)`` in [-1, 1]; NaN where either map is constant (no ranking to compare).
    """
    _check_pair(maps, reference, "reference")
    a = _average_ranks(maps.flatten(1))
    b = _average_ranks(reference.flatten(1))
    a = a - a.mean(1, keepdim=True)
    b = b - b.mean(1, keepdim=True)
    denominator = (a.square().sum(1) * b.square().sum(1)).sqrt()
    return torch.where(denominator > 0, (a * b).sum(1) / denominator, float("nan")).to(maps.dtype)
