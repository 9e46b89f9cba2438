import math

import pytest
import torch

from attnbook import masked_softmax
from attnbook.local import LuongAttention


def _states(batch=2, source=9, hidden=4, seed=0, dtype=torch.float32):
    generator = torch.Generator().manual_seed(seed)
    return (torch.randn(batch, hidden, generator=generator, dtype=dtype),
            torch.randn(batch, source, hidden, generator=generator, dtype=dtype))


@pytest.mark.parametrize("score", ["dot", "general", "concat"])
def test_global_is_softmax_over_all_positions(score):
    torch.manual_seed(0)
    layer = LuongAttention(4, score=score)
    query, keys = _states()
    context, weights, position = layer(query, keys)
    expected_scores = layer._scores(query, keys)
    if score == "dot":
        torch.testing.assert_close(expected_scores, torch.einsum("bh,bsh->bs", query, keys))
    torch.testing.assert_close(weights, torch.softmax(expected_scores, -1))
    torch.testing.assert_close(context, torch.einsum("bs,bsh->bh", weights, keys))
    assert position is None


def test_local_m_window_is_centred_on_the_step():
    layer = LuongAttention(4, score="dot", mode="local-m", window=2)
    query, keys = _states()
    _, weights, position = layer(query, keys, step=5)
    assert torch.all(position == 5)
    assert torch.all(weights[:, [0, 1, 2, 8]] == 0) and torch.all(weights[:, 3:8] > 0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2))


def test_local_m_window_is_clipped_at_the_borders():
    layer = LuongAttention(4, score="dot", mode="local-m", window=3)
    query, keys = _states()
    _, weights, _ = layer(query, keys, step=0)
    assert torch.all(weights[:, 4:] == 0)
    expected = torch.softmax(torch.einsum("bh,bsh->bs", query, keys)[:, :4], -1)
    torch.testing.assert_close(weights[:, :4], expected)


def test_local_p_follows_the_paper():
    torch.manual_seed(0)
    window = 2
    layer = LuongAttention(4, score="general", mode="local-p", window=window)
    query, keys = _states(dtype=torch.float64)
    layer = layer.double()
    _, weights, position = layer(query, keys)
    # p_t = S * sigmoid(v_p^T tanh(W_p h_t)) with S = 9
    expected_position = 9 * torch.sigmoid(layer.position_vector(torch.tanh(layer.position_proj(query)))[:, 0])
    torch.testing.assert_close(position, expected_position)
    offsets = torch.arange(9.0, dtype=torch.float64)[None] - position[:, None]
    in_window = offsets.abs() <= window
    gaussian = torch.exp(-offsets**2 / (2 * (window / 2) ** 2))
    expected = masked_softmax(layer._scores(query, keys), in_window) * gaussian
    torch.testing.assert_close(weights, expected)
    assert torch.all(weights[~in_window] == 0)


def test_local_p_uses_each_sequence_length():
    torch.manual_seed(0)
    layer = LuongAttention(4, score="dot", mode="local-p", window=1)
    query, keys = _states()
    padding = torch.ones(2, 9, dtype=torch.bool)
    padding[1, 4:] = False
    _, weights, position = layer(query, keys, key_padding_mask=padding)
    assert 0 < position[1] < 4 and 0 < position[0] < 9
    assert torch.all(weights[1, 4:] == 0)


def test_local_p_position_gets_gradients():
    torch.manual_seed(0)
    layer = LuongAttention(4, mode="local-p", window=2)
    query, keys = _states()
    layer(query, keys).context.sum().backward()
    assert layer.position_proj.weight.grad.abs().sum() > 0


