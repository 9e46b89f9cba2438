"""Attention patterns as mask predicates, the way FlexAttention writes them
(https://pytorch.org/blog/flexattention/).

A predicate is a function ``(batch, head, q_idx, kv_idx) -> bool tensor`` that
says whether query ``q_idx`` may attend to key ``kv_idx`` (True = attend, as in
``torch.nn.functional.scaled_dot_product_attention``). It uses only tensor
operations on its index arguments, so the same predicate can be rendered as a
dense matrix (:func:`render_mask`, for plots and for SDPA), or handed to
``torch.nn.attention.flex_attention.create_block_mask`` on a GPU. Combine
predicates with :func:`and_masks` and :func:`or_masks`.

Patterns:

* :func:`sliding_window`: ``|q - k| <= w`` (w is the half-width; Longformer's
  ``w`` is the whole window, ``2 w + 1`` here; Beltagy et al., 2020,
  https://arxiv.org/abs/2004.05150);
* :func:`causal_window`: ``q - w <= k <= q`` (Mistral 7B's sliding window;
  Jiang et al., 2023, https://arxiv.org/abs/2310.06825);
* :func:`dilated_window`: every ``d``-th key within ``w`` steps of ``d``
  (Longformer's dilated sliding window);
* :func:`global_tokens`: a few positions attend to every position and are
  attended by every position (Longformer's global attention);
* :func:`bigbird`: BigBird's block pattern, a window of blocks, global tokens
  and a few random key blocks per query block (Zaheer et al., 2020,
  https://arxiv.org/abs/2007.14062).
"""

from __future__ import annotations

from typing import Callable

import torch

from .._checks import check_int

__all__ = ["MaskPredicate", "sliding_window", "causal_window", "dilated_window", "global_tokens", "bigbird",
           "and_masks", "or_masks", "render_mask"]

MaskPredicate = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def sliding_window(window: int) -> MaskPredicate:
    """Query q sees key k when ``|q - k| <= window`` (``2 window + 1`` keys at most)."""
    check_int("window", window, 0)

    def predicate(batch, head, q_idx, kv_idx):
        return (q_idx - kv_idx).abs() <= window

    return predicate


def causal_window(window: int) -> MaskPredicate:
    """Query q sees key k when ``q - window <= k <= q`` (``window + 1`` keys at most)."""
    check_int("window", window, 0)

    def predicate(batch, head, q_idx, kv_idx):
        offset = q_idx - kv_idx
        return (offset >= 0) & (offset <= window)

    return predicate


def dilated_window(window: int, dilation: int) -> MaskPredicate:
    """Query q sees keys ``q + i * dilation`` for ``|i| <= window``: the same number of
    keys as a plain window of half-width ``window``, spread over ``window * dilation`` positions."""
    check_int("window", window, 0)
    check_int("dilation", dilation, 1)

    def predicate(batch, head, q_idx, kv_idx):
        offset = q_idx - kv_idx
        return (offset.abs() <= window * dilation) & (offset % dilation == 0)

    return predicate


def global_tokens(count: int) -> MaskPredicate:
    """The first ``count`` positions attend everywhere and every query attends to them."""
    check_int("count", count, 0)

    def predicate(batch, head, q_idx, kv_idx):
        return (q_idx < count) | (kv_idx < count)

    return predicate


def bigbird(seq_len: int, block_size: int, window_blocks: int = 1, global_count: int = 1,
            random_blocks: int = 1, seed: int = 0) -> MaskPredicate:
    """BigBird's pattern at the level of blocks of ``block_size`` tokens.

    A query in block ``i`` sees the key blocks ``i - window_blocks .. i + window_blocks``,
    ``random_blocks`` key blocks drawn at random for block i (from ``seed``), and the
    first ``global_count`` tokens, which in turn see everything. A simplification of
    the paper's construction: the random blocks are drawn from all blocks, so they may
    fall inside the window.

    Args:
        seq_len: sequence length (fixes the number of blocks the random draw chooses from).
        block_size: tokens per block, >= 1.
        window_blocks: neighbouring blocks seen on each side, >= 0.
        global_count: number of global tokens at the start, >= 0.
        random_blocks: random key blocks per query block, >= 0.
        seed: seed of the random draw.
    """
    check_int("seq_len", seq_len, 1)
    check_int("block_size", block_size, 1)
    check_int("window_blocks", window_blocks, 0)
    check_int("random_blocks", random_blocks, 0)
    blocks = -(-seq_len // block_size)
    if random_blocks > blocks:
        raise ValueError(f"random_blocks must be <= the number of blocks ({blocks}), got {random_blocks}")
    generator = torch.Generator().manual_seed(seed)
    # (blocks, random_blocks): O(n / block_size) numbers, never an n x n table.
    chosen = torch.stack([torch.randperm(blocks, generator=generator)[:random_blocks] for _ in range(blocks)])
    is_global = global_tokens(global_count)

    def predicate(batch, head, q_idx, kv_idx):
        q_block, kv_block = q_idx // block_size, kv_idx // block_size
        near = (q_block - kv_block).abs() <= window_blocks
        table = chosen.to(q_idx.device)
        drawn = (table[q_block.clamp(max=blocks - 1)] == kv_block[..., None]).any(-1)
        return near | drawn | is_global(batch, head, q_idx, kv_idx)

    return predicate


def and_masks(*predicates: MaskPredicate) -> MaskPredicate:
    """A predicate that is True where all of ``predicates`` are."""
    if not predicates:
        raise ValueError("and_masks needs at least one predicate, got none")

    def predicate(batch, head, q_idx, kv_idx):
        result = predicates[0](batch, head, q_idx, kv_idx)
        for other in predicates[1:]:
            result = result & other(batch, head, q_idx, kv_idx)
        return result

    return predicate


def or_masks(*predicates: MaskPredicate) -> MaskPredicate:
    """A predicate that is True where any of ``predicates`` is."""
    if not predicates:
        raise ValueError("or_masks needs at least one predicate, got none")

    def predicate(batch, head, q_idx, kv_idx):
        result = predicates[0](batch, head, q_idx, kv_idx)
        for other in predicates[1:]:
            result = result | other(batch, head, q_idx, kv_idx)
        return result

    return predicate


def render_mask(predicate: MaskPredicate, n_queries: int, n_keys: int | None = None,
                device: torch.device | str | None = None) -> torch.Tensor:
    """Evaluate ``predicate`` on every (query, key) pair: the dense ``(n_queries, n_keys)``
    boolean mask (True = attend), with batch and head 0. O(n^2) memory: for plots,
    references and short sequences."""
    check_int("n_queries", n_queries, 1)
    n_keys = n_queries if n_keys is None else check_int("n_keys", n_keys, 1)
    zero = torch.zeros((), dtype=torch.long, device=device)
    q_idx = torch.arange(n_queries, device=device)[:, None]
    kv_idx = torch.arange(n_keys, device=device)[None, :]
    mask = predicate(zero, zero, q_idx, kv_idx)
    return torch.broadcast_to(mask, (n_queries, n_keys)).to(torch.bool).clone()
