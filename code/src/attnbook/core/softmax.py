"""Masked softmax with a temperature, the normalisation step of every attention.

``softmax(scores / temperature)`` over the positions a boolean mask allows
(True = attend, as in ``torch.nn.functional.scaled_dot_product_attention``).
A row with no allowed position gets all-zero weights, never NaN, so its
context vector is the zero vector. No step reads the scores' values on the host,
so it never synchronises with the device and compiles into one graph.
"""

from __future__ import annotations

import torch

from .._checks import check_mask, check_positive, check_tensor, checks_enabled

__all__ = ["masked_softmax"]


def masked_softmax(
    scores: torch.Tensor,
    mask: torch.Tensor | None = None,
    temperature: float = 1.0,
) -> torch.Tensor:
    """Softmax over the last dimension, restricted to the positions ``mask`` allows.

    Args:
        scores: attention scores, shape ``(..., queries, keys)``.
        mask: optional boolean tensor broadcastable to ``scores``; True = attend.
        temperature: a number > 0; weights are ``softmax(scores / temperature)``.
            Small values sharpen the weights toward the arg-max, large values
            flatten them toward uniform.

    Returns:
        Weights of the shape of ``scores``; each row sums to 1 over the allowed
        positions, or is all zeros when no position is allowed.

    Raises:
        TypeError: if ``scores`` is not a floating tensor or ``mask`` not boolean.
        ValueError: if ``temperature`` is not > 0 or ``mask`` does not broadcast to
            ``scores``; and if ``scores`` holds NaN or inf, a value check that runs
            only where :func:`attnbook.checks_enabled` (by default on CPU tensors,
            not on accelerators, never under ``torch.compile``; see
            :class:`attnbook.set_checks`). Unchecked, a NaN or inf score gives NaN
            weights in its row.
    """
    check_tensor("scores", scores, min_ndim=1)
    temperature = check_positive("temperature", temperature)
    if checks_enabled(scores.device) and not bool(torch.isfinite(scores).all()):
        raise ValueError(
            "scores must be finite (no NaN or inf); to exclude positions pass mask= "
            "with False there instead of -inf scores"
        )
    scaled = scores / temperature
    if mask is not None:
        check_mask(mask, scores.shape)
        scaled = scaled.masked_fill(~mask, float("-inf"))
    row_max = scaled.detach().amax(dim=-1, keepdim=True)
    # A fully masked row has max -inf; shift it by 0 so that exp gives exact zeros.
    row_max = torch.where(torch.isfinite(row_max), row_max, torch.zeros_like(row_max))
    exps = torch.exp(scaled - row_max)
    totals = exps.sum(dim=-1, keepdim=True)
    return exps / totals.clamp_min(torch.finfo(exps.dtype).tiny)
