"""Sliding-window (local) self-attention: query i sees key j when |i - j| <= window,
or i - window <= j <= i when causal, as in Longformer's local attention
(Beltagy et al., 2020, https://arxiv.org/abs/2004.05150).

Three paths that compute the same thing, all from the one band predicate
:func:`attnbook.local.masks.band`:

* ``"dense"``: the reference. Evaluates the predicate on all ``(seq, seq)``
  pairs (:func:`sliding_window_mask`) and builds the full scores, O(seq^2)
  time and memory.
* ``"blocked"``: pure PyTorch, any device. Queries go in blocks of
  ``block_size``; each block attends to only the ``block_size + 2 * window``
  keys around it, through ``F.scaled_dot_product_attention`` with a small
  ``(block_size, span)`` boolean mask (the predicate evaluated on the block's
  query and key positions), so a fused kernel does the work and
  nothing of size ``seq x seq`` exists: O(seq * (block_size + 2 * window))
  time and at most that much memory. Its forward pass never synchronises the
  host with the device (no value-dependent Python branch), so it runs under
  ``torch.compile(fullgraph=True)`` without a graph break.
* ``"flex"``: ``torch.nn.attention.flex_attention`` (compiled on CUDA) with the
  predicate as its ``mask_mod`` and a block mask built from the band's block
  structure, never from a dense ``seq x seq`` mask (:func:`band_block_mask`).

``"auto"`` takes ``"flex"`` on CUDA and ``"blocked"`` elsewhere.
"""

from __future__ import annotations

import functools
import math
import warnings

import torch
import torch.nn.functional as F

from .._checks import check_int, check_tensor
from ..core.softmax import masked_softmax
from .masks import MaskPredicate, band, band_offsets, check_window

__all__ = [
    "SLIDING_WINDOW_PATHS",
    "FLEX_BLOCK_SIZE",
    "band_block_mask",
    "default_block_size",
    "sliding_window_attention",
    "sliding_window_mask",
]

#: The values of ``sliding_window_attention(path=...)`` (see the module docstring).
SLIDING_WINDOW_PATHS = ("auto", "dense", "blocked", "flex")


def sliding_window_mask(seq_len: int, window: int, causal: bool = False,
                        device: torch.device | str | None = None) -> torch.Tensor:
    """The dense band mask: ``mask[i, j]`` is True when query i may see key j.

    Args:
        seq_len: sequence length.
        window: how far a query looks each way (only back when causal), >= 0.
        causal: see only the past and the present.
        device: where to build the mask.

    Returns:
        A boolean ``(seq_len, seq_len)`` tensor.
    """
    predicate = band(window, causal)
    positions = torch.arange(seq_len, device=device)
    zero = positions.new_zeros(())  # batch and head, which the band does not use
    return predicate(zero, zero, positions[:, None], positions[None, :])


def default_block_size(window: int) -> int:
    """Block size of the blocked path: the window, kept between 16 and 512."""
    return min(max(check_window(window), 16), 512)


def _check_inputs(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                  key_padding_mask: torch.Tensor | None) -> None:
    for name, tensor in (("query", query), ("key", key), ("value", value)):
        check_tensor(name, tensor, min_ndim=4)
        if tensor.ndim != 4:
            raise ValueError(f"{name} must have shape (batch, heads, seq, dim), got {tuple(tensor.shape)}")
    if not (query.shape[:3] == key.shape[:3] == value.shape[:3]):
        raise ValueError(
            "query, key and value must share (batch, heads, seq) in self-attention, got "
            f"{tuple(query.shape)}, {tuple(key.shape)} and {tuple(value.shape)}"
        )
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(f"query and key must have the same dim, got {query.shape[-1]} and {key.shape[-1]}")
    if key_padding_mask is not None:
        if not isinstance(key_padding_mask, torch.Tensor) or key_padding_mask.dtype != torch.bool:
            raise TypeError("key_padding_mask must be a boolean tensor (True = a real key), got "
                            f"{getattr(key_padding_mask, 'dtype', type(key_padding_mask).__name__)}")
        expected = (query.shape[0], query.shape[2])
        if tuple(key_padding_mask.shape) != expected:
            raise ValueError(f"key_padding_mask must have shape (batch, seq) = {expected}, "
                             f"got {tuple(key_padding_mask.shape)}")


