import math

import pytest
import torch

from attnbook import SCORE_NAMES, AdditiveScore, DotScore, GeneralScore, ScaledDotScore, additive_score, dot_score, general_score, make_score, scaled_dot_score
from attnbook.core import CosineScore, LocationScore, cosine_score, location_score

QUERY = torch.tensor([[1.0, 2.0]])
KEYS = torch.tensor([[3.0, 0.0], [1.0, -1.0], [0.5, 0.5]])


def test_dot_hand_computed():
    torch.testing.assert_close(dot_score(QUERY, KEYS), torch.tensor([[3.0, -1.0, 1.5]]))


def test_scaled_dot_divides_by_sqrt_dim():
    torch.testing.assert_close(scaled_dot_score(QUERY, KEYS), torch.tensor([[3.0, -1.0, 1.5]]) / math.sqrt(2))


def test_general_hand_computed():
    weight = torch.tensor([[2.0, 0.0, 1.0], [0.0, 1.0, 0.0]])  # (query_dim 2, key_dim 3)
    keys = torch.tensor([[1.0, 1.0, 1.0], [0.0, 2.0, -1.0]])
    # q^T W = [2, 2, 1]; scores = [2+2+1, 0+4-1]
    torch.testing.assert_close(general_score(QUERY, keys, weight), torch.tensor([[5.0, 3.0]]))


def test_general_with_identity_is_dot():
    torch.testing.assert_close(general_score(QUERY, KEYS, torch.eye(2)), dot_score(QUERY, KEYS))


def test_additive_hand_computed():
    query_weight = torch.tensor([[1.0], [0.0]])
    key_weight = torch.tensor([[0.0], [1.0]])
    vector = torch.tensor([2.0])
    # hidden = q_0 + k_1 -> tanh(1 + 0), tanh(1 - 1), tanh(1 + 0.5)
    expected = 2 * torch.tanh(torch.tensor([[1.0, 0.0, 1.5]]))
    torch.testing.assert_close(additive_score(QUERY, KEYS, query_weight, key_weight, vector), expected)


def test_additive_is_concat_form():
    generator = torch.Generator().manual_seed(1)
    query, key = torch.randn(2, 3, 4, generator=generator), torch.randn(2, 5, 6, generator=generator)
    module = AdditiveScore(4, 6, hidden_dim=7)
    concat_weight = torch.cat([module.query_weight, module.key_weight])  # (10, 7)
    pairs = torch.cat([query[:, :, None].expand(-1, -1, 5, -1), key[:, None].expand(-1, 3, -1, -1)], dim=-1)
    expected = torch.tanh(pairs @ concat_weight) @ module.vector
    torch.testing.assert_close(module(query, key), expected)


@pytest.mark.parametrize("name", SCORE_NAMES)
def test_modules_shapes_and_functions_agree(name, device):
    query = torch.randn(2, 4, 3, 8, device=device)
    key = torch.randn(2, 4, 5, 8, device=device)
    module = make_score(name, query_dim=8).to(device)
    scores = module(query, key)
    assert scores.shape == (2, 4, 3, 5)
    functions = {
        "dot": lambda: dot_score(query, key),
        "scaled_dot": lambda: scaled_dot_score(query, key),
        "general": lambda: general_score(query, key, module.weight),
        "additive": lambda: additive_score(query, key, module.query_weight, module.key_weight, module.vector),
    }
    torch.testing.assert_close(scores, functions[name]())


def test_factory_types():
    assert isinstance(make_score("dot"), DotScore)
    assert isinstance(make_score("scaled_dot"), ScaledDotScore)
    assert isinstance(make_score("general", query_dim=3, key_dim=5), GeneralScore)
    assert make_score("additive", query_dim=3, hidden_dim=9).vector.shape == (9,)


@pytest.mark.parametrize("name", SCORE_NAMES)
def test_gradcheck_float64(name):
    torch.manual_seed(0)
    module = make_score(name, query_dim=3, key_dim=3, hidden_dim=4).double()
    query = torch.randn(2, 3, 3, dtype=torch.float64, requires_grad=True)
    key = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(module, (query, key))


def test_cosine_hand_computed():
    # |q| = sqrt(5); |k| = 3, sqrt(2), sqrt(0.5)
    expected = torch.tensor([[3.0 / (math.sqrt(5) * 3.0), -1.0 / (math.sqrt(5) * math.sqrt(2)),
                              1.5 / (math.sqrt(5) * math.sqrt(0.5))]])
    torch.testing.assert_close(cosine_score(QUERY, KEYS), expected)


