"""Global context block (Cao et al., 2019, https://arxiv.org/abs/1904.11492).

GCNet simplifies the non-local block (Wang et al., 2018, https://arxiv.org/abs/1711.07971):
the non-local block gives every query position its own softmax over all positions;
GCNet observed that these maps are nearly the same for every query and computes **one**
map per image. Three steps:

* context modelling: ``a = softmax_j(W_k x_j)`` over the ``H * W`` positions (a 1x1
  convolution to one channel), ``c = sum_j a_j x_j`` (one C-vector: attention pooling);
* transform: ``t = W_v2 relu(LN(W_v1 c))``, a C -> C/r -> C bottleneck with layer norm;
* fusion: ``y_i = x_i + t`` at every position (addition, not a gate).

Unlike SE's sigmoid gates, the pooling weights ``a`` **sum to one** over positions. As in
the authors' code, the last layer of the transform starts at zero, so the block starts
as the identity.
"""

from __future__ import annotations

import torch
from torch import nn

from ._common import check_channels, check_feature_map, reduced_channels

__all__ = ["GlobalContext"]


class GlobalContext(nn.Module):
    """GC block.

    Args:
        channels: input channels C.
        rd_ratio: bottleneck width as a fraction of C (1/16 in the paper's ImageNet runs).
        rd_channels: the bottleneck width, overriding ``rd_ratio``.
        rd_divisor: round the bottleneck width to a multiple of this.
        zero_init_last: start the transform's last layer at zero (the authors' code), so the
            block is the identity at initialisation.
        device: where the parameters are created (as in ``torch.nn``).
        dtype: the parameters' floating-point type (as in ``torch.nn``).
    """

    #: Passes over the feature map besides convolutions and linear layers: pools with its softmax
    #: weights and adds the context (read by :func:`attnbook.measure.count_macs`).
    elementwise_passes = 2

    def __init__(self, channels: int, rd_ratio: float = 1 / 16, rd_channels: int | None = None,
                 rd_divisor: int | None = None, zero_init_last: bool = True, *,
                 device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.channels = check_channels(channels)
        hidden = reduced_channels(channels, rd_ratio, rd_channels, rd_divisor)
        made = {"device": device, "dtype": dtype}
        self.key = nn.Conv2d(channels, 1, 1, **made)
        self.transform = nn.Sequential(nn.Conv2d(channels, hidden, 1, **made), nn.LayerNorm([hidden, 1, 1], **made),
                                       nn.ReLU(), nn.Conv2d(hidden, channels, 1, **made))
        if zero_init_last:
            nn.init.zeros_(self.transform[-1].weight)
            nn.init.zeros_(self.transform[-1].bias)

    def init_gate(self, logit: float) -> None:
        """Not possible: the GC block has no sigmoid gate; it adds its context (``y_i = x_i + t``).

        Its softmax pooling weights sum to one and are not a gate, and with ``zero_init_last``
        the block already starts as the identity.

        Raises:
            NotImplementedError: always.
        """
        raise NotImplementedError(
            f"GlobalContext has no sigmoid gate (it adds a transformed context to every position), so there is "
            f"nothing to set to sigmoid(logit={logit!r}); zero_init_last=True already starts it as the identity")

    def pooling_weights(self, x: torch.Tensor) -> torch.Tensor:
        """The attention over positions ``a``, ``(batch, height * width)``, each row summing to one."""
        check_feature_map(x, self.channels)
        return torch.softmax(self.key(x).flatten(1), dim=-1)

    def context(self, x: torch.Tensor) -> torch.Tensor:
        """``c = sum_j a_j x_j``, ``(batch, channels, 1, 1)``."""
        weights = self.pooling_weights(x)
        return torch.einsum("bcn,bn->bc", x.flatten(2), weights)[:, :, None, None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x + transform(context(x))`` for ``x`` of shape ``(batch, channels, height, width)``."""
        return x + self.transform(self.context(x))
