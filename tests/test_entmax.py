"""alpha-entmax by bisection (Peters et al., 2019): sparsemax at alpha = 2, the softmax as
alpha -> 1, the optimality conditions, its Jacobian, bad input."""

import pytest
import torch

from attnbook.hard import entmax_bisect, sparsemax


@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 4, 6)])
def test_alpha_two_is_sparsemax(shape):
    scores = torch.randn(shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 2
    torch.testing.assert_close(entmax_bisect(scores, alpha=2.0, iterations=80), sparsemax(scores))


@pytest.mark.parametrize("alpha", [1.01, 1.001])
def test_tends_to_the_softmax_as_alpha_falls_to_one(alpha):
    scores = torch.randn(4, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    gap = (entmax_bisect(scores, alpha=alpha, iterations=80) - torch.softmax(scores, -1)).abs().max()
    assert gap < 10 * (alpha - 1)  # the distance shrinks with alpha - 1
    assert gap > 0


def test_closed_form_and_sparsity_at_alpha_one_and_a_half():
    scores = torch.tensor([1.0, 0.6, 0.2, -2.0], dtype=torch.float64)
    weights = entmax_bisect(scores, alpha=1.5, iterations=80)
    # p_i = [(z_i / 2) - tau]_+^2 with one tau: recover tau from the largest weight
    tau = scores[0] / 2 - weights[0].sqrt()
    torch.testing.assert_close(weights, ((scores / 2 - tau).clamp_min(0)) ** 2)
    assert weights.sum().item() == pytest.approx(1.0)
    assert weights[-1] == 0 and (weights[:3] > 0).all()
    # sparser than the softmax, denser than sparsemax
    assert int((sparsemax(scores) > 0).sum()) == 2  # sparsemax drops one more entry


def test_other_dims():
    scores = torch.randn(3, 5, 4, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    torch.testing.assert_close(entmax_bisect(scores, dim=1), entmax_bisect(scores.transpose(1, 2)).transpose(1, 2))


@pytest.mark.parametrize("alpha", [1.25, 1.5, 2.0, 3.0])
def test_gradcheck(alpha):
    scores = torch.tensor([[0.3, -0.1, 0.9, 0.05, -1.2]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda z: entmax_bisect(z, alpha=alpha, iterations=100), (scores,))


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"scores": torch.zeros(3, dtype=torch.long)}, TypeError, "scores must be a floating-point tensor"),
        ({"alpha": 1.0}, ValueError, "alpha must be > 1 (use a softmax for alpha = 1), got 1.0"),
        ({"alpha": "2"}, TypeError, "alpha must be a number > 1, got '2'"),
        ({"dim": 2}, ValueError, "dim must be an integer in [-1, 0], got 2"),
        ({"iterations": 0}, ValueError, "iterations must be an integer >= 1, got 0"),
        ({"scores": torch.tensor([0.0, float("inf")])}, ValueError, "scores must be finite"),
    ],
)
def test_bad_input_is_named(kwargs, error, words):
    arguments = {"scores": torch.zeros(3)}
    arguments.update(kwargs)
    with pytest.raises(error) as info:
        entmax_bisect(**arguments)
    assert words in str(info.value)
