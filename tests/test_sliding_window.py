import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attnbook import attention
from attnbook.measure import count_tensor_memory
from attnbook.local.sliding_window import _band_block_structure, _cached_block_plan
from attnbook.local import (
    LuongAttention,
    RollingKVCache,
    band,
    band_block_mask,
    causal_window,
    decode_causal_window,
    default_block_size,
    dilated_window,
    render_mask,
    sliding_window,
    sliding_window_attention,
    sliding_window_mask,
)


def _qkv(batch=2, heads=2, seq=13, dim=4, seed=0, dtype=torch.float64, device="cpu"):
    generator = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(batch, heads, seq, dim, generator=generator, dtype=dtype).to(device) for _ in range(3))


def _hand_band(seq, window, causal):
    """The band written out by hand, independently of the package: for each query i,
    the keys i - window .. i (causal) or i - window .. i + window."""
    mask = torch.zeros(seq, seq, dtype=torch.bool)
    for i in range(seq):
        last = i if causal else i + window
        for j in range(seq):
            mask[i, j] = i - window <= j <= last
    return mask


def _hand_attention(query, key, value, allowed):
    """For each (batch, head, query), a softmax over its allowed keys only; zero if it has none."""
    out = torch.zeros(*query.shape[:3], value.shape[-1], dtype=query.dtype)
    for b in range(query.shape[0]):
        for h in range(query.shape[1]):
            for i in range(query.shape[2]):
                keys = allowed[b, i].nonzero()[:, 0]
                if len(keys):
                    scores = key[b, h, keys] @ query[b, h, i] / query.shape[-1] ** 0.5
                    out[b, h, i] = torch.softmax(scores, 0) @ value[b, h, keys]
    return out


def test_mask_hand_computed():
    expected = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1]], dtype=torch.bool)
    assert torch.equal(sliding_window_mask(4, 1), expected)
    assert torch.equal(sliding_window_mask(4, 1, causal=True), expected.tril())


@settings(max_examples=40, deadline=None)
@given(seq=st.integers(1, 40), window=st.integers(0, 45), causal=st.booleans())
def test_band_equals_the_hand_loop_for_every_length_and_window(seq, window, causal):
    expected = _hand_band(seq, window, causal)
    assert torch.equal(sliding_window_mask(seq, window, causal), expected)
    assert torch.equal(render_mask(band(window, causal), seq), expected)
    named = causal_window(window) if causal else sliding_window(window)
    assert torch.equal(render_mask(named, seq), expected)


def test_dense_path_is_masked_attention():
    query, key, value = _qkv()
    mask = sliding_window_mask(13, 2)
    expected = attention(query, key, value, mask=mask).context
    torch.testing.assert_close(sliding_window_attention(query, key, value, 2, path="dense"), expected)


def test_huge_window_is_global_attention():
    query, key, value = _qkv()
    expected = attention(query, key, value).context
    for path in ("dense", "blocked"):
        torch.testing.assert_close(sliding_window_attention(query, key, value, 100, path=path), expected)


def test_window_zero_returns_the_values():
    query, key, value = _qkv()
    torch.testing.assert_close(sliding_window_attention(query, key, value, 0, path="blocked"), value)


