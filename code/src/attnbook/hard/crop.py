"""A differentiable crop: the sampling step of a spatial transformer
(Jaderberg et al., 2015, https://arxiv.org/abs/1506.02025).

A crop is an affine map restricted to a scale and a translation,
``theta = [[width, 0, col], [0, height, row]]`` in the normalised coordinates of
``F.affine_grid`` (``-1`` and ``1`` are the outer edges of the image,
``align_corners=False``). The output grid is built directly and read with bilinear
interpolation, so the crop is differentiable in the image *and* in its centre and
extent: a network can predict where to look and learn it by backpropagation. This is
how the "hard regional attention" of HA-CNN (Li et al., 2018,
https://arxiv.org/abs/1802.08122) reads its regions (there the scale is fixed and only
the translation is predicted). Nothing is sampled: it is deterministic.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .._checks import check_int, check_tensor, checks_enabled

__all__ = ["crop_theta", "crop"]


def crop_theta(centres: torch.Tensor, extents: torch.Tensor) -> torch.Tensor:
    """The affine matrices ``(batch, 2, 3)`` of crops, for ``F.affine_grid``.

    Args:
        centres: ``(batch, 2)`` normalised ``(row, col)`` crop centres.
        extents: ``(batch, 2)`` crop ``(height, width)`` as fractions of the image's.
    """
    zero = torch.zeros_like(centres[:, 0])
    return torch.stack([torch.stack([extents[:, 1], zero, centres[:, 1]], -1),
                        torch.stack([zero, extents[:, 0], centres[:, 0]], -1)], 1)


def crop(images: torch.Tensor, centres: torch.Tensor, extents: torch.Tensor,
         size: int | tuple[int, int]) -> torch.Tensor:
    """Read a crop of each image, resampled to ``size`` pixels, differentiably.

    Args:
        images: ``(batch, channels, height, width)``.
        centres: ``(batch, 2)`` normalised ``(row, col)`` centres (-1, 1: the image's edges).
        extents: ``(batch, 2)`` crop ``(height, width)`` as fractions of the image's, > 0.
        size: output side, or ``(height, width)``, in pixels.

    Returns:
        ``(batch, channels, out_height, out_width)``; outside the image reads as zero.

    Raises:
        TypeError: if a tensor is not floating-point.
        ValueError: if a shape or ``size`` is not as above; and if an extent is not
            > 0, a value check that runs only where :func:`attnbook.checks_enabled`
            (by default on CPU tensors, not on accelerators, never under
            ``torch.compile``; see :class:`attnbook.set_checks`).
    """
    check_tensor("images", images, min_ndim=4)
    check_tensor("centres", centres, min_ndim=2)
    check_tensor("extents", extents, min_ndim=2)
    if images.ndim != 4:
        raise ValueError(f"images must be (batch, channels, height, width), got {tuple(images.shape)}")
    batch = images.shape[0]
    for name, value in (("centres", centres), ("extents", extents)):
        if tuple(value.shape) != (batch, 2):
            raise ValueError(f"{name} must have shape (batch, 2) = {(batch, 2)}, got {tuple(value.shape)}")
    if checks_enabled(extents.device) and not bool((extents > 0).all()):
        raise ValueError(f"extents must be > 0, got a smallest value of {extents.min().item():.4g}")
    out_height, out_width = (size, size) if isinstance(size, int) and not isinstance(size, bool) else \
        (size if isinstance(size, tuple) and len(size) == 2 else (None, None))
    if out_height is None:
        raise ValueError(f"size must be an integer or a pair of integers, got {size!r}")
    check_int("size", out_height, 1)
    check_int("size", out_width, 1)
    # pixel centres of the output in its own normalised frame, as in affine_grid(align_corners=False)
    rows = (2 * torch.arange(out_height, device=images.device, dtype=images.dtype) + 1) / out_height - 1
    cols = (2 * torch.arange(out_width, device=images.device, dtype=images.dtype) + 1) / out_width - 1
    y = centres[:, 0, None] + extents[:, 0, None] * rows  # (batch, out_height)
    x = centres[:, 1, None] + extents[:, 1, None] * cols  # (batch, out_width)
    grid = torch.stack(torch.broadcast_tensors(x[:, None, :], y[:, :, None]), dim=-1)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
