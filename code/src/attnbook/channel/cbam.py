"""Convolutional Block Attention Module (Woo et al., 2018, https://arxiv.org/abs/1807.06521).

Channel attention, then spatial attention, applied in sequence:

* ``M_c = sigmoid(MLP(avgpool(x)) + MLP(maxpool(x)))``, one MLP shared by both
  descriptors (C -> C/r -> C), and ``x' = x * M_c``;
* ``M_s = sigmoid(BN(conv_7x7([mean_c(x'); max_c(x')])))`` over the two channel-wise
  statistics, and ``y = x' * M_s``.

The convolution has no bias and is followed by batch normalisation, as in the
authors' code (the paper's equation writes only the convolution).

``CBAM(..., gates="channel")`` or ``gates="spatial"`` keeps one of the two gates (the
paper's own ablations, Tables 2-4, compare the channel gate alone with both in sequence).
"""

from __future__ import annotations

import torch
from torch import nn

from ._common import check_channels, check_feature_map, check_logit, check_odd_kernel, reduced_channels

__all__ = ["CBAM_GATES", "CBAMChannelGate", "CBAMSpatialGate", "CBAM"]

#: The values of ``CBAM(gates=...)``: both gates in sequence (the paper) or one alone.
CBAM_GATES = ("both", "channel", "spatial")


class CBAMChannelGate(nn.Module):
    """CBAM's channel attention: average and max descriptors through one shared MLP.

    Args:
        channels: input channels C.
        rd_ratio: hidden width as a fraction of C (1/16 in the paper).
        rd_channels: the hidden width, overriding ``rd_ratio``.
        rd_divisor: round the hidden width to a multiple of this.
        device: where the parameters are created (as in ``torch.nn``).
        dtype: the parameters' floating-point type (as in ``torch.nn``).
    """

    def __init__(self, channels: int, rd_ratio: float = 1 / 16, rd_channels: int | None = None,
                 rd_divisor: int | None = None, *, device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.channels = check_channels(channels)
        hidden = reduced_channels(channels, rd_ratio, rd_channels, rd_divisor)
        self.mlp = nn.Sequential(nn.Linear(channels, hidden, device=device, dtype=dtype), nn.ReLU(),
                                 nn.Linear(hidden, channels, device=device, dtype=dtype))

    def init_gate(self, logit: float) -> None:
        """Set the MLP's last bias to ``logit / 2``, in place.

        The MLP runs twice, on the average and on the max descriptor, and the two outputs are
        added before the sigmoid, so its last bias counts twice: the gate is
        ``sigmoid(logit)`` where the weights' terms are zero, near it while they are small.

        Args:
            logit: a finite number (3 gives gates near 0.95).
        """
        nn.init.constant_(self.mlp[-1].bias, check_logit(logit) / 2)

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        """``M_c``, ``(batch, channels)``."""
        check_feature_map(x, self.channels)
        return torch.sigmoid(self.mlp(x.mean(dim=(2, 3))) + self.mlp(x.amax(dim=(2, 3))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x * M_c`` for ``x`` of shape ``(batch, channels, height, width)``."""
        return x * self.gate(x)[:, :, None, None]


class CBAMSpatialGate(nn.Module):
    """CBAM's spatial attention: channel-wise mean and max, a k x k convolution, BN, sigmoid.

    Args:
        kernel_size: odd size of the convolution (7 in the paper).
        device: where the parameters are created (as in ``torch.nn``).
        dtype: the parameters' floating-point type (as in ``torch.nn``).
    """

    def __init__(self, kernel_size: int = 7, *, device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.kernel_size = check_odd_kernel("kernel_size", kernel_size)
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False, device=device, dtype=dtype)
        self.bn = nn.BatchNorm2d(1, device=device, dtype=dtype)

    def init_gate(self, logit: float) -> None:
        """Set the batch norm's shift to ``logit``, in place (the convolution has no bias).

        On an all-zero input the convolution gives zero, the batch norm gives its shift, and
        the gate is exactly ``sigmoid(logit)`` at every position.

        Args:
            logit: a finite number (3 gives gates near 0.95).
        """
        nn.init.constant_(self.bn.bias, check_logit(logit))

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        """``M_s``, ``(batch, 1, height, width)``."""
        check_feature_map(x)
        statistics = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return torch.sigmoid(self.bn(self.conv(statistics)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x * M_s`` for ``x`` of shape ``(batch, channels, height, width)``."""
        return x * self.gate(x)


class CBAM(nn.Module):
    """CBAM: channel gate, then spatial gate.

    Args:
        channels: input channels C.
        rd_ratio: hidden width of the channel MLP as a fraction of C.
        rd_channels: the hidden width, overriding ``rd_ratio``.
        rd_divisor: round the hidden width to a multiple of this.
        kernel_size: odd size of the spatial convolution.
        gates: ``"both"`` (the paper), ``"channel"`` (the channel gate alone) or ``"spatial"``
            (the spatial gate alone); the gate left out is ``nn.Identity``.
        device: where the parameters are created (as in ``torch.nn``).
        dtype: the parameters' floating-point type (as in ``torch.nn``).
    """

    #: Passes over the feature map besides convolutions and linear layers: pools twice and scales
    #: for its channel gate, and again for its spatial gate (read by
    #: :func:`attnbook.measure.count_macs`; with one gate, half of them are counted twice).
    elementwise_passes = 6

    def __init__(self, channels: int, rd_ratio: float = 1 / 16, rd_channels: int | None = None,
                 rd_divisor: int | None = None, kernel_size: int = 7, gates: str = "both", *,
                 device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        if gates not in CBAM_GATES:
            raise ValueError(f"gates must be one of {CBAM_GATES}, got {gates!r}")
        self.gates = gates
        self.channel = (CBAMChannelGate(channels, rd_ratio, rd_channels, rd_divisor, device=device, dtype=dtype)
                        if gates != "spatial" else nn.Identity())
        self.spatial = (CBAMSpatialGate(kernel_size, device=device, dtype=dtype) if gates != "channel"
                        else nn.Identity())

    def init_gate(self, logit: float) -> None:
        """Start both gates near ``sigmoid(logit)`` (see :meth:`CBAMChannelGate.init_gate` and
        :meth:`CBAMSpatialGate.init_gate`); their product starts near ``sigmoid(logit) ** 2``.

        Args:
            logit: a finite number (3 gives gates near 0.95).
        """
        check_logit(logit)
        for gate in (self.channel, self.spatial):
            if not isinstance(gate, nn.Identity):
                gate.init_gate(logit)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, channels, height, width)`` in and out."""
        return self.spatial(self.channel(x))
