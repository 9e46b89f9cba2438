"""Bottleneck Attention Module (Park et al., 2018, https://arxiv.org/abs/1807.06514).

A channel branch and a spatial branch run **in parallel** and are **summed** before
one sigmoid; the result refines the input residually:

* ``M_c(F) = BN(MLP(avgpool(F)))``, MLP: C -> C/r -> C;
* ``M_s(F) = BN(f_3^{1x1}(f_2^{3x3}(f_1^{3x3}(f_0^{1x1}(F)))))``: a 1x1 convolution to C/r
  channels, two 3x3 convolutions with dilation 4 (padding 4, so the map keeps its
  size), a 1x1 convolution to one map;
* ``M(F) = sigmoid(M_c(F) + M_s(F))`` (broadcast to C x H x W), ``F' = F + F * M(F)``.

``variant="paper"`` follows those equations (ReLU between the spatial convolutions).
``variant="official"`` follows the authors' released code, which differs: batch norm
and ReLU follow the hidden layer of the MLP and every inner convolution instead of
ending each branch, and the branches are **multiplied**, not summed, before the sigmoid.
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_int
from ._common import check_channels, check_feature_map, check_logit, reduced_channels

__all__ = ["BAM_VARIANTS", "BAM"]

#: The values of ``BAM(variant=...)``: the paper's equations or the authors' released code.
BAM_VARIANTS = ("paper", "official")


class BAM(nn.Module):
    """BAM block, placed between the stages of a network.

    Args:
        channels: input channels C.
        rd_ratio: reduction of both branches as a fraction of C (1/16 in the paper).
        rd_channels: the reduced width, overriding ``rd_ratio``.
        rd_divisor: round the reduced width to a multiple of this.
        dilation: dilation of the two 3x3 convolutions (4 in the paper).
        variant: ``"paper"`` (default) or ``"official"``, see the module docstring.
        device: where the parameters are created (as in ``torch.nn``).
        dtype: the parameters' floating-point type (as in ``torch.nn``).
    """

    #: Passes over the feature map besides convolutions and linear layers: pools once, multiplies by
    #: M(F) and adds F (read by :func:`attnbook.measure.count_macs`).
    elementwise_passes = 3

    def __init__(self, channels: int, rd_ratio: float = 1 / 16, rd_channels: int | None = None,
                 rd_divisor: int | None = None, dilation: int = 4, variant: str = "paper", *,
                 device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.channels = check_channels(channels)
        if variant not in BAM_VARIANTS:
            raise ValueError(f"variant must be one of {BAM_VARIANTS}, got {variant!r}")
        check_int("dilation", dilation, 1)
        self.variant = variant
        hidden = reduced_channels(channels, rd_ratio, rd_channels, rd_divisor)
        official = variant == "official"
        made = {"device": device, "dtype": dtype}

        def dilated() -> list[nn.Module]:
            conv = nn.Conv2d(hidden, hidden, 3, padding=dilation, dilation=dilation, **made)
            return [conv, nn.BatchNorm2d(hidden, **made), nn.ReLU()] if official else [conv, nn.ReLU()]

        reduce = ([nn.Conv2d(channels, hidden, 1, **made)] + ([nn.BatchNorm2d(hidden, **made)] if official else [])
                  + [nn.ReLU()])
        self.spatial = nn.Sequential(*reduce, *dilated(), *dilated(), nn.Conv2d(hidden, 1, 1, **made),
                                     *([] if official else [nn.BatchNorm2d(1, **made)]))
        if official:
            self.channel_mlp = nn.Sequential(nn.Linear(channels, hidden, **made), nn.BatchNorm1d(hidden, **made),
                                             nn.ReLU(), nn.Linear(hidden, channels, **made))
        else:
            self.channel_mlp = nn.Sequential(nn.Linear(channels, hidden, **made), nn.ReLU(),
                                             nn.Linear(hidden, channels, **made), nn.BatchNorm1d(channels, **made))

    def init_gate(self, logit: float) -> None:
        """Set the shifts of both branches' closing batch norms to ``logit / 2`` (paper variant), in place.

        The branches are summed before the sigmoid, so ``M(F) = sigmoid(logit)`` where the
        batch norms' inputs are at their running means (or constant over the batch in training),
        and near it otherwise. ``F + F * M(F)`` then starts near ``(1 + sigmoid(logit)) F``.

        Args:
            logit: a finite number (3 gives gates near 0.95).

        Raises:
            NotImplementedError: for ``variant="official"``, whose branches are multiplied before
                the sigmoid: no bias sets ``M_c * M_s`` on its own.
        """
        check_logit(logit)
        if self.variant == "official":
            raise NotImplementedError(
                "BAM(variant='official') multiplies its two branches before the sigmoid, so no bias sets its "
                f"gate on its own and it cannot be set to sigmoid(logit={logit!r}); use variant='paper'")
        nn.init.constant_(self.channel_mlp[-1].bias, logit / 2)
        nn.init.constant_(self.spatial[-1].bias, logit / 2)

    def branches(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(M_c, M_s)`` before they are combined: ``(batch, C, 1, 1)`` and ``(batch, 1, H, W)``."""
        check_feature_map(x, self.channels)
        channel = self.channel_mlp(x.mean(dim=(2, 3)))[:, :, None, None]
        return channel, self.spatial(x)

    def attention_map(self, x: torch.Tensor) -> torch.Tensor:
        """``M(F)``, ``(batch, C, H, W)``, each entry in (0, 1)."""
        channel, spatial = self.branches(x)
        combined = channel + spatial if self.variant == "paper" else channel * spatial
        return torch.sigmoid(combined)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``F + F * M(F)`` for ``x`` of shape ``(batch, channels, height, width)``."""
        return x + x * self.attention_map(x)
