import pytest
import torch
import torch.nn.functional as F

from attnbook import attention, dot_score, make_score, scaled_dot_score


def test_hand_computed_context():
    query = torch.tensor([[0.0, 0.0]])  # equal scores -> uniform weights
    key = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    value = torch.tensor([[2.0], [4.0]])
    context, weights = attention(query, key, value)
    torch.testing.assert_close(weights, torch.tensor([[0.5, 0.5]]))
    torch.testing.assert_close(context, torch.tensor([[3.0]]))


def test_dot_score_picks_the_matching_key():
    key = torch.eye(3) * 10
    value = torch.tensor([[1.0], [2.0], [3.0]])
    context, _ = attention(key[1:2], key, value, score="dot")
    torch.testing.assert_close(context, torch.tensor([[2.0]]), atol=1e-4, rtol=0)


@pytest.mark.parametrize("masked", [False, True])
def test_scaled_dot_equals_sdpa(masked, device):
    generator = torch.Generator().manual_seed(0)
    query, key, value = (torch.randn(2, 3, n, 8, generator=generator).to(device) for n in (5, 7, 7))
    mask = (torch.rand(5, 7, generator=generator) > 0.4).to(device) if masked else None
    if mask is not None:
        mask[:, 0] = True
    context, weights = attention(query, key, value, mask=mask)
    torch.testing.assert_close(context, F.scaled_dot_product_attention(query, key, value, attn_mask=mask))
    assert weights.shape == (2, 3, 5, 7)


def test_value_dim_may_differ_and_callable_score():
    query, key, value = torch.randn(4, 3), torch.randn(6, 3), torch.randn(6, 9)
    context, weights = attention(query, key, value, score=lambda q, k: -torch.cdist(q, k))
    assert context.shape == (4, 9)
    torch.testing.assert_close(weights, torch.softmax(-torch.cdist(query, key), -1))


def test_module_score_and_temperature():
    torch.manual_seed(0)
    score = make_score("additive", query_dim=3, key_dim=5)
    query, key, value = torch.randn(2, 4, 3), torch.randn(2, 6, 5), torch.randn(2, 6, 2)
    _, weights = attention(query, key, value, score=score, temperature=0.5)
    torch.testing.assert_close(weights, torch.softmax(score(query, key) / 0.5, -1))


def test_fully_masked_query_gets_zero_context():
    query, key, value = torch.randn(1, 2, 4), torch.randn(1, 3, 4), torch.randn(1, 3, 4)
    mask = torch.tensor([[True, True, False], [False, False, False]])
    context, weights = attention(query, key, value, mask=mask)
    assert torch.equal(context[0, 1], torch.zeros(4))
    assert torch.isfinite(context).all() and torch.isfinite(weights).all()


def test_causal_mask_hides_the_future():
    value = torch.arange(4.0)[:, None]
    causal = torch.ones(4, 4, dtype=torch.bool).tril()
    context, _ = attention(torch.zeros(4, 2), torch.zeros(4, 2), value, mask=causal)
    torch.testing.assert_close(context[:, 0], torch.tensor([0.0, 0.5, 1.0, 1.5]))


def test_gradcheck_float64():
    torch.manual_seed(0)
    inputs = tuple(torch.randn(2, n, 3, dtype=torch.float64, requires_grad=True) for n in (3, 4, 4))
    mask = torch.tensor([[True, False, True, True], [False, False, False, False], [True] * 4])
    assert torch.autograd.gradcheck(lambda q, k, v: attention(q, k, v, mask=mask).context, inputs)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"score": "cosine"}, ValueError, "score must be 'dot', 'scaled_dot', a module or a callable"),
        ({"score": "general"}, ValueError, "score='general' has learned parameters"),
        ({"score": 3}, TypeError, "score must be a string, a module or a callable, got int"),
        ({"value": torch.zeros(2, 6, 4)}, ValueError,
         "key and value must have the same number of positions (dimension -2), got 5 and 6"),
        ({"value": torch.zeros(5)}, ValueError, "value must have at least 2 dimensions"),
        ({"mask": torch.ones(5, 3, dtype=torch.bool)}, ValueError,
         "mask of shape (5, 3) does not broadcast to the scores' shape (2, 3, 5)"),
        ({"temperature": float("inf")}, ValueError, "temperature must be a finite number > 0, got inf"),
        ({"key": torch.zeros(2, 5, 3)}, ValueError, "feature size (last dimension), got 4 and 3"),
    ],
)
def test_bad_input_is_named(kwargs, error, words):
    arguments = {"query": torch.zeros(2, 3, 4), "key": torch.zeros(2, 5, 4), "value": torch.zeros(2, 5, 4)}
    arguments.update(kwargs)
    with pytest.raises(error) as info:
        attention(**arguments)
    assert words in str(info.value)


def test_scaled_scores_keep_unit_variance():
    # 4000 independent (query, key) pairs with unit-variance entries, one score each: q . k has
    # variance dim, which scaled_dot_score divides back to 1 whatever dim is.
    generator = torch.Generator().manual_seed(0)
    dot_variances = {}
    for dim in (4, 64, 512):
        query, key = (torch.randn(4000, 1, dim, generator=generator) for _ in range(2))
        scaled, dot = scaled_dot_score(query, key), dot_score(query, key)
        assert scaled.shape == dot.shape == (4000, 1, 1)
        assert abs(scaled.var().item() - 1) < 0.1, dim
        dot_variances[dim] = dot.var().item()
        assert abs(dot_variances[dim] / dim - 1) < 0.1, dim
    assert dot_variances[4] < dot_variances[64] < dot_variances[512]
