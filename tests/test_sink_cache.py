"""The rolling KV cache with attention sinks (Xiao et al., 2023) and its mask predicate."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import torch

import attnbook as ab
from attnbook.local import RollingKVCache, decode_causal_window, render_mask, sink_window


def _dense(query, key, value, allowed):
    """Independent reference: every query's softmax over the keys ``allowed`` gives it, by a loop."""
    out = torch.zeros(*query.shape[:3], value.shape[-1], dtype=query.dtype)
    for t in range(query.shape[2]):
        keys = allowed[t].nonzero()[:, 0]
        scores = torch.einsum("bhd,bhsd->bhs", query[:, :, t], key[:, :, keys]) / query.shape[-1] ** 0.5
        out[:, :, t] = torch.einsum("bhs,bhsd->bhd", torch.softmax(scores, -1), value[:, :, keys])
    return out


@pytest.mark.parametrize("window", [0, 1, 3, 7])
@pytest.mark.parametrize("sinks", [0, 1, 4])
@pytest.mark.parametrize("seq", [1, 6, 25])
def test_sink_window_is_the_causal_band_or_the_first_keys(window, sinks, seq):
    rule = torch.tensor([[0 <= q - k <= window or (k < sinks and k <= q) for k in range(seq)]
                         for q in range(seq)])
    mask = render_mask(sink_window(window, sinks), seq)
    assert torch.equal(mask, rule)
    assert int(mask.sum(-1).max()) <= sinks + window + 1
    if sinks == 0:
        assert torch.equal(mask, render_mask(ab.local.causal_window(window), seq))


@pytest.mark.parametrize("window", [0, 1, 3, 7])
@pytest.mark.parametrize("sinks", [0, 1, 4])
@pytest.mark.parametrize("seq", [1, 6, 25])
def test_decoding_with_sinks_equals_dense_attention_under_the_predicate(window, sinks, seq):
    generator = torch.Generator().manual_seed(100 * window + 10 * sinks + seq)
    query, key = (torch.randn(2, 3, seq, 8, generator=generator, dtype=torch.float64) for _ in range(2))
    value = torch.randn(2, 3, seq, 5, generator=generator, dtype=torch.float64)
    mask = render_mask(sink_window(window, sinks), seq)
    reference = ab.attention(query, key, value, mask=mask).context
    torch.testing.assert_close(decode_causal_window(query, key, value, window, sinks=sinks), reference)
    torch.testing.assert_close(reference, _dense(query, key, value, mask))


def test_without_sinks_the_first_keys_are_forgotten_and_with_them_they_stay():
    seq, window = 12, 2
    generator = torch.Generator().manual_seed(0)
    query, key, value = (torch.randn(1, 1, seq, 4, generator=generator, dtype=torch.float64) for _ in range(3))
    plain = decode_causal_window(query, key, value, window)
    kept = decode_causal_window(query, key, value, window, sinks=2)
    torch.testing.assert_close(plain[:, :, : window + 1], kept[:, :, : window + 1])  # nothing evicted yet
    assert (plain[:, :, window + 1:] - kept[:, :, window + 1:]).abs().amin() > 0  # every later query differs


def test_memory_is_sinks_plus_window_plus_one_slots_and_the_sinks_stay():
    cache = RollingKVCache(window=2, batch=1, heads=1, key_dim=1, sinks=3)
    for position in range(20):
        cache.append(torch.full((1, 1, 1), float(position)), torch.full((1, 1, 1), float(position)))
        assert cache.keys.shape == cache.values.shape == (1, 1, 6, 1)
        expected = sorted(set(range(min(position + 1, 3))) | set(range(max(0, position - 2), position + 1)))
        assert sorted(p for p in cache.positions.tolist() if p >= 0) == expected
    assert cache.positions[:3].tolist() == [0, 1, 2]  # the sink slots were never overwritten
    assert sorted(cache.keys.flatten().tolist()) == [0.0, 1.0, 2.0, 17.0, 18.0, 19.0]


def test_gradients_flow_through_the_sink_cache():
    query, key, value = (torch.randn(1, 2, 7, 3, dtype=torch.float64, requires_grad=True) for _ in range(3))
    assert torch.autograd.gradcheck(lambda q, k, v: decode_causal_window(q, k, v, 1, sinks=2), (query, key, value))


@pytest.mark.parametrize("null", [0.0, -1.5, "per head"])
def test_a_null_logit_is_a_key_with_a_zero_value(null):
    generator = torch.Generator().manual_seed(3)
    query, key, value = (torch.randn(2, 3, 5, 4, generator=generator, dtype=torch.float64) for _ in range(3))
    logit = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64) if null == "per head" else null
    cache = RollingKVCache(2, 2, 3, 4, dtype=torch.float64, sinks=1)
    for t in range(5):
        cache.append(key[:, :, t], value[:, :, t])
        got = cache.attend(query[:, :, t], null_logit=logit)
    # reference: one more key whose score is the logit and whose value is zero
    visible = [0, 2, 3, 4]
    scores = torch.einsum("bhd,bhsd->bhs", query[:, :, 4], key[:, :, visible]) / 2.0
    null_scores = torch.as_tensor(logit, dtype=torch.float64).expand(2, 3)[..., None]
    weights = torch.softmax(torch.cat((scores, null_scores), -1), -1)[..., :-1]
    torch.testing.assert_close(got, torch.einsum("bhs,bhsd->bhd", weights, value[:, :, visible]))
    assert (weights.sum(-1) < 1).all()


def test_bad_sink_arguments_are_named():
    with pytest.raises(ValueError, match="sinks must be an integer >= 0, got -1"):
        RollingKVCache(1, 1, 1, 4, sinks=-1)
    with pytest.raises(TypeError, match="sinks must be an integer >= 0, got 1.5 of type float"):
        sink_window(2, 1.5)
    with pytest.raises(ValueError, match="window must be an integer >= 0, got -2"):
        sink_window(-2, 1)
    with pytest.raises(ValueError, match="sinks must be an integer >= 0, got -3"):
        decode_causal_window(torch.zeros(1, 1, 2, 3), torch.zeros(1, 1, 2, 3), torch.zeros(1, 1, 2, 3), 1, sinks=-3)
    cache = RollingKVCache(1, 2, 3, 4)
    cache.append(torch.zeros(2, 3, 4), torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match=r"null_logit must be a number or broadcast to \(batch, heads\)"):
        cache.attend(torch.zeros(2, 3, 4), null_logit=torch.zeros(5))


@settings(max_examples=30, deadline=None)
@given(seq=st.integers(1, 30), window=st.integers(0, 12), sinks=st.integers(0, 6), seed=st.integers(0, 2**16))
def test_sink_cache_equals_dense_for_every_length_window_and_sink_count(seq, window, sinks, seed):
    generator = torch.Generator().manual_seed(seed)
    query, key, value = (torch.randn(1, 2, seq, 4, generator=generator, dtype=torch.float64) for _ in range(3))
    mask = render_mask(sink_window(window, sinks), seq)
    torch.testing.assert_close(decode_causal_window(query, key, value, window, sinks=sinks),
                               ab.attention(query, key, value, mask=mask).context)
