"""One string factory for the channel and spatial attention modules (timm's vocabulary).

``create_attention("se", 256)`` builds :class:`SqueezeExcite` for 256 channels; the
channel count always comes first and keyword arguments pass through.
"""

from __future__ import annotations

from torch import nn

from .bam import BAM
from .cbam import CBAM
from .coord import CoordinateAttention
from .eca import EfficientChannelAttention
from .global_context import GlobalContext
from .se import SqueezeExcite

__all__ = ["ATTENTION_MODULES", "create_attention"]

ATTENTION_MODULES: dict[str, type[nn.Module]] = {
    "se": SqueezeExcite,
    "eca": EfficientChannelAttention,
    "cbam": CBAM,
    "bam": BAM,
    "gc": GlobalContext,
    "coord": CoordinateAttention,
}


def create_attention(name: str | None, channels: int, **kwargs) -> nn.Module:
    """Build an attention module by name.

    Args:
        name: ``"se"``, ``"eca"``, ``"cbam"``, ``"bam"``, ``"gc"``, ``"coord"``, or None for
            ``nn.Identity``.
        channels: the channel count C of the feature map it will see.
        **kwargs: passed to the module (``rd_ratio``, ``kernel_size``, ...).

    Returns:
        The module.
    """
    if name is None:
        return nn.Identity()
    if not isinstance(name, str):
        raise TypeError(f"name must be a string or None, got {type(name).__name__}")
    if name not in ATTENTION_MODULES:
        raise ValueError(f"name must be one of {tuple(ATTENTION_MODULES)} or None, got {name!r}")
    return ATTENTION_MODULES[name](channels, **kwargs)