def test_cosine_ignores_lengths_and_is_bounded():
    torch.manual_seed(0)
    query, key = torch.randn(2, 3, 6), torch.randn(2, 5, 6)
    scales = torch.rand(2, 5, 1) * 10 + 0.1
    torch.testing.assert_close(cosine_score(query * 7.0, key * scales), cosine_score(query, key))
    scores = cosine_score(query, key)
    assert scores.abs().max() <= 1 + 1e-6
    torch.testing.assert_close(scores, torch.nn.functional.cosine_similarity(query[:, :, None], key[:, None], dim=-1))


def test_cosine_of_a_zero_vector_is_zero_not_nan():
    scores = cosine_score(torch.zeros(1, 2), KEYS)
    torch.testing.assert_close(scores, torch.zeros(1, 3))


def test_location_hand_computed_and_blind_to_key_content():
    weight = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, -1.0]])  # (max_keys 4, query_dim 2)
    expected = torch.tensor([[1.0, 2.0, 3.0]])  # W_a q for the first three positions
    torch.testing.assert_close(location_score(QUERY, KEYS, weight), expected)
    torch.testing.assert_close(location_score(QUERY, torch.randn(3, 9), weight), expected)


def test_location_broadcasts_over_batch_and_heads():
    torch.manual_seed(0)
    query, key = torch.randn(2, 4, 3, 8), torch.randn(2, 4, 5, 6)
    module = LocationScore(8, max_keys=7)
    scores = module(query, key)
    assert scores.shape == (2, 4, 3, 5)
    torch.testing.assert_close(scores, torch.einsum("bhqd,kd->bhqk", query, module.weight[:5]))


@pytest.mark.parametrize("module", [CosineScore(), LocationScore(3, max_keys=6)])
def test_new_scores_gradcheck_float64(module):
    torch.manual_seed(0)
    module = module.double()
    query = torch.randn(2, 3, 3, dtype=torch.float64, requires_grad=True)
    key = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(module, (query, key))


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: dot_score(torch.zeros(3, 4), torch.zeros(5, 3)), ValueError,
         "query and key must have the same feature size (last dimension), got 4 and 3"),
        (lambda: dot_score(torch.zeros(4), torch.zeros(5, 4)), ValueError,
         "query must have at least 2 dimensions, got shape (4,)"),
        (lambda: dot_score(torch.zeros(2, 3, 4), torch.zeros(3, 5, 4)), ValueError,
         "same leading (batch, heads) dimensions"),
        (lambda: dot_score(torch.zeros(3, 4, dtype=torch.long), torch.zeros(5, 4)), TypeError,
         "query must be a floating-point tensor"),
        (lambda: general_score(torch.zeros(3, 4), torch.zeros(5, 2), torch.zeros(2, 4)), ValueError,
         "weight must have shape (query_dim, key_dim) = (4, 2), got (2, 4)"),
        (lambda: additive_score(torch.zeros(3, 4), torch.zeros(5, 2), torch.zeros(4, 6), torch.zeros(2, 6),
                                torch.zeros(5)), ValueError, "must share the hidden size"),
        (lambda: additive_score(torch.zeros(3, 4), torch.zeros(5, 2), torch.zeros(3, 6), torch.zeros(2, 6),
                                torch.zeros(6)), ValueError, "query_weight must have shape (4, hidden), got (3, 6)"),
        (lambda: make_score("cosine"), ValueError,
         "name must be one of ('dot', 'scaled_dot', 'general', 'additive'), got 'cosine'"),
        (lambda: make_score(3), TypeError, "name must be a string"),
        (lambda: cosine_score(QUERY, KEYS, eps=0.0), ValueError, "eps must be a finite number > 0, got 0.0"),
        (lambda: location_score(QUERY, KEYS, torch.zeros(2, 2)), ValueError,
         "weight must have shape (max_keys, query_dim) with max_keys >= 3 keys and query_dim = 2, got (2, 2)"),
        (lambda: location_score(QUERY, KEYS, torch.zeros(5, 3)), ValueError, "query_dim = 2, got (5, 3)"),
        (lambda: LocationScore(4, max_keys=0), ValueError, "max_keys must be an integer >= 1, got 0"),
        (lambda: make_score("general"), ValueError, "pass query_dim"),
        (lambda: GeneralScore(0), ValueError, "query_dim must be an integer >= 1, got 0"),
        (lambda: AdditiveScore(4, hidden_dim=2.5), ValueError, "hidden_dim must be an integer >= 1, got 2.5"),
    ],
)
def test_bad_input_is_named(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)
