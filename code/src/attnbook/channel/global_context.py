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

__all__ = ["GlobalContext", "global_context_reference"]


class GlobalContext(nn.Module):
    """GC block.

    Args:
        channels: input channels C.
        rd_ratio: bottleneck width as a fraction of C (1/16 in the paper's ImageNet runs).
        rd_channels: the bottleneck width, overriding ``rd_ratio``.
        rd_divisor: round the bottleneck width to a multiple of this.
        zero_init_last: start the transform's last layer at zero (the authors' code), so the
            block is the identity at initialisation.
    """

    #: Passes over the feature map besides convolutions and linear layers: pools with its softmax
    #: weights and adds the context (read by :func:`attnbook.measure.count_macs`).
    elementwise_passes = 2

    def __init__(self, channels: int, rd_ratio: float = 1 / 16, rd_channels: int | None = None,
                 rd_divisor: int | None = None, zero_init_last: bool = True) -> None:
        super().__init__()
        self.channels = check_channels(channels)
        hidden = reduced_channels(channels, rd_ratio, rd_channels, rd_divisor)
        self.key = nn.Conv2d(channels, 1, 1)
        self.transform = nn.Sequential(nn.Conv2d(channels, hidden, 1), nn.LayerNorm([hidden, 1, 1]), nn.ReLU(),
                                       nn.Conv2d(hidden, channels, 1))
        if zero_init_last:
            nn.init.zeros_(self.transform[-1].weight)
            nn.init.zeros_(self.transform[-1].bias)

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


def global_context_reference(module: GlobalContext, x: torch.Tensor) -> torch.Tensor:
    """The GC block written position by position with explicit loops (slow; for tests).

    Args:
        module: a :class:`GlobalContext` whose parameters are used.
        x: ``(batch, channels, height, width)``.

    Returns:
        The block's output, ``(batch, channels, height, width)``.
    """
    check_feature_map(x, module.channels)
    key_weight = module.key.weight[0, :, 0, 0]
    first, norm, _, last = module.transform
    outputs = []
    for image in x:
        positions = image.flatten(1).T  # (H * W, C)
        logits = torch.stack([key_weight @ p + module.key.bias[0] for p in positions])
        weights = torch.exp(logits - logits.max())
        weights = weights / weights.sum()
        context = sum(w * p for w, p in zip(weights, positions))
        hidden = first.weight[:, :, 0, 0] @ context + first.bias
        hidden = (hidden - hidden.mean()) / torch.sqrt(hidden.var(unbiased=False) + norm.eps)
        hidden = torch.relu(hidden * norm.weight[:, 0, 0] + norm.bias[:, 0, 0])
        added = last.weight[:, :, 0, 0] @ hidden + last.bias
        outputs.append(image + added[:, None, None])
    return torch.stack(outputs)
