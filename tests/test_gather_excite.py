"""Gather-Excite (GE-θ⁻, GE-θ, GE-θ⁺) against hand computations, the extent's effect, the
factory names, and the two ablation options used by the channel-choice sweep: SE's max
squeeze and CBAM with one gate."""

import pytest
import torch
from torch import nn

from attnbook.channel import (CBAM, CBAMChannelGate, CBAMSpatialGate, GatherExcite, GatherExciteTheta,
                              GatherExciteThetaPlus, SqueezeExcite, create_attention, open_gates, spread_to)
from attnbook.measure import count_macs, count_parameters
from attnbook.models import small_resnet

VARIANTS = {
    "ge-global": lambda c: GatherExcite(c),
    "ge-e2": lambda c: GatherExcite(c, extent=2),
    "ge-e3": lambda c: GatherExcite(c, extent=3),
    "theta-e4": lambda c: GatherExciteTheta(c, extent=4),
    "theta-plus-e2": lambda c: GatherExciteThetaPlus(c, extent=2, rd_channels=4),
}


@pytest.mark.parametrize("name", VARIANTS)
@pytest.mark.parametrize("size", [(8, 8), (7, 5), (1, 1), (9, 12)])
def test_shapes_are_kept(name, size, device):
    module = VARIANTS[name](16).to(device).eval()
    x = torch.randn(2, 16, *size, device=device)
    assert module(x).shape == x.shape


@pytest.mark.parametrize("size", [6, 1])
def test_global_learned_variants_keep_shapes(size):
    for module in (GatherExciteTheta(8, extent=None, feature_size=size),
                   GatherExciteThetaPlus(8, extent=None, feature_size=size, rd_channels=8)):
        x = torch.randn(3, 8, size, size)
        assert module.eval()(x).shape == x.shape


def _window_reference(x: torch.Tensor, extent: int) -> torch.Tensor:
    """GE-θ⁻ by loops: each position is gated by sigmoid of the mean of its e x e window."""
    out = torch.empty_like(x)
    height, width = x.shape[2:]
    for i in range(height):
        for j in range(width):
            top, left = i // extent * extent, j // extent * extent
            window = x[:, :, top:top + extent, left:left + extent]
            out[:, :, i, j] = x[:, :, i, j] * torch.sigmoid(window.mean(dim=(2, 3)))
    return out


@pytest.mark.parametrize("extent, size", [(2, (4, 6)), (3, (7, 5)), (4, (5, 9))])
def test_windowed_gather_excite_equals_the_loop(extent, size):
    x = torch.randn(2, 3, *size, dtype=torch.float64)
    torch.testing.assert_close(GatherExcite(3, extent=extent)(x), _window_reference(x, extent))


def test_hand_computation_on_a_two_by_two_window():
    x = torch.tensor([[[[1.0, 3.0], [-2.0, 2.0]]]])  # one channel, mean 1
    expected = x * torch.sigmoid(torch.tensor(1.0))
    torch.testing.assert_close(GatherExcite(1)(x), expected)
    torch.testing.assert_close(GatherExcite(1, extent=2)(x), expected)


def test_global_extent_is_a_parameter_free_gate_of_the_channel_means():
    x = torch.randn(4, 6, 7, 9)
    module = GatherExcite(6)
    assert count_parameters(module) == 0
    torch.testing.assert_close(module(x), x * torch.sigmoid(x.mean(dim=(2, 3)))[:, :, None, None])
    # an extent that covers the map is the global extent; a smaller one is not
    torch.testing.assert_close(GatherExcite(6, extent=16)(x), module(x))
    assert not torch.allclose(GatherExcite(6, extent=2)(x), module(x))


def test_the_extent_decides_what_a_position_sees():
    # a bright patch in the top-left corner raises the gate of its own window only, unless global
    x = torch.zeros(1, 1, 8, 8)
    x[..., :2, :2] = 4.0
    gate_local = GatherExcite(1, extent=4).gate(x)
    gate_global = GatherExcite(1).gate(x)
    assert gate_local[0, 0, 0, 0] > 0.7 and gate_local[0, 0, 7, 7] == 0.5
    assert torch.allclose(gate_global, gate_global[0, 0, 0, 0]) and gate_global[0, 0, 7, 7] > 0.5


