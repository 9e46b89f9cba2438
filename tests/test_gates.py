"""Modules own their variation points: each gate's ``init_gate``, ``open_gates`` that only calls
them, ``create_attention`` (and so ``ResNet``) with a module of one's own, and ``device=`` / ``dtype=``."""

import functools
import re

import pytest
import torch
from torch import nn

from attnbook.channel import (BAM, CBAM, CBAMChannelGate, CBAMSpatialGate, CoordinateAttention,
                              EfficientChannelAttention, GlobalContext, SqueezeExcite, create_attention, open_gates)
from attnbook.measure import count_parameters
from attnbook.models import resnet50, small_resnet

RESNET50_PARAMETERS = 25_557_032
RESNET50_BLOCKS = {256: 3, 512: 4, 1024: 6, 2048: 3}  # output channels of a bottleneck: blocks of that width

# name: (builder, the parameters its init_gate sets, each with the multiple of the logit it is set to)
GATES = {
    "se": (lambda: SqueezeExcite(16, rd_ratio=1 / 4), {"fc2.bias": 1.0}),
    "cbam-channel": (lambda: CBAMChannelGate(16, rd_ratio=1 / 4), {"mlp.2.bias": 0.5}),
    "cbam-spatial": (lambda: CBAMSpatialGate(7), {"bn.bias": 1.0}),
    "cbam": (lambda: CBAM(16, rd_ratio=1 / 4), {"channel.mlp.2.bias": 0.5, "spatial.bn.bias": 1.0}),
    "coord": (lambda: CoordinateAttention(16), {"conv_h.bias": 1.0, "conv_w.bias": 1.0}),
    "bam": (lambda: BAM(16, rd_ratio=1 / 4), {"channel_mlp.3.bias": 0.5, "spatial.7.bias": 0.5}),
}

# every channel module, for device= and dtype=
ALL_MODULES = {
    "se": lambda **made: SqueezeExcite(16, rd_ratio=1 / 4, **made),
    "eca": lambda **made: EfficientChannelAttention(16, **made),
    "cbam-channel": lambda **made: CBAMChannelGate(16, rd_ratio=1 / 4, **made),
    "cbam-spatial": lambda **made: CBAMSpatialGate(7, **made),
    "cbam": lambda **made: CBAM(16, rd_ratio=1 / 4, **made),
    "bam": lambda **made: BAM(16, rd_ratio=1 / 4, **made),
    "bam-official": lambda **made: BAM(16, rd_ratio=1 / 4, variant="official", **made),
    "gc": lambda **made: GlobalContext(16, rd_ratio=1 / 4, zero_init_last=False, **made),
    "coord": lambda **made: CoordinateAttention(16, **made),
}


class ScaleGate(nn.Module):
    """A reader's own gate: ``x * sigmoid(a_c)`` with one learned logit per channel."""

    elementwise_passes = 1

    def __init__(self, channels: int, start: float = 0.0) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.full((channels,), start))

    def init_gate(self, logit: float) -> None:
        nn.init.constant_(self.logits, logit)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.logits)[:, None, None]


class UnopenableGate(nn.Module):
    """Declares ``elementwise_passes`` like an attention module, but has no ``init_gate``."""

    elementwise_passes = 2

    def __init__(self, channels: int) -> None:
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(x.mean(dim=(2, 3), keepdim=True))


def gate_values(module: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """Every sigmoid gate the module applies to ``x``."""
    if isinstance(module, CBAM):
        return [module.channel.gate(x), module.spatial.gate(module.channel(x))]
    if isinstance(module, CoordinateAttention):
        return list(module.gates(x))
    if isinstance(module, BAM):
        return [module.attention_map(x)]
    return [module.gate(x)]


def zero_layers(module: nn.Module) -> nn.Module:
    """Zero the weights and biases of every convolution and linear layer."""
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, (nn.Linear, nn.Conv1d, nn.Conv2d)):
                for parameter in layer.parameters():
                    parameter.zero_()
    return module


# --- init_gate ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", GATES)
@pytest.mark.parametrize("logit", [3.0, -1.5])
def test_init_gate_gives_sigmoid_of_the_logit_when_the_layers_before_the_bias_give_zero(name, logit):
    module = zero_layers(GATES[name][0]()).eval()
    module.init_gate(logit)
    x = torch.rand(2, 16, 6, 5) + 0.1
    for gate in gate_values(module, x):
        torch.testing.assert_close(gate, torch.full_like(gate, torch.sigmoid(torch.tensor(logit)).item()))


@pytest.mark.parametrize("training", [True, False])
def test_cbam_spatial_gate_is_sigmoid_of_the_logit_on_a_zero_input(training):
    gate = CBAMSpatialGate(7).train(training)  # random convolution: it has no bias, so zeros give zeros
    gate.init_gate(2.0)
    values = gate.gate(torch.zeros(3, 8, 9, 9))
    torch.testing.assert_close(values, torch.full_like(values, torch.sigmoid(torch.tensor(2.0)).item()))


