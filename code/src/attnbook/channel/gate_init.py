"""Gate initialisation: how open a sigmoid gate starts.

A gate ``sigmoid(a)`` with ``a`` near zero at initialisation is about 1/2, so an SE or
CBAM channel gate placed on a residual branch halves that branch when training starts
(CBAM's spatial gate halves it again, coordinate attention's two gates quarter it).
:func:`open_gates` shifts the biases that feed each gate's sigmoid so that the gate starts
near ``sigmoid(logit)`` instead, while the weights keep their random initialisation.
Zero-initialising the last layer of a residual branch (Goyal et al., 2017,
https://arxiv.org/abs/1706.02677) is the same idea applied to the branch itself; GCNet's
code starts its transform at zero for that reason.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .bam import BAM
from .cbam import CBAMChannelGate, CBAMSpatialGate
from .coord import CoordinateAttention
from .se import SqueezeExcite

__all__ = ["open_gates"]


def _shift(bias: torch.Tensor, value: float) -> None:
    with torch.no_grad():
        bias.fill_(value)


def open_gates(model: nn.Module, logit: float = 3.0) -> int:
    """Set the biases in front of every sigmoid gate of ``model`` so that gates start open.

    SE: the second linear layer's bias is ``logit``. CBAM: the channel MLP's last bias is
    ``logit / 2`` (the MLP runs twice, on the average and on the max, and the two are
    added) and the spatial batch norm's shift is ``logit``. Coordinate attention: both
    gate convolutions' biases are ``logit``. BAM (paper variant): each branch's closing
    batch norm shifts by ``logit / 2``. ECA has no bias and is left as it is.

    Args:
        model: any module; its SE, CBAM, coordinate attention and BAM submodules are changed in place.
        logit: the pre-sigmoid value the biases are set to (3 gives gates near 0.95).

    Returns:
        The number of gate modules changed.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(logit, bool) or not isinstance(logit, (int, float)) or not math.isfinite(logit):
        raise ValueError(f"logit must be a finite number, got {logit!r}")
    changed = 0
    for module in model.modules():
        if isinstance(module, SqueezeExcite):
            _shift(module.fc2.bias, logit)
        elif isinstance(module, CBAMChannelGate):
            _shift(module.mlp[-1].bias, logit / 2)
        elif isinstance(module, CBAMSpatialGate):
            _shift(module.bn.bias, logit)
        elif isinstance(module, CoordinateAttention):
            _shift(module.conv_h.bias, logit)
            _shift(module.conv_w.bias, logit)
        elif isinstance(module, BAM) and module.variant == "paper":
            _shift(module.channel_mlp[-1].bias, logit / 2)
            _shift(module.spatial[-1].bias, logit / 2)
        else:
            continue
        changed += 1
    return changed
