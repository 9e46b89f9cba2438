"""Luong attention: global, local-m and local-p
(Luong, Pham and Manning, 2015, https://arxiv.org/abs/1508.04025).

At decoder step t, with decoder state ``h_t`` (the query) and encoder states
``hbar_s`` (keys and values), s = 0 .. S-1:

* global: ``a_t(s) = softmax_s(score(h_t, hbar_s))`` over every source position;
* local-m: the same softmax over the window ``[p_t - D, p_t + D]`` with ``p_t = t``
  (monotonic alignment);
* local-m-scaled: local-m with the centre stretched to the source length,
  ``p_t = t * S / T`` for a target of T steps (not in the paper: a baseline that
  removes local-m's length mismatch, so that only the order of the fields is left
  to break its assumption);
* local-p: ``p_t = S * sigmoid(v_p^T tanh(W_p h_t))`` is predicted, the softmax
  runs over the window ``[p_t - D, p_t + D]`` and is then multiplied by
  ``exp(-(s - p_t)^2 / (2 sigma^2))`` with ``sigma = D / 2`` (Luong et al.,
  Eq. 10). The weights are not renormalised after the Gaussian, as in the paper.

Scores: dot ``h_t^T hbar_s``, general ``h_t^T W_a hbar_s`` and concat
``v_a^T tanh(W_a [h_t; hbar_s])``, which is the additive score of
:mod:`attnbook.core.scoring`. Windows are clipped at the sequence borders, and S is
each sequence's own length when a padding mask is given.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from .._checks import check_int, check_tensor
from ..core.scoring import AdditiveScore, GeneralScore, dot_score
from ..core.softmax import masked_softmax
from .masks import band, check_window

__all__ = ["LUONG_SCORES", "LUONG_MODES", "LuongOutput", "LuongAttention"]

#: The values of ``LuongAttention(score=...)``, Luong et al.'s three content scores.
LUONG_SCORES = ("dot", "general", "concat")
#: The values of ``LuongAttention(mode=...)``: global attention and the local variants.
LUONG_MODES = ("global", "local-m", "local-m-scaled", "local-p")


class LuongOutput(NamedTuple):
    """What :class:`LuongAttention` returns for one decoder step.

    Attributes:
        context: ``(batch, hidden)``.
        weights: ``(batch, source)``.
        position: the window centre ``p_t``, ``(batch,)``; None for global attention.
    """

    context: torch.Tensor
    weights: torch.Tensor
    position: torch.Tensor | None


class LuongAttention(nn.Module):
    """One of Luong's attentions for a decoder state over encoder states.

    Args:
        hidden_size: size of decoder and encoder states.
        score: ``"dot"``, ``"general"`` or ``"concat"``.
        mode: ``"global"``, ``"local-m"``, ``"local-m-scaled"`` or ``"local-p"``.
        window: the half-width D of local windows (>= 0 for local-m and
            local-m-scaled, >= 1 for local-p, where sigma = D / 2); must be None
            for global attention.
    """

    def __init__(self, hidden_size: int, score: str = "general", mode: str = "global",
                 window: int | None = None) -> None:
        super().__init__()
        check_int("hidden_size", hidden_size, 1)
        if score not in LUONG_SCORES:
            raise ValueError(f"score must be one of {LUONG_SCORES}, got {score!r}")
        if mode not in LUONG_MODES:
            raise ValueError(f"mode must be one of {LUONG_MODES}, got {mode!r}")
        if mode == "global":
            if window is not None:
                raise ValueError(f"window must be None for global attention, got {window!r}")
        else:
            check_window(window, 1 if mode == "local-p" else 0, name=f"window (D) of {mode}")
        self.score_name, self.mode, self.window = score, mode, window
        if score == "general":
            self.score = GeneralScore(hidden_size)
        elif score == "concat":
            self.score = AdditiveScore(hidden_size)
        if mode == "local-p":
            self.position_proj = nn.Linear(hidden_size, hidden_size, bias=False)  # W_p
            self.position_vector = nn.Linear(hidden_size, 1, bias=False)        # v_p

    def forward(self, query: torch.Tensor, keys: torch.Tensor, step: int | None = None,
                key_padding_mask: torch.Tensor | None = None, target_length: int | None = None) -> LuongOutput:
        """Attend from one decoder state over the encoder states.

        Args:
            query: decoder state ``h_t``, ``(batch, hidden)``.
            keys: encoder states ``hbar_s`` (also the values), ``(batch, source, hidden)``.
            step: the decoder step t, counted from 0 (needed by local-m, where p_t = t,
                and by local-m-scaled).
            key_padding_mask: optional boolean ``(batch, source)``, True for real positions.
            target_length: the number of decoder steps T (needed by local-m-scaled,
                where p_t = t * S / T).

        Returns:
            :class:`LuongOutput` with the context, the weights and ``p_t``.
        """
        check_tensor("query", query, min_ndim=2)
        check_tensor("keys", keys, min_ndim=3)
        if query.ndim != 2 or keys.ndim != 3 or query.shape[0] != keys.shape[0] or query.shape[1] != keys.shape[2]:
            raise ValueError("query must be (batch, hidden) and keys (batch, source, hidden) with matching "
                             f"batch and hidden, got {tuple(query.shape)} and {tuple(keys.shape)}")
        batch, source, _ = keys.shape
        if key_padding_mask is not None and (key_padding_mask.dtype != torch.bool
                                             or tuple(key_padding_mask.shape) != (batch, source)):
            raise ValueError(f"key_padding_mask must be boolean of shape {(batch, source)}, got "
                             f"{key_padding_mask.dtype} {tuple(key_padding_mask.shape)}")
        scores = self._scores(query, keys)  # (batch, source)
        valid = (torch.ones(batch, source, dtype=torch.bool, device=keys.device)
                 if key_padding_mask is None else key_padding_mask)
        if self.mode == "global":
            weights = masked_softmax(scores, valid)
            return LuongOutput(torch.einsum("bs,bsh->bh", weights, keys), weights, None)
        lengths = valid.sum(-1).to(keys.dtype)  # S of each sequence
        if self.mode in ("local-m", "local-m-scaled"):
            if isinstance(step, bool) or not isinstance(step, int) or step < 0:
                raise ValueError(f"step must be the decoder step, an integer >= 0, for {self.mode}, got {step!r}")
            position = torch.full((batch,), float(step), dtype=keys.dtype, device=keys.device)
            if self.mode == "local-m-scaled":
                if isinstance(target_length, bool) or not isinstance(target_length, int) or target_length <= step:
                    raise ValueError("target_length must be the number of decoder steps T, an integer > step "
                                     f"(= {step}), for local-m-scaled, got {target_length!r}")
                position = position * lengths / target_length
        else:
            hidden = torch.tanh(self.position_proj(query))
            position = lengths * torch.sigmoid(self.position_vector(hidden)[:, 0])
        sources = torch.arange(source, device=keys.device, dtype=keys.dtype)[None, :]
        zero = torch.zeros((), dtype=torch.long, device=keys.device)  # batch and head, which the band does not use
        # the band [p_t - D, p_t + D] around the real-valued centre p_t
        in_window = valid & band(self.window)(zero, zero, position[:, None], sources)
        weights = masked_softmax(scores, in_window)
        if self.mode == "local-p":
            sigma = self.window / 2
            weights = weights * torch.exp(-(sources - position[:, None]) ** 2 / (2 * sigma**2))
        return LuongOutput(torch.einsum("bs,bsh->bh", weights, keys), weights, position)

    def _scores(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        query = query[:, None, :]  # (batch, 1, hidden): one query per sequence
        if self.score_name == "dot":
            return dot_score(query, keys)[:, 0]
        return self.score(query, keys)[:, 0]