@pytest.mark.parametrize("name", GATES)
def test_init_gate_sets_only_its_biases_and_draws_no_random_numbers(name):
    build, expected = GATES[name]
    module = build()
    before = {key: value.clone() for key, value in module.state_dict().items()}
    rng = torch.random.get_rng_state()
    module.init_gate(3)
    assert torch.equal(torch.random.get_rng_state(), rng)
    after = module.state_dict()
    changed = {key for key in before if not torch.equal(before[key], after[key])}
    assert changed == set(expected)
    for key, multiple in expected.items():  # exactly the value, as open_gates has always set it
        assert torch.equal(after[key], torch.full_like(after[key], 3 * multiple))


@pytest.mark.parametrize(("build", "words"), [
    (lambda: EfficientChannelAttention(16), "EfficientChannelAttention has no bias in front of its sigmoid"),
    (lambda: GlobalContext(16, rd_ratio=1 / 4), "GlobalContext has no sigmoid gate"),
    (lambda: BAM(16, rd_ratio=1 / 4, variant="official"), "BAM(variant='official') multiplies its two branches"),
])
def test_init_gate_is_refused_where_no_bias_sets_the_gate(build, words):
    module = build()
    before = {key: value.clone() for key, value in module.state_dict().items()}
    with pytest.raises(NotImplementedError) as info:
        module.init_gate(3.0)
    assert words in str(info.value) and "sigmoid(logit=3.0)" in str(info.value)
    assert all(torch.equal(value, before[key]) for key, value in module.state_dict().items())


@pytest.mark.parametrize("logit", [float("nan"), float("inf"), True, "3"])
@pytest.mark.parametrize("name", GATES)
def test_init_gate_checks_the_logit(name, logit):
    with pytest.raises(ValueError, match=f"logit must be a finite number, got {logit!r}"):
        GATES[name][0]().init_gate(logit)


# --- open_gates -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("attention", "kwargs", "count"), [
    (None, None, 0), ("se", {"rd_ratio": 1 / 4}, 3), ("cbam", {"rd_ratio": 1 / 4}, 3), ("coord", None, 3),
    ("bam", {"rd_ratio": 1 / 4}, 2), (ScaleGate, None, 3)])
def test_open_gates_counts_one_per_attention_module(attention, kwargs, count):
    model = small_resnet(attention, widths=(8, 16, 32), attention_kwargs=kwargs)
    assert open_gates(model, 3.0) == count


def test_open_gates_in_resnet50_counts_every_block_or_every_stage_bottleneck():
    assert open_gates(resnet50("se")) == sum(RESNET50_BLOCKS.values()) == 16
    assert open_gates(resnet50("bam")) == 3


def test_open_gates_sets_what_each_init_gate_sets():
    model = small_resnet("cbam", widths=(8, 16, 32), attention_kwargs={"rd_ratio": 1 / 4})
    open_gates(model, 3.0)
    attention = [block.attention for stage in model.stages for block in stage]
    assert all(torch.equal(a.channel.mlp[-1].bias, torch.full_like(a.channel.mlp[-1].bias, 1.5)) for a in attention)
    assert all(torch.equal(a.spatial.bn.bias, torch.full((1,), 3.0)) for a in attention)


def test_open_gates_calls_a_shared_module_once_and_not_its_submodules_again():
    calls = []

    class Counted(CBAMChannelGate):
        def init_gate(self, logit: float) -> None:
            calls.append(logit)
            super().init_gate(logit)

    shared = ScaleGate(4)
    assert open_gates(nn.Sequential(nn.Sequential(shared), nn.Sequential(nn.ReLU(), shared)), 1.0) == 1
    cbam = CBAM(16, rd_ratio=1 / 4)
    cbam.channel = Counted(16, rd_ratio=1 / 4)
    assert open_gates(nn.Sequential(cbam), 2.0) == 1 and calls == [2.0]


@pytest.mark.parametrize(("attention", "kwargs", "words"), [
    ("eca", None, "EfficientChannelAttention has no bias"),
    ("gc", {"rd_ratio": 1 / 4}, "GlobalContext has no sigmoid gate"),
    ("bam", {"rd_ratio": 1 / 4, "variant": "official"}, "BAM(variant='official')"),
])
def test_open_gates_passes_on_a_module_that_refuses(attention, kwargs, words):
    with pytest.raises(NotImplementedError, match=re.escape(words)):
        open_gates(small_resnet(attention, widths=(8, 16, 32), attention_kwargs=kwargs))