@settings(max_examples=60, deadline=None)
@given(
    seq=st.integers(1, 70),
    window=st.integers(0, 20),
    block_size=st.integers(1, 24),
    causal=st.booleans(),
    padded=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_dense_blocked_and_flex_agree_for_every_length_and_window(seq, window, block_size, causal, padded, seed):
    query, key, value = _qkv(seq=seq, seed=seed)
    padding = torch.rand(2, seq, generator=torch.Generator().manual_seed(seed)) > 0.3 if padded else None
    dense = sliding_window_attention(query, key, value, window, causal, padding, path="dense")
    blocked = sliding_window_attention(query, key, value, window, causal, padding, path="blocked",
                                       block_size=block_size)
    flex = sliding_window_attention(query, key, value, window, causal, padding, path="flex")
    torch.testing.assert_close(blocked, dense)
    torch.testing.assert_close(flex, dense)


@settings(max_examples=15, deadline=None)
@given(seq=st.integers(1, 20), window=st.integers(0, 22), causal=st.booleans(), seed=st.integers(0, 2**16))
def test_every_path_equals_the_hand_loop(seq, window, causal, seed):
    query, key, value = _qkv(seq=seq, seed=seed)
    padding = torch.rand(2, seq, generator=torch.Generator().manual_seed(seed)) > 0.3
    allowed = _hand_band(seq, window, causal)[None] & padding[:, None, :]  # (batch, query, key)
    expected = _hand_attention(query, key, value, allowed)
    for path in ("dense", "blocked", "flex"):
        torch.testing.assert_close(sliding_window_attention(query, key, value, window, causal, padding, path=path),
                                   expected, msg=path)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("padded", [False, True])
def test_flex_equals_dense(causal, padded, device):
    dtype = torch.float32
    query, key, value = _qkv(seq=150, dim=16, dtype=dtype, device=device)
    padding = (torch.rand(2, 150, generator=torch.Generator().manual_seed(1)) > 0.3).to(device) if padded else None
    dense = sliding_window_attention(query, key, value, 9, causal, padding, path="dense")
    flex = sliding_window_attention(query, key, value, 9, causal, padding, path="flex")
    torch.testing.assert_close(flex, dense, atol=2e-5, rtol=2e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="the auto path picks FlexAttention on CUDA only")
def test_auto_on_cuda_equals_dense():
    query, key, value = _qkv(seq=300, dim=64, dtype=torch.float32, device="cuda")
    dense = sliding_window_attention(query, key, value, 32, path="dense")
    torch.testing.assert_close(sliding_window_attention(query, key, value, 32), dense, atol=1e-3, rtol=1e-3)


def test_fully_masked_rows_are_zero_on_every_path():
    query, key, value = _qkv(seq=10)
    padding = torch.ones(2, 10, dtype=torch.bool)
    padding[0, 3:8] = False  # with window 1, queries 4..6 see no real key
    for path in ("dense", "blocked", "flex"):
        context = sliding_window_attention(query.float(), key.float(), value.float(), 1,
                                           key_padding_mask=padding, path=path)
        assert torch.isfinite(context).all()
        assert torch.all(context[0, :, 4:7] == 0), path


@pytest.mark.parametrize("path", ["dense", "blocked"])
def test_gradcheck(path):
    query, key, value = (t.requires_grad_() for t in _qkv(batch=1, heads=1, seq=9, dim=3))
    assert torch.autograd.gradcheck(
        lambda q, k, v: sliding_window_attention(q, k, v, 2, causal=True, path=path, block_size=4),
        (query, key, value))


@pytest.mark.parametrize("padded", [False, True])
@pytest.mark.parametrize("causal", [False, True])
def test_blocked_path_compiles_without_a_graph_break(causal, padded):
    # fullgraph=True raises on any graph break, such as a host synchronisation
    # (bool(tensor), tensor.item()) in the forward pass.
    query, key, value = _qkv(seq=40, dtype=torch.float32)
    padding = torch.rand(2, 40, generator=torch.Generator().manual_seed(2)) > 0.3 if padded else None
    compiled = torch.compile(sliding_window_attention, fullgraph=True, backend="eager")
    expected = sliding_window_attention(query, key, value, 5, causal, padding, path="dense")
    torch.testing.assert_close(compiled(query, key, value, 5, causal, padding, path="blocked", block_size=8),
                               expected, atol=1e-5, rtol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="host synchronisation is a CUDA matter")
def test_blocked_path_never_synchronises_the_gpu():
    query, key, value = _qkv(seq=300, dim=64, dtype=torch.float32, device="cuda")
    padding = torch.rand(2, 300, device="cuda") > 0.3
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        sliding_window_attention(query, key, value, 32, False, padding, path="blocked")
    finally:
        torch.cuda.set_sync_debug_mode("default")


def test_blocked_memory_grows_linearly_with_length():
    def peak(seq):
        query, key, value = _qkv(batch=1, heads=1, seq=seq, dim=16, dtype=torch.float32)
        sliding_window_attention(query, key, value, 16, path="blocked")  # builds the mask, a constant size
        return count_tensor_memory(lambda: sliding_window_attention(query, key, value, 16, path="blocked")).bytes

    small, large = peak(1024), peak(2048)
    assert 1.8 < large / small < 2.2  # dense scores would grow 4x


@pytest.mark.parametrize(("seq", "window"), [(1, 0), (128, 0), (129, 128), (300, 9), (640, 127), (1000, 200)])
@pytest.mark.parametrize("causal", [False, True])
def test_band_block_mask_equals_create_block_mask(seq, window, causal):
    from torch.nn.attention.flex_attention import create_block_mask

    expected = create_block_mask(band(window, causal), None, None, seq, seq, device="cpu")
    built = band_block_mask(seq, window, causal)
    assert built.seq_lengths == expected.seq_lengths and built.BLOCK_SIZE == expected.BLOCK_SIZE
    for name in ("kv_num_blocks", "kv_indices", "full_kv_num_blocks", "full_kv_indices",
                 "q_num_blocks", "q_indices", "full_q_num_blocks", "full_q_indices"):
        assert torch.equal(getattr(built, name), getattr(expected, name)), name


def test_band_block_mask_memory_is_far_below_seq_squared():
    seq = 8192
    _band_block_structure.cache_clear()
    built = count_tensor_memory(lambda: band_block_mask(seq, 64))
    assert built.method == "tensor count" and 0 < built.bytes < seq**2 / 100  # 64 x 64 tiles, not 8192^2 pairs
    from torch.nn.attention.flex_attention import create_block_mask

    small = 1024  # create_block_mask materialises seq x seq tensors (at least one byte a pair)
    dense = count_tensor_memory(lambda: create_block_mask(band(64), None, None, small, small, device="cpu"))
    assert dense.bytes >= small**2


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"seq_len": 0}, ValueError, "seq_len must be an integer >= 1, got 0"),
        ({"seq_len": 8.0}, ValueError, "seq_len must be an integer >= 1, got 8.0"),
        ({"window": -2}, ValueError, "window must be an integer >= 0, got -2"),
    ],
)
def test_band_block_mask_bad_input_is_named(kwargs, error, words):
    arguments = {"seq_len": 8, "window": 2}
    arguments.update(kwargs)
    with pytest.raises(error) as info:
        band_block_mask(**arguments)
    assert words in str(info.value)


