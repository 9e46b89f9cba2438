"""ResNets with pluggable channel and spatial attention (He et al., 2016,
https://arxiv.org/abs/1512.03385), laid out as torchvision's ``resnet18/34/50``.

``attention="se" | "eca" | "cbam" | "gc" | "coord"`` puts the module in every residual
block, after the block's last batch norm and before the shortcut is added, as SE-Net,
ECA-Net, CBAM, GCNet and coordinate attention do (GCNet's ImageNet models also put it in
every block). ``attention="bam"`` puts one BAM at each bottleneck between stages
(after stages 1, 2 and 3), as BAM does. A module of one's own goes in every block the same
way, given as its class or as a function ``(channels, **kwargs) -> nn.Module`` (see
:func:`~attnbook.channel.create_attention`).

``stride_in_1x1=True`` puts a bottleneck's stride on its first 1x1 convolution, as
in the original ResNet; torchvision (and the default here) puts it on the 3x3
convolution. The parameters are the same; the multiply-adds are not (4.09 G vs
3.86 G for ResNet-50 at 224x224).
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ..channel.factory import AttentionKind, check_attention_kind, create_attention

__all__ = ["BasicBlock", "Bottleneck", "ResNet", "resnet18", "resnet34", "resnet50", "small_resnet"]


class _ResidualBlock(nn.Module):
    """``relu(attention(body(x)) + shortcut(x))``; subclasses build the body."""

    def __init__(self, body: nn.Module, in_channels: int, out_channels: int, stride: int,
                 attention: AttentionKind, attention_kwargs: dict | None) -> None:
        super().__init__()
        self.body = body
        self.attention = create_attention(attention, out_channels, **(attention_kwargs or {}))
        self.shortcut = _shortcut(in_channels, out_channels, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.attention(self.body(x)) + self.shortcut(x))


class BasicBlock(_ResidualBlock):
    """Two 3x3 convolutions and a shortcut (ResNet-18/34)."""

    expansion = 1

    def __init__(self, in_channels: int, width: int, stride: int = 1, attention: AttentionKind = None,
                 attention_kwargs: dict | None = None, stride_in_1x1: bool = False) -> None:
        body = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width),
        )
        super().__init__(body, in_channels, width, stride, attention, attention_kwargs)


class Bottleneck(_ResidualBlock):
    """1x1 reduce, 3x3, 1x1 expand (x4) and a shortcut (ResNet-50)."""

    expansion = 4

    def __init__(self, in_channels: int, width: int, stride: int = 1, attention: AttentionKind = None,
                 attention_kwargs: dict | None = None, stride_in_1x1: bool = False) -> None:
        out_channels = width * self.expansion
        stride_1x1, stride_3x3 = (stride, 1) if stride_in_1x1 else (1, stride)
        body = nn.Sequential(
            nn.Conv2d(in_channels, width, 1, stride_1x1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, stride_3x3, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.Conv2d(width, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels),
        )
        super().__init__(body, in_channels, out_channels, stride, attention, attention_kwargs)


def _shortcut(in_channels: int, out_channels: int, stride: int) -> nn.Module:
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False), nn.BatchNorm2d(out_channels))


class ResNet(nn.Module):
    """A ResNet whose blocks (or stage bottlenecks, for BAM) carry an attention module.

    Args:
        block: :class:`BasicBlock` or :class:`Bottleneck`.
        layers: blocks per stage, e.g. ``(3, 4, 6, 3)``.
        num_classes: outputs of the classifier.
        attention: a name of :func:`create_attention` (``"se"``, ``"eca"``, ``"cbam"``, ``"bam"``,
            ``"gc"``, ``"coord"``), an ``nn.Module`` subclass or a callable ``(channels, **kwargs)
            -> nn.Module`` (built for every block; only the name ``"bam"`` places modules between
            stages), or None.
        attention_kwargs: keyword arguments for every attention module.
        stage_attention_kwargs: one dict per stage, updating ``attention_kwargs`` for that
            stage's modules (ECA's released ``eca_resnet50_k3557`` uses
            ``[{"kernel_size": k} for k in (3, 5, 5, 7)]``).
        in_channels: image channels.
        widths: the width of each stage (before the block expansion).
        stem: ``"imagenet"`` (7x7 stride-2 convolution and max pool) or ``"small"``
            (one 3x3 convolution, for small images).
        stride_in_1x1: put a bottleneck's stride on its first 1x1 convolution.
    """

    def __init__(self, block: type[nn.Module], layers: Sequence[int], num_classes: int = 1000,
                 attention: AttentionKind = None, attention_kwargs: dict | None = None, in_channels: int = 3,
                 widths: Sequence[int] = (64, 128, 256, 512), stem: str = "imagenet",
                 stride_in_1x1: bool = False, stage_attention_kwargs: Sequence[dict] | None = None) -> None:
        super().__init__()
        check_attention_kind(attention, "attention")
        if len(layers) != len(widths) or not layers:
            raise ValueError(f"layers and widths must have the same, non-zero length, got {layers} and {widths}")
        if stage_attention_kwargs is not None and len(stage_attention_kwargs) != len(layers):
            raise ValueError(f"stage_attention_kwargs must have one dict per stage ({len(layers)}), "
                             f"got {len(stage_attention_kwargs)}")
        if stem == "imagenet":
            self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 7, 2, 3, bias=False),
                                      nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        elif stem == "small":
            self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 3, 1, 1, bias=False),
                                      nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True))
        else:
            raise ValueError(f"stem must be 'imagenet' or 'small', got {stem!r}")
        block_attention = None if attention == "bam" else attention
        stages: list[nn.Module] = []
        channels = widths[0]
        for index, (count, width) in enumerate(zip(layers, widths)):
            kwargs = {**(attention_kwargs or {}), **(stage_attention_kwargs[index] if stage_attention_kwargs else {})}
            blocks = []
            for position in range(count):
                stride = 2 if index > 0 and position == 0 else 1
                blocks.append(block(channels, width, stride, block_attention, kwargs, stride_in_1x1))
                channels = width * block.expansion
            stages.append(nn.Sequential(*blocks))
            if attention == "bam" and index < len(layers) - 1:
                stages.append(create_attention("bam", channels, **kwargs))
        self.stages = nn.Sequential(*stages)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images ``(batch, in_channels, height, width)`` -> logits ``(batch, num_classes)``."""
        return self.head(self.stages(self.stem(x)))


def resnet18(attention: AttentionKind = None, **kwargs) -> ResNet:
    """ResNet-18 (11,689,512 parameters without attention)."""
    return ResNet(BasicBlock, (2, 2, 2, 2), attention=attention, **kwargs)


def resnet34(attention: AttentionKind = None, **kwargs) -> ResNet:
    """ResNet-34 (21,797,672 parameters without attention)."""
    return ResNet(BasicBlock, (3, 4, 6, 3), attention=attention, **kwargs)


def resnet50(attention: AttentionKind = None, **kwargs) -> ResNet:
    """ResNet-50 (25,557,032 parameters without attention)."""
    return ResNet(Bottleneck, (3, 4, 6, 3), attention=attention, **kwargs)


def small_resnet(attention: AttentionKind = None, num_classes: int = 10, in_channels: int = 1,
                 widths: Sequence[int] = (16, 32, 64), **kwargs) -> ResNet:
    """A three-stage, one-block-per-stage ResNet for small grey images (the chapter's model)."""
    return ResNet(BasicBlock, (1,) * len(widths), num_classes=num_classes, attention=attention,
                  in_channels=in_channels, widths=widths, stem="small", **kwargs)
