"""Every public forward pass runs without a host-device synchronisation.

Three ways to catch one:

* ``torch.compile(fullgraph=True)`` refuses a Python branch on a tensor's value
  (``if bool(tensor)``) instead of breaking the graph there;
* the graph it captures must not read a scalar back (``.item()``, ``float(tensor)``,
  which Dynamo traces into the graph rather than refusing) nor build a tensor from
  Python data (``torch.tensor([slot], device=...)``, a host-to-device copy);
* on CUDA, ``torch.cuda.set_sync_debug_mode("error")`` raises on any synchronising call.

The compiled runs use the ``"eager"`` backend's way of running a graph (the ordinary
kernels), which keeps them fast and makes their results equal eager mode's bit for bit.
Also tested here: the debug switch :class:`attnbook.set_checks` of the checks that read
a tensor's values.
"""

from __future__ import annotations

import re
from typing import Callable

import pytest
import torch

import attnbook as ab
from attnbook import channel, hard, local

# What a builder returns for a device: the function to run and its arguments.
Inputs = tuple[Callable[..., object], tuple]


@pytest.fixture(autouse=True)
def fresh_state():
    """Each test starts with the default checks and an empty compile cache, and leaves them so."""
    torch._dynamo.reset()
    with ab.set_checks(None):
        yield
    torch._dynamo.reset()


SCALAR_READS = {"item", "tolist", "__bool__", "__float__", "__int__"}
HOST_DATA = {torch.tensor, torch.as_tensor}


def _compile(function: Callable) -> Callable:
    """``torch.compile(function, fullgraph=True)``, checking each graph it captures for host reads."""

    def backend(graph: torch.fx.GraphModule, example_inputs: list) -> Callable:
        for node in graph.graph.nodes:
            assert not (node.op == "call_method" and node.target in SCALAR_READS), \
                f"reads a scalar back to the host: {node.format_node()}"
            assert not (node.op == "call_function" and node.target in HOST_DATA), \
                f"builds a tensor from Python data: {node.format_node()}"
        return graph.forward  # run it as eager mode would

    return torch.compile(function, fullgraph=True, backend=backend)


def _randn(*shape: int, seed: int = 0, device: str = "cpu") -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)).to(device)


def _padding(batch: int, length: int, real: list[int], device: str) -> torch.Tensor:
    """``(batch, length)``, True for the first ``real[b]`` positions of sequence b."""
    return (torch.arange(length)[None, :] < torch.tensor(real)[:, None]).to(device)


def _masked_softmax(device: str) -> Inputs:
    mask = torch.rand(3, 4, 5, generator=torch.Generator().manual_seed(1)) > 0.4
    mask[1, 2] = False  # a fully masked row
    return (lambda s, m: ab.masked_softmax(s, m, temperature=0.7)), (_randn(2, 3, 4, 5, device=device),
                                                                     mask.to(device))


def _attention(score_name: str) -> Callable[[str], Inputs]:
    def build(device: str) -> Inputs:
        torch.manual_seed(0)
        modules = {"general": lambda: ab.make_score("general", query_dim=4),
                   "additive": lambda: ab.make_score("additive", query_dim=4),
                   "cosine": ab.CosineScore, "location": lambda: ab.LocationScore(4, max_keys=8)}
        score = modules[score_name]().to(device) if score_name in modules else score_name
        mask = torch.ones(3, 6, dtype=torch.bool)
        mask[0, 2:] = False
        mask[2] = False  # a query that may see no key

        def attend(query, key, value, mask):
            return tuple(ab.attention(query, key, value, mask=mask, score=score, temperature=0.5))

        return attend, (_randn(2, 3, 4, seed=1, device=device), _randn(2, 6, 4, seed=2, device=device),
                        _randn(2, 6, 5, seed=3, device=device), mask.to(device))

    return build


def _nadaraya_watson(device: str) -> Inputs:
    return (lambda q, x, y: tuple(ab.nadaraya_watson(q, x, y, sigma=0.5))), (
        _randn(7, device=device), _randn(11, seed=1, device=device), _randn(11, seed=2, device=device))