def test_gradcheck_local_p():
    torch.manual_seed(0)
    layer = LuongAttention(3, score="concat", mode="local-p", window=2).double()
    query, keys = (t.requires_grad_() for t in _states(source=6, hidden=3, dtype=torch.float64))
    assert torch.autograd.gradcheck(lambda q, k: layer(q, k).context, (query, keys))


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: LuongAttention(4, score="cosine"), ValueError, "score must be one of ('dot', 'general', 'concat')"),
        (lambda: LuongAttention(4, mode="local"), ValueError, "mode must be one of ('global', 'local-m', 'local-m-scaled', 'local-p')"),
        (lambda: LuongAttention(4, mode="local-m", window=-1), ValueError,
         "window (D) of local-m must be an integer >= 0, got -1"),
        (lambda: LuongAttention(4, mode="local-p", window=0), ValueError,
         "window (D) of local-p must be an integer >= 1, got 0"),
        (lambda: LuongAttention(4, mode="local-p", window=1.5), TypeError,
         "window (D) of local-p must be an integer >= 1, got 1.5 of type float"),
        (lambda: LuongAttention(4, window=3), ValueError, "window must be None for global attention, got 3"),
        (lambda: LuongAttention(0), ValueError, "hidden_size must be an integer >= 1, got 0"),
        (lambda: LuongAttention(4, mode="local-m", window=1)(*_states()), ValueError,
         "step must be the decoder step"),
        (lambda: LuongAttention(4)(torch.zeros(2, 5), torch.zeros(2, 9, 4)), ValueError,
         "query must be (batch, hidden) and keys (batch, source, hidden)"),
        (lambda: LuongAttention(4)(*_states(), key_padding_mask=torch.ones(2, 8, dtype=torch.bool)), ValueError,
         "key_padding_mask must be boolean of shape (2, 9)"),
    ],
)
def test_bad_input_is_named(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


def test_gaussian_sigma_is_half_the_window():
    layer = LuongAttention(2, score="dot", mode="local-p", window=4)
    with torch.no_grad():
        layer.position_proj.weight.zero_()
        layer.position_vector.weight.zero_()  # p_t = S * sigmoid(0) = S / 2
    query, keys = torch.zeros(1, 2), torch.zeros(1, 10, 2)  # equal scores: softmax uniform over the window
    _, weights, position = layer(query, keys)
    assert position.item() == 5.0
    uniform = 1 / 9  # positions 1..9 lie within 4 of 5
    torch.testing.assert_close(weights[0, 7], torch.tensor(uniform * math.exp(-4 / (2 * 2.0**2))))


@pytest.mark.parametrize(("step", "target_length"), [(0, 10), (3, 10), (9, 10), (4, 5)])
def test_local_m_scaled_centres_the_window_on_t_times_s_over_t(step, target_length):
    layer = LuongAttention(4, score="dot", mode="local-m-scaled", window=1)
    query, keys = _states(source=9)
    padding = torch.ones(2, 9, dtype=torch.bool)
    padding[1, 6:] = False  # the second sequence has S = 6
    _, weights, position = layer(query, keys, step=step, key_padding_mask=padding, target_length=target_length)
    torch.testing.assert_close(position, torch.tensor([step * 9 / target_length, step * 6 / target_length]))
    for row, length in enumerate((9, 6)):
        centre = step * length / target_length
        inside = (torch.arange(9.0) - centre).abs() <= 1
        inside &= torch.arange(9) < length
        scores = torch.einsum("h,sh->s", query[row], keys[row])
        torch.testing.assert_close(weights[row], masked_softmax(scores, inside))


def test_local_m_scaled_equals_local_m_when_lengths_agree():
    query, keys = _states(source=10)
    plain = LuongAttention(4, score="dot", mode="local-m", window=2)
    scaled = LuongAttention(4, score="dot", mode="local-m-scaled", window=2)
    for step in range(10):
        torch.testing.assert_close(scaled(query, keys, step=step, target_length=10).weights,
                                   plain(query, keys, step=step).weights)


def test_local_m_scaled_needs_the_target_length():
    layer = LuongAttention(4, score="dot", mode="local-m-scaled", window=2)
    with pytest.raises(ValueError, match=r"target_length must be the number of decoder steps T, an integer > step \(= 3\)"):
        layer(*_states(), step=3, target_length=3)
    with pytest.raises(ValueError, match="target_length must be"):
        layer(*_states(), step=0)
