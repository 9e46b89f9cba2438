"""Attention in three steps: score, normalise, take the weighted sum.

``context_i = sum_j softmax_j(score(q_i, k_j)) v_j``, with the scoring
functions of :mod:`attnbook.core.scoring`. The form with scaled-dot scores is
the attention of Vaswani et al. (2017), https://arxiv.org/abs/1706.03762.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import torch
from torch import nn

from .._checks import check_same_size, check_tensor
from .scoring import SCORE_NAMES, dot_score, scaled_dot_score
from .softmax import masked_softmax

__all__ = ["ScoreFn", "AttentionOutput", "attention"]

#: A score function: ``(query, key) -> scores``, ``(..., queries, keys)``, as :func:`attention` takes.
ScoreFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
_PARAMETER_FREE_SCORES: dict[str, ScoreFn] = {"dot": dot_score, "scaled_dot": scaled_dot_score}


class AttentionOutput(NamedTuple):
    """What :func:`attention` returns.

    Attributes:
        context: weighted sums of the values, ``(..., queries, value_dim)``.
        weights: attention weights, ``(..., queries, keys)``; rows sum to 1
            (or are all zero where the mask allows no key).
    """

    context: torch.Tensor
    weights: torch.Tensor


def _resolve_score(score: str | nn.Module | ScoreFn) -> ScoreFn:
    if isinstance(score, str):
        if score in _PARAMETER_FREE_SCORES:
            return _PARAMETER_FREE_SCORES[score]
        if score in SCORE_NAMES:
            raise ValueError(
                f"score={score!r} has learned parameters; build it with "
                f"attnbook.make_score({score!r}, query_dim=...) and pass the module"
            )
        raise ValueError(
            f"score must be 'dot', 'scaled_dot', a module or a callable (query, key) -> scores, got {score!r}"
        )
    if callable(score):
        return score
    raise TypeError(f"score must be a string, a module or a callable, got {type(score).__name__}")


def attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    mask: torch.Tensor | None = None,
    score: str | nn.Module | ScoreFn = "scaled_dot",
    temperature: float = 1.0,
) -> AttentionOutput:
    """Attend from each query over the keys and average the values.

    Args:
        query: ``(..., queries, query_dim)``, e.g. ``(batch, heads, queries, dim)``.
        key: ``(..., keys, key_dim)``.
        value: ``(..., keys, value_dim)``.
        mask: optional boolean tensor broadcastable to ``(..., queries, keys)``;
            True = attend (the convention of
            ``torch.nn.functional.scaled_dot_product_attention``).
        score: ``"dot"``, ``"scaled_dot"``, or a module / callable mapping
            ``(query, key)`` to scores ``(..., queries, keys)``, such as
            ``attnbook.make_score("additive", query_dim=8)``.
        temperature: a number > 0 dividing the scores before the softmax.

    Returns:
        ``AttentionOutput(context, weights)`` with context
        ``(..., queries, value_dim)`` and weights ``(..., queries, keys)``.
    """
    score_fn = _resolve_score(score)
    check_tensor("query", query, min_ndim=2)
    check_tensor("key", key, min_ndim=2)
    check_tensor("value", value, min_ndim=2)
    check_same_size("key", key.shape[-2], "value", value.shape[-2], "number of positions (dimension -2)")
    if key.shape[:-2] != value.shape[:-2]:
        raise ValueError(
            "key and value must have the same leading (batch, heads) dimensions, got "
            f"key {tuple(key.shape)} and value {tuple(value.shape)}"
        )
    scores = score_fn(query, key)
    weights = masked_softmax(scores, mask, temperature=temperature)
    return AttentionOutput(weights @ value, weights)