def _positional(device: str) -> Inputs:
    return (lambda: ab.sinusoidal_positional_encoding(6, 8, device=device)), ()


def _multihead(need_weights: bool) -> Callable[[str], Inputs]:
    def build(device: str) -> Inputs:
        torch.manual_seed(0)
        layer = ab.MultiHeadAttention(8, 2).to(device)
        mask = torch.rand(2, 2, 3, 5, generator=torch.Generator().manual_seed(1)) > 0.3
        mask[1, 0, 2] = False  # a query that may see no key

        def attend(query, key, value, mask):
            output, weights = layer(query, key, value, mask=mask, need_weights=need_weights)
            return (output,) if weights is None else (output, weights)

        return attend, (_randn(2, 3, 8, device=device), _randn(2, 5, 8, seed=1, device=device),
                        _randn(2, 5, 8, seed=2, device=device), mask.to(device))

    return build


def _sliding_window(path: str, causal: bool) -> Callable[[str], Inputs]:
    def build(device: str) -> Inputs:
        query, key, value = (_randn(2, 2, 11, 4, seed=seed, device=device) for seed in range(3))
        # the second sequence ends with 5 padding keys: its last queries see none when causal
        padding = _padding(2, 11, [11, 6], device)

        def attend(query, key, value, padding):
            return local.sliding_window_attention(query, key, value, 2, causal=causal, key_padding_mask=padding,
                                                  path=path, block_size=4)

        return attend, (query, key, value, padding)

    return build


def _luong(mode: str, score: str) -> Callable[[str], Inputs]:
    def build(device: str) -> Inputs:
        torch.manual_seed(0)
        layer = local.LuongAttention(4, score=score, mode=mode, window=None if mode == "global" else 2).to(device)

        def attend(query, keys, padding):
            output = layer(query, keys, step=3, key_padding_mask=padding, target_length=6)
            return tuple(tensor for tensor in output if tensor is not None)

        return attend, (_randn(2, 4, device=device), _randn(2, 9, 4, seed=1, device=device),
                        _padding(2, 9, [9, 5], device))

    return build


def _decode_causal_window(device: str) -> Inputs:
    query, key, value = (_randn(2, 2, 5, 4, seed=seed, device=device) for seed in range(3))
    return (lambda q, k, v: local.decode_causal_window(q, k, v, window=2)), (query, key, value)


def _decode_with_sinks(device: str) -> Inputs:
    query, key, value = (_randn(2, 2, 7, 4, seed=seed, device=device) for seed in range(3))
    return (lambda q, k, v: local.decode_causal_window(q, k, v, window=1, sinks=2)), (query, key, value)


def _sparsemax(device: str) -> Inputs:
    scores = _randn(3, 4, 5, device=device)
    scores[0, 1, :2] = float("-inf")  # masked entries
    scores[2, 3] = float("-inf")  # a fully masked row
    return (lambda s: (hard.sparsemax(s), hard.sparsemax(s, dim=0))), (scores,)


def _crop(device: str) -> Inputs:
    centres = torch.tensor([[0.1, -0.3], [0.8, 0.9]], device=device)
    extents = torch.tensor([[0.4, 0.5], [0.6, 0.2]], device=device)
    return (lambda i, c, e: hard.crop(i, c, e, (5, 4))), (_randn(2, 3, 12, 10, device=device), centres, extents)


def _attend_locations(mode: str) -> Callable[[str], Inputs]:
    def build(device: str) -> Inputs:
        def attend(features, logits):
            output = hard.attend_locations(features, logits, mode=mode, k=2, temperature=0.8)
            return tuple(tensor for tensor in output if tensor is not None)

        return attend, (_randn(2, 6, 3, device=device), _randn(2, 6, seed=1, device=device))

    return build


def _glimpses(padding: str | None) -> Callable[[str], Inputs]:
    def build(device: str) -> Inputs:
        locations = torch.tensor([[0.0, 0.0], [-0.5, 0.25]], device=device)
        return (lambda i, l: hard.extract_glimpses(i, l, size=4, scales=2, padding=padding)), (
            _randn(2, 1, 16, 16, device=device), locations)

    return build