def test_spread_to_is_nearest_neighbour_upsampling_cut_to_size():
    gathered = torch.arange(6.0).reshape(1, 1, 2, 3)
    spread = spread_to(gathered, 2, (4, 5))
    assert spread[0, 0].tolist() == [[0, 0, 1, 1, 2], [0, 0, 1, 1, 2], [3, 3, 4, 4, 5], [3, 3, 4, 4, 5]]
    torch.testing.assert_close(spread_to(gathered[..., :1, :1], None, (3, 2)), torch.zeros(1, 1, 3, 2))
    big = torch.randn(2, 3, 3, 4)
    torch.testing.assert_close(spread_to(big, 4, (12, 16)), nn.functional.interpolate(big, size=(12, 16)))


def test_global_theta_by_hand():
    module = GatherExciteTheta(3, extent=None, feature_size=4).eval()
    with torch.no_grad():
        module.gather[1].weight.copy_(torch.tensor([0.5, 2.0, -1.0]))
        module.gather[1].bias.copy_(torch.tensor([0.1, 0.0, 0.3]))
    x = torch.randn(2, 3, 4, 4)
    weights = module.gather[0].weight[:, 0]  # (channels, 4, 4)
    pooled = (x * weights).sum(dim=(2, 3))
    bn = module.gather[1]
    logits = (pooled - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias
    torch.testing.assert_close(module(x), x * torch.sigmoid(logits)[:, :, None, None])
    # an all-equal depthwise kernel of 1 / (H W) is the mean: GE-θ⁻'s gather, learned
    with torch.no_grad():
        module.gather[0].weight.fill_(1 / 16)
    torch.testing.assert_close(module.gathered(x)[:, :, 0, 0], (x.mean(dim=(2, 3)) - bn.running_mean)
                               / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias)


def test_theta_plus_by_hand():
    module = GatherExciteThetaPlus(4, extent=2, rd_channels=2).eval()
    x = torch.randn(2, 4, 4, 6)
    gathered = module.gather(x)  # (2, 4, 2, 3): one depthwise stride-2 convolution and BN
    assert gathered.shape == (2, 4, 2, 3)
    down, up = module.excite[1], module.excite[3]
    hidden = torch.relu(torch.einsum("bchw,oc->bohw", torch.relu(gathered), down.weight[:, :, 0, 0])
                        + down.bias[:, None, None])
    logits = torch.einsum("bchw,oc->bohw", hidden, up.weight[:, :, 0, 0]) + up.bias[:, None, None]
    gate = torch.sigmoid(logits).repeat_interleave(2, 2).repeat_interleave(2, 3)
    torch.testing.assert_close(module(x), x * gate)


def test_learned_gathers_have_the_papers_layers():
    assert [type(m) for m in GatherExciteTheta(8, extent=8).gather] == [
        nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.Conv2d, nn.BatchNorm2d]
    conv = GatherExciteTheta(8, extent=None, feature_size=10).gather[0]
    assert conv.kernel_size == (10, 10) and conv.groups == 8 and conv.bias is None
    # the authors' GE-θ⁺ at C = 256 on 56 x 56 maps: 256 * 56 * 56 depthwise weights, BN, 256 -> 16 -> 256
    plus = GatherExciteThetaPlus(256, extent=None, feature_size=56)
    assert count_parameters(plus) == 256 * 56 * 56 + 2 * 256 + (256 * 16 + 16) + (16 * 256 + 256)


@pytest.mark.parametrize("module", [GatherExciteTheta(8, extent=2), GatherExciteThetaPlus(8, rd_channels=8),
                                    GatherExciteTheta(8, extent=None, feature_size=5)])
def test_init_gate_opens_the_gate_exactly_on_zero_input(module):
    module.init_gate(3.0)
    if isinstance(module, GatherExciteThetaPlus):  # as for SE: exact where the weights' term is zero
        nn.init.zeros_(module.excite[1].bias)
    gate = module.eval().gate(torch.zeros(2, 8, 5, 5))
    torch.testing.assert_close(gate, torch.full_like(gate, torch.sigmoid(torch.tensor(3.0)).item()))


def test_parameter_free_gate_cannot_be_opened_and_open_gates_says_so():
    with pytest.raises(NotImplementedError, match="no parameters"):
        GatherExcite(8).init_gate(3.0)
    assert open_gates(small_resnet("ge-theta", widths=(8, 16, 32))) == 3
    with pytest.raises(NotImplementedError):
        open_gates(small_resnet("ge", widths=(8, 16, 32)))


@pytest.mark.parametrize("name", VARIANTS)
def test_gradients_flow(name):
    module = VARIANTS[name](8).train()
    x = torch.randn(3, 8, 8, 8, requires_grad=True)
    module(x).square().mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())


