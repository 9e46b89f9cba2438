import math

import pytest
import torch

from attnbook import gaussian_score, nadaraya_watson


def test_hand_computed_two_points():
    x_train, y_train = torch.tensor([0.0, 1.0]), torch.tensor([0.0, 10.0])
    prediction, weights = nadaraya_watson(torch.tensor([0.0]), x_train, y_train, sigma=1.0)
    expected_weight = math.exp(-0.5) / (1 + math.exp(-0.5))
    torch.testing.assert_close(weights, torch.tensor([[1 - expected_weight, expected_weight]]))
    torch.testing.assert_close(prediction, torch.tensor([10 * expected_weight]))


def test_equals_explicit_kernel_regression():
    generator = torch.Generator().manual_seed(0)
    x_train, y_train = torch.rand(20, generator=generator) * 5, torch.randn(20, generator=generator)
    x_query = torch.linspace(0, 5, 7)
    kernel = torch.exp(-((x_query[:, None] - x_train[None]) ** 2) / (2 * 0.3**2))
    expected = (kernel * y_train).sum(1) / kernel.sum(1)
    torch.testing.assert_close(nadaraya_watson(x_query, x_train, y_train, sigma=0.3).context, expected)


def test_limits_of_sigma():
    x_train, y_train = torch.tensor([0.0, 1.0, 2.0]), torch.tensor([1.0, 5.0, 3.0])
    wide = nadaraya_watson(torch.tensor([0.2]), x_train, y_train, sigma=1e4).context
    narrow = nadaraya_watson(torch.tensor([0.9]), x_train, y_train, sigma=0.01).context
    torch.testing.assert_close(wide, y_train.mean()[None])
    torch.testing.assert_close(narrow, torch.tensor([5.0]))


def test_gaussian_score_shape():
    assert gaussian_score(torch.zeros(2, 4, 1), torch.zeros(2, 6, 1), sigma=2.0).shape == (2, 4, 6)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"sigma": 0}, ValueError, "sigma must be a finite number > 0, got 0"),
        ({"y_train": torch.zeros(4)}, ValueError, "x_train and y_train must have the same length, got 3 and 4"),
        ({"x_query": torch.zeros(2, 1)}, ValueError, "x_query must be 1-D, got shape (2, 1)"),
    ],
)
def test_bad_input_is_named(kwargs, error, words):
    arguments = {"x_query": torch.zeros(2), "x_train": torch.zeros(3), "y_train": torch.zeros(3), "sigma": 1.0}
    arguments.update(kwargs)
    with pytest.raises(error) as info:
        nadaraya_watson(**arguments)
    assert words in str(info.value)