def _reinforce(device: str) -> Inputs:
    def loss(log_prob, reward, baseline):
        return hard.reinforce_loss(log_prob, reward, baseline), hard.reinforce_loss(log_prob, reward, 0.5)

    return loss, (_randn(4, device=device), _randn(4, seed=1, device=device), _randn(4, seed=2, device=device))


def _channel(name: str, **kwargs) -> Callable[[str], Inputs]:
    def build(device: str) -> Inputs:
        torch.manual_seed(0)
        module = channel.create_attention(name, 16, **kwargs).to(device)  # in training mode
        return module, (_randn(2, 16, 6, 5, device=device),)

    return build


ENTRY_POINTS: dict[str, Callable[[str], Inputs]] = {
    "masked_softmax": _masked_softmax,
    **{f"attention[{name}]": _attention(name) for name in (*ab.SCORE_NAMES, "cosine", "location")},
    "nadaraya_watson": _nadaraya_watson,
    "sinusoidal_positional_encoding": _positional,
    "MultiHeadAttention[need_weights]": _multihead(True),
    "MultiHeadAttention[sdpa]": _multihead(False),
    **{f"sliding_window_attention[{path}, causal={causal}]": _sliding_window(path, causal)
       for path in ("dense", "blocked") for causal in (False, True)},
    **{f"LuongAttention[{mode}, {score}]": _luong(mode, score)
       for mode, score in (("global", "dot"), ("global", "concat"), ("local-m", "general"),
                           ("local-m-scaled", "dot"), ("local-p", "general"))},
    "decode_causal_window": _decode_causal_window,
    "decode_causal_window[sinks=2]": _decode_with_sinks,
    "sparsemax": _sparsemax,
    "crop": _crop,
    **{f"attend_locations[{mode}]": _attend_locations(mode) for mode in ("soft", "argmax")},
    **{f"extract_glimpses[padding={padding}]": _glimpses(padding) for padding in ("zeros", None)},
    "reinforce_loss": _reinforce,
    **{f"channel[{name}]": _channel(name) for name in channel.ATTENTION_MODULES},
    "channel[bam, official]": _channel("bam", variant="official"),
}


def _as_tuple(result: object) -> tuple:
    return result if isinstance(result, tuple) else (result,)


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_compiles_without_a_graph_break_and_equals_eager(name):
    # Two builds, equal but separate: a module in training mode updates its batch-norm
    # statistics, and each run must start from the same ones.
    function, inputs = ENTRY_POINTS[name]("cpu")
    compiled = _compile(ENTRY_POINTS[name]("cpu")[0])
    torch.testing.assert_close(_as_tuple(compiled(*inputs)), _as_tuple(function(*inputs)), rtol=0, atol=0)


def _cache_steps(cache: local.RollingKVCache, step: Callable, steps: int) -> list[torch.Tensor]:
    outputs = []
    for position in range(steps):
        query, key, value = (_randn(2, 3, 4, seed=10 * position + offset) for offset in range(3))
        outputs.append(step(cache, query, key, value))
    return outputs


def test_rolling_cache_append_and_attend_compile_and_equal_eager():
    def step(cache, query, key, value):
        cache.append(key, value)
        return cache.attend(query)

    # window 1: two slots, so the third and fourth steps overwrite the oldest
    eager, traced = (local.RollingKVCache(1, 2, 3, 4) for _ in range(2))
    expected = _cache_steps(eager, step, 4)
    compiled = _compile(step)
    torch.testing.assert_close(_cache_steps(traced, compiled, 4), expected, rtol=0, atol=0)
    for name in ("keys", "values", "positions"):
        assert torch.equal(getattr(traced, name), getattr(eager, name)), name
    assert traced.length == eager.length == 4


def test_moving_average_baseline_compiles_and_equals_eager():
    rewards = [_randn(5, seed=seed) for seed in range(3)]
    eager, traced = hard.MovingAverageBaseline(0.9), hard.MovingAverageBaseline(0.9)
    update = _compile(traced.update)
    for reward in rewards:
        assert torch.equal(update(reward), eager.update(reward))
    assert torch.equal(traced.value, eager.value)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="synchronisations are a CUDA matter")
