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

__all__ = ["count_parameters", "MacCount", "count_macs", "elementwise_passes"]


def elementwise_passes(module: nn.Module) -> int | None:
    """Passes a module makes over its input besides its convolutions and linear layers.

    Read from the class attribute ``elementwise_passes`` that each attention module of
    :mod:`attnbook.channel` declares (SE pools once and scales once: 2); None for a module
    that declares none, whose element-wise work :func:`count_macs` then does not count.
    """
    passes = getattr(type(module), "elementwise_passes", None)
    return passes if isinstance(passes, int) else None


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
        """``conv_linear + attention_elementwise``."""
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
        elementwise += elementwise_passes(module) * inputs[0][0].numel()

    handles = []
    for module in model.modules():
        if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Linear)):
            handles.append(module.register_forward_hook(on_layer))
        elif elementwise_passes(module) is not None:
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
