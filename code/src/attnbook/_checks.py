"""Argument checks shared by the package: every message names the argument,
the value it was given and what is allowed."""

from __future__ import annotations

import math

import torch

__all__ = [
    "check_int",
    "check_tensor",
    "check_positive",
    "check_same_size",
    "check_mask",
]


def check_tensor(name: str, value: object, min_ndim: int = 1) -> torch.Tensor:
    """Return ``value`` if it is a floating tensor with at least ``min_ndim`` dims."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    if value.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimensions, got shape {tuple(value.shape)}"
        )
    return value


def check_int(name: str, value: object, minimum: int) -> int:
    """Return ``value`` if it is an integer (not a bool) >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def check_positive(name: str, value: float) -> float:
    """Return ``value`` as a float if it is a finite number greater than zero."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return float(value)


def check_same_size(name_a: str, size_a: int, name_b: str, size_b: int, what: str) -> None:
    """Raise ValueError unless two sizes that must agree do."""
    if size_a != size_b:
        raise ValueError(f"{name_a} and {name_b} must have the same {what}, got {size_a} and {size_b}")


def check_mask(mask: object, target_shape: torch.Size, name: str = "mask") -> torch.Tensor:
    """Return a boolean mask that broadcasts to ``target_shape`` (True = attend)."""
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"{name} must be a boolean torch.Tensor, got {type(mask).__name__}")
    if mask.dtype != torch.bool:
        raise TypeError(f"{name} must have dtype torch.bool (True = attend), got {mask.dtype}")
    try:
        broadcast = torch.broadcast_shapes(mask.shape, target_shape)
    except RuntimeError:
        broadcast = None
    if broadcast != tuple(target_shape):
        raise ValueError(
            f"{name} of shape {tuple(mask.shape)} does not broadcast to the scores' shape "
            f"{tuple(target_shape)}; allowed: any shape that broadcasts to it, "
            f"for example {tuple(target_shape[-2:])}"
        )
    return mask
