"""Sparsemax: a softmax that can put exactly zero weight on a location
(Martins & Astudillo, 2016, https://arxiv.org/abs/1602.02068).

``sparsemax(z)`` is the Euclidean projection of the scores ``z`` onto the probability
simplex, ``argmin_p ||p - z||^2`` over ``p >= 0, sum(p) = 1``. Its closed form
(their eq. 2-3): sort ``z`` in decreasing order, find the support size
``k = max{k : 1 + k z_(k) > sum_{j <= k} z_(j)}``, set
``tau = (sum_{j <= k} z_(j) - 1) / k`` and return ``max(z - tau, 0)``.
It is differentiable almost everywhere; its Jacobian is ``diag(s) - s s^T / |S|``
(eq. 10), ``s`` the indicator of the support ``S``, which the backward pass applies.
Like the softmax it is a weighted average of the values when used for attention, so
it trains by backpropagation; unlike the softmax, locations outside the support get
exactly zero weight and zero gradient.
"""

from __future__ import annotations

import torch

from .._checks import check_tensor, checks_enabled

__all__ = ["sparsemax", "sparsemax_threshold"]


def sparsemax_threshold(scores: torch.Tensor, dim: int = -1) -> tuple[torch.Tensor, torch.Tensor]:
    """The threshold ``tau`` and support size ``k`` of sparsemax along ``dim``.

    Args:
        scores: any shape; ``-inf`` marks a masked entry (weight 0).
        dim: the dimension the weights sum over.

    Returns:
        ``(tau, k)``, each of the shape of ``scores`` with ``dim`` kept as size 1.
        A fully masked row has ``k = 0`` and ``tau = inf``.
    """
    sorted_scores = scores.sort(dim=dim, descending=True).values
    ranks = torch.arange(1, scores.shape[dim] + 1, device=scores.device, dtype=scores.dtype)
    shape = [1] * scores.ndim
    shape[dim] = -1
    ranks = ranks.view(shape)
    finite = torch.where(torch.isinf(sorted_scores), torch.zeros_like(sorted_scores), sorted_scores)
    cumulative = finite.cumsum(dim)
    in_support = (1 + ranks * sorted_scores > cumulative) & torch.isfinite(sorted_scores)
    k = in_support.sum(dim=dim, keepdim=True)
    total = cumulative.gather(dim, (k - 1).clamp_min(0))
    tau = torch.where(k > 0, (total - 1) / k.clamp_min(1).to(scores.dtype), torch.full_like(total, float("inf")))
    return tau, k


class _Sparsemax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, scores: torch.Tensor, dim: int) -> torch.Tensor:
        tau, _ = sparsemax_threshold(scores, dim)
        weights = (scores - tau).clamp_min(0)
        weights = torch.where(torch.isfinite(tau), weights, torch.zeros_like(weights))
        ctx.save_for_backward(weights)
        ctx.dim = dim
        return weights

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        (weights,) = ctx.saved_tensors
        support = (weights > 0).to(grad_output.dtype)
        size = support.sum(ctx.dim, keepdim=True).clamp_min(1)
        mean = (grad_output * support).sum(ctx.dim, keepdim=True) / size
        return support * (grad_output - mean), None


def sparsemax(scores: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Sparse attention weights: the projection of ``scores`` onto the simplex along ``dim``.

    Args:
        scores: floating tensor of any shape, e.g. ``(batch, heads, queries, keys)``;
            ``-inf`` masks an entry. NaN and ``+inf`` are not allowed.
        dim: the dimension the weights sum over.

    Returns:
        Weights of the shape of ``scores``: non-negative, summing to 1 along ``dim``
        (0 for a fully masked row), with exact zeros outside the support.

    Raises:
        TypeError: if ``scores`` is not a floating tensor.
        ValueError: if ``dim`` is not one of ``scores``' dimensions; and if ``scores``
            holds NaN or ``+inf``, a value check that runs only where
            :func:`attnbook.checks_enabled` (by default on CPU tensors, not on
            accelerators, never under ``torch.compile``; see :class:`attnbook.set_checks`).
    """
    check_tensor("scores", scores, min_ndim=1)
    if isinstance(dim, bool) or not isinstance(dim, int) or not -scores.ndim <= dim < scores.ndim:
        raise ValueError(f"dim must be an integer in [{-scores.ndim}, {scores.ndim - 1}], got {dim!r}")
    if checks_enabled(scores.device) and bool((torch.isnan(scores) | (scores == float("inf"))).any()):
        raise ValueError("scores must not contain NaN or +inf (use -inf to mask an entry)")
    return _Sparsemax.apply(scores, dim % scores.ndim)
