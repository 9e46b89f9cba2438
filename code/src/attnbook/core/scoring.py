"""The four classic attention scoring functions, as functions and as modules,
and two more that show what else a score can look at.

* dot: ``q . k`` (Luong et al., 2015, https://arxiv.org/abs/1508.04025; used
  earlier by the end-to-end memory networks of Sukhbaatar et al., 2015,
  https://arxiv.org/abs/1503.08895)
* scaled dot: ``q . k / sqrt(d)`` (Vaswani et al., 2017, https://arxiv.org/abs/1706.03762)
* general, or bilinear: ``q^T W k`` (Luong et al., 2015)
* additive, or concat / MLP: ``v^T tanh(W_q q + W_k k)``
  (Bahdanau et al., 2015, https://arxiv.org/abs/1409.0473)
* cosine: ``q . k / (|q| |k|)``, the content-based addressing of the neural
  Turing machine (Graves et al., 2014, https://arxiv.org/abs/1410.5401), which
  sharpens it with a key strength ``beta`` (a temperature ``1 / beta``)
* location: ``(W_a q)_j``, Luong et al.'s location-based score: it reads only
  the query and the key's *position* ``j``, never the key's content

``SCORE_NAMES`` and :func:`make_score` keep the four classic content scores.
Every function maps ``query (..., queries, query_dim)`` and
``key (..., keys, key_dim)`` to scores ``(..., queries, keys)``; leading
dimensions (batch, heads) must agree.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .._checks import check_int, check_positive, check_same_size, check_tensor

__all__ = [
    "SCORE_NAMES",
    "dot_score",
    "scaled_dot_score",
    "general_score",
    "additive_score",
    "cosine_score",
    "location_score",
    "DotScore",
    "ScaledDotScore",
    "GeneralScore",
    "AdditiveScore",
    "CosineScore",
    "LocationScore",
    "make_score",
]

#: The names :func:`make_score` accepts: the four classic content scores.
SCORE_NAMES = ("dot", "scaled_dot", "general", "additive")


def _check_query_key(query: torch.Tensor, key: torch.Tensor) -> None:
    check_tensor("query", query, min_ndim=2)
    check_tensor("key", key, min_ndim=2)
    if query.shape[:-2] != key.shape[:-2]:
        raise ValueError(
            "query and key must have the same leading (batch, heads) dimensions, got "
            f"query {tuple(query.shape)} and key {tuple(key.shape)}"
        )


def dot_score(query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
    """Dot-product scores ``q . k``.

    Args:
        query: ``(..., queries, dim)``.
        key: ``(..., keys, dim)``.

    Returns:
        Scores ``(..., queries, keys)``.
    """
    _check_query_key(query, key)
    check_same_size("query", query.shape[-1], "key", key.shape[-1], "feature size (last dimension)")
    return query @ key.transpose(-2, -1)


def scaled_dot_score(query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
    """Scaled dot-product scores ``q . k / sqrt(dim)``.

    Dividing by ``sqrt(dim)`` keeps the scores' variance near 1 when the
    entries of ``q`` and ``k`` have unit variance, whatever ``dim`` is.

    Args:
        query: ``(..., queries, dim)``.
        key: ``(..., keys, dim)``.

    Returns:
        Scores ``(..., queries, keys)``.
    """
    return dot_score(query, key) / math.sqrt(query.shape[-1])


def general_score(query: torch.Tensor, key: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """General (bilinear) scores ``q^T W k``.

    Args:
        query: ``(..., queries, query_dim)``.
        key: ``(..., keys, key_dim)``.
        weight: ``(query_dim, key_dim)``.

    Returns:
        Scores ``(..., queries, keys)``.
    """
    _check_query_key(query, key)
    check_tensor("weight", weight, min_ndim=2)
    if weight.shape != (query.shape[-1], key.shape[-1]):
        raise ValueError(
            f"weight must have shape (query_dim, key_dim) = ({query.shape[-1]}, {key.shape[-1]}), "
            f"got {tuple(weight.shape)}"
        )
    return (query @ weight) @ key.transpose(-2, -1)


def additive_score(
    query: torch.Tensor,
    key: torch.Tensor,
    query_weight: torch.Tensor,
    key_weight: torch.Tensor,
    vector: torch.Tensor,
) -> torch.Tensor:
    """Additive (concat / MLP) scores ``v^T tanh(W_q q + W_k k)``.

    ``W_q q + W_k k`` equals ``W [q; k]`` with ``W = [W_q, W_k]``: Luong's
    "concat" score and Bahdanau's alignment model are the same function.

    Args:
        query: ``(..., queries, query_dim)``.
        key: ``(..., keys, key_dim)``.
        query_weight: ``(query_dim, hidden)``.
        key_weight: ``(key_dim, hidden)``.
        vector: ``(hidden,)``.

    Returns:
        Scores ``(..., queries, keys)``.
    """
    _check_query_key(query, key)
    for name, weight, rows in (
        ("query_weight", query_weight, query.shape[-1]),
        ("key_weight", key_weight, key.shape[-1]),
    ):
        check_tensor(name, weight, min_ndim=2)
        if weight.ndim != 2 or weight.shape[0] != rows:
            raise ValueError(f"{name} must have shape ({rows}, hidden), got {tuple(weight.shape)}")
    check_tensor("vector", vector, min_ndim=1)
    hidden = query_weight.shape[1]
    if key_weight.shape[1] != hidden or vector.shape != (hidden,):
        raise ValueError(
            "query_weight, key_weight and vector must share the hidden size, got "
            f"{tuple(query_weight.shape)}, {tuple(key_weight.shape)} and {tuple(vector.shape)}"
        )
    # (..., queries, 1, hidden) + (..., 1, keys, hidden) -> (..., queries, keys, hidden)
    features = torch.tanh((query @ query_weight).unsqueeze(-2) + (key @ key_weight).unsqueeze(-3))
    return features @ vector


def cosine_score(query: torch.Tensor, key: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Cosine-similarity scores ``q . k / max(|q| |k|, eps)``, each in ``[-1, 1]``.

    The neural Turing machine's content-based addressing (Graves et al., 2014)
    takes a softmax of ``beta`` times this score; pass ``temperature=1 / beta``
    to :func:`attnbook.attention`.

    Args:
        query: ``(..., queries, dim)``.
        key: ``(..., keys, dim)``.
        eps: a number > 0 that keeps a zero vector's scores finite (they are 0).

    Returns:
        Scores ``(..., queries, keys)``.
    """
    check_positive("eps", eps)
    norms = query.norm(dim=-1, keepdim=True) * key.norm(dim=-1).unsqueeze(-2)  # (..., queries, keys)
    return dot_score(query, key) / norms.clamp_min(eps)


