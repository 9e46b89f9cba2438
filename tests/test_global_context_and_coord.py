"""GC block, coordinate attention (each against a plain reference written here), default gates and ECA's
released layout. Gate initialisation and the factory's own modules are in test_gates.py."""

import math

import pytest
import torch
from torch import nn

import attnbook as ab
from attnbook.channel import CoordinateAttention
from attnbook.channel import create_attention
from attnbook.channel import open_gates
from attnbook.channel import GlobalContext
from attnbook.models import resnet50, small_resnet
from attnbook.channel import SqueezeExcite


def global_context_reference(module: GlobalContext, x: torch.Tensor) -> torch.Tensor:
    """The GC block written position by position with explicit loops (slow).

    Args:
        module: a :class:`GlobalContext` whose parameters are used.
        x: ``(batch, channels, height, width)``.

    Returns:
        The block's output, ``(batch, channels, height, width)``.
    """
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


def coordinate_attention_reference(module: CoordinateAttention, x: torch.Tensor) -> torch.Tensor:
    """Coordinate attention in eval mode written with explicit sums and matrices.

    Args:
        module: a :class:`CoordinateAttention` in eval mode whose parameters are used.
        x: ``(batch, channels, height, width)``.

    Returns:
        The block's output, ``(batch, channels, height, width)``.
    """
    assert not module.training, "batch norm must use its running statistics: call module.eval()"
    height, width = x.shape[2:]
    bn = module.bn
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)

    def shared(z: torch.Tensor) -> torch.Tensor:  # (batch, C, L) -> (batch, hidden, L)
        reduced = torch.einsum("hc,bcl->bhl", module.reduce.weight[:, :, 0, 0], z) + module.reduce.bias[:, None]
        normed = (reduced - bn.running_mean[:, None]) * scale[:, None] + bn.bias[:, None]
        return normed * torch.clamp(normed + 3, 0, 6) / 6

    z_h = x.sum(dim=3) / width   # (batch, C, H)
    z_w = x.sum(dim=2) / height  # (batch, C, W)
    f_h, f_w = shared(z_h), shared(z_w)
    g_h = torch.sigmoid(torch.einsum("ch,bhl->bcl", module.conv_h.weight[:, :, 0, 0], f_h)
                        + module.conv_h.bias[:, None])
    g_w = torch.sigmoid(torch.einsum("ch,bhl->bcl", module.conv_w.weight[:, :, 0, 0], f_w)
                        + module.conv_w.bias[:, None])
    return x * g_h[:, :, :, None] * g_w[:, :, None, :]


def randomise(module: nn.Module) -> nn.Module:
    """Non-trivial parameters and running statistics, so a reference cannot agree by accident."""
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator, dtype=parameter.dtype) * 0.5)
        for name, buffer in module.named_buffers():
            if name.endswith("running_mean"):
                buffer.copy_(torch.randn(buffer.shape, generator=generator) * 0.3)
            elif name.endswith("running_var"):
                buffer.copy_(torch.rand(buffer.shape, generator=generator) + 0.5)
    return module


@pytest.mark.parametrize("name", ["gc", "coord"])
@pytest.mark.parametrize("size", [(7, 7), (8, 8), (9, 12), (1, 1), (1, 5)])
def test_shapes_are_kept(name, size, device):
    module = create_attention(name, 16, **({"rd_ratio": 1 / 4} if name == "gc" else {})).to(device).eval()
    x = torch.randn(2, 16, *size, device=device)
    assert module(x).shape == x.shape


@pytest.mark.parametrize("size", [(5, 5), (3, 7)])
def test_global_context_matches_a_loop_reference(size):
    module = randomise(GlobalContext(8, rd_ratio=1 / 4)).double()
    x = torch.randn(2, 8, *size, dtype=torch.float64)
    torch.testing.assert_close(module(x), global_context_reference(module, x))


def test_global_context_pools_with_weights_that_sum_to_one_and_starts_as_identity():
    module = GlobalContext(16, rd_ratio=1 / 4)
    x = torch.randn(3, 16, 6, 5)
    weights = module.pooling_weights(x)
    assert weights.shape == (3, 30) and (weights > 0).all()
    torch.testing.assert_close(weights.sum(-1), torch.ones(3))
    torch.testing.assert_close(module(x), x)  # zero-initialised last layer, as in the authors' code
    assert GlobalContext(16, rd_ratio=1 / 4, zero_init_last=False)(x).sub(x).abs().max() > 0


def test_global_context_with_a_constant_key_is_average_pooling():
    module = GlobalContext(8, rd_ratio=1 / 2)
    nn.init.zeros_(module.key.weight)
    x = torch.randn(2, 8, 4, 6)
    torch.testing.assert_close(module.context(x)[:, :, 0, 0], x.mean((2, 3)))


@pytest.mark.parametrize(("channels", "ratio"), [(64, 1 / 16), (256, 1 / 16), (256, 1 / 4)])
def test_global_context_parameters_follow_the_equations(channels, ratio):
    hidden = int(channels * ratio)
    # W_k (C weights + 1 bias), W_v1 (C * C/r + C/r), LayerNorm (2 C/r), W_v2 (C/r * C + C)
    expected = channels + 1 + channels * hidden + hidden + 2 * hidden + hidden * channels + channels
    assert ab.count_parameters(GlobalContext(channels, rd_ratio=ratio)) == expected


