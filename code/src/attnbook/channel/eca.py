"""Efficient Channel Attention (Wang et al., 2020, https://arxiv.org/abs/1910.03151).

``s = sigmoid(conv1d_k(avgpool(x)))``: the channel descriptor is filtered by one 1-D
convolution across neighbouring channels (k weights, no reduction), then gates the
channels. The paper's kernel size adapts to the channel count,
``k = |log2(C) / gamma + b / gamma|_odd`` with gamma = 2 and b = 1.

The authors' repository (https://github.com/BangguWu/ECANet) has no code for that rule:
its ``eca_layer`` takes ``k_size`` as given (3 by default), and its released ResNet-50,
``eca_resnet50_k3557``, sets k = 3, 5, 5, 7 for the four stages by hand (80 weights).
:func:`eca_kernel_size` computes the rule as timm's ``EcaModule`` does:
``t = int(|log2(C) + b| / gamma)``, ``t + 1`` when t is even, and never below 3.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ._common import check_channels, check_feature_map, check_odd_kernel

__all__ = ["eca_kernel_size", "EfficientChannelAttention"]


def eca_kernel_size(channels: int, gamma: float = 2, b: float = 1) -> int:
    """The adaptive kernel size of ECA for ``channels`` channels: an odd integer >= 3 (timm's rule)."""
    check_channels(channels)
    t = int(abs(math.log2(channels) + b) / gamma)
    return max(t if t % 2 else t + 1, 3)


class EfficientChannelAttention(nn.Module):
    """ECA block.

    Args:
        channels: input channels C.
        kernel_size: odd kernel size of the 1-D convolution; None picks :func:`eca_kernel_size`.
        gamma: the adaptive rule's gamma.
        b: the adaptive rule's b.
        device: where the parameters are created (as in ``torch.nn``).
        dtype: the parameters' floating-point type (as in ``torch.nn``).
    """

    #: Passes over the feature map besides convolutions and linear layers: pools once and scales
    #: once (read by :func:`attnbook.measure.count_macs`).
    elementwise_passes = 2

    def __init__(self, channels: int, kernel_size: int | None = None, gamma: float = 2, b: float = 1, *,
                 device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.channels = check_channels(channels)
        self.kernel_size = eca_kernel_size(channels, gamma, b) if kernel_size is None else check_odd_kernel(
            "kernel_size", kernel_size)
        self.conv = nn.Conv1d(1, 1, self.kernel_size, padding=self.kernel_size // 2, bias=False, device=device,
                              dtype=dtype)

    def init_gate(self, logit: float) -> None:
        """Not possible: ECA's convolution has no bias (as in the paper and the authors' code).

        The gate is ``sigmoid(conv1d_k(avgpool(x)))`` with nothing to shift, so it starts near
        1/2 while the k weights are small; giving it a bias would change the module.

        Raises:
            NotImplementedError: always.
        """
        raise NotImplementedError(
            f"EfficientChannelAttention has no bias in front of its sigmoid (its 1-D convolution is bias-free, "
            f"as in the paper), so its gate cannot be set to sigmoid(logit={logit!r}); it starts near 1/2")

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        """The channel weights, ``(batch, channels)``, each in (0, 1)."""
        check_feature_map(x, self.channels)
        squeezed = x.mean(dim=(2, 3))[:, None, :]  # (batch, 1, channels): channels become the sequence
        return torch.sigmoid(self.conv(squeezed))[:, 0, :]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x * s`` for ``x`` of shape ``(batch, channels, height, width)``."""
        return x * self.gate(x)[:, :, None, None]