def _dense(query, key, value, window, causal, key_padding_mask):
    mask = sliding_window_mask(query.shape[2], window, causal, device=query.device)
    if key_padding_mask is not None:
        mask = mask & key_padding_mask[:, None, None, :]
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])
    return masked_softmax(scores, mask) @ value


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def _blocked(query, key, value, window, causal, key_padding_mask, block_size):
    batch, heads, seq_len, dim = query.shape
    n_blocks = -(-seq_len // block_size)
    query_pad = n_blocks * block_size - seq_len
    lowest, left = band_offsets(window, causal)  # query i sees keys i - left .. i - lowest
    # Keys one block of queries can see, rounded up to a multiple of 8 so that the
    # fused kernels' alignment rules for the mask hold; the extra keys are masked.
    span = _round_up(block_size + left - lowest, 8)
    right = span - block_size - left

    def to_blocks(tensor: torch.Tensor, width: int, pad_left: int, pad_right: int) -> torch.Tensor:
        # (batch, heads, seq, d) -> (batch * blocks, heads, width, d): block b holds
        # positions b * block_size - pad_left ... b * block_size - pad_left + width - 1.
        padded = F.pad(tensor, (0, 0, pad_left, pad_right))
        windows = padded.unfold(2, width, block_size)  # (batch, heads, blocks, d, width)
        return windows.permute(0, 2, 1, 4, 3).reshape(batch * n_blocks, heads, width, tensor.shape[-1])

    query_blocks = to_blocks(query, block_size, 0, query_pad)
    key_blocks, value_blocks = (to_blocks(t, span, left, query_pad + right) for t in (key, value))

    # Absolute positions: query block * block_size + row; key block * block_size + column - left.
    starts = torch.arange(n_blocks, device=query.device)[:, None, None] * block_size
    query_pos = starts + torch.arange(block_size, device=query.device)[None, :, None]
    key_pos = starts + torch.arange(span, device=query.device)[None, None, :] - left
    zero = starts.new_zeros(())  # batch and head, which the band does not use
    visible = band(window, causal)(zero, zero, query_pos, key_pos)
    visible = visible & (key_pos >= 0) & (key_pos < seq_len)  # (blocks, block, span)
    # Padding queries past the end see every key, so that no row of the fused
    # kernel is fully masked (their outputs are cut off below).
    visible = visible | (query_pos >= seq_len)
    has_key = None
    if key_padding_mask is not None:
        real = F.pad(key_padding_mask, (left, query_pad + right), value=False).unfold(1, span, block_size)
        visible = visible & real[:, :, None, :]  # (batch, blocks, block, span)
        has_key = visible.any(-1, keepdim=True)
        # A query with no real key in its window attends to all of it (finite), then gets zero.
        visible = visible | ~has_key
    mask = visible.expand(batch, n_blocks, block_size, span).reshape(batch * n_blocks, 1, block_size, span)
    context = F.scaled_dot_product_attention(query_blocks, key_blocks, value_blocks, attn_mask=mask)
    if has_key is not None:
        context = context * has_key.reshape(batch * n_blocks, 1, block_size, 1).to(context.dtype)
    dim_v = value.shape[-1]
    context = context.view(batch, n_blocks, heads, block_size, dim_v).transpose(1, 2)
    return context.reshape(batch, heads, n_blocks * block_size, dim_v)[:, :, :seq_len]


#: The block size of :func:`band_block_mask`'s ``BlockMask``: FlexAttention's default sparse block size.
FLEX_BLOCK_SIZE = 128


def _band_blocks(seq_len: int, window: int, causal: bool, block: int, device: torch.device | str):
    """Which (query block, key block) tiles of the band hold some or all allowed pairs.

    A tile covers queries q0..q1 and keys k0..k1, so ``i - j`` takes every integer in
    ``[q0 - k1, q1 - k0]``: the tile holds an allowed pair when that interval meets
    the band's offsets ``[-window, window]`` (``[0, window]`` when causal), and only
    allowed pairs when it lies inside them and the tile is not cut by the sequence's end.
    Costs O((seq / block)^2), not O(seq^2).
    """
    n_blocks = -(-seq_len // block)
    first = torch.arange(n_blocks, device=device) * block
    last = torch.clamp(first + block, max=seq_len) - 1
    low = first[:, None] - last[None, :]  # smallest i - j in each tile
    high = last[:, None] - first[None, :]  # largest i - j
    band_low, band_high = band_offsets(window, causal)
    some = (low <= band_high) & (high >= band_low)
    whole = (last - first + 1) == block
    full = (low >= band_low) & (high <= band_high) & whole[:, None] & whole[None, :]
    return some & ~full, full


def _ordered(dense: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    # As FlexAttention stores blocks: per query block, the count and the key-block
    # indices, the used ones first in increasing order.
    dense = dense.to(torch.int32)
    indices = torch.argsort(dense, dim=-1, descending=True, stable=True)
    return dense.sum(-1).to(torch.int32)[None, None], indices.to(torch.int32)[None, None]


@functools.lru_cache(maxsize=32)
def _band_block_structure(seq_len: int, window: int, causal: bool, device: str):
    partial, full = _band_blocks(seq_len, window, causal, FLEX_BLOCK_SIZE, device)
    return _ordered(partial) + _ordered(full) + _ordered(partial | full)


def band_block_mask(seq_len: int, window: int, causal: bool = False,
                    device: torch.device | str = "cpu", mask_mod: MaskPredicate | None = None):
    """FlexAttention's ``BlockMask`` for the band, built from its block structure.

    ``create_block_mask`` evaluates the predicate on all ``seq x seq`` pairs,
    materialising tensors of that size. Here the tiles that hold some or all
    allowed pairs are found from their corners, O((seq / 128)^2), and cached per
    ``(seq_len, window, causal, device)``; the result equals
    ``create_block_mask(band, None, None, seq_len, seq_len)``.

    Args:
        seq_len: sequence length, >= 1.
        window: how far a query looks each way (only back when causal), >= 0.
        causal: see only the past and the present.
        device: where the block tensors live.
        mask_mod: the element-wise predicate FlexAttention applies inside the
            tiles; the band's own (:func:`attnbook.local.masks.band`) by default.
            A finer predicate (the band and a padding mask) may be given: every
            tile then counts as partial, so the predicate is evaluated in all of them.

    Returns:
        A ``torch.nn.attention.flex_attention.BlockMask`` of shape ``(1, 1, seq_len, seq_len)``.
    """
    from torch.nn.attention.flex_attention import BlockMask

    window = check_window(window)
    check_int("seq_len", seq_len, 1)
    (partial_count, partial_index, full_count, full_index,
     touched_count, touched_index) = _band_block_structure(seq_len, window, causal, str(torch.device(device)))
    if mask_mod is None:
        return BlockMask.from_kv_blocks(partial_count, partial_index, full_count, full_index,
                                        BLOCK_SIZE=FLEX_BLOCK_SIZE, mask_mod=band(window, causal),
                                        seq_lengths=(seq_len, seq_len))
    # Every touched tile counts as partial, so the finer predicate is applied in all of them.
    return BlockMask.from_kv_blocks(touched_count, touched_index, BLOCK_SIZE=FLEX_BLOCK_SIZE, mask_mod=mask_mod,
                                    seq_lengths=(seq_len, seq_len))


@functools.lru_cache(maxsize=1)
def _compiled_flex_attention():
    from torch.nn.attention.flex_attention import flex_attention

    return torch.compile(flex_attention, dynamic=False)


def _flex(query, key, value, window, causal, key_padding_mask):
    from torch.nn.attention.flex_attention import flex_attention

    seq_len = query.shape[2]
    if key_padding_mask is None:
        block_mask = band_block_mask(seq_len, window, causal, query.device)
    else:
        in_band = band(window, causal)

        def band_and_real_key(batch, head, query_index, key_index):
            return in_band(batch, head, query_index, key_index) & key_padding_mask[batch, key_index]

        block_mask = band_block_mask(seq_len, window, causal, query.device, mask_mod=band_and_real_key)
    if query.is_cuda:
        context = _compiled_flex_attention()(query, key, value, block_mask=block_mask)
    else:
        with warnings.catch_warnings():  # eager flex attention warns that it is unfused; it is the test path
            warnings.simplefilter("ignore", UserWarning)
            context = flex_attention(query, key, value, block_mask=block_mask)
    if key_padding_mask is not None:
        # A query whose window holds no real key gets a zero context, as on the other paths.
        lowest, highest = band_offsets(window, causal)  # query i sees keys i - highest .. i - lowest
        in_window = F.pad(key_padding_mask, (highest, -lowest), value=False).unfold(1, highest - lowest + 1, 1)
        has_key = in_window.any(-1)  # (batch, seq)
        context = context * has_key[:, None, :, None]
    return context


def sliding_window_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    window: int,
    causal: bool = False,
    key_padding_mask: torch.Tensor | None = None,
    path: str = "auto",
    block_size: int | None = None,
) -> torch.Tensor:
    """Scaled-dot self-attention in which each query sees only the keys near it.

    Args:
        query: ``(batch, heads, seq, dim)``.
        key: ``(batch, heads, seq, dim)``.
        value: ``(batch, heads, seq, dim_v)``.
        window: query i sees key j when ``|i - j| <= window`` (``0 <= i - j <= window``
            when causal); an integer >= 0.
        causal: see only the past and the present.
        key_padding_mask: optional boolean ``(batch, seq)``, True for real keys.
            A query whose window holds no real key gets a zero context.
        path: ``"auto"``, ``"dense"``, ``"blocked"`` or ``"flex"`` (see the module docstring).
        block_size: queries per block of the blocked path; default :func:`default_block_size`.

    Returns:
        The context, ``(batch, heads, seq, dim_v)``.
    """
    window = check_window(window)
    if path not in SLIDING_WINDOW_PATHS:
        raise ValueError(f"path must be one of {SLIDING_WINDOW_PATHS}, got {path!r}")
    _check_inputs(query, key, value, key_padding_mask)
    if block_size is None:
        block_size = default_block_size(window)
    else:
        check_int("block_size", block_size, 1)
    if path == "auto":
        path = "flex" if query.is_cuda else "blocked"
    if path == "dense":
        return _dense(query, key, value, window, causal, key_padding_mask)
    if path == "blocked":
        return _blocked(query, key, value, window, causal, key_padding_mask, block_size)
    return _flex(query, key, value, window, causal, key_padding_mask)
