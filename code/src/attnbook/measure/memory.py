"""Measuring what an attention costs in memory: peak bytes on any device.

Two ways to read peak memory, one per kind of device:

* On CUDA, the caching allocator's own record, ``torch.cuda.max_memory_allocated``
  after ``torch.cuda.reset_peak_memory_stats``: it sees everything, fused and
  compiled kernels included (their workspaces too).
* Elsewhere, a dispatch-mode counter: it adds up the bytes of every tensor
  storage that PyTorch ops allocate while a function runs and subtracts them
  when the storage dies, so it reports the largest amount of tensor memory
  alive at once, the same on every run (unlike a process's resident set size).
  It cannot see inside a higher-order operator such as FlexAttention's
  ``flex_attention`` (no dispatch rule) nor, reliably, inside ``torch.compile``'d
  code; there the reading says "not measurable" and why, instead of crashing.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from .._checks import check_int

__all__ = ["PeakMemory", "count_tensor_memory", "measure_peak_memory", "peak_tensor_memory"]


@dataclass(frozen=True)
class PeakMemory:
    """One reading of peak memory.

    Attributes:
        bytes: the peak in bytes, or None when it could not be measured.
        method: ``"cuda allocator"``, ``"tensor count"`` or ``"not measurable"``.
        reason: why it could not be measured (None when it was).
    """

    bytes: int | None
    method: str
    reason: str | None = None


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
        # A view or an in-place result shares an input's storage: no new memory, even
        # when that storage was allocated before the count began (a slice of an input).
        inputs = {t.untyped_storage().data_ptr() for t in tree_flatten((args, kwargs))[0]
                  if isinstance(t, torch.Tensor) and t.device.type != "meta"}
        for tensor in tree_flatten(result)[0]:
            if not isinstance(tensor, torch.Tensor) or tensor.device.type == "meta":
                continue
            storage = tensor.untyped_storage()
            pointer = storage.data_ptr()
            if pointer and pointer not in self._tracked and pointer not in inputs:
                size = storage.nbytes()
                self._tracked.add(pointer)
                self.live += size
                self.peak = max(self.peak, self.live)
                weakref.finalize(storage, self._release, pointer, size)
        return result


def count_tensor_memory(fn: Callable[[], Any]) -> PeakMemory:
    """Run ``fn()`` under the tensor counter, on any device.

    Args:
        fn: a function of no arguments.

    Returns:
        A :class:`PeakMemory` with the peak bytes of tensors alive at once, or
        ``bytes=None`` and the reason when the counter cannot run ``fn``'s code
        (a higher-order operator such as ``flex_attention``, compiled code) but
        ``fn`` itself runs; that case resets ``torch.compile``'s caches
        (``torch._dynamo.reset()``), so compiled code compiles again on its next
        call. An error of ``fn``'s own propagates.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    try:
        with _LiveStorageCounter() as counter:
            result = fn()
            del result
    except Exception as error:  # noqa: BLE001 - decided below: the counter's limit, or fn's own error
        # torch.compile refuses to trace under a dispatch mode, and eager FlexAttention
        # compiles internally; the refusal stays in torch.compile's caches, so clear them.
        torch._dynamo.reset()
        fn()  # fn's own error propagates from here; if fn runs, the counter was what failed
        first_line = re.sub(r" object at 0x[0-9a-f]+", "", str(error)).strip().splitlines() or [""]
        first_line = first_line[0][:160]
        reason = f"the tensor counter cannot run this code ({type(error).__name__}: {first_line})"
        return PeakMemory(None, "not measurable", reason)
    return PeakMemory(counter.peak, "tensor count")


def _cuda_allocator_peak(fn: Callable[[], Any], device: torch.device) -> PeakMemory:
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    base = torch.cuda.memory_allocated(device)
    result = fn()
    del result
    torch.cuda.synchronize(device)
    return PeakMemory(torch.cuda.max_memory_allocated(device) - base, "cuda allocator")


def measure_peak_memory(fn: Callable[[], Any], device: torch.device | str | None = None) -> PeakMemory:
    """Run ``fn()`` and read the peak memory it used above what existed before.

    Inputs created before the call are not counted; the result of ``fn`` is
    dropped before reading.

    Args:
        fn: a function of no arguments.
        device: where ``fn`` computes. ``"cuda"`` reads the CUDA allocator; any
            other device uses the tensor counter. None: the allocator when CUDA
            is available and ``fn`` allocates CUDA memory, else the counter.

    Returns:
        A :class:`PeakMemory`; its ``bytes`` is None (with the reason) when the
        counter cannot see inside ``fn`` (FlexAttention, compiled code) on a
        device without an allocator record.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    if device is not None:
        device = torch.device(device)
        if device.type == "cuda":
            return _cuda_allocator_peak(fn, device)
        return count_tensor_memory(fn)
    if torch.cuda.is_available():
        reading = _cuda_allocator_peak(fn, torch.device("cuda"))
        if reading.bytes:
            return reading
    return count_tensor_memory(fn)


def peak_tensor_memory(fn: Callable[[], Any], device: torch.device | str | None = None) -> int | None:
    """Run ``fn()`` and return the peak bytes it had alive at once, or None if not measurable.

    See :func:`measure_peak_memory`, which also says how it measured and why not.

    Args:
        fn: a function of no arguments.
        device: as in :func:`measure_peak_memory`.

    Returns:
        Peak bytes above what existed before the call, or None.
    """
    return measure_peak_memory(fn, device).bytes
