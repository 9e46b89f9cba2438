import pytest
import torch
from torch import nn

from attnbook.channel import BAM
from attnbook.channel import CBAM, CBAMChannelGate, CBAMSpatialGate
from attnbook.measure import count_macs, count_parameters
from attnbook.channel import create_attention
from attnbook.channel import EfficientChannelAttention, eca_kernel_size
from attnbook.models import resnet18, resnet34, resnet50, small_resnet
from attnbook.channel import SqueezeExcite

MODULES = {
    "se": lambda c: SqueezeExcite(c, rd_ratio=1 / 4),
    "eca": lambda c: EfficientChannelAttention(c),
    "cbam": lambda c: CBAM(c, rd_ratio=1 / 4),
    "bam": lambda c: BAM(c, rd_ratio=1 / 4),
    "bam-official": lambda c: BAM(c, rd_ratio=1 / 4, variant="official"),
}


@pytest.mark.parametrize("name", MODULES)
@pytest.mark.parametrize("size", [(7, 7), (8, 8), (9, 12), (1, 1)])
def test_shapes_are_kept(name, size, device):
    module = MODULES[name](16).to(device).eval()
    x = torch.randn(2, 16, *size, device=device)
    assert module(x).shape == x.shape


@pytest.mark.parametrize("name", MODULES)
def test_gradients_flow(name):
    module = MODULES[name](16).train()
    x = torch.randn(3, 16, 9, 9, requires_grad=True)
    module(x).square().mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is not None for p in module.parameters())


def test_se_by_hand():
    module = SqueezeExcite(4, rd_channels=2)
    x = torch.randn(2, 4, 3, 5)
    hidden = torch.relu(x.mean((2, 3)) @ module.fc1.weight.T + module.fc1.bias)
    gate = torch.sigmoid(hidden @ module.fc2.weight.T + module.fc2.bias)
    torch.testing.assert_close(module(x), x * gate[:, :, None, None])


@pytest.mark.parametrize("module", [SqueezeExcite(8, rd_ratio=1 / 4), CBAMChannelGate(8, rd_ratio=1 / 4)])
def test_zero_initialised_mlp_gives_a_half_gate(module):
    for parameter in module.parameters():
        nn.init.zeros_(parameter)
    x = torch.randn(2, 8, 5, 5)
    torch.testing.assert_close(module(x), 0.5 * x)


def test_eca_kernel_sizes_follow_the_rule():
    assert [eca_kernel_size(c) for c in (8, 64, 256, 512, 1024, 2048)] == [3, 3, 5, 5, 5, 7]
    module = EfficientChannelAttention(6, kernel_size=3)
    x = torch.randn(2, 6, 4, 4)
    pooled = x.mean((2, 3))
    weight = module.conv.weight[0, 0]
    padded = torch.nn.functional.pad(pooled, (1, 1))
    expected = torch.sigmoid(sum(weight[i] * padded[:, i:i + 6] for i in range(3)))
    torch.testing.assert_close(module.gate(x), expected)


def test_cbam_spatial_map_is_uniform_for_an_all_equal_input():
    gate = CBAMSpatialGate(7).eval()
    x = torch.full((1, 5, 12, 12), 0.3)
    spatial = gate.gate(x)
    # away from the zero-padded border every position sees the same statistics
    inner = spatial[0, 0, 3:-3, 3:-3]
    torch.testing.assert_close(inner, torch.full_like(inner, inner[0, 0].item()))


def test_cbam_is_channel_then_spatial():
    module = CBAM(8, rd_ratio=1 / 4).eval()
    x = torch.randn(2, 8, 6, 6)
    after_channel = x * module.channel.gate(x)[:, :, None, None]
    torch.testing.assert_close(module(x), after_channel * module.spatial.gate(after_channel))


def test_cbam_channel_uses_average_and_max_through_one_mlp():
    gate = CBAMChannelGate(8, rd_ratio=1 / 2)
    x = torch.randn(2, 8, 5, 5)
    expected = torch.sigmoid(gate.mlp(x.mean((2, 3))) + gate.mlp(x.amax((2, 3))))
    torch.testing.assert_close(gate.gate(x), expected)


