"""Attention patterns as mask predicates, the way FlexAttention writes them
(https://pytorch.org/blog/flexattention/).

A predicate is a function ``(batch, head, q_idx, kv_idx) -> bool tensor`` that
says whether query ``q_idx`` may attend to key ``kv_idx`` (True = attend, as in
``torch.nn.functional.scaled_dot_product_attention``). It uses only tensor
operations on its index arguments, so the same predicate can be rendered as a
dense matrix (:func:`render_mask`, for plots and for SDPA), evaluated on any
broadcastable index grid, or handed to ``flex_attention``'s ``create_block_mask``.
Predicates combine with FlexAttention's own ``and_masks`` and ``or_masks``,
re-exported here.

Patterns:

* :func:`band`: the one definition of the sliding window, from which the
  package's dense, blocked and FlexAttention paths all derive;
* :func:`sliding_window`: ``|q - k| <= w`` (w is the half-width; Longformer's
  ``w`` is the whole window, ``2 w + 1`` here; Beltagy et al., 2020,
  https://arxiv.org/abs/2004.05150);
* :func:`causal_window`: ``q - w <= k <= q`` (Mistral 7B's sliding window;
  Jiang et al., 2023, https://arxiv.org/abs/2310.06825);
* :func:`dilated_window`: every ``d``-th key within ``w`` steps of ``d``
  (Longformer's dilated sliding window);
* :func:`global_tokens`: a few positions attend to every position and are
  attended by every position (Longformer's global attention);
* :func:`sink_window`: the causal window plus the first ``sinks`` keys, which every
  query keeps seeing (StreamingLLM's attention sinks; Xiao et al., 2023,
  https://arxiv.org/abs/2309.17453), the pattern of a rolling KV cache that keeps its
  first tokens;
* :func:`bigbird`: BigBird's block pattern, a window of blocks, global tokens
  and a few random key blocks per query block (Zaheer et al., 2020,
  https://arxiv.org/abs/2007.14062).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch.nn.attention.flex_attention import and_masks, create_mask, or_masks

from .._checks import check_int

__all__ = ["MaskPredicate", "check_window", "band_offsets", "band", "sliding_window", "causal_window",
           "dilated_window", "global_tokens", "sink_window", "bigbird", "and_masks", "or_masks", "render_mask"]

#: The type of a mask predicate: ``(batch, head, q_idx, kv_idx) -> bool tensor`` (True: attend).
MaskPredicate = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def check_window(window: object, minimum: int = 0, name: str = "window") -> int:
    """Return ``window`` if it is an integer (not a bool) >= ``minimum``.

    Every function of the package that takes a window checks it here, so a bad
    window raises the same error wherever it is passed.

    Args:
        window: the value to check.
        minimum: the smallest window allowed.
        name: the argument's name in the message.

    Raises:
        TypeError: ``window`` is not an ``int`` (a float such as 1.5, a bool, a tensor).
        ValueError: ``window`` is an ``int`` below ``minimum``.
    """
    allowed = f"{name} must be an integer >= {minimum}"
    if isinstance(window, bool) or not isinstance(window, int):
        raise TypeError(f"{allowed}, got {window!r} of type {type(window).__name__}")
    if window < minimum:
        raise ValueError(f"{allowed}, got {window!r}")
    return window


def band_offsets(window: int, causal: bool = False) -> tuple[int, int]:
    """The offsets ``q - k`` the band allows, ``(lowest, highest)``.

    Args:
        window: how far a query looks each way (only back when causal), >= 0.
        causal: see only the past and the present.

    Returns:
        ``(-window, window)``, or ``(0, window)`` when causal.
    """
    check_window(window)
    return (0 if causal else -window), window


def band(window: int, causal: bool = False) -> MaskPredicate:
    """The sliding window: query q sees key k when ``|q - k| <= window``, or when
    ``0 <= q - k <= window`` if causal.

    Args:
        window: how far a query looks each way (only back when causal), >= 0.
        causal: see only the past and the present.

    Returns:
        A predicate on broadcastable index tensors, e.g. ``q_idx`` of shape ``(n, 1)`` and
        ``kv_idx`` of shape ``(1, n)``; batch and head are not used. The indices may be of
        any integer or floating dtype (a window around a real-valued centre).
    """
    lowest, highest = band_offsets(window, causal)

    def predicate(batch: torch.Tensor, head: torch.Tensor, q_idx: torch.Tensor,
                  kv_idx: torch.Tensor) -> torch.Tensor:
        offset = q_idx - kv_idx
        return (offset >= lowest) & (offset <= highest)

    return predicate


def sliding_window(window: int) -> MaskPredicate:
    """Query q sees key k when ``|q - k| <= window`` (``2 window + 1`` keys at most)."""
    return band(window)


def causal_window(window: int) -> MaskPredicate:
    """Query q sees key k when ``q - window <= k <= q`` (``window + 1`` keys at most)."""
    return band(window, causal=True)


def dilated_window(window: int, dilation: int) -> MaskPredicate:
    """Query q sees keys ``q + i * dilation`` for ``|i| <= window``: the same number of
    keys as a plain window of half-width ``window``, spread over ``window * dilation`` positions."""
    check_window(window)
    check_int("dilation", dilation, 1)
    near = band(window * dilation)

    def predicate(batch: torch.Tensor, head: torch.Tensor, q_idx: torch.Tensor,
                  kv_idx: torch.Tensor) -> torch.Tensor:
        return near(batch, head, q_idx, kv_idx) & ((q_idx - kv_idx) % dilation == 0)

    return predicate


def global_tokens(count: int) -> MaskPredicate:
    """The first ``count`` positions attend everywhere and every query attends to them."""
    check_int("count", count, 0)

    def predicate(batch: torch.Tensor, head: torch.Tensor, q_idx: torch.Tensor,
                  kv_idx: torch.Tensor) -> torch.Tensor:
        return (q_idx < count) | (kv_idx < count)

    return predicate


def sink_window(window: int, sinks: int) -> MaskPredicate:
    """The causal window plus attention sinks: query q sees key k when ``0 <= q - k <= window``
    (the band) or when ``k < sinks`` and ``k <= q`` (one of the first ``sinks`` positions).

    This is the pattern that StreamingLLM decodes with (Xiao et al., 2023, "Efficient
    Streaming Language Models with Attention Sinks", https://arxiv.org/abs/2309.17453):
    a model trained with full attention puts much of its attention on the first tokens,
    so a rolling cache keeps them beside the last ``window + 1``
    (:class:`attnbook.local.RollingKVCache` with ``sinks=``). With ``sinks=0`` it is
    :func:`causal_window`. Unlike :func:`global_tokens`, the sinks do not see the future.

    Args:
        window: half-width w of the causal band, >= 0.
        sinks: how many first positions every query keeps, >= 0.

    Returns:
        A predicate on broadcastable index tensors; at most ``sinks + window + 1`` keys per query.
    """
    near = band(window, causal=True)
    sinks = check_window(sinks, name="sinks")

    def predicate(batch: torch.Tensor, head: torch.Tensor, q_idx: torch.Tensor,
                  kv_idx: torch.Tensor) -> torch.Tensor:
        return near(batch, head, q_idx, kv_idx) | ((kv_idx < sinks) & (kv_idx <= q_idx))

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
    near_blocks = band(check_window(window_blocks, name="window_blocks"))
    check_int("random_blocks", random_blocks, 0)
    blocks = -(-seq_len // block_size)
    if random_blocks > blocks:
        raise ValueError(f"random_blocks must be <= the number of blocks ({blocks}), got {random_blocks}")
    generator = torch.Generator().manual_seed(seed)
    # (blocks, random_blocks): O(n / block_size) numbers, never an n x n table.
    chosen = torch.stack([torch.randperm(blocks, generator=generator)[:random_blocks] for _ in range(blocks)])
    is_global = global_tokens(global_count)

    def predicate(batch: torch.Tensor, head: torch.Tensor, q_idx: torch.Tensor,
                  kv_idx: torch.Tensor) -> torch.Tensor:
        q_block, kv_block = q_idx // block_size, kv_idx // block_size
        near = near_blocks(batch, head, q_block, kv_block)
        table = chosen.to(q_idx.device)
        drawn = (table[q_block.clamp(max=blocks - 1)] == kv_block[..., None]).any(-1)
        return near | drawn | is_global(batch, head, q_idx, kv_idx)

    return predicate


def render_mask(predicate: MaskPredicate, n_queries: int, n_keys: int | None = None,
                device: torch.device | str | None = None) -> torch.Tensor:
    """Evaluate ``predicate`` on every (query, key) pair with FlexAttention's ``create_mask``.

    O(n^2) memory: for plots, references and short sequences.

    Args:
        predicate: the mask predicate.
        n_queries: number of queries, >= 1.
        n_keys: number of keys, >= 1; ``n_queries`` by default.
        device: where to build the mask; the CPU by default.

    Returns:
        The boolean ``(n_queries, n_keys)`` mask (True = attend), for batch and head 0.
    """
    check_int("n_queries", n_queries, 1)
    n_keys = n_queries if n_keys is None else check_int("n_keys", n_keys, 1)
    return create_mask(predicate, None, None, n_queries, n_keys, device="cpu" if device is None else device)[0, 0]