@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_no_host_device_synchronisation_on_cuda(name):
    function, inputs = ENTRY_POINTS[name]("cuda")
    expected = function(*inputs)  # the first call initialises CUDA libraries, which may synchronise
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        result = function(*inputs)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    torch.testing.assert_close(_as_tuple(result), _as_tuple(expected), rtol=0, atol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="synchronisations are a CUDA matter")
def test_rolling_cache_and_baseline_do_not_synchronise_on_cuda():
    cache = local.RollingKVCache(1, 2, 3, 4, device="cuda")
    sink_cache = local.RollingKVCache(1, 2, 3, 4, device="cuda", sinks=2)
    baseline = hard.MovingAverageBaseline(0.9)
    query, key, value = (_randn(2, 3, 4, seed=seed, device="cuda") for seed in range(3))
    cache.append(key, value)
    cache.attend(query)
    sink_cache.append(key, value)
    sink_cache.attend(query, null_logit=0.0)
    baseline.update(value)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(4):  # past the sinks, the rolling slots wrap around
            cache.append(key, value)
            cache.attend(query)
            sink_cache.append(key, value)
            sink_cache.attend(query, null_logit=0.0)
            baseline.update(value)
    finally:
        torch.cuda.set_sync_debug_mode("default")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="synchronisations are a CUDA matter")
def test_checks_on_cuda_are_off_by_default_and_synchronise_when_set():
    scores = torch.tensor([1.0, float("nan")], device="cuda")
    assert not ab.checks_enabled("cuda")
    assert torch.isnan(ab.masked_softmax(scores)).all()
    ab.set_checks(True)
    with pytest.raises(ValueError, match="scores must be finite"):
        ab.masked_softmax(scores)
    torch.cuda.set_sync_debug_mode("error")
    try:
        with pytest.raises(RuntimeError, match="synchroniz"):
            ab.masked_softmax(scores)
    finally:
        torch.cuda.set_sync_debug_mode("default")


VALUE_CHECKS = {
    "masked_softmax": (lambda: ab.masked_softmax(torch.tensor([1.0, float("nan")])), "scores must be finite"),
    "sparsemax": (lambda: hard.sparsemax(torch.tensor([1.0, float("inf")])), "must not contain NaN or +inf"),
    "crop": (lambda: hard.crop(torch.zeros(1, 1, 4, 4), torch.zeros(1, 2), torch.zeros(1, 2), 2),
             "extents must be > 0"),
    "extract_glimpses": (lambda: hard.extract_glimpses(torch.zeros(1, 1, 8, 8), torch.ones(1, 2), 4, padding=None),
                         "every glimpse must lie inside the image"),
}


@pytest.mark.parametrize("name", VALUE_CHECKS)
def test_value_checks_follow_the_switch(name):
    call, words = VALUE_CHECKS[name]
    assert ab.checks_enabled() and ab.checks_enabled("cpu") and not ab.checks_enabled("cuda")
    with pytest.raises(ValueError, match=re.escape(words)):
        call()  # the default on CPU
    with ab.set_checks(False):
        assert not ab.checks_enabled()
        call()
    with pytest.raises(ValueError, match=re.escape(words)):
        call()  # the context manager restored the default
    ab.set_checks(True)
    assert ab.checks_enabled("cuda")
    with pytest.raises(ValueError, match=re.escape(words)):
        call()
    ab.set_checks(False)
    call()


def test_value_checks_never_run_under_compile():
    ab.set_checks(True)
    scores = torch.tensor([[1.0, float("nan")], [0.0, 1.0]])
    weights = _compile(ab.masked_softmax)(scores)
    assert torch.isnan(weights[0]).all()
    torch.testing.assert_close(weights[1], torch.softmax(scores[1], -1))


def test_set_checks_rejects_what_is_not_a_bool_or_none():
    with pytest.raises(TypeError, match=r"enabled must be True, False or None .*, got 'yes'"):
        ab.set_checks("yes")
    assert ab.checks_enabled() and not ab.checks_enabled("cuda")
