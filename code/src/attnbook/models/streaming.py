"""Train a tiny causal LM with full attention, then score it decoded as a stream: with full
attention, a rolling KV cache of ``window + 1`` tokens, the same cache plus attention sinks,
and a sliding window with re-computation. Chapter 3's test of Xiao et al.'s finding
(2023, "Efficient Streaming Language Models with Attention Sinks",
https://arxiv.org/abs/2309.17453): window attention fails once the first tokens leave the
cache, and keeping a few of them restores it.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import torch
import torch.nn.functional as F

from .._checks import check_int, check_positive
from ..local.masks import check_window, render_mask, sink_window
from .tiny_lm import TinyCausalLM
from .train import fit

__all__ = ["StreamingScores", "fit_language_model", "streaming_losses", "first_token_share"]


class StreamingScores(NamedTuple):
    """What :func:`streaming_losses` returns.

    Attributes:
        losses: ``{mode: (seq - 1,) tensor}`` of next-token cross-entropy (nats) at every
            position, averaged over the streams; modes ``"full"``, ``"window"`` (the rolling
            cache of ``window + 1``), ``"sinks=k"`` for each k asked, and ``"recompute"``.
        window: the half-width w: positions ``0 .. w`` are decoded alike by every mode.
        cache_error: the largest absolute difference between the logits decoded token by
            token with the cache and those of the dense plain path under the same mask.
    """

    losses: dict[str, torch.Tensor]
    window: int
    cache_error: float


def fit_language_model(model: TinyCausalLM, tokens: torch.Tensor, steps: int, batch_size: int = 32,
                       lr: float = 3e-3, seed: int = 0) -> list[float]:
    """Train ``model`` with full causal attention on next-token prediction (:func:`fit`, one-cycle).

    Args:
        model: the model, in place.
        tokens: ``(examples, seq)`` long ids, on the model's device.
        steps: optimiser steps, >= 1.
        batch_size: sequences per step, drawn with replacement.
        lr: peak learning rate of the one-cycle schedule.
        seed: seeds the batch draws (the initialisation is the caller's).

    Returns:
        The training loss of every step.
    """
    if not isinstance(model, TinyCausalLM):
        raise TypeError(f"model must be a TinyCausalLM, got {type(model).__name__}")
    check_positive("lr", lr)

    def loss_fn(rows: torch.Tensor) -> torch.Tensor:
        batch = tokens[rows]
        return F.cross_entropy(model(batch).logits[:, :-1].flatten(0, 1), batch[:, 1:].flatten())

    return fit(model, loss_fn, tokens.shape[0], steps, batch_size, lr=lr, schedule="one_cycle", seed=seed).losses


@torch.no_grad()
def streaming_losses(model: TinyCausalLM, tokens: torch.Tensor, window: int,
                     sinks: Sequence[int] = (1, 4)) -> StreamingScores:
    """Score ``tokens`` with every decoding mode; the cached modes really run the rolling cache.

    Args:
        model: a trained model.
        tokens: ``(streams, seq)`` long ids.
        window: half-width w of the rolling cache (``w + 1`` slots), >= 0.
        sinks: the sink counts to try, each >= 1.

    Returns:
        A :class:`StreamingScores`.
    """
    window = check_window(window)
    for count in sinks:
        check_int("sinks", count, 1)
    model.eval()
    losses = {"full": model.loss_per_position(model(tokens).logits, tokens)}
    error = 0.0
    for count in (0, *sinks):
        decoded = model.decode(tokens, window, sinks=count)
        dense = model(tokens, mask=render_mask(sink_window(window, count), tokens.shape[1],
                                               device=tokens.device)).logits
        error = max(error, (decoded - dense).abs().max().item())
        losses["window" if count == 0 else f"sinks={count}"] = model.loss_per_position(decoded, tokens)
    losses["recompute"] = model.loss_per_position(model.recompute(tokens, window), tokens)
    return StreamingScores(losses, window, error)


@torch.no_grad()
def first_token_share(model: TinyCausalLM, tokens: torch.Tensor, start: int = 0) -> torch.Tensor:
    """The share of every head's attention that lands on position 0, full attention.

    Args:
        model: the model.
        tokens: ``(streams, seq)`` long ids.
        start: average over the queries ``start .. seq - 1`` only (e.g. ``window + 1``:
            the queries from which a rolling cache has evicted position 0).

    Returns:
        ``(layers, heads)``: the mean weight on key 0.
    """
    check_int("start", start, 0)
    if start >= tokens.shape[1]:
        raise ValueError(f"start must be < seq={tokens.shape[1]}, got {start}")
    model.eval()
    weights = model(tokens, need_weights=True).weights
    return torch.stack([layer[:, :, start:, 0].mean((0, 2)) for layer in weights])
