"""Chapter 4, channel and spatial attention: gates over channels and positions of a feature map.

SE, ECA, CBAM, BAM, global context and coordinate attention, one module per file,
the ``create_attention`` factory that ``ResNet`` plugs them in with, and ``open_gates``.
"""

from .se import SqueezeExcite
from .eca import eca_kernel_size, EfficientChannelAttention
from .cbam import CBAMChannelGate, CBAMSpatialGate, CBAM
from .bam import BAM_VARIANTS, BAM
from .global_context import GlobalContext, global_context_reference
from .coord import CoordinateAttention, coordinate_attention_reference
from .factory import ATTENTION_MODULES, create_attention
from .gate_init import open_gates

__all__ = [
    "SqueezeExcite",
    "eca_kernel_size",
    "EfficientChannelAttention",
    "CBAMChannelGate",
    "CBAMSpatialGate",
    "CBAM",
    "BAM_VARIANTS",
    "BAM",
    "GlobalContext",
    "global_context_reference",
    "CoordinateAttention",
    "coordinate_attention_reference",
    "ATTENTION_MODULES",
    "create_attention",
    "open_gates",
]