def test_padding_mask_reuses_the_cached_band_structure():
    padding = torch.ones(2, 300, dtype=torch.bool)
    first = band_block_mask(300, 9, mask_mod=lambda b, h, q, k: padding[b, k])
    second = band_block_mask(300, 9, mask_mod=lambda b, h, q, k: ~padding[b, k])
    assert first.kv_indices.data_ptr() == second.kv_indices.data_ptr()
    assert first.full_kv_num_blocks is None  # every touched tile is partial, so the padding is applied


def test_default_block_size_depends_on_the_hardware_not_the_window():
    assert [default_block_size(w) for w in (0, 64, 10_000)] == [128, 128, 128]
    assert default_block_size(64, "cpu") == default_block_size(64, torch.device("cuda")) == 128
    assert default_block_size(64, "meta") == default_block_size(64)  # a type not measured: the CPU's


def test_blocked_mask_is_built_once_per_setting():
    query, key, value = _qkv(seq=300, dtype=torch.float32)
    _cached_block_plan.cache_clear()
    first = sliding_window_attention(query, key, value, 9, path="blocked", block_size=32)
    second = sliding_window_attention(query * 2, key, value, 9, path="blocked", block_size=32)
    assert _cached_block_plan.cache_info().misses == 1 and _cached_block_plan.cache_info().hits == 1
    assert not torch.equal(first, second)
    plan = _cached_block_plan(300, 9, False, 32, "cpu", torch.float32)
    # one mask per run of blocks: the first block, the interior (one mask for all), the last two
    assert [(run_first, count, tuple(mask.shape)) for run_first, count, mask, _ in plan.runs] == [
        (0, 1, (1, 32, 56)), (1, 7, (1, 32, 56)), (8, 2, (2, 32, 56))]
    for *_, visible, bias in plan.runs:  # the booleans, and SDPA's additive form of them
        assert visible.dtype == torch.bool and bias.dtype == torch.float32
        assert torch.equal(bias, torch.zeros_like(bias).masked_fill(~visible, float("-inf")))
    sliding_window_attention(query, key, value, 9, causal=True, path="blocked", block_size=32)
    sliding_window_attention(query.double(), key.double(), value.double(), 9, path="blocked", block_size=32)
    assert _cached_block_plan.cache_info().misses == 3  # another setting or dtype, another mask


def test_a_mask_cached_in_inference_mode_serves_training():
    # A tensor made under torch.inference_mode cannot be saved for backward; the cache makes its own.
    query, key, value = _qkv(batch=1, heads=1, seq=50, dtype=torch.float32)
    _cached_block_plan.cache_clear()
    with torch.inference_mode():
        sliding_window_attention(query, key, value, 3, path="blocked", block_size=8)
    query.requires_grad_()
    sliding_window_attention(query, key, value, 3, path="blocked", block_size=8).sum().backward()
    assert _cached_block_plan.cache_info().hits == 1 and torch.isfinite(query.grad).all()


