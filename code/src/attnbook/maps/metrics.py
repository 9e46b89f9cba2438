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
  the patches of each image (or the patches a ``keep`` mask chooses), with tied values given
  their average rank; :func:`occlusion_readings` reads a map against a signed occlusion map
  four ways: by the signed drop and by its size ``|drop|``, over all patches and over the
  ink patches alone (:func:`ink_patches`), where a blank patch's exact zero drop no longer
  ties a large share of the patches; :func:`patch_means` is the model-free baseline every
  reading needs (a map of the image's own ink), and :func:`paired_bootstrap` the interval of
  a per-image difference between two maps.
"""

from __future__ import annotations

import torch

from .._checks import check_int
from ._grid import check_boxes, check_images, check_maps

__all__ = ["READINGS", "box_coverage", "box_share", "mass_in_box", "pointing_game", "pointing_chance", "spearman",
           "ink_patches", "patch_means", "occlusion_readings", "paired_bootstrap"]

#: The readings of :func:`occlusion_readings`, in order.
READINGS = ("signed", "size", "ink", "ink_size")


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


def _average_ranks(values: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Ranks 1 .. n over the kept entries of the last dimension, tied values sharing their mean
    rank (entries not kept get rank 0 and are counted by nobody)."""
    pair = keep[..., None, :] & keep[..., :, None]
    below = ((values[..., None, :] < values[..., :, None]) & pair).sum(-1)
    equal = ((values[..., None, :] == values[..., :, None]) & pair).sum(-1)
    ranks = below.to(torch.float64) + (equal.to(torch.float64) + 1) / 2
    return torch.where(keep, ranks, 0.0)


def spearman(maps: torch.Tensor, reference: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
    """Spearman's rank correlation of each map with its reference, over the patches.

    Args:
        maps: ``(batch, grid_h, grid_w)``.
        reference: ``(batch, grid_h, grid_w)``, e.g. the occlusion map.
        keep: optional boolean ``(batch, grid_h, grid_w)``: rank each image over the patches
            marked True only (default: every patch).

    Returns:
        ``(batch,)`` in [-1, 1]; NaN where either map is constant over the kept patches (no
        ranking to compare), which includes fewer than two kept patches.
    """
    _check_pair(maps, reference, "reference")
    if keep is None:
        keep = torch.ones_like(maps, dtype=torch.bool)
    elif not isinstance(keep, torch.Tensor) or keep.dtype != torch.bool or keep.shape != maps.shape:
        shown = (f"{keep.dtype} of shape {tuple(keep.shape)}" if isinstance(keep, torch.Tensor)
                 else type(keep).__name__)
        raise ValueError(f"keep must be None or a boolean tensor of the maps' shape {tuple(maps.shape)}, "
                         f"got {shown}")
    kept = keep.flatten(1)
    count = kept.sum(1, keepdim=True).clamp(min=1).to(torch.float64)
    a = _average_ranks(maps.flatten(1), kept)
    b = _average_ranks(reference.flatten(1), kept)
    a = torch.where(kept, a - a.sum(1, keepdim=True) / count, 0.0)
    b = torch.where(kept, b - b.sum(1, keepdim=True) / count, 0.0)
    denominator = (a.square().sum(1) * b.square().sum(1)).sqrt()
    return torch.where(denominator > 0, (a * b).sum(1) / denominator, float("nan")).to(maps.dtype)


def ink_patches(images: torch.Tensor, patch_size: int, background: float = 0.0) -> torch.Tensor:
    """Which patches hold ink: some pixel differs from ``background``.

    Hiding a patch that holds none with the background as fill gives the model the same
    image, so its occlusion drop is exactly 0.

    Args:
        images: ``(batch, channels, height, width)``.
        patch_size: side of a patch in pixels; must divide height and width.
        background: the canvas's value (0 for :func:`attnbook.data.make_cluttered_digits`).

    Returns:
        Boolean ``(batch, grid_h, grid_w)``.
    """
    check_images(images, patch_size)
    if isinstance(background, bool) or not isinstance(background, (int, float)):
        raise TypeError(f"background must be a number, got {type(background).__name__}")
    differs = (images != background).any(1).to(torch.float32)                      # (batch, height, width)
    return torch.nn.functional.max_pool2d(differs[:, None], patch_size)[:, 0] > 0


def patch_means(images: torch.Tensor, patch_size: int) -> torch.Tensor:
    """The mean pixel value of each patch (over its pixels and channels): a map that knows only
    the image, the baseline a map of a model must beat to show more than where the ink is.

    Args:
        images: ``(batch, channels, height, width)``.
        patch_size: side of a patch in pixels; must divide height and width.

    Returns:
        ``(batch, grid_h, grid_w)``.
    """
    check_images(images, patch_size)
    return torch.nn.functional.avg_pool2d(images.mean(1, keepdim=True), patch_size)[:, 0]


def occlusion_readings(maps: torch.Tensor, occlusion: torch.Tensor, ink: torch.Tensor) -> dict[str, torch.Tensor]:
    """Four rank correlations of each map with a signed occlusion map (the order of :data:`READINGS`).

    * ``signed``: against the drop itself, from "hiding it hurts most" to "hiding it helps most";
    * ``size``: against ``|drop|``, how much hiding the patch moves the prediction either way
      (blank patches, whose drop is exactly 0, tie at the bottom: a map that is merely larger
      on ink scores high);
    * ``ink``: against the drop, over the ink patches only (``ink`` from :func:`ink_patches`);
    * ``ink_size``: against ``|drop|``, over the ink patches only.

    Args:
        maps: ``(batch, grid_h, grid_w)``.
        occlusion: ``(batch, grid_h, grid_w)`` from :func:`attnbook.maps.occlusion_map`.
        ink: boolean ``(batch, grid_h, grid_w)``.

    Returns:
        ``{reading: (batch,)}``, NaN where a ranking is undefined (see :func:`spearman`).
    """
    return {"signed": spearman(maps, occlusion), "size": spearman(maps, occlusion.abs()),
            "ink": spearman(maps, occlusion, keep=ink), "ink_size": spearman(maps, occlusion.abs(), keep=ink)}


def paired_bootstrap(first: torch.Tensor, second: torch.Tensor, resamples: int = 2000,
                     seed: int = 0) -> dict[str, float]:
    """The mean of a per-image difference ``first - second`` and its 95 % bootstrap interval.

    Images where either value is NaN are left out. The interval is the 2.5 % and 97.5 %
    quantiles of the mean over ``resamples`` resamples of the images with replacement (drawn
    from a generator seeded with ``seed``, so the same inputs give the same interval).

    Args:
        first: ``(images,)``.
        second: ``(images,)``.
        resamples: bootstrap resamples, >= 1.
        seed: the generator's seed.

    Returns:
        ``{"mean", "low", "high", "wins", "images"}``: the mean difference, the interval, the
        share of images where ``first > second``, and how many images were compared.
    """
    check_int("resamples", resamples, 1)
    for name, values in (("first", first), ("second", second)):
        if not isinstance(values, torch.Tensor) or values.ndim != 1 or not values.is_floating_point():
            shown = tuple(values.shape) if isinstance(values, torch.Tensor) else type(values).__name__
            raise ValueError(f"{name} must be a 1-D floating tensor of per-image values, got {shown}")
    if first.shape != second.shape:
        raise ValueError(f"first and second must have the same shape, got {tuple(first.shape)} and "
                         f"{tuple(second.shape)}")
    keep = ~(first.isnan() | second.isnan())
    difference = (first - second)[keep].to(torch.float64).cpu()
    if not len(difference):
        raise ValueError("first and second have no image where both are defined (all NaN)")
    generator = torch.Generator().manual_seed(seed)
    draws = torch.randint(len(difference), (resamples, len(difference)), generator=generator)
    means = difference[draws].mean(1)
    low, high = means.quantile(torch.tensor([0.025, 0.975], dtype=torch.float64)).tolist()
    return {"mean": difference.mean().item(), "low": low, "high": high,
            "wins": (difference > 0).to(torch.float64).mean().item(), "images": len(difference)}
