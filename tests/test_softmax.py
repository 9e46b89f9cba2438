import math

import pytest
import torch

from attnbook import masked_softmax


def test_hand_computed_row():
    weights = masked_softmax(torch.tensor([0.0, math.log(3.0)]))
    torch.testing.assert_close(weights, torch.tensor([0.25, 0.75]))


def test_matches_torch_softmax_without_mask(generator, device):
    scores = torch.randn(2, 3, 4, 5, generator=generator).to(device)
    torch.testing.assert_close(masked_softmax(scores), torch.softmax(scores, dim=-1))


def test_mask_excludes_positions_and_renormalises():
    weights = masked_softmax(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([True, False, True]))
    expected = torch.tensor([math.e / (math.e + math.e**3), 0.0, math.e**3 / (math.e + math.e**3)])
    torch.testing.assert_close(weights, expected)


def test_fully_masked_row_gives_zeros_and_finite_gradients():
    scores = torch.randn(3, 4, requires_grad=True)
    mask = torch.ones(3, 4, dtype=torch.bool)
    mask[1] = False
    weights = masked_softmax(scores, mask)
    assert torch.equal(weights[1], torch.zeros(4))
    torch.testing.assert_close(weights[[0, 2]].sum(-1), torch.ones(2))
    (weights * torch.arange(4.0)).sum().backward()
    assert torch.isfinite(scores.grad).all()
    assert torch.equal(scores.grad[1], torch.zeros(4))


def test_stable_for_huge_scores():
    weights = masked_softmax(torch.tensor([1000.0, 1001.0, -1000.0]))
    torch.testing.assert_close(weights, torch.softmax(torch.tensor([0.0, 1.0, -2001.0]), -1))


@pytest.mark.parametrize("temperature", [0.05, 0.5, 1.0, 4.0])
def test_temperature_divides_scores(temperature):
    scores = torch.tensor([[0.3, -1.2, 2.0, 0.7]])
    torch.testing.assert_close(masked_softmax(scores, temperature=temperature),
                               torch.softmax(scores / temperature, -1))


def test_low_temperature_tends_to_argmax_and_high_to_uniform():
    scores = torch.tensor([0.3, -1.2, 2.0, 0.7])
    assert masked_softmax(scores, temperature=1e-3)[2] > 1 - 1e-6
    torch.testing.assert_close(masked_softmax(scores, temperature=1e6), torch.full((4,), 0.25))


def test_gradcheck_float64():
    scores = torch.randn(2, 3, 5, dtype=torch.float64, requires_grad=True)
    mask = torch.rand(3, 5) > 0.3
    mask[0] = False
    assert torch.autograd.gradcheck(lambda s: masked_softmax(s, mask, temperature=0.7), (scores,))


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"scores": [1.0, 2.0]}, TypeError, "scores must be a torch.Tensor, got list"),
        ({"scores": torch.tensor([1, 2])}, TypeError, "scores must be a floating-point tensor"),
        ({"scores": torch.tensor([1.0, float("nan")])}, ValueError, "scores must be finite"),
        ({"scores": torch.zeros(3), "temperature": 0.0}, ValueError, "temperature must be a finite number > 0, got 0.0"),
        ({"scores": torch.zeros(3), "temperature": -1}, ValueError, "got -1"),
        ({"scores": torch.zeros(3), "temperature": "hot"}, TypeError, "temperature must be a number, got str"),
        ({"scores": torch.zeros(2, 3), "mask": torch.ones(2, 3)}, TypeError, "mask must have dtype torch.bool"),
        ({"scores": torch.zeros(2, 3), "mask": torch.ones(2, 4, dtype=torch.bool)}, ValueError,
         "mask of shape (2, 4) does not broadcast to the scores' shape (2, 3)"),
        ({"scores": torch.zeros(2, 3), "mask": torch.ones(3, 2, 3, dtype=torch.bool)}, ValueError,
         "mask of shape (3, 2, 3)"),
    ],
)
def test_bad_input_is_named(kwargs, error, words):
    with pytest.raises(error) as info:
        masked_softmax(**kwargs)
    assert words in str(info.value)