@pytest.mark.parametrize("causal", [False, True])
def test_blocked_forward_allocates_about_twice_the_output(causal):
    # The runs' contexts and the copy that joins them (fused full attention allocates the output
    # once); no (seq, seq) tensor, no mask made per call, and the query, key and value windows are views.
    query, key, value = _qkv(batch=2, heads=2, seq=1000, dim=16, dtype=torch.float32)
    sliding_window_attention(query, key, value, 20, causal, path="blocked")  # the mask is cached
    peak = count_tensor_memory(lambda: sliding_window_attention(query, key, value, 20, causal, path="blocked"))
    output = query.numel() * 4
    assert output * 2 <= peak.bytes <= output * 2.1


def test_blocked_path_runs_the_fused_kernel(device):
    # Strided key windows and a broadcast boolean mask are accepted by SDPA's fused kernels,
    # so the scores are never stored (the math backend would store them).
    from torch.profiler import ProfilerActivity, profile

    query, key, value = (t.requires_grad_() for t in _qkv(seq=300, dim=64, dtype=torch.float32, device=device))
    padding = (torch.rand(2, 300, generator=torch.Generator().manual_seed(3)) > 0.3).to(device)
    for mask in (None, padding):
        with profile(activities=[ProfilerActivity.CPU]) as recorded:
            sliding_window_attention(query, key, value, 32, key_padding_mask=mask, path="blocked").sum().backward()
        names = {event.name for event in recorded.events()}
        fused = {name for name in names if name.startswith("aten::_scaled_dot_product_")
                 and not name.startswith("aten::_scaled_dot_product_attention_math")}
        assert fused and not any("attention_math" in name for name in names), names
        assert any(name.endswith("_backward") for name in fused), fused


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"window": -1}, ValueError, "window must be an integer >= 0, got -1"),
        ({"window": 1.5}, TypeError, "window must be an integer >= 0, got 1.5 of type float"),
        ({"path": "sparse"}, ValueError, "path must be one of ('auto', 'dense', 'blocked', 'flex'), got 'sparse'"),
        ({"key": torch.zeros(2, 2, 12, 4)}, ValueError, "must share (batch, heads, seq) in self-attention"),
        ({"query": torch.zeros(2, 13, 4)}, ValueError, "query must have at least 4 dimensions"),
        ({"key_padding_mask": torch.ones(2, 12, dtype=torch.bool)}, ValueError,
         "key_padding_mask must have shape (batch, seq) = (2, 13), got (2, 12)"),
        ({"key_padding_mask": torch.ones(2, 13)}, TypeError, "key_padding_mask must be a boolean tensor"),
        ({"block_size": 0}, ValueError, "block_size must be an integer >= 1, got 0"),
    ],
)
def test_bad_input_is_named(kwargs, error, words):
    query, key, value = _qkv(dtype=torch.float32)
    arguments = {"query": query, "key": key, "value": value, "window": 2}
    arguments.update(kwargs)
    with pytest.raises(error) as info:
        sliding_window_attention(**arguments)
    assert words in str(info.value)


def _entry_points(window):
    """Every function of the package that takes a sliding window, called with ``window``."""
    query, key, value = _qkv(batch=1, heads=1, seq=6, dtype=torch.float32)
    return {
        "band": lambda: band(window),
        "band, causal": lambda: band(window, causal=True),
        "sliding_window": lambda: sliding_window(window),
        "causal_window": lambda: causal_window(window),
        "dilated_window": lambda: dilated_window(window, 2),
        "sliding_window_mask": lambda: sliding_window_mask(6, window),
        "default_block_size": lambda: default_block_size(window),
        "band_block_mask": lambda: band_block_mask(6, window),
        **{f"sliding_window_attention, {path}": (lambda path=path: sliding_window_attention(
            query, key, value, window, path=path)) for path in ("auto", "dense", "blocked", "flex")},
        "RollingKVCache": lambda: RollingKVCache(window, 1, 1, 4),
        "decode_causal_window": lambda: decode_causal_window(query, key, value, window),
        "LuongAttention": lambda: LuongAttention(4, mode="local-m", window=window),
    }


@pytest.mark.parametrize(
    ("window", "error", "words"),
    [
        (1.5, TypeError, "must be an integer >= 0, got 1.5 of type float"),
        (True, TypeError, "must be an integer >= 0, got True of type bool"),
        (-1, ValueError, "must be an integer >= 0, got -1"),
    ],
)
def test_every_entry_point_rejects_a_bad_window_alike(window, error, words):
    for name, call in _entry_points(window).items():
        with pytest.raises(error) as info:
            call()
        assert type(info.value) is error, name
        prefix = "window (D) of local-m" if name == "LuongAttention" else "window"
        assert str(info.value) == f"{prefix} {words}", name
