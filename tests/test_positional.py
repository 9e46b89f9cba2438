import math

import pytest
import torch

from attnbook.core import attention
from attnbook.core import sinusoidal_positional_encoding


def reference(length: int, dim: int, base: float = 10000.0) -> torch.Tensor:
    """Section 3.5 of Vaswani et al. (2017), one entry at a time."""
    table = torch.empty(length, dim, dtype=torch.float64)
    for pos in range(length):
        for i in range(dim // 2):
            angle = pos / base ** (2 * i / dim)
            table[pos, 2 * i] = math.sin(angle)
            table[pos, 2 * i + 1] = math.cos(angle)
    return table


@pytest.mark.parametrize(("length", "dim"), [(1, 2), (7, 4), (50, 16), (3, 128)])
def test_shape_and_values_match_the_paper(length, dim):
    encoding = sinusoidal_positional_encoding(length, dim, dtype=torch.float64)
    assert encoding.shape == (length, dim) and encoding.dtype == torch.float64
    torch.testing.assert_close(encoding, reference(length, dim))


def test_known_values_at_positions_0_and_1():
    encoding = sinusoidal_positional_encoding(2, 4)
    # position 0: sin 0 = 0 in the even columns, cos 0 = 1 in the odd ones
    torch.testing.assert_close(encoding[0], torch.tensor([0.0, 1.0, 0.0, 1.0]))
    # position 1, dim 4: frequencies 1 and 10000^(-1/2) = 0.01
    expected = torch.tensor([math.sin(1.0), math.cos(1.0), math.sin(0.01), math.cos(0.01)])
    torch.testing.assert_close(encoding[1], expected)


def test_other_base_and_dtype():
    encoding = sinusoidal_positional_encoding(5, 6, base=100.0, dtype=torch.float16)
    assert encoding.dtype == torch.float16
    torch.testing.assert_close(encoding.double(), reference(5, 6, base=100.0), atol=1e-3, rtol=1e-3)


def test_every_position_gets_a_different_encoding():
    encoding = sinusoidal_positional_encoding(64, 16)
    distances = torch.cdist(encoding, encoding)
    assert (distances + torch.eye(64) * 1e3).min() > 0.1


def test_positions_break_permutation_equivariance():
    torch.manual_seed(0)
    x = torch.randn(6, 8)
    permutation = torch.tensor([3, 0, 5, 1, 4, 2])
    out, _ = attention(x, x, x)
    out_permuted, _ = attention(x[permutation], x[permutation], x[permutation])
    torch.testing.assert_close(out_permuted, out[permutation])
    encoding = sinusoidal_positional_encoding(6, 8)
    y, y_permuted = x + encoding, x[permutation] + encoding
    out, _ = attention(y, y, y)
    out_permuted, _ = attention(y_permuted, y_permuted, y_permuted)
    assert not torch.allclose(out_permuted, out[permutation], atol=1e-3)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"length": 0, "dim": 4}, ValueError, "length must be an integer >= 1, got 0"),
        ({"length": 3, "dim": 5}, ValueError, "dim must be even (sine and cosine pairs), got 5"),
        ({"length": 3, "dim": 4.0}, ValueError, "dim must be an integer >= 2, got 4.0"),
        ({"length": 3, "dim": 4, "base": -1.0}, ValueError, "base must be a finite number > 0, got -1.0"),
        ({"length": 3, "dim": 4, "dtype": torch.long}, TypeError, "dtype must be a floating-point dtype"),
    ],
)
def test_bad_input_is_named(kwargs, error, words):
    with pytest.raises(error) as info:
        sinusoidal_positional_encoding(**kwargs)
    assert words in str(info.value)
