"""The facts chapter 1 builds on about positions, checked on the package for many sizes.

* The linear-offset property of the sinusoidal encoding (Vaswani et al., 2017,
  https://arxiv.org/abs/1706.03762, section 3.5): ``PE[pos + k] = M_k PE[pos]`` with ``M_k`` a
  block-diagonal rotation that depends on ``k`` only.
* Rotary position embedding (Su et al., 2021, https://arxiv.org/abs/2104.09864) with the same
  frequencies: a rotated query-key score depends on the offset only, and equals the score of the
  unrotated pair through ``M_(n - m)``.
* The softmax Jacobian ``diag(a) - a a^T`` has Frobenius norm at most 1/2, reached at two keys of
  one half each (chapter 1, exercise 2).

The rotation is written here from the paper's formulas, independently of the chapter's cells.
"""

from __future__ import annotations

import math

import pytest
import torch

from attnbook.core import sinusoidal_positional_encoding


def offset_rotation(k: int, dim: int, base: float) -> torch.Tensor:
    """M_k from the formulas: rows (sin, cos) of each frequency turned by w_i k."""
    matrix = torch.zeros(dim, dim, dtype=torch.float64)
    for i in range(dim // 2):
        angle = k / base ** (2 * i / dim)
        c, s = math.cos(angle), math.sin(angle)
        matrix[2 * i: 2 * i + 2, 2 * i: 2 * i + 2] = torch.tensor([[c, s], [-s, c]], dtype=torch.float64)
    return matrix


@pytest.mark.parametrize(("dim", "base"), [(2, 10000.0), (16, 10000.0), (64, 10000.0), (8, 100.0)])
@pytest.mark.parametrize("k", [1, 3, 17])
def test_an_offset_is_one_rotation_for_every_position(dim, base, k):
    table = sinusoidal_positional_encoding(40, dim, base=base, dtype=torch.float64)
    rotation = offset_rotation(k, dim, base)
    torch.testing.assert_close(table[:-k] @ rotation.T, table[k:])
    torch.testing.assert_close(rotation @ rotation.T, torch.eye(dim, dtype=torch.float64))


def test_the_offset_check_fails_for_a_wrong_offset():
    # The property is specific: the rotation for k = 2 does not move positions by 3.
    table = sinusoidal_positional_encoding(40, 16, dtype=torch.float64)
    assert not torch.allclose(table[:-3] @ offset_rotation(2, 16, 1e4).T, table[3:])


def rotate(x: torch.Tensor, position: int, base: float = 10000.0) -> torch.Tensor:
    """RoPE of one vector: pair (x_2i, x_2i+1) turned by position * base^(-2i/d)."""
    return x @ offset_rotation(position, x.shape[-1], base)


@pytest.mark.parametrize("dim", [2, 16, 64])
def test_rotary_scores_depend_on_the_offset_only(dim):
    generator = torch.Generator().manual_seed(dim)
    q, k = torch.randn(2, dim, dtype=torch.float64, generator=generator)
    for m, n in [(0, 5), (3, 8), (20, 25), (7, 2), (30, 25)]:
        score = rotate(q, m) @ rotate(k, n)
        # (q M_m) . (k M_n) = q M_m M_n^T k = q M_(m - n) k: RoPE's R_(n - m) is M_(m - n)
        torch.testing.assert_close(score, q @ offset_rotation(m - n, dim, 1e4) @ k)
    torch.testing.assert_close(rotate(q, 0) @ rotate(k, 5), rotate(q, 20) @ rotate(k, 25))
    assert not torch.allclose(rotate(q, 0) @ rotate(k, 5), rotate(q, 0) @ rotate(k, 6))


def jacobian_norm(weights: torch.Tensor) -> torch.Tensor:
    return (torch.diag_embed(weights) - weights[..., :, None] * weights[..., None, :]).flatten(-2).norm(dim=-1)


@pytest.mark.parametrize("n", [2, 3, 16, 200])
def test_softmax_jacobian_norm_is_at_most_one_half(n):
    generator = torch.Generator().manual_seed(n)
    count = 200_000 // n  # diag_embed below holds count * n * n numbers
    scores = torch.randn(count, n, dtype=torch.float64, generator=generator) * torch.rand(
        count, 1, dtype=torch.float64, generator=generator) * 10
    weights = torch.softmax(scores, dim=-1)
    autograd = torch.autograd.functional.jacobian(lambda e: torch.softmax(e, 0), scores[0])
    torch.testing.assert_close(jacobian_norm(weights[0]), autograd.norm())
    assert jacobian_norm(weights).max() <= 0.5 + 1e-12
    two = torch.zeros(n, dtype=torch.float64)
    two[:2] = 0.5
    assert math.isclose(jacobian_norm(two).item(), 0.5)
    uniform = torch.full((n,), 1 / n, dtype=torch.float64)
    assert math.isclose(jacobian_norm(uniform).item(), math.sqrt(n - 1) / n)
