"""Measuring what an attention costs: median wall time and peak tensor memory.

``peak_tensor_memory`` counts the bytes of every tensor storage that PyTorch
ops allocate while a function runs, and frees them when the storage dies, so
it reports the largest amount of tensor memory alive at once. It works on any
device and gives the same answer on every run, unlike a process's resident
set size; on CUDA, ``torch.cuda.max_memory_allocated`` measures the allocator
itself and the benchmark scripts use that.
"""

from __future__ import annotations

import statistics
import time
import weakref
from typing import Any, Callable

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from ._checks import check_int

__all__ = ["peak_tensor_memory", "median_time"]


class _LiveStorageCounter(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.live = 0
        self.peak = 0
        self._tracked: set[int] = set()

    def _release(self, pointer: int, size: int) -> None:
        self.live -= size
        self._tracked.discard(pointer)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        for tensor in tree_flatten(result)[0]:
            if not isinstance(tensor, torch.Tensor) or tensor.device.type == "meta":
                continue
            storage = tensor.untyped_storage()
            pointer = storage.data_ptr()
            if pointer and pointer not in self._tracked:
                size = storage.nbytes()
                self._tracked.add(pointer)
                self.live += size
                self.peak = max(self.peak, self.live)
                weakref.finalize(storage, self._release, pointer, size)
        return result


def peak_tensor_memory(fn: Callable[[], Any]) -> int:
    """Run ``fn()`` and return the peak bytes of tensors it had alive at once.

    Inputs created before the call are not counted; the result of ``fn`` is
    dropped before returning.

    Args:
        fn: a function of no arguments.

    Returns:
        Peak bytes of live tensor storage allocated by PyTorch ops inside ``fn``.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    with _LiveStorageCounter() as counter:
        result = fn()
        del result
    return counter.peak


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
