import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import torch
import torch.nn.functional as F
from torch.nn.attention import flex_attention

import attnbook as ab
from attnbook.local import (and_masks, band, bigbird, causal_window, dilated_window, global_tokens, or_masks,
                            render_mask, sliding_window)


def _loop_attention(query, key, value, allowed):
    """Independent reference: for each query, softmax over its allowed keys only."""
    out = torch.zeros(query.shape[0], value.shape[1], dtype=query.dtype)
    for i in range(query.shape[0]):
        keys = allowed[i].nonzero()[:, 0]
        weights = torch.softmax(key[keys] @ query[i] / query.shape[1] ** 0.5, 0)
        out[i] = weights @ value[keys]
    return out


def _pairs(n, rule):
    return torch.tensor([[rule(i, j) for j in range(n)] for i in range(n)])


PATTERNS = [
    ("window", lambda n: sliding_window(3), lambda i, j: abs(i - j) <= 3),
    ("causal", lambda n: causal_window(2), lambda i, j: 0 <= i - j <= 2),
    ("dilated", lambda n: dilated_window(2, 3), lambda i, j: abs(i - j) <= 6 and (i - j) % 3 == 0),
    ("global", lambda n: global_tokens(2), lambda i, j: i < 2 or j < 2),
    ("window+global", lambda n: or_masks(sliding_window(1), global_tokens(1)),
     lambda i, j: abs(i - j) <= 1 or i == 0 or j == 0),
    ("causal via and", lambda n: and_masks(sliding_window(2), lambda b, h, q, k: q >= k),
     lambda i, j: 0 <= i - j <= 2),
]


@pytest.mark.parametrize(("name", "make", "rule"), PATTERNS, ids=[p[0] for p in PATTERNS])
@pytest.mark.parametrize("n", [1, 7, 20])
def test_rendered_mask_matches_the_definition(name, make, rule, n):
    assert torch.equal(render_mask(make(n), n), _pairs(n, rule))


@pytest.mark.parametrize(("name", "make", "rule"), PATTERNS, ids=[p[0] for p in PATTERNS])
def test_attention_with_the_rendered_mask_matches_a_direct_computation(name, make, rule):
    n = 19
    generator = torch.Generator().manual_seed(0)
    query, key, value = (torch.randn(n, 6, generator=generator, dtype=torch.float64) for _ in range(3))
    mask = render_mask(make(n), n)
    expected = _loop_attention(query, key, value, mask)
    torch.testing.assert_close(ab.attention(query, key, value, mask=mask).context, expected)
    torch.testing.assert_close(F.scaled_dot_product_attention(query, key, value, attn_mask=mask), expected)


@settings(max_examples=30, deadline=None)
@given(n_queries=st.integers(1, 25), n_keys=st.integers(1, 25), window=st.integers(0, 30), causal=st.booleans())
def test_band_matches_its_definition_for_every_size(n_queries, n_keys, window, causal):
    expected = torch.tensor([[0 <= i - j <= window if causal else -window <= i - j <= window
                              for j in range(n_keys)] for i in range(n_queries)])
    assert torch.equal(render_mask(band(window, causal), n_queries, n_keys), expected)


def test_combinators_and_render_mask_are_flex_attentions():
    assert and_masks is flex_attention.and_masks and or_masks is flex_attention.or_masks
    predicate = or_masks(sliding_window(1), global_tokens(2))
    expected = flex_attention.create_mask(predicate, None, None, 9, 11, device="cpu")[0, 0]
    assert torch.equal(render_mask(predicate, 9, 11), expected)
    assert render_mask(predicate, 9, 11).dtype == torch.bool


def test_band_works_around_a_real_valued_centre():
    # Luong's local-p window [p_t - D, p_t + D] around p_t = 4.5
    inside = band(2)(torch.tensor(0), torch.tensor(0), torch.tensor(4.5), torch.arange(10.0))
    assert inside.nonzero()[:, 0].tolist() == [3, 4, 5, 6]


def test_bigbird_has_window_global_and_random_blocks():
    n, block = 32, 4
    mask = render_mask(bigbird(n, block, window_blocks=1, global_count=2, random_blocks=2, seed=3), n)
    blocks = torch.arange(n) // block
    near = (blocks[:, None] - blocks[None, :]).abs() <= 1
    assert mask[near].all()
    assert mask[:2].all() and mask[:, :2].all()
    for q_block in range(1, n // block):  # block 0 holds the global queries
        rows = mask[q_block * block:(q_block + 1) * block, 2:]  # leave the global keys out
        assert (rows == rows[0]).all()  # every query of a block sees the same keys
        seen_blocks = {int(b) for b in blocks[2:][rows[0]]}
        assert len(seen_blocks) <= 3 + 2 + 1  # window (3) + random (2) + the partly global block 0
    assert not torch.equal(mask, render_mask(bigbird(n, block, 1, 2, 2, seed=4), n))  # the draw depends on the seed
    assert torch.equal(mask, render_mask(bigbird(n, block, 1, 2, 2, seed=3), n))


def test_predicates_broadcast_over_batch_and_heads():
    predicate = or_masks(sliding_window(1), global_tokens(1))
    b, h = torch.arange(2)[:, None, None, None], torch.arange(3)[None, :, None, None]
    q, k = torch.arange(5)[None, None, :, None], torch.arange(5)[None, None, None, :]
    out = predicate(b, h, q, k)
    assert torch.equal(torch.broadcast_to(out, (2, 3, 5, 5))[1, 2], render_mask(predicate, 5))


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: sliding_window(-1), "window must be an integer >= 0, got -1"),
        (lambda: dilated_window(2, 0), "dilation must be an integer >= 1, got 0"),
        (lambda: global_tokens(1.5), "count must be an integer >= 0, got 1.5"),
        (lambda: bigbird(16, 4, random_blocks=5), "random_blocks must be <= the number of blocks (4), got 5"),
        (lambda: render_mask(sliding_window(1), 0), "n_queries must be an integer >= 1, got 0"),
    ],
)
def test_bad_arguments_are_named(call, words):
    with pytest.raises(ValueError) as info:
        call()
    assert words in str(info.value)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 30), window=st.integers(0, 8), dilation=st.integers(1, 4), count=st.integers(0, 3))
def test_longformer_pattern_matches_its_definition_for_every_size(n, window, dilation, count):
    predicate = or_masks(dilated_window(window, dilation), global_tokens(count))
    rule = lambda i, j: (abs(i - j) <= window * dilation and (i - j) % dilation == 0) or i < count or j < count
    assert torch.equal(render_mask(predicate, n), _pairs(n, rule))