def location_score(query: torch.Tensor, key: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Luong et al.'s location-based scores ``(W_a q)_j`` for key positions ``j``.

    The score of key ``j`` is the ``j``-th entry of ``W_a q``: it depends on the
    query and on the key's position, and not on the key's content. ``key`` is
    read only for its number of positions.

    Args:
        query: ``(..., queries, query_dim)``.
        key: ``(..., keys, key_dim)``; ``keys`` must be at most ``max_keys``.
        weight: ``W_a``, ``(max_keys, query_dim)``; row ``j`` scores position ``j``.

    Returns:
        Scores ``(..., queries, keys)``.
    """
    _check_query_key(query, key)
    check_tensor("weight", weight, min_ndim=2)
    keys = key.shape[-2]
    if weight.ndim != 2 or weight.shape[1] != query.shape[-1] or weight.shape[0] < keys:
        raise ValueError(
            f"weight must have shape (max_keys, query_dim) with max_keys >= {keys} keys and "
            f"query_dim = {query.shape[-1]}, got {tuple(weight.shape)}"
        )
    return query @ weight[:keys].transpose(0, 1)


class DotScore(nn.Module):
    """Module form of :func:`dot_score` (no parameters)."""

    def forward(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        """``(..., queries, keys)`` scores of :func:`dot_score`."""
        return dot_score(query, key)


class ScaledDotScore(nn.Module):
    """Module form of :func:`scaled_dot_score` (no parameters)."""

    def forward(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        """``(..., queries, keys)`` scores of :func:`scaled_dot_score`."""
        return scaled_dot_score(query, key)


class GeneralScore(nn.Module):
    """Module form of :func:`general_score` with a learned ``W``.

    Args:
        query_dim: feature size of the queries.
        key_dim: feature size of the keys; defaults to ``query_dim``.
    """

    def __init__(self, query_dim: int, key_dim: int | None = None) -> None:
        super().__init__()
        key_dim = query_dim if key_dim is None else key_dim
        _check_sizes(query_dim=query_dim, key_dim=key_dim)
        self.weight = nn.Parameter(torch.empty(query_dim, key_dim))
        nn.init.xavier_uniform_(self.weight)

    def forward(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        """``(..., queries, keys)`` scores of :func:`general_score` with the learned ``W``."""
        return general_score(query, key, self.weight)


class AdditiveScore(nn.Module):
    """Module form of :func:`additive_score` with learned ``W_q``, ``W_k``, ``v``.

    Args:
        query_dim: feature size of the queries.
        key_dim: feature size of the keys; defaults to ``query_dim``.
        hidden_dim: size of the tanh layer; defaults to ``query_dim``.
    """

    def __init__(self, query_dim: int, key_dim: int | None = None, hidden_dim: int | None = None) -> None:
        super().__init__()
        key_dim = query_dim if key_dim is None else key_dim
        hidden_dim = query_dim if hidden_dim is None else hidden_dim
        _check_sizes(query_dim=query_dim, key_dim=key_dim, hidden_dim=hidden_dim)
        self.query_weight = nn.Parameter(torch.empty(query_dim, hidden_dim))
        self.key_weight = nn.Parameter(torch.empty(key_dim, hidden_dim))
        self.vector = nn.Parameter(torch.empty(hidden_dim))
        nn.init.xavier_uniform_(self.query_weight)
        nn.init.xavier_uniform_(self.key_weight)
        nn.init.uniform_(self.vector, -1 / math.sqrt(hidden_dim), 1 / math.sqrt(hidden_dim))

    def forward(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        """``(..., queries, keys)`` scores of :func:`additive_score` with the learned weights."""
        return additive_score(query, key, self.query_weight, self.key_weight, self.vector)


class CosineScore(nn.Module):
    """Module form of :func:`cosine_score` (no parameters)."""

    def forward(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        """``(..., queries, keys)`` scores of :func:`cosine_score`."""
        return cosine_score(query, key)


class LocationScore(nn.Module):
    """Module form of :func:`location_score` with a learned ``W_a``.

    Args:
        query_dim: feature size of the queries.
        max_keys: the most key positions it can score.
    """

    def __init__(self, query_dim: int, max_keys: int) -> None:
        super().__init__()
        _check_sizes(query_dim=query_dim, max_keys=max_keys)
        self.weight = nn.Parameter(torch.empty(max_keys, query_dim))
        nn.init.xavier_uniform_(self.weight)

    def forward(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        """``(..., queries, keys)`` scores of :func:`location_score` with the learned ``W_a``."""
        return location_score(query, key, self.weight)


def _check_sizes(**sizes: int) -> None:
    for name, size in sizes.items():
        check_int(name, size, 1)


def make_score(
    name: str,
    query_dim: int | None = None,
    key_dim: int | None = None,
    hidden_dim: int | None = None,
) -> nn.Module:
    """Build a scoring module by name.

    Args:
        name: one of ``"dot"``, ``"scaled_dot"``, ``"general"``, ``"additive"``.
        query_dim: feature size of the queries (needed by ``general`` and ``additive``).
        key_dim: feature size of the keys; defaults to ``query_dim``.
        hidden_dim: hidden size of ``additive``; defaults to ``query_dim``.

    Returns:
        A module mapping ``(query, key)`` to scores ``(..., queries, keys)``.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, one of {SCORE_NAMES}, got {type(name).__name__}")
    if name == "dot":
        return DotScore()
    if name == "scaled_dot":
        return ScaledDotScore()
    if name not in SCORE_NAMES:
        raise ValueError(f"name must be one of {SCORE_NAMES}, got {name!r}")
    if query_dim is None:
        raise ValueError(f"score {name!r} has parameters: pass query_dim (an integer >= 1), got None")
    if name == "general":
        return GeneralScore(query_dim, key_dim)
    return AdditiveScore(query_dim, key_dim, hidden_dim)
