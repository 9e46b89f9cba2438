"""A synthetic language with local structure: a random second-order Markov chain with
short-range recalls.

The next symbol depends on the two before it (each pair has ``branching`` allowed
successors, drawn once from the seed), except inside a trigger-recall pair, where a
symbol seen a few positions earlier comes back. Everything a prediction needs lies a
few positions back, so a short sliding window suffices in principle: the data of
chapter 3's attention-sink demonstration (Xiao et al., 2023, "Efficient Streaming Language
Models with Attention Sinks", https://arxiv.org/abs/2309.17453), where a model trained with
full attention is decoded with a rolling cache.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from .._checks import check_int

__all__ = ["MarkovLanguage", "make_markov_language"]


class MarkovLanguage(NamedTuple):
    """What :func:`make_markov_language` returns.

    Attributes:
        tokens: ``(count, length)`` long tensor of ids: symbols ``0 .. symbols - 1``, the
            trigger ``symbols``, the recall ``symbols + 1`` and, in column 0 with ``bos``,
            the beginning-of-sequence id ``symbols + 2``.
        successors: ``(symbols + 2, symbols + 2, branching)``: the allowed next symbols of
            each pair of ids (trigger and recall included).
        vocab_size: ``symbols + 3`` (the BOS id is counted whether or not it is used).
        recall: ``(count, length)`` bool, True where the token is a recalled copy (predictable
            only by looking back to the trigger).
    """

    tokens: torch.Tensor
    successors: torch.Tensor
    vocab_size: int
    recall: torch.Tensor


def make_markov_language(count: int, length: int, symbols: int = 16, branching: int = 2, seed: int = 0,
                         bos: bool = True, recall_rate: float = 0.1, max_gap: int = 6) -> MarkovLanguage:
    """Sample ``count`` sequences of a random second-order Markov chain with short recalls.

    At each free position, with probability ``recall_rate``, the chain is interrupted by
    ``trigger, x`` (x a uniformly random symbol) and, ``gap`` positions later (1 ..
    ``max_gap``, uniform), by ``recall, x``: the same x again. Otherwise the next id is
    one of the ``branching`` successors of the two before it. Everything a prediction
    needs lies within ``max_gap + 2`` positions, so a causal window of that half-width
    suffices in principle; and one head's job (find the trigger, copy x) exists only after
    a recall, so the rest of the time it has nothing to attend to.

    Args:
        count: number of sequences, >= 1.
        length: ids per sequence, BOS included, >= 3.
        symbols: size of the alphabet, >= 2.
        branching: allowed successors per pair of ids, 1 .. symbols.
        seed: seeds the chain (its successor table) and the samples; the same seed gives the
            same chain whatever ``count`` and ``length`` are.
        bos: start every sequence with the BOS id; without it the first two symbols are
            drawn uniformly.
        recall_rate: probability of starting a trigger-recall pair at a free position, in [0, 1).
        max_gap: the longest distance from ``x`` to ``recall``, >= 1.

    Returns:
        A :class:`MarkovLanguage`.
    """
    check_int("count", count, 1)
    check_int("length", length, 3)
    check_int("symbols", symbols, 2)
    check_int("branching", branching, 1)
    check_int("max_gap", max_gap, 1)
    if branching > symbols:
        raise ValueError(f"branching must be <= symbols={symbols}, got {branching}")
    if not isinstance(bos, bool):
        raise TypeError(f"bos must be a bool, got {type(bos).__name__}")
    if isinstance(recall_rate, bool) or not isinstance(recall_rate, (int, float)) or not 0 <= recall_rate < 1:
        raise ValueError(f"recall_rate must be a number in [0, 1), got {recall_rate!r}")
    trigger, recall_id, ids = symbols, symbols + 1, symbols + 2
    chain = torch.Generator().manual_seed(seed)
    successors = torch.rand(ids, ids, symbols, generator=chain).argsort(-1)[..., :branching]
    draws = torch.Generator().manual_seed(seed + 1_000_003)
    tokens = torch.empty(count, length, dtype=torch.long)
    recalled = torch.zeros(count, length, dtype=torch.bool)
    start = int(bos)
    if bos:
        tokens[:, 0] = ids
    tokens[:, start:start + 2] = torch.randint(0, symbols, (count, 2), generator=draws)
    copy = torch.zeros(count, dtype=torch.long)          # the x of the open pair
    due = torch.full((count,), -1, dtype=torch.long)      # where its recall goes (-1: no open pair)
    for position in range(start + 2, length):
        chained = successors[tokens[:, position - 2], tokens[:, position - 1]].gather(
            1, torch.randint(0, branching, (count, 1), generator=draws))[:, 0]
        fresh = torch.randint(0, symbols, (count,), generator=draws)
        gap = torch.randint(1, max_gap + 1, (count,), generator=draws)
        begin = (due < 0) & (torch.rand(count, generator=draws) < recall_rate) & (position + 3 < length)
        after_trigger = tokens[:, position - 1] == trigger
        at_recall = due == position
        after_recall = tokens[:, position - 1] == recall_id
        token = torch.where(begin, torch.full_like(chained, trigger), chained)
        token = torch.where(after_trigger, fresh, token)
        token = torch.where(at_recall, torch.full_like(chained, recall_id), token)
        token = torch.where(after_recall, copy, token)
        tokens[:, position] = token
        recalled[:, position] = after_recall
        copy = torch.where(after_trigger, fresh, copy)
        due = torch.where(after_trigger, (position + gap).clamp(max=length - 2), due)
        due = torch.where(after_recall, torch.full_like(due, -1), due)
    return MarkovLanguage(tokens, successors, ids + 1, recalled)
