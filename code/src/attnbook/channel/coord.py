"""Coordinate attention (Hou, Zhou and Feng, 2021, https://arxiv.org/abs/2103.02907).

SE pools each channel to one number and loses *where*; coordinate attention pools
along each axis separately, keeping one coordinate:

* ``z^h_c(i) = mean_j x_c(i, j)`` (shape ``C x H``) and ``z^w_c(j) = mean_i x_c(i, j)``
  (``C x W``);
* ``f = delta(BN(F_1([z^h; z^w])))``: one shared 1x1 convolution C -> C/r over the
  concatenated ``H + W`` positions, batch norm and a non-linearity (hard swish in the
  authors' code);
* ``g^h = sigmoid(F_h(f^h))``, ``g^w = sigmoid(F_w(f^w))``: two 1x1 convolutions back to C;
* ``y_c(i, j) = x_c(i, j) * g^h_c(i) * g^w_c(j)``.

The reduced width is ``max(8, C // r)`` with r = 32, as in the authors' code. Two
sigmoid gates multiply, so at initialisation the output is about a quarter of the input.
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_int
from ._common import check_channels, check_feature_map, check_logit

__all__ = ["CoordinateAttention"]


class CoordinateAttention(nn.Module):
    """Coordinate attention block.

    Args:
        channels: input channels C.
        reduction: r; the hidden width is ``max(min_channels, channels // reduction)``.
        min_channels: the smallest hidden width (8 in the authors' code).
        rd_channels: the hidden width, overriding both.
        device: where the parameters are created (as in ``torch.nn``).
        dtype: the parameters' floating-point type (as in ``torch.nn``).
    """

    #: Passes over the feature map besides convolutions and linear layers: pools along H and along W
    #: and multiplies by two gates (read by :func:`attnbook.measure.count_macs`).
    elementwise_passes = 4

    def __init__(self, channels: int, reduction: int = 32, min_channels: int = 8,
                 rd_channels: int | None = None, *, device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.channels = check_channels(channels)
        check_int("reduction", reduction, 1)
        check_int("min_channels", min_channels, 1)
        hidden = max(min_channels, channels // reduction) if rd_channels is None else check_int(
            "rd_channels", rd_channels, 1)
        made = {"device": device, "dtype": dtype}
        self.reduce = nn.Conv2d(channels, hidden, 1, **made)
        self.bn = nn.BatchNorm2d(hidden, **made)
        self.act = nn.Hardswish()
        self.conv_h = nn.Conv2d(hidden, channels, 1, **made)
        self.conv_w = nn.Conv2d(hidden, channels, 1, **made)

    def init_gate(self, logit: float) -> None:
        """Set the biases of both gate convolutions ``F_h`` and ``F_w`` to ``logit``, in place.

        Each gate is then ``sigmoid(logit)`` where its convolution's weights' term is zero and
        near it while they are small, so their product starts near ``sigmoid(logit) ** 2``.

        Args:
            logit: a finite number (3 gives gates near 0.95).
        """
        nn.init.constant_(self.conv_h.bias, check_logit(logit))
        nn.init.constant_(self.conv_w.bias, logit)

    def gates(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(g^h, g^w)``: ``(batch, channels, height, 1)`` and ``(batch, channels, 1, width)``."""
        check_feature_map(x, self.channels)
        height = x.shape[2]
        along_h = x.mean(dim=3, keepdim=True)                      # (batch, C, H, 1)
        along_w = x.mean(dim=2, keepdim=True).transpose(2, 3)      # (batch, C, W, 1)
        shared = self.act(self.bn(self.reduce(torch.cat([along_h, along_w], dim=2))))
        f_h, f_w = shared[:, :, :height], shared[:, :, height:]
        return torch.sigmoid(self.conv_h(f_h)), torch.sigmoid(self.conv_w(f_w)).transpose(2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x * g^h * g^w`` for ``x`` of shape ``(batch, channels, height, width)``."""
        g_h, g_w = self.gates(x)
        return x * g_h * g_w
