"""A glimpse sensor: k x k patches at given locations, optionally at several scales,
as in the recurrent attention model (Mnih et al., 2014, https://arxiv.org/abs/1406.6247).

Locations are ``(row, col)`` in normalised coordinates: -1 and 1 are the outer edges of
the image (``align_corners=False``), so pixel ``i`` of ``n`` has its centre at
``(2 i + 1) / n - 1``. Scale ``s`` covers ``size * 2**s`` pixels, averaged down to
``size x size``. Patches are read with bilinear interpolation, so they are
differentiable in the image and in the location; at a pixel-centred location a
scale-0 patch equals plain slicing.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .._checks import check_int, check_tensor, checks_enabled

__all__ = ["PADDING_MODES", "pixel_to_location", "extract_glimpses"]

#: The values of ``extract_glimpses(padding=...)``: what lies outside the image (None: nothing may).
PADDING_MODES = ("zeros", "border", None)


def pixel_to_location(row: torch.Tensor | float, col: torch.Tensor | float, height: int, width: int) -> torch.Tensor:
    """Normalised ``(row, col)`` of the centre of pixel ``(row, col)``."""
    row, col = torch.as_tensor(row, dtype=torch.float32), torch.as_tensor(col, dtype=torch.float32)
    return torch.stack([(2 * row + 1) / height - 1, (2 * col + 1) / width - 1], dim=-1)


def extract_glimpses(images: torch.Tensor, locations: torch.Tensor, size: int, scales: int = 1,
                     padding: str | None = "zeros") -> torch.Tensor:
    """Read ``size x size`` patches centred on ``locations``.

    Args:
        images: ``(batch, channels, height, width)``.
        locations: ``(batch, 2)`` normalised ``(row, col)`` centres.
        size: patch side in pixels, >= 1.
        scales: number of scales; scale s covers ``size * 2**s`` pixels.
        padding: what lies outside the image: ``"zeros"``, ``"border"`` (the nearest edge
            pixel), or None, which forbids patches that leave the image (a value check,
            see Raises; unchecked, None reads as ``"border"``).

    Returns:
        ``(batch, scales, channels, size, size)``.

    Raises:
        TypeError: if a tensor is not floating-point.
        ValueError: if a shape or argument is not as above or the largest glimpse is
            larger than the image; and, with ``padding=None``, if a glimpse leaves the
            image, a value check that runs only where :func:`attnbook.checks_enabled`
            (by default on CPU tensors, not on accelerators, never under
            ``torch.compile``; see :class:`attnbook.set_checks`).
    """
    check_tensor("images", images, min_ndim=4)
    check_tensor("locations", locations, min_ndim=2)
    if images.ndim != 4:
        raise ValueError(f"images must be (batch, channels, height, width), got {tuple(images.shape)}")
    batch, _, height, width = images.shape
    if tuple(locations.shape) != (batch, 2):
        raise ValueError(f"locations must have shape (batch, 2) = {(batch, 2)}, got {tuple(locations.shape)}")
    for name, value in (("size", size), ("scales", scales)):
        check_int(name, value, 1)
    if padding not in PADDING_MODES:
        raise ValueError(f"padding must be one of {PADDING_MODES}, got {padding!r}")
    largest = size * 2 ** (scales - 1)
    if largest > min(height, width):
        raise ValueError(f"the largest glimpse ({largest} pixels: size={size}, scales={scales}) is larger than "
                         f"the image ({height}x{width})")
    patches = []
    for scale in range(scales):
        extent = size * 2**scale
        offsets = torch.arange(extent, device=images.device, dtype=images.dtype) - (extent - 1) / 2
        # pixel offsets -> normalised offsets along each axis
        rows = locations[:, 0, None] + 2 * offsets[None, :] / height  # (batch, extent)
        cols = locations[:, 1, None] + 2 * offsets[None, :] / width
        if padding is None and checks_enabled(locations.device):
            half_pixel_h, half_pixel_w = 1 / height, 1 / width
            outside = ((rows < -1 + half_pixel_h - 1e-6) | (rows > 1 - half_pixel_h + 1e-6)).any(1) | \
                      ((cols < -1 + half_pixel_w - 1e-6) | (cols > 1 - half_pixel_w + 1e-6)).any(1)
            if bool(outside.any()):
                raise ValueError(f"with padding=None every glimpse must lie inside the image; "
                                 f"{int(outside.sum())} of {batch} leave it (give padding='zeros' or 'border')")
        grid = torch.stack(torch.broadcast_tensors(cols[:, None, :], rows[:, :, None]), dim=-1)
        patch = F.grid_sample(images, grid, mode="bilinear", padding_mode=padding or "border", align_corners=False)
        if scale:
            patch = F.avg_pool2d(patch, 2**scale)
        patches.append(patch)
    return torch.stack(patches, dim=1)
