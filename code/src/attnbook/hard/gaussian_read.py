"""DRAW's differentiable read: an N x N grid of Gaussian filters
(Gregor et al., 2015, "DRAW: A Recurrent Neural Network For Image Generation",
https://arxiv.org/abs/1502.04623, section 3.2).

The read is set by a grid centre ``(g_Y, g_X)``, a stride ``delta`` between filter
centres, an isotropic variance ``sigma^2`` and an intensity ``gamma``. Filter ``i`` of
``N`` along an axis is centred at ``mu_i = g + (i - N/2 - 1/2) delta`` (``i = 1..N``,
their eq. 19-20), and the filterbank row is ``F[i, a] = exp(-(a - mu_i)^2 / (2 sigma^2)) / Z_i``,
normalised so that ``sum_a F[i, a] = 1`` (eq. 25-26). The glimpse is
``gamma * F_Y x F_X^T`` (eq. 27): every output value is a Gaussian-weighted average of
*every* pixel, so the read is differentiable in the image and in all four parameters,
and its gradient with respect to the location reaches pixels far from the grid when the
variance is large. A spatial transformer's bilinear crop (:func:`attnbook.hard.crop`) only
ever weighs the two nearest pixels of each sample, so its gradient with respect to the
location is zero wherever the window sees a flat image.

Coordinates: the centre is given in the normalised ``(row, col)`` coordinates of
:func:`attnbook.hard.crop` and :func:`attnbook.hard.pixel_to_location` (``-1`` and ``1``
are the outer edges of the image, ``align_corners=False``); stride and variance are in
pixels. Pixel ``a`` has its centre at pixel coordinate ``a``.
"""

from __future__ import annotations

import torch

from .._checks import check_int, check_tensor, checks_enabled

__all__ = ["gaussian_filterbank", "gaussian_read"]

#: Added to each filter's normaliser ``Z`` so that a filter lying wholly off the image
#: (every weight underflows to 0) reads 0 instead of 0 / 0.
_NORMALISER_EPSILON = 1e-8


def gaussian_filterbank(centres: torch.Tensor, strides: torch.Tensor, variances: torch.Tensor, size: int,
                        length: int) -> torch.Tensor:
    """The normalised Gaussian filters of one image axis (DRAW, eq. 19-20 and 25-26).

    Args:
        centres: ``(batch,)`` grid centres ``g`` in pixel coordinates (pixel ``a`` at ``a``).
        strides: ``(batch,)`` distances ``delta`` between filter centres, in pixels.
        variances: ``(batch,)`` variances ``sigma^2``, in pixels squared, > 0.
        size: filters ``N`` on this axis, >= 1.
        length: pixels on this axis, >= 1.

    Returns:
        ``(batch, size, length)``; each row sums to 1 (up to ``1e-8``, added to ``Z``),
        or to 0 where the whole filter underflows off the image.
    """
    check_int("size", size, 1)
    check_int("length", length, 1)
    offsets = torch.arange(1, size + 1, device=centres.device, dtype=centres.dtype) - size / 2 - 0.5
    means = centres[:, None] + offsets * strides[:, None]  # (batch, size)
    pixels = torch.arange(length, device=centres.device, dtype=centres.dtype)
    weights = torch.exp(-((pixels - means[:, :, None]) ** 2) / (2 * variances[:, None, None]))
    return weights / (weights.sum(-1, keepdim=True) + _NORMALISER_EPSILON)


def _per_image(name: str, value: torch.Tensor | float, batch: int, like: torch.Tensor) -> torch.Tensor:
    """A ``(batch,)`` tensor from a number or a ``(batch,)`` tensor."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number or a (batch,) tensor, got {value!r}")
    if isinstance(value, (int, float)):
        return torch.full((batch,), float(value), device=like.device, dtype=like.dtype)
    check_tensor(name, value, min_ndim=1)
    if tuple(value.shape) != (batch,):
        raise ValueError(f"{name} must be a number or have shape (batch,) = ({batch},), got {tuple(value.shape)}")
    return value


def gaussian_read(images: torch.Tensor, centres: torch.Tensor, strides: torch.Tensor | float,
                  variances: torch.Tensor | float, size: int,
                  intensities: torch.Tensor | float = 1.0) -> torch.Tensor:
    """Read an ``size x size`` glimpse through DRAW's grid of Gaussian filters.

    Args:
        images: ``(batch, channels, height, width)``.
        centres: ``(batch, 2)`` normalised ``(row, col)`` grid centres (-1, 1: the image's edges).
        strides: ``(batch,)`` or a number: pixels between neighbouring filter centres, > 0.
        variances: ``(batch,)`` or a number: each filter's variance in pixels squared, > 0.
        size: filters per side ``N``, >= 1.
        intensities: ``(batch,)`` or a number: the factor ``gamma`` of the read.

    Returns:
        ``(batch, channels, size, size)``: ``gamma * F_Y x F_X^T`` for each image and channel.

    Raises:
        TypeError: if a tensor is not floating-point, or a number is a bool.
        ValueError: if a shape or ``size`` is not as above; and if a stride or a variance
            is not > 0, a value check that runs only where :func:`attnbook.checks_enabled`
            (by default on CPU tensors; see :class:`attnbook.set_checks`).
    """
    check_tensor("images", images, min_ndim=4)
    check_tensor("centres", centres, min_ndim=2)
    if images.ndim != 4:
        raise ValueError(f"images must be (batch, channels, height, width), got {tuple(images.shape)}")
    batch, _, height, width = images.shape
    if tuple(centres.shape) != (batch, 2):
        raise ValueError(f"centres must have shape (batch, 2) = {(batch, 2)}, got {tuple(centres.shape)}")
    check_int("size", size, 1)
    strides = _per_image("strides", strides, batch, centres)
    variances = _per_image("variances", variances, batch, centres)
    intensities = _per_image("intensities", intensities, batch, centres)
    if checks_enabled(centres.device):
        for name, value in (("strides", strides), ("variances", variances)):
            if not bool((value > 0).all()):
                raise ValueError(f"{name} must be > 0, got a smallest value of {value.min().item():.4g}")
    # normalised -> pixel coordinates: the inverse of (2 p + 1) / n - 1
    rows = ((centres[:, 0] + 1) * height - 1) / 2
    cols = ((centres[:, 1] + 1) * width - 1) / 2
    filters_y = gaussian_filterbank(rows, strides, variances, size, height)  # (batch, N, height)
    filters_x = gaussian_filterbank(cols, strides, variances, size, width)  # (batch, N, width)
    glimpse = torch.einsum("bia,bcaw,bjw->bcij", filters_y, images, filters_x)
    return intensities[:, None, None, None] * glimpse