@pytest.mark.parametrize("size", [(5, 5), (4, 7)])
def test_coordinate_attention_matches_a_plain_reference(size):
    module = randomise(CoordinateAttention(16, reduction=4)).double().eval()
    x = torch.randn(2, 16, *size, dtype=torch.float64)
    torch.testing.assert_close(module(x), coordinate_attention_reference(module, x))


def test_coordinate_attention_gates_are_per_row_and_per_column():
    module = CoordinateAttention(16).eval()
    x = torch.randn(2, 16, 5, 7)
    g_h, g_w = module.gates(x)
    assert g_h.shape == (2, 16, 5, 1) and g_w.shape == (2, 16, 1, 7)
    torch.testing.assert_close(module(x), x * g_h * g_w)


@pytest.mark.parametrize(("channels", "reduction", "hidden"), [(64, 32, 8), (256, 32, 8), (512, 32, 16), (64, 4, 16)])
def test_coordinate_attention_parameters_follow_the_equations(channels, reduction, hidden):
    module = CoordinateAttention(channels, reduction=reduction)
    assert module.reduce.out_channels == hidden  # max(8, C // r), as in the authors' code
    # F_1 (C * hidden + hidden), BN (2 hidden), F_h and F_w (hidden * C + C each)
    expected = channels * hidden + hidden + 2 * hidden + 2 * (hidden * channels + channels)
    assert ab.count_parameters(module) == expected


@pytest.mark.parametrize("name", ["gc", "coord"])
def test_gradients_flow_in_float64(name):
    module = create_attention(name, 8, **({"rd_ratio": 1 / 2, "zero_init_last": False} if name == "gc" else
                                          {"reduction": 2})).double().train()
    x = torch.randn(3, 8, 4, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: module.eval()(t), (x,))
    module.train()(x).square().mean().backward()
    assert all(p.grad is not None for p in module.parameters())


def test_factory_and_resnet_know_the_new_modules():
    assert isinstance(create_attention("gc", 64), GlobalContext)
    assert isinstance(create_attention("coord", 64), CoordinateAttention)
    for name in ("gc", "coord"):
        assert small_resnet(name, attention_kwargs={"rd_ratio": 1 / 4} if name == "gc" else None)(
            torch.randn(2, 1, 20, 20)).shape == (2, 10)
    # GC in every bottleneck of ResNet-50 at r = 16: the equation's count summed over 16 blocks
    per_block = {c: c + 1 + 2 * c * (c // 16) + 3 * (c // 16) + c for c in (256, 512, 1024, 2048)}
    blocks = {256: 3, 512: 4, 1024: 6, 2048: 3}
    assert ab.count_parameters(resnet50("gc")) == 25_557_032 + sum(per_block[c] * blocks[c] for c in blocks)


def test_eca_released_k3557_layout_has_80_parameters():
    layout = [{"kernel_size": k} for k in (3, 5, 5, 7)]
    assert ab.count_parameters(resnet50("eca", stage_attention_kwargs=layout)) - 25_557_032 == 80
    assert 3 * 3 + 4 * 5 + 6 * 5 + 3 * 7 == 80
    # the adaptive rule (timm's computation) gives 5, 5, 5, 7: 86
    assert ab.count_parameters(resnet50("eca")) - 25_557_032 == 86
    with pytest.raises(ValueError, match="stage_attention_kwargs must have one dict per stage"):
        resnet50("eca", stage_attention_kwargs=layout[:3])


def test_eca_kernel_size_is_timm_rule_with_its_floor_of_three():
    assert [ab.channel.eca_kernel_size(c) for c in (1, 2, 4, 8, 64, 256, 2048)] == [3, 3, 3, 3, 3, 5, 7]
    for channels in range(1, 5000, 37):
        t = int(abs(math.log2(channels) + 1) / 2)
        assert ab.channel.eca_kernel_size(channels) == max(t + 1 - t % 2, 3)


def test_default_gates_start_near_a_half():
    model = small_resnet("se", widths=(8, 16, 32), attention_kwargs={"rd_ratio": 1 / 4})
    gates = []
    hooks = [m.register_forward_hook(lambda mod, inp, out: gates.append(mod.gate(inp[0])))
             for m in model.modules() if isinstance(m, SqueezeExcite)]
    model(torch.rand(8, 1, 28, 28))
    for hook in hooks:
        hook.remove()
    values = torch.cat([g.flatten() for g in gates])
    assert (values - 0.5).abs().max() < 0.25
    assert open_gates(model, 3.0) == 3


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: GlobalContext(100), ValueError, "channels=100 is not divisible by the reduction"),
        (lambda: GlobalContext(0), ValueError, "channels must be an integer >= 1, got 0"),
        (lambda: GlobalContext(16, rd_ratio=1 / 4)(torch.zeros(2, 8, 5, 5)), ValueError,
         "x has 8 channels, the module was built for 16"),
        (lambda: CoordinateAttention(16)(torch.zeros(2, 16, 5)), ValueError,
         "x must have shape (batch, channels, height, width), got (2, 16, 5)"),
        (lambda: CoordinateAttention(16, reduction=0), ValueError, "reduction must be an integer >= 1, got 0"),
        (lambda: CoordinateAttention(16)("x"), TypeError, "x must be a torch.Tensor, got str"),
        (lambda: create_attention("nonlocal", 8), ValueError,
         "kind must be one of ('se', 'eca', 'cbam', 'bam', 'gc', 'coord', 'ge', 'ge-theta', "
         "'ge-theta-plus'), a torch.nn.Module subclass"),
    ],
)
def test_bad_input_is_named(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)
