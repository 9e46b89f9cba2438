"""Attention pooling as Nadaraya-Watson kernel regression.

Nadaraya (1964) and Watson (1964) predict ``f(x) = sum_i K(x, x_i) y_i / sum_j K(x, x_j)``.
With the Gaussian kernel ``K(x, x_i) = exp(-(x - x_i)^2 / (2 sigma^2))`` the
normalised kernel weights are ``softmax_i(-(x - x_i)^2 / (2 sigma^2))``: attention
with the query ``x``, the keys ``x_i``, the values ``y_i`` and a negative
squared distance as the score.
"""

from __future__ import annotations

import torch

from .._checks import check_positive, check_same_size, check_tensor
from .attention import AttentionOutput, attention

__all__ = ["gaussian_score", "nadaraya_watson"]


def gaussian_score(query: torch.Tensor, key: torch.Tensor, sigma: float) -> torch.Tensor:
    """Scores ``-(q - k)^2 / (2 sigma^2)`` for scalar positions.

    Args:
        query: ``(..., queries, 1)``.
        key: ``(..., keys, 1)``.
        sigma: kernel width, > 0.

    Returns:
        Scores ``(..., queries, keys)``.
    """
    sigma = check_positive("sigma", sigma)
    squared_distance = (query - key.transpose(-2, -1)) ** 2
    return -squared_distance / (2 * sigma**2)


def nadaraya_watson(
    x_query: torch.Tensor, x_train: torch.Tensor, y_train: torch.Tensor, sigma: float
) -> AttentionOutput:
    """Nadaraya-Watson regression with a Gaussian kernel, computed as attention.

    Args:
        x_query: inputs to predict at, ``(queries,)``.
        x_train: training inputs, ``(keys,)``.
        y_train: training targets, ``(keys,)``.
        sigma: kernel width, > 0; small values follow the nearest points,
            large values tend to the mean of ``y_train``.

    Returns:
        ``AttentionOutput(context, weights)``: predictions ``(queries,)`` and
        weights ``(queries, keys)``.
    """
    for name, tensor in (("x_query", x_query), ("x_train", x_train), ("y_train", y_train)):
        check_tensor(name, tensor, min_ndim=1)
        if tensor.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {tuple(tensor.shape)}")
    check_same_size("x_train", len(x_train), "y_train", len(y_train), "length")
    sigma = check_positive("sigma", sigma)
    predictions, weights = attention(
        x_query[:, None],
        x_train[:, None],
        y_train[:, None],
        score=lambda query, key: gaussian_score(query, key, sigma),
    )
    return AttentionOutput(predictions[:, 0], weights)
