import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import torch

import attnbook as ab
from attnbook.local import RollingKVCache, decode_causal_window


@pytest.mark.parametrize("window", [0, 1, 4, 50])
@pytest.mark.parametrize("seq", [1, 9, 33])
def test_rolling_cache_decoding_equals_the_dense_causal_window(window, seq):
    generator = torch.Generator().manual_seed(window * 100 + seq)
    query, key = (torch.randn(2, 3, seq, 8, generator=generator, dtype=torch.float64) for _ in range(2))
    value = torch.randn(2, 3, seq, 5, generator=generator, dtype=torch.float64)
    reference = ab.local.sliding_window_attention(query, key, value, window, causal=True, path="dense")
    torch.testing.assert_close(decode_causal_window(query, key, value, window), reference)
    # and an independent loop over the window itself
    t = seq - 1
    keys = key[:, :, max(0, t - window): t + 1]
    weights = torch.softmax(torch.einsum("bhd,bhsd->bhs", query[:, :, t], keys) / 8**0.5, -1)
    torch.testing.assert_close(reference[:, :, t], torch.einsum("bhs,bhsd->bhd", weights,
                                                                  value[:, :, max(0, t - window): t + 1]))


def test_cache_keeps_window_plus_one_slots_and_overwrites_the_oldest():
    cache = RollingKVCache(window=2, batch=1, heads=1, key_dim=1)
    for position in range(7):
        cache.append(torch.full((1, 1, 1), float(position)), torch.full((1, 1, 1), float(position)))
    assert cache.keys.shape == (1, 1, 3, 1)
    assert sorted(cache.positions.tolist()) == [4, 5, 6]
    assert sorted(cache.keys.flatten().tolist()) == [4.0, 5.0, 6.0]


def test_gradients_flow_through_the_cache():
    query, key, value = (torch.randn(1, 2, 6, 4, dtype=torch.float64, requires_grad=True) for _ in range(3))
    assert torch.autograd.gradcheck(lambda q, k, v: decode_causal_window(q, k, v, 2), (query, key, value))


def test_bad_input_is_named():
    cache = RollingKVCache(1, 1, 1, 4)
    with pytest.raises(ValueError, match="the cache is empty"):
        cache.attend(torch.zeros(1, 1, 4))
    with pytest.raises(ValueError, match=r"key and value must have shapes \(1, 1, 4\)"):
        cache.append(torch.zeros(1, 1, 3), torch.zeros(1, 1, 4))
    with pytest.raises(TypeError, match="key and value must have the cache's dtype torch.float32"):
        cache.append(torch.zeros(1, 1, 4, dtype=torch.float64), torch.zeros(1, 1, 4))
    with pytest.raises(ValueError, match="window must be an integer >= 0, got -1"):
        RollingKVCache(-1, 1, 1, 4)
    with pytest.raises(ValueError, match=r"query must have shape \(batch, heads, seq, dim\)"):
        decode_causal_window(torch.zeros(1, 1, 2, 3, 1), torch.zeros(1, 1, 2, 3), torch.zeros(1, 1, 2, 3), 1)


@settings(max_examples=30, deadline=None)
@given(seq=st.integers(1, 40), window=st.integers(0, 45), seed=st.integers(0, 2**16))
def test_rolling_cache_equals_dense_for_every_length_and_window(seq, window, seed):
    generator = torch.Generator().manual_seed(seed)
    query, key, value = (torch.randn(1, 1, seq, 4, generator=generator, dtype=torch.float64) for _ in range(3))
    torch.testing.assert_close(decode_causal_window(query, key, value, window),
                               ab.local.sliding_window_attention(query, key, value, window, causal=True, path="dense"))
