"""Chapter 4, channel and spatial attention: gates over channels and positions of a feature map.

SE, ECA, CBAM, BAM, global context, coordinate attention and gather-excite, one module per file,
the ``create_attention`` factory that ``ResNet`` plugs them in with (a name, or a module
of one's own), and ``open_gates``, which calls each module's own ``init_gate(logit)``.
"""

from .se import SE_POOLS, SqueezeExcite
from .eca import eca_kernel_size, EfficientChannelAttention
from .cbam import CBAM_GATES, CBAMChannelGate, CBAMSpatialGate, CBAM
from .bam import BAM_VARIANTS, BAM
from .global_context import GlobalContext
from .coord import CoordinateAttention
from .gather_excite import GatherExcite, GatherExciteTheta, GatherExciteThetaPlus, spread_to
from .factory import ATTENTION_MODULES, AttentionKind, check_attention_kind, create_attention
from .gate_init import open_gates

__all__ = [
    "SE_POOLS",
    "SqueezeExcite",
    "eca_kernel_size",
    "EfficientChannelAttention",
    "CBAM_GATES",
    "CBAMChannelGate",
    "CBAMSpatialGate",
    "CBAM",
    "BAM_VARIANTS",
    "BAM",
    "GlobalContext",
    "CoordinateAttention",
    "GatherExcite",
    "GatherExciteTheta",
    "GatherExciteThetaPlus",
    "spread_to",
    "ATTENTION_MODULES",
    "AttentionKind",
    "check_attention_kind",
    "create_attention",
    "open_gates",
]