def test_open_gates_raises_for_an_attention_module_without_init_gate():
    with pytest.raises(TypeError) as info:
        open_gates(small_resnet(UnopenableGate, widths=(8, 16, 32)))
    assert ("UnopenableGate at 'stages.0.0.attention' declares elementwise_passes, so it looks like an attention "
            "module, but it has no init_gate(logit) method") in str(info.value)
    with pytest.raises(TypeError, match="UnopenableGate at 'the top of the model'"):
        open_gates(UnopenableGate(4))


@pytest.mark.parametrize(("call", "error", "words"), [
    (lambda: open_gates("model"), TypeError, "model must be a torch.nn.Module, got str"),
    (lambda: open_gates(nn.Identity(), float("nan")), ValueError, "logit must be a finite number, got nan"),
])
def test_open_gates_bad_input_is_named(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


# --- create_attention and ResNet with a module of one's own ----------------------------------------

def test_create_attention_accepts_a_class_and_any_callable():
    own = create_attention(ScaleGate, 8, start=2.0)
    assert isinstance(own, ScaleGate) and torch.equal(own.logits.detach(), torch.full((8,), 2.0))
    partial = create_attention(functools.partial(SqueezeExcite, rd_ratio=1 / 8), 64)
    assert isinstance(partial, SqueezeExcite) and partial.fc1.out_features == 8
    built = create_attention(lambda channels, scale: nn.Conv2d(channels, channels, 1, bias=scale), 4, scale=False)
    assert isinstance(built, nn.Conv2d) and built.in_channels == 4 and built.bias is None
    assert isinstance(create_attention(None, 8, rd_ratio=1 / 4), nn.Identity)


@pytest.mark.parametrize(("kind", "error", "words"), [
    ("", ValueError, "kind must be one of ('se', 'eca', 'cbam', 'bam', 'gc', 'coord', 'ge', 'ge-theta', "
                     "'ge-theta-plus'), a torch.nn.Module subclass, "
                     "a callable (channels, **kwargs) -> nn.Module, or None, got ''"),
    (SqueezeExcite(16, rd_ratio=1 / 4), TypeError, "got an instance of SqueezeExcite; pass its class"),
    (int, TypeError, "got the class int, which is not an nn.Module"),
    (3, TypeError, "or None, got int"),
    (lambda channels: channels, TypeError, "must build a torch.nn.Module, but kind(16, ...) returned int"),
])
def test_create_attention_names_a_kind_it_cannot_use(kind, error, words):
    with pytest.raises(error) as info:
        create_attention(kind, 16)
    assert words in str(info.value)


def test_small_resnet_takes_a_readers_own_module():
    model = small_resnet(ScaleGate, widths=(8, 16, 32), attention_kwargs={"start": 1.0})
    gates = [block.attention for stage in model.stages for block in stage]
    assert [type(g) for g in gates] == [ScaleGate] * 3 and [g.logits.numel() for g in gates] == [8, 16, 32]
    assert model(torch.randn(2, 1, 20, 20)).shape == (2, 10)
    assert count_parameters(model) == count_parameters(small_resnet(None, widths=(8, 16, 32))) + 8 + 16 + 32


def test_resnet50_takes_a_readers_own_module_in_every_bottleneck():
    added = count_parameters(resnet50(ScaleGate)) - RESNET50_PARAMETERS
    assert added == sum(channels * blocks for channels, blocks in RESNET50_BLOCKS.items())  # one logit per channel
    assert count_parameters(resnet50(SqueezeExcite)) == count_parameters(resnet50("se"))  # the class is the name


def test_resnet_names_an_attention_it_cannot_use():
    with pytest.raises(TypeError, match="attention must be one of .* got an instance of ScaleGate"):
        small_resnet(ScaleGate(8))


# --- device= and dtype= ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL_MODULES)
def test_dtype_reaches_every_layer(name):
    module = ALL_MODULES[name](dtype=torch.float64).eval()
    tensors = list(module.parameters()) + [b for b in module.buffers() if b.is_floating_point()]
    assert tensors and all(t.dtype == torch.float64 for t in tensors)
    x = torch.randn(2, 16, 6, 5, dtype=torch.float64)
    assert module(x).dtype == torch.float64


@pytest.mark.parametrize("device", [
    "cpu", "meta",  # on meta, a layer that ignored device= would be the one left on the CPU
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")),
])
@pytest.mark.parametrize("name", ALL_MODULES)
def test_device_reaches_every_layer(name, device):
    module = ALL_MODULES[name](device=device)
    tensors = list(module.parameters()) + list(module.buffers())
    assert tensors and all(t.device.type == device for t in tensors)
    if device != "meta":
        assert module.eval()(torch.randn(2, 16, 6, 5, device=device)).device.type == device


def test_create_attention_passes_device_and_dtype_on():
    module = create_attention("cbam", 16, rd_ratio=1 / 4, device="meta", dtype=torch.float64)
    assert all(p.device.type == "meta" and p.dtype == torch.float64 for p in module.parameters())
