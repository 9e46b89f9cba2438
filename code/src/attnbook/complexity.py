"""Counting a model's parameters and multiply-adds.

``count_macs`` counts the multiply-accumulate operations of every convolution and
linear layer for one input (the convention of the ResNet, SE, CBAM and ECA tables,
which call them FLOPs). It also reports, separately, the element-wise work of the
attention modules themselves (pooling over the map and multiplying it by a gate),
which those tables count in different ways: one operation per element per pass.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from .bam import BAM
from .cbam import CBAM
from .coord import CoordinateAttention
from .eca import EfficientChannelAttention
from .global_context import GlobalContext
from .se import SqueezeExcite

__all__ = ["count_parameters", "MacCount", "count_macs", "ELEMENTWISE_PASSES"]

#: Passes over the feature map each module makes besides its convolutions and linear layers:
#: SE and ECA pool once and scale once; CBAM pools twice and scales for its channel gate, and
#: again for its spatial gate; BAM pools once, multiplies by M(F) and adds F; GC pools with its
#: softmax weights and adds the context; coordinate attention pools along H and along W and
#: multiplies by two gates.
ELEMENTWISE_PASSES: dict[type[nn.Module], int] = {SqueezeExcite: 2, EfficientChannelAttention: 2, CBAM: 6, BAM: 3,
                                                  GlobalContext: 2, CoordinateAttention: 4}


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (optionally only those with ``requires_grad``)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


class MacCount(NamedTuple):
    """Attributes:
        conv_linear: multiply-adds of convolutions and linear layers, per input.
        attention_elementwise: element-wise operations of the attention modules, per input.
    """

    conv_linear: int
    attention_elementwise: int

    @property
    def total(self) -> int:
        return self.conv_linear + self.attention_elementwise


def count_macs(model: nn.Module, input_size: tuple[int, ...]) -> MacCount:
    """Multiply-adds for one input of ``input_size`` (without the batch dimension).

    Args:
        model: the network; it is run once in eval mode on zeros.
        input_size: e.g. ``(3, 224, 224)``.

    Returns:
        A :class:`MacCount`.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    conv_linear = 0
    elementwise = 0

    def on_layer(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal conv_linear
        if isinstance(module, (nn.Conv1d, nn.Conv2d)):
            per_output = module.in_channels // module.groups * int(torch.tensor(module.kernel_size).prod())
            conv_linear += output[0].numel() * per_output
        else:
            conv_linear += output[0].numel() * module.in_features

    def on_attention(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal elementwise
        elementwise += ELEMENTWISE_PASSES[type(module)] * inputs[0][0].numel()

    handles = []
    for module in model.modules():
        if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Linear)):
            handles.append(module.register_forward_hook(on_layer))
        elif type(module) in ELEMENTWISE_PASSES:
            handles.append(module.register_forward_hook(on_attention))
    was_training = model.training
    try:
        model.eval()
        parameter = next(model.parameters(), None)
        with torch.no_grad():
            model(torch.zeros(1, *input_size, device=None if parameter is None else parameter.device))
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return MacCount(conv_linear, elementwise)