def test_bam_paper_sums_branches_and_refines_residually():
    module = BAM(16, rd_ratio=1 / 4).eval()
    x = torch.randn(2, 16, 10, 10)
    channel, spatial = module.branches(x)
    assert channel.shape == (2, 16, 1, 1) and spatial.shape == (2, 1, 10, 10)
    attention = torch.sigmoid(channel + spatial)
    torch.testing.assert_close(module(x), x + x * attention)
    dilated = [m for m in module.spatial if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]
    assert len(dilated) == 2 and all(m.dilation == (4, 4) and m.padding == (4, 4) for m in dilated)
    assert isinstance(module.spatial[-1], nn.BatchNorm2d) and isinstance(module.channel_mlp[-1], nn.BatchNorm1d)


def test_bam_official_multiplies_branches():
    module = BAM(16, rd_ratio=1 / 4, variant="official").eval()
    x = torch.randn(2, 16, 10, 10)
    channel, spatial = module.branches(x)
    torch.testing.assert_close(module(x), x + x * torch.sigmoid(channel * spatial))


@pytest.mark.parametrize(
    ("attention", "expected"),
    [(None, 25_557_032), ("se", 28_088_024), ("cbam", 28_089_624), ("eca", 25_557_118), ("bam", 25_917_793)],
)
def test_resnet50_parameter_counts(attention, expected):
    assert count_parameters(resnet50(attention)) == expected


def test_other_resnet_counts_match_torchvision():
    assert count_parameters(resnet18()) == 11_689_512
    assert count_parameters(resnet34()) == 21_797_672


def test_resnet50_multiply_adds():
    torchvision_layout = count_macs(resnet50(), (3, 224, 224))
    original_layout = count_macs(resnet50(stride_in_1x1=True), (3, 224, 224))
    assert round(torchvision_layout.conv_linear / 1e9, 2) == 4.09
    assert round(original_layout.conv_linear / 1e9, 2) == 3.86
    se = count_macs(resnet50("se", stride_in_1x1=True), (3, 224, 224))
    assert round(se.total / 1e9, 2) == 3.87
    assert se.conv_linear - original_layout.conv_linear == 2_514_944  # one MAC per SE weight (2 * sum of C^2 / 16)


def test_factory():
    assert isinstance(create_attention(None, 8), nn.Identity)
    assert isinstance(create_attention("eca", 64), EfficientChannelAttention)
    assert create_attention("se", 64, rd_ratio=1 / 8).fc1.out_features == 8


def test_small_resnet_runs():
    for attention in (None, "se", "eca", "cbam", "bam"):
        model = small_resnet(attention, attention_kwargs={} if attention == "eca" else
                             (None if attention is None else {"rd_ratio": 1 / 4}))
        assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: SqueezeExcite(100), ValueError, "channels=100 is not divisible by the reduction 1/rd_ratio=16"),
        (lambda: SqueezeExcite(8), ValueError, "the reduction is larger than the channels: channels=8"),
        (lambda: SqueezeExcite(8, rd_ratio=2), ValueError, "rd_ratio must be a number in (0, 1]"),
        (lambda: SqueezeExcite(0), ValueError, "channels must be an integer >= 1, got 0"),
        (lambda: EfficientChannelAttention(64, kernel_size=4), ValueError, "kernel_size must be an odd integer"),
        (lambda: CBAM(64, kernel_size=6), ValueError, "kernel_size must be an odd integer >= 1"),
        (lambda: BAM(64, variant="both"), ValueError, "variant must be one of ('paper', 'official')"),
        (lambda: SqueezeExcite(16, rd_ratio=1 / 4)(torch.zeros(2, 16, 5)), ValueError,
         "x must have shape (batch, channels, height, width), got (2, 16, 5)"),
        (lambda: SqueezeExcite(16, rd_ratio=1 / 4)(torch.zeros(2, 8, 5, 5)), ValueError,
         "x has 8 channels, the module was built for 16"),
        (lambda: CBAMSpatialGate()(torch.zeros(3, 5)), ValueError, "x must have shape"),
        (lambda: create_attention("sk", 8), ValueError,
         "kind must be one of ('se', 'eca', 'cbam', 'bam', 'gc', 'coord', 'ge', 'ge-theta', "
         "'ge-theta-plus'), a torch.nn.Module subclass"),
        (lambda: resnet50("nonlocal"), ValueError, "attention must be one of ('se', 'eca', 'cbam', 'bam', 'gc'"),
        (lambda: count_parameters("resnet"), TypeError, "model must be a torch.nn.Module"),
    ],
)
def test_bad_input_is_named(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


def test_rd_divisor_rounds_like_timm():
    assert SqueezeExcite(100, rd_divisor=8).fc1.out_features == 8
    assert SqueezeExcite(96, rd_ratio=1 / 4, rd_divisor=8).fc1.out_features == 24
