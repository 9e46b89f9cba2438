"""Measuring what a model or an attention costs: parameters, multiply-adds, peak memory, time;
and the provenance record stored with every measurement.
"""

from .complexity import count_parameters, MacCount, count_macs, elementwise_passes
from .memory import PeakMemory, count_tensor_memory, measure_peak_memory, peak_tensor_memory
from .provenance import provenance
from .timing import median_time

__all__ = [
    "count_parameters",
    "MacCount",
    "count_macs",
    "elementwise_passes",
    "PeakMemory",
    "count_tensor_memory",
    "measure_peak_memory",
    "peak_tensor_memory",
    "median_time",
    "provenance",
]
