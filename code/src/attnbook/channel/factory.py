"""One factory for the channel and spatial attention modules (timm's vocabulary).

``create_attention("se", 256)`` builds :class:`SqueezeExcite` for 256 channels; the
channel count always comes first and keyword arguments pass through. A module of one's
own plugs in the same way, as its class or as any function ``(channels, **kwargs) ->
nn.Module``: ``create_attention(MyGate, 256)`` builds ``MyGate(256)``.
"""

from __future__ import annotations

from typing import Callable, Union

from torch import nn

from .bam import BAM
from .cbam import CBAM
from .coord import CoordinateAttention
from .eca import EfficientChannelAttention
from .gather_excite import GatherExcite, GatherExciteTheta, GatherExciteThetaPlus
from .global_context import GlobalContext
from .se import SqueezeExcite

__all__ = ["ATTENTION_MODULES", "AttentionKind", "check_attention_kind", "create_attention"]

#: The modules :func:`create_attention` builds, by name.
ATTENTION_MODULES: dict[str, type[nn.Module]] = {
    "se": SqueezeExcite,
    "eca": EfficientChannelAttention,
    "cbam": CBAM,
    "bam": BAM,
    "gc": GlobalContext,
    "coord": CoordinateAttention,
    "ge": GatherExcite,
    "ge-theta": GatherExciteTheta,
    "ge-theta-plus": GatherExciteThetaPlus,
}

#: What :func:`create_attention` accepts: a name of :data:`ATTENTION_MODULES`, an ``nn.Module``
#: subclass, a function ``(channels, **kwargs) -> nn.Module``, or None for no attention.
AttentionKind = Union[str, type[nn.Module], Callable[..., nn.Module], None]


def check_attention_kind(kind: object, argument: str = "kind") -> AttentionKind:
    """Return ``kind`` if :func:`create_attention` accepts it, else raise naming ``argument``.

    Args:
        kind: the value to check.
        argument: the name the caller's argument goes by, for the error message.

    Returns:
        ``kind``, unchanged.

    Raises:
        ValueError: for a string that is not a name of :data:`ATTENTION_MODULES`.
        TypeError: for a module instance (every block needs its own module), a class that is
            not an ``nn.Module`` subclass, or anything else that cannot build a module.
    """
    allowed = (f"one of {tuple(ATTENTION_MODULES)}, a torch.nn.Module subclass, a callable "
               "(channels, **kwargs) -> nn.Module, or None")
    if kind is None:
        return kind
    if isinstance(kind, str):
        if kind not in ATTENTION_MODULES:
            raise ValueError(f"{argument} must be {allowed}, got {kind!r}")
        return kind
    if isinstance(kind, nn.Module):
        raise TypeError(f"{argument} must be {allowed}, got an instance of {type(kind).__name__}; pass its class "
                        "(or a function that builds one), since every place it goes needs its own module")
    if isinstance(kind, type) and not issubclass(kind, nn.Module):
        raise TypeError(f"{argument} must be {allowed}, got the class {kind.__name__}, which is not an nn.Module")
    if not callable(kind):
        raise TypeError(f"{argument} must be {allowed}, got {type(kind).__name__}")
    return kind


def create_attention(kind: AttentionKind, channels: int, **kwargs) -> nn.Module:
    """Build an attention module for a feature map of ``channels`` channels.

    Args:
        kind: ``"se"``, ``"eca"``, ``"cbam"``, ``"bam"``, ``"gc"``, ``"coord"``, ``"ge"`` (GE-θ⁻,
            global extent unless ``extent=``), ``"ge-theta"``, ``"ge-theta-plus"`` (extent 8 unless
            ``extent=``; ``extent=None`` with ``feature_size=`` for a global one); an ``nn.Module``
            subclass or any callable, called as ``kind(channels, **kwargs)``; or None for
            ``nn.Identity`` (``kwargs`` are then not used).
        channels: the channel count C of the feature maps ``(batch, channels, height, width)``
            it will see.
        **kwargs: passed to the module (``rd_ratio``, ``kernel_size``, ``device``, ...).

    Returns:
        The module.

    Raises:
        ValueError: for an unknown name.
        TypeError: for a ``kind`` that cannot build a module (see :func:`check_attention_kind`),
            or a callable that returns something other than an ``nn.Module``.
    """
    check_attention_kind(kind)
    if kind is None:
        return nn.Identity()
    build = ATTENTION_MODULES[kind] if isinstance(kind, str) else kind
    module = build(channels, **kwargs)
    if not isinstance(module, nn.Module):
        raise TypeError(f"kind={kind!r} must build a torch.nn.Module, but kind({channels}, ...) returned "
                        f"{type(module).__name__}")
    return module
