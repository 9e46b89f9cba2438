"""One place that picks the device every chapter runs on.

CUDA when it is available, else the CPU; the environment variable
``ATTNBOOK_DEVICE`` (for example ``cpu`` or ``cuda:1``) overrides the choice.
"""

from __future__ import annotations

import os

import torch

__all__ = ["DEVICE_ENV_VAR", "get_device"]

#: The environment variable that chooses the device :func:`get_device` returns (e.g. ``cpu``).
DEVICE_ENV_VAR = "ATTNBOOK_DEVICE"


def get_device() -> torch.device:
    """Return the device to compute on.

    Returns:
        ``torch.device(os.environ["ATTNBOOK_DEVICE"])`` when that variable is set,
        else ``cuda`` when a CUDA GPU is available, else ``cpu``.

    Raises:
        ValueError: if the variable names a device torch does not know, or a
            CUDA device when no CUDA GPU is available.
    """
    requested = os.environ.get(DEVICE_ENV_VAR, "").strip()
    if not requested:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(requested)
    except RuntimeError as error:
        raise ValueError(
            f"{DEVICE_ENV_VAR}={requested!r} is not a device torch knows; "
            "allowed: 'cpu', 'cuda' or 'cuda:<index>'"
        ) from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{DEVICE_ENV_VAR}={requested!r} asks for CUDA, but no CUDA GPU is available")
    return device
