"""Squeeze-and-Excitation (Hu, Shen and Sun, 2018, https://arxiv.org/abs/1709.01507).

``s = sigmoid(W_2 relu(W_1 avgpool(x) + b_1) + b_2)``, ``y = x * s``: one gate per
channel, computed from the whole feature map. ``W_1`` reduces ``C`` channels to
``C / r`` (``rd_ratio = 1 / r``), ``W_2`` restores them.

``pool="max"`` squeezes with the maximum over positions instead of the mean (an ablation,
not the paper's block: the SE paper's own ablation found average pooling slightly better on
ImageNet; a small feature that fills few positions moves a maximum, not a mean).
"""

from __future__ import annotations

import torch
from torch import nn

from ._common import check_channels, check_feature_map, check_logit, reduced_channels

__all__ = ["SE_POOLS", "SqueezeExcite"]

#: The values of ``SqueezeExcite(pool=...)``: the squeeze as a mean (the paper) or a maximum.
SE_POOLS = ("avg", "max")


class SqueezeExcite(nn.Module):
    """SE block.

    Args:
        channels: input channels C.
        rd_ratio: hidden width as a fraction of C (1/16 in the paper).
        rd_channels: the hidden width, overriding ``rd_ratio``.
        rd_divisor: round the hidden width to a multiple of this (None: C * rd_ratio must be whole).
        pool: the squeeze over positions, ``"avg"`` (the paper) or ``"max"``.
        device: where the parameters are created (as in ``torch.nn``).
        dtype: the parameters' floating-point type (as in ``torch.nn``).
    """

    #: Passes over the feature map besides convolutions and linear layers: pools once and scales
    #: once (read by :func:`attnbook.measure.count_macs`).
    elementwise_passes = 2

    def __init__(self, channels: int, rd_ratio: float = 1 / 16, rd_channels: int | None = None,
                 rd_divisor: int | None = None, pool: str = "avg", *, device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.channels = check_channels(channels)
        if pool not in SE_POOLS:
            raise ValueError(f"pool must be one of {SE_POOLS}, got {pool!r}")
        self.pool = pool
        hidden = reduced_channels(channels, rd_ratio, rd_channels, rd_divisor)
        self.fc1 = nn.Linear(channels, hidden, device=device, dtype=dtype)
        self.fc2 = nn.Linear(hidden, channels, device=device, dtype=dtype)

    def init_gate(self, logit: float) -> None:
        """Set the bias ``b_2`` in front of the sigmoid to ``logit``, in place.

        The gate is then ``sigmoid(W_2 relu(...) + logit)``: exactly ``sigmoid(logit)`` where
        the weights' term is zero, near it while the weights are small. Nothing else changes.

        Args:
            logit: a finite number (3 gives gates near 0.95).
        """
        nn.init.constant_(self.fc2.bias, check_logit(logit))

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        """The channel weights ``s``, ``(batch, channels)``, each in (0, 1)."""
        check_feature_map(x, self.channels)
        squeezed = x.mean(dim=(2, 3)) if self.pool == "avg" else x.amax(dim=(2, 3))
        return torch.sigmoid(self.fc2(torch.relu(self.fc1(squeezed))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x * s`` for ``x`` of shape ``(batch, channels, height, width)``."""
        return x * self.gate(x)[:, :, None, None]
