"""alpha-entmax: a family of normalisers between softmax (alpha -> 1) and sparsemax
(alpha = 2), computed by bisection (Peters, Niculae and Martins, 2019, "Sparse
Sequence-to-Sequence Models", https://arxiv.org/abs/1905.05702; the bisection follows
Blondel, Martins and Niculae, 2019, https://arxiv.org/abs/1901.02324).

``entmax_alpha(z) = argmax_p  p.z + H_alpha(p)`` over the probability simplex, with the
Tsallis entropy ``H_alpha``. Its solution is
``p_i = [(alpha - 1) z_i - tau]_+ ** (1 / (alpha - 1))`` with the one threshold ``tau``
that makes ``p`` sum to 1. That sum falls monotonically in ``tau``, and ``tau`` lies in
``[max((alpha - 1) z) - 1, max((alpha - 1) z) - n ** (1 - alpha)]`` for ``n`` entries, so
bisection finds it. The Jacobian (Peters et al., 2019, Proposition 1) is
``diag(s) - s s^T / sum(s)`` with ``s_i = p_i ** (2 - alpha)`` on the support and 0 off it;
the backward pass applies it, so no gradient flows through the bisection's steps. At
``alpha = 2`` this is sparsemax (:func:`attnbook.hard.sparsemax`, whose sort-based closed form
is the plain reference path); as ``alpha -> 1`` it tends to the softmax. Between them, the
larger ``alpha``, the more entries get exactly zero weight.
"""

from __future__ import annotations

import torch

from .._checks import check_int, check_tensor, checks_enabled

__all__ = ["entmax_bisect"]


def _bisect(scores: torch.Tensor, alpha: float, dim: int, iterations: int) -> torch.Tensor:
    scaled = (alpha - 1) * scores
    top = scaled.max(dim=dim, keepdim=True).values
    low, high = top - 1, top - scores.shape[dim] ** (1 - alpha)
    power = 1 / (alpha - 1)
    for _ in range(iterations):
        middle = (low + high) / 2
        total = (scaled - middle).clamp_min(0).pow(power).sum(dim, keepdim=True)
        too_low = total >= 1  # the sum falls as tau grows: tau is at least middle
        low = torch.where(too_low, middle, low)
        high = torch.where(too_low, high, middle)
    weights = (scaled - (low + high) / 2).clamp_min(0).pow(power)
    return weights / weights.sum(dim, keepdim=True)  # removes the last bisection error


class _EntmaxBisect(torch.autograd.Function):
    @staticmethod
    def forward(ctx, scores: torch.Tensor, alpha: float, dim: int, iterations: int) -> torch.Tensor:
        weights = _bisect(scores, alpha, dim, iterations)
        ctx.save_for_backward(weights)
        ctx.alpha, ctx.dim = alpha, dim
        return weights

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        (weights,) = ctx.saved_tensors
        s = torch.where(weights > 0, weights.pow(2 - ctx.alpha), torch.zeros_like(weights))
        projected = (grad_output * s).sum(ctx.dim, keepdim=True) / s.sum(ctx.dim, keepdim=True)
        return s * (grad_output - projected), None, None, None


def entmax_bisect(scores: torch.Tensor, alpha: float = 1.5, dim: int = -1, iterations: int = 50) -> torch.Tensor:
    """alpha-entmax weights of ``scores`` along ``dim``, by bisection on the threshold.

    Args:
        scores: floating tensor of any shape, e.g. ``(batch, heads, queries, keys)``; finite.
        alpha: the entmax parameter, > 1 (1.5 is Peters et al.'s choice; 2 is sparsemax).
        dim: the dimension the weights sum over.
        iterations: bisection steps, >= 1; each halves the interval that holds ``tau``
            (50 reach float64 precision for scores of order 1).

    Returns:
        Weights of the shape of ``scores``: non-negative, summing to 1 along ``dim``, with
        exact zeros where ``(alpha - 1) z_i <= tau``.

    Raises:
        TypeError: if ``scores`` is not a floating tensor or ``alpha`` not a number.
        ValueError: if ``alpha <= 1``, ``dim`` is not one of ``scores``' dimensions or
            ``iterations < 1``; and if ``scores`` is not finite, a value check that runs
            only where :func:`attnbook.checks_enabled` (by default on CPU tensors).
    """
    check_tensor("scores", scores, min_ndim=1)
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
        raise TypeError(f"alpha must be a number > 1, got {alpha!r}")
    if not alpha > 1:
        raise ValueError(f"alpha must be > 1 (use a softmax for alpha = 1), got {alpha!r}")
    if isinstance(dim, bool) or not isinstance(dim, int) or not -scores.ndim <= dim < scores.ndim:
        raise ValueError(f"dim must be an integer in [{-scores.ndim}, {scores.ndim - 1}], got {dim!r}")
    check_int("iterations", iterations, 1)
    if checks_enabled(scores.device) and not bool(torch.isfinite(scores).all()):
        raise ValueError("scores must be finite (entmax_bisect does not take masks)")
    return _EntmaxBisect.apply(scores, float(alpha), dim % scores.ndim, iterations)
