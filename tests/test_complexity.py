"""count_macs against PyTorch's own FLOP counter, an independent implementation."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import attnbook as ab


def _flop_counter_conv_linear(model, input_size):
    """Multiply-adds of convolutions and linear layers as torch.utils.flop_counter counts them."""
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, *input_size))
    counts = {str(op): flops for op, flops in counter.get_flop_counts()["Global"].items()}
    assert set(counts) <= {"aten.convolution", "aten.addmm", "aten.mm", "aten.bmm"}, counts
    return (counts.get("aten.convolution", 0) + counts.get("aten.addmm", 0) + counts.get("aten.mm", 0)) // 2


@pytest.mark.parametrize("attention", [None, "se", "eca", "cbam", "bam", "coord", "gc"])
def test_conv_and_linear_multiply_adds_equal_torchs_flop_counter(attention):
    model = ab.models.resnet18(attention)
    assert ab.measure.count_macs(model, (3, 64, 64)).conv_linear == _flop_counter_conv_linear(model, (3, 64, 64))


def test_global_contexts_pooling_product_is_counted_as_its_elementwise_passes():
    # GC pools with a (C, HW) x (HW, 1) product per image: FlopCounterMode books it as bmm,
    # count_macs as one of the module's element-wise passes over the map.
    module = ab.channel.GlobalContext(32)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.zeros(1, 32, 8, 8))
    bmm = {str(op): flops for op, flops in counter.get_flop_counts()["Global"].items()}["aten.bmm"] // 2
    assert bmm == 32 * 8 * 8
    assert ab.measure.count_macs(module, (32, 8, 8)).attention_elementwise == module.elementwise_passes * bmm
