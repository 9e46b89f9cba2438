"""Argument checks shared by the package: every message names the argument,
the value it was given and what is allowed.

Two kinds of checks:

* **shape and type checks** read only a tensor's metadata (its dtype, its shape) and
  always run;
* **value checks** read the data (no NaN or inf in the scores, crop extents > 0, ...).
  On an accelerator, reading the data is a host-device synchronisation: the host waits
  for the device, and ``torch.compile(fullgraph=True)`` cannot trace a Python branch on
  a tensor's value. So value checks are a debug switch, in the spirit of
  ``torch.autograd.set_detect_anomaly``: :func:`checks_enabled` says whether they run
  and :class:`set_checks` turns them on or off.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "set_checks",
    "checks_enabled",
    "check_int",
    "check_tensor",
    "check_positive",
    "check_same_size",
    "check_mask",
]

# The setting of set_checks: True (every device), False (none), None (the default: CPU only).
_value_checks: bool | None = None


class set_checks:
    """Turn the value checks (those that read a tensor's data) on or off.

    Works as a function and as a context manager, like
    ``torch.autograd.set_detect_anomaly``: ``set_checks(True)`` changes the setting
    until it is changed again; ``with set_checks(True): ...`` changes it for the block
    and then restores the setting it found.

    The value checks are those that raise a ValueError on what a tensor holds: NaN or
    inf in the scores of :func:`attnbook.masked_softmax` (and so of
    :func:`attnbook.attention`, :class:`attnbook.MultiHeadAttention`, ...), NaN or
    ``+inf`` in those of :func:`attnbook.hard.sparsemax`, extents that are not > 0 in
    :func:`attnbook.hard.crop`, glimpses that leave the image with ``padding=None`` in
    :func:`attnbook.hard.extract_glimpses`. Each must copy a flag from the device to the
    host, which waits for the device (a synchronisation), and cannot be traced by
    ``torch.compile(fullgraph=True)``. Shape and type checks read no data and always run.

    Args:
        enabled: ``True``: value checks run on every device (a debugging mode: on an
            accelerator each check synchronises). ``False``: they never run; a NaN
            then spreads through the result instead of raising. ``None``: the default,
            they run on CPU tensors (where reading the data costs no synchronisation,
            so the book's examples explain a mistake as they make it) and are skipped on
            accelerator tensors (CUDA, MPS, ...). Under ``torch.compile`` they never
            run, whatever the setting.

    Raises:
        TypeError: if ``enabled`` is not True, False or None.
    """

    def __init__(self, enabled: bool | None) -> None:
        global _value_checks
        if enabled is not None and not isinstance(enabled, bool):
            raise TypeError(
                "enabled must be True, False or None (the default: checks on CPU tensors only), "
                f"got {enabled!r}"
            )
        self.previous = _value_checks
        _value_checks = enabled

    def __enter__(self) -> "set_checks":
        return self

    def __exit__(self, *exc_info: object) -> None:
        global _value_checks
        _value_checks = self.previous


def checks_enabled(device: torch.device | str = "cpu") -> bool:
    """Whether value checks run now on tensors of ``device`` (see :class:`set_checks`).

    Args:
        device: the device of the tensor a check would read; ``"cpu"`` by default.

    Returns:
        False while ``torch.compile`` traces (``torch.compiler.is_compiling()``);
        otherwise the setting of :class:`set_checks`, or, by default, True for CPU
        tensors and False for accelerator tensors.
    """
    if torch.compiler.is_compiling():
        return False
    if _value_checks is None:
        return torch.device(device).type == "cpu"
    return _value_checks


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
