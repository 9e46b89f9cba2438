"""Measuring what an attention costs in time: median wall-clock seconds of a call."""

from __future__ import annotations

import statistics
import time
from typing import Any, Callable

import torch

from .._checks import check_int

__all__ = ["median_time"]


def median_time(fn: Callable[[], Any], repeats: int = 5, warmup: int = 1) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeats`` runs after ``warmup`` runs.

    CUDA work is synchronised before each clock reading.

    Args:
        fn: a function of no arguments.
        repeats: timed runs, >= 1.
        warmup: untimed runs first (compilation, caches), >= 0.

    Returns:
        The median time in seconds.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    check_int("repeats", repeats, 1)
    check_int("warmup", warmup, 0)
    synchronize = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        synchronize()
        start = time.perf_counter()
        fn()
        synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