def test_factory_names_and_their_defaults():
    assert type(create_attention("ge", 16)) is GatherExcite and create_attention("ge", 16).extent is None
    theta = create_attention("ge-theta", 16)
    assert type(theta) is GatherExciteTheta and theta.extent == 8
    plus = create_attention("ge-theta-plus", 16, extent=None, feature_size=7, rd_channels=8)
    assert type(plus) is GatherExciteThetaPlus and plus.excite[1].out_channels == 8


def test_count_macs_counts_the_gather_and_the_scale():
    model = small_resnet("ge", widths=(8, 16, 32))
    plain = small_resnet(None, widths=(8, 16, 32))
    macs, base = count_macs(model, (1, 28, 28)), count_macs(plain, (1, 28, 28))
    assert macs.conv_linear == base.conv_linear
    assert macs.attention_elementwise == 2 * (8 * 28 * 28 + 16 * 14 * 14 + 32 * 7 * 7)


def test_meta_device_and_dtype_pass_through():
    module = GatherExciteThetaPlus(8, rd_channels=4, device="meta", dtype=torch.float64)
    assert all(p.device.type == "meta" and p.dtype == torch.float64 for p in module.parameters())


@pytest.mark.parametrize("build, error, message", [
    (lambda: GatherExcite(8, extent=1), ValueError, "extent must be an integer >= 2"),
    (lambda: GatherExcite(8, extent=2.0), ValueError, "extent"),
    (lambda: GatherExcite(0), ValueError, "channels"),
    (lambda: GatherExciteTheta(8, extent=6), ValueError, "power of two"),
    (lambda: GatherExciteTheta(8, extent=None), ValueError, "feature_size must be given"),
    (lambda: GatherExciteTheta(8, extent=4, feature_size=8), ValueError, "only for a global extent"),
    (lambda: GatherExciteThetaPlus(8, rd_ratio=1 / 16), ValueError, "reduction is larger"),
    (lambda: GatherExcite(8)(torch.randn(2, 4, 5, 5)), ValueError, "built for 8"),
    (lambda: GatherExcite(8)(torch.randn(8, 5, 5)), ValueError, "shape"),
    (lambda: GatherExciteTheta(8, extent=None, feature_size=5)(torch.randn(2, 8, 6, 6)), ValueError,
     "feature_size=5"),
])
def test_bad_arguments_are_named(build, error, message):
    with pytest.raises(error, match=message):
        build()


# --- the ablation options ------------------------------------------------------------------------

def test_se_max_squeeze_by_hand():
    module = SqueezeExcite(4, rd_channels=2, pool="max")
    x = torch.randn(2, 4, 3, 5)
    hidden = torch.relu(x.amax((2, 3)) @ module.fc1.weight.T + module.fc1.bias)
    gate = torch.sigmoid(hidden @ module.fc2.weight.T + module.fc2.bias)
    torch.testing.assert_close(module(x), x * gate[:, :, None, None])
    with pytest.raises(ValueError, match="pool must be one of"):
        SqueezeExcite(4, rd_channels=2, pool="mean")


def test_se_max_squeeze_sees_a_one_pixel_feature_that_the_mean_dilutes():
    # one channel, identity-like MLP: the gate's logit is the squeezed value itself
    maps = {}
    for pool in ("avg", "max"):
        module = SqueezeExcite(1, rd_channels=1, pool=pool)
        with torch.no_grad():
            for layer in (module.fc1, module.fc2):
                layer.weight.fill_(1.0)
                layer.bias.zero_()
        x = torch.zeros(1, 1, 16, 16)
        x[..., 3, 7] = 1.0
        maps[pool] = module.gate(x).item()
    torch.testing.assert_close(maps["max"], torch.sigmoid(torch.tensor(1.0)).item())
    torch.testing.assert_close(maps["avg"], torch.sigmoid(torch.tensor(1 / 256)).item())


@pytest.mark.parametrize("gates", ["channel", "spatial"])
def test_cbam_with_one_gate_equals_that_gate(gates):
    torch.manual_seed(0)
    module = CBAM(8, rd_ratio=1 / 4, gates=gates).eval()
    x = torch.randn(2, 8, 6, 6)
    alone = module.channel if gates == "channel" else module.spatial
    assert isinstance(alone, CBAMChannelGate if gates == "channel" else CBAMSpatialGate)
    assert isinstance(module.spatial if gates == "channel" else module.channel, nn.Identity)
    torch.testing.assert_close(module(x), alone(x))
    module.init_gate(3.0)  # sets the gate that is there
    with pytest.raises(ValueError, match="gates must be one of"):
        CBAM(8, gates="neither")
