"""Argument checks shared by the channel and spatial attention modules."""

from __future__ import annotations

import math

import torch

from .._checks import check_int

__all__ = ["check_channels", "check_feature_map", "check_logit", "check_odd_kernel", "reduced_channels"]


def check_channels(channels: object) -> int:
    return check_int("channels", channels, 1)


def check_logit(logit: object) -> float:
    """Return ``logit`` if it is a finite number (not a bool): the pre-sigmoid value a gate starts at."""
    if isinstance(logit, bool) or not isinstance(logit, (int, float)) or not math.isfinite(logit):
        raise ValueError(f"logit must be a finite number, got {logit!r}")
    return logit


def check_odd_kernel(name: str, kernel_size: object) -> int:
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"{name} must be an odd integer >= 1 (so the output keeps its size), got {kernel_size!r}")
    return kernel_size


def check_feature_map(x: object, channels: int | None = None) -> torch.Tensor:
    """Return ``x`` if it is a 4-D tensor with ``channels`` channels (any count when None)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"x must have shape (batch, channels, height, width), got {tuple(x.shape)}")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"x has {x.shape[1]} channels, the module was built for {channels}")
    return x


def reduced_channels(channels: int, rd_ratio: float, rd_channels: int | None, rd_divisor: int | None) -> int:
    """The hidden width of a reduction MLP: ``rd_channels``, or ``channels * rd_ratio``.

    With ``rd_divisor`` None the product must be a whole number (the papers' C / r);
    with a divisor it is rounded to a multiple of it, never below 90% of the product
    (timm's ``make_divisible``).
    """
    if rd_channels is not None:
        return check_int("rd_channels", rd_channels, 1)
    if isinstance(rd_ratio, bool) or not isinstance(rd_ratio, (int, float)) or not 0 < rd_ratio <= 1:
        raise ValueError(f"rd_ratio must be a number in (0, 1], for example 1/16, got {rd_ratio!r}")
    exact = channels * rd_ratio
    if exact < 1:
        raise ValueError(
            f"the reduction is larger than the channels: channels={channels} * rd_ratio={rd_ratio:g} = {exact:g} < 1; "
            "use a larger rd_ratio or give rd_channels"
        )
    if rd_divisor is None:
        if abs(exact - round(exact)) > 1e-9:
            raise ValueError(
                f"channels={channels} is not divisible by the reduction 1/rd_ratio={1 / rd_ratio:g} "
                f"(channels * rd_ratio = {exact:g}); give rd_channels, or rd_divisor to round"
            )
        return int(round(exact))
    if isinstance(rd_divisor, bool) or not isinstance(rd_divisor, int) or rd_divisor < 1:
        raise ValueError(f"rd_divisor must be an integer >= 1 or None, got {rd_divisor!r}")
    rounded = max(rd_divisor, int(exact + rd_divisor / 2) // rd_divisor * rd_divisor)
    if rounded < 0.9 * exact:
        rounded += rd_divisor
    return rounded
