"""Soft and hard attention over locations, behind one interface.

Given features at ``L`` locations and a score (logit) per location:

* ``mode="soft"``: the context is the **expected** feature under the weights
  ``softmax(logits)``, a deterministic, differentiable average
  (the soft attention of Xu et al., 2015, https://arxiv.org/abs/1502.03044);
* ``mode="sample"``: ``k`` locations are **sampled** from those weights (without
  replacement) and their features averaged; the log-probability of the choice is
  returned for a REINFORCE update (the hard attention of Xu et al., 2015, and of
  Mnih et al., 2014, https://arxiv.org/abs/1406.6247);
* ``mode="argmax"``: the ``k`` most likely locations, the usual choice at test time.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from .._checks import check_positive, check_tensor

__all__ = ["ATTEND_MODES", "LocationAttention", "attend_locations"]

#: The values of ``attend_locations(mode=...)``: the expectation, a sample, or the most likely.
ATTEND_MODES = ("soft", "sample", "argmax")


class LocationAttention(NamedTuple):
    """Attributes:
        context: ``(batch, dim)``.
        weights: ``(batch, locations)``: the softmax for soft attention; for hard attention
            ``1 / k`` at the chosen locations and 0 elsewhere, the weights actually applied.
        indices: chosen locations ``(batch, k)``; None for soft attention.
        log_prob: log-probability of the sampled choice ``(batch,)``; None unless sampled.
    """

    context: torch.Tensor
    weights: torch.Tensor
    indices: torch.Tensor | None
    log_prob: torch.Tensor | None


def attend_locations(features: torch.Tensor, logits: torch.Tensor, mode: str = "soft", k: int = 1,
                     temperature: float = 1.0, generator: torch.Generator | None = None) -> LocationAttention:
    """Soft or hard attention over locations.

    Args:
        features: ``(batch, locations, dim)``.
        logits: ``(batch, locations)``, one score per location.
        mode: ``"soft"``, ``"sample"`` or ``"argmax"``.
        k: locations chosen by hard attention, ``1 <= k <= locations``.
        temperature: the weights are ``softmax(logits / temperature)``, > 0.
        generator: random generator for ``"sample"``.

    Returns:
        :class:`LocationAttention`.
    """
    check_tensor("features", features, min_ndim=3)
    check_tensor("logits", logits, min_ndim=2)
    if features.ndim != 3 or logits.shape != features.shape[:2]:
        raise ValueError("features must be (batch, locations, dim) and logits (batch, locations), got "
                         f"{tuple(features.shape)} and {tuple(logits.shape)}")
    if mode not in ATTEND_MODES:
        raise ValueError(f"mode must be one of {ATTEND_MODES}, got {mode!r}")
    locations = logits.shape[1]
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= locations:
        raise ValueError(f"k must be an integer in [1, {locations}] (the number of locations), got {k!r}")
    temperature = check_positive("temperature", temperature)
    log_weights = torch.log_softmax(logits / temperature, dim=-1)
    if mode == "soft":
        weights = log_weights.exp()
        return LocationAttention(torch.einsum("bl,bld->bd", weights, features), weights, None, None)
    if mode == "argmax":
        indices = log_weights.topk(k, dim=-1).indices
        log_prob = None
    else:
        indices, log_prob = _sample_without_replacement(log_weights, k, generator)
    chosen = torch.zeros_like(logits).scatter(1, indices, 1.0 / k)
    return LocationAttention(torch.einsum("bl,bld->bd", chosen, features), chosen, indices, log_prob)


def _sample_without_replacement(log_weights: torch.Tensor, k: int, generator: torch.Generator | None):
    """Draw k locations one after another; log-probability of the ordered draw."""
    remaining = log_weights
    indices, log_prob = [], torch.zeros(log_weights.shape[0], dtype=log_weights.dtype, device=log_weights.device)
    for _ in range(k):
        probabilities = torch.softmax(remaining, dim=-1)
        index = torch.multinomial(probabilities.detach(), 1, generator=generator)  # (batch, 1)
        log_prob = log_prob + torch.log_softmax(remaining, dim=-1).gather(1, index)[:, 0]
        indices.append(index)
        remaining = remaining.scatter(1, index, float("-inf"))
    return torch.cat(indices, dim=1), log_prob
