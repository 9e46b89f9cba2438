"""Sliding-window (local) self-attention: query i sees key j when |i - j| <= window,
or i - window <= j <= i when causal, as in Longformer's local attention
(Beltagy et al., 2020, https://arxiv.org/abs/2004.05150).

Three paths that compute the same thing, all from the one band predicate
:func:`attnbook.local.masks.band`:

* ``"dense"``: the reference. Evaluates the predicate on all ``(seq, seq)``
  pairs (:func:`sliding_window_mask`) and builds the full scores, O(seq^2)
  time and memory.
* ``"blocked"``: pure PyTorch, any device. Queries go in blocks of
  ``block_size`` (:func:`default_block_size`: 128, whatever the window); each
  block attends to only the ``span`` keys around it, ``block_size + 2 * window``
  (``block_size + window`` when causal) rounded up to a multiple of 8, through
  ``F.scaled_dot_product_attention``, so a fused kernel does the work and
  nothing of size ``seq x seq`` exists. The query, key and value windows are
  strided views of the inputs (``unfold``), not copies: SDPA's batch is
  ``batch * heads`` and its heads are the blocks. The band's masks are built
  once per ``(seq, window, causal, block_size, device, dtype)`` from int32
  positions and cached, as booleans and as SDPA's additive form in the
  queries' dtype: the interior blocks, whose windows lie inside the sequence,
  share one ``(block_size, span)`` mask, and the few blocks at either end get
  their own; each run of blocks is one SDPA call. So the forward pass
  allocates the runs' contexts, one copy that joins them and small buffers at
  the ends: about twice the output, where fused full attention allocates it
  once. A padding mask differs per sequence: it is combined with the band on
  each call (O(batch * seq * span) booleans; SDPA's batch is then
  ``batch * blocks`` and the windows are copies when ``batch > 1``). The
  backward pass stores each window's key and value gradients before summing
  them, ``span / block_size`` times the keys' size. Time O(seq * span). The
  forward pass never synchronises the host with the device (no value-dependent
  Python branch), so it runs under ``torch.compile(fullgraph=True)`` without a
  graph break; there the masks are built inside the graph, not read from the cache.
* ``"flex"``: ``torch.nn.attention.flex_attention`` (compiled on CUDA) with the
  predicate as its ``mask_mod`` and a block mask built from the band's block
  structure, never from a dense ``seq x seq`` mask (:func:`band_block_mask`).

``"auto"`` takes ``"flex"`` on CUDA and ``"blocked"`` elsewhere.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import NamedTuple

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


#: Queries per block of the blocked path, by device type (see :func:`default_block_size`).
_BLOCK_SIZES = {"cpu": 128, "cuda": 128}


def default_block_size(window: int, device: torch.device | str | None = None) -> int:
    """Queries per block of the blocked path: a constant of the hardware, not of the window.

    A block of ``B`` queries attends to ``B + 2 * window`` keys (``B + window`` when causal):
    a large block computes more scores outside the band, a small one hands the fused kernel
    many small problems and, in the backward pass, more overlapping key windows (each
    window's key and value gradients are stored before they are summed). On the CPU 128 was
    chosen by measurement (``benchmarks/sliding_window.py --heads 8 --sizes 8192 --windows
    64 512 --methods blocked:64 blocked:128 blocked:256 blocked:window --rounds 9``, stored as
    ``sliding_window_block_size_cpu``; float32, batch 1, 8 heads, dim 64, 2 threads of an AMD
    EPYC; medians of 9 interleaved rounds in ms, and the training step's peak tensor memory
    in MiB):

    ============  ========  ==========  =========  ===========  ==========
    block         fwd w=64  train w=64  fwd w=512  train w=512  MiB w=512
    ============  ========  ==========  =========  ===========  ==========
    64            35        179         153        1127         561
    128           41        169         167        764          337
    256           53        212         161        727          225
    w (old rule)  35        175         195        731          169
    ============  ========  ==========  =========  ===========  ==========

    128 has the smallest worst case, at most 1.17x the fastest block of a column (forward
    at w = 64); 64 is 1.55x slower to train at w = 512, 256 1.52x slower forward at w = 64,
    and the old rule (the window, clamped to 16..512) 1.27x slower forward at w = 512. The
    forward pass allocates the same at every block size (32 MiB here). On CUDA 128 is
    FlexAttention's tile size; it has not been measured there.

    Args:
        window: how far a query looks each way (only back when causal), >= 0; checked,
            though the block size does not depend on it.
        device: the device the attention runs on; None: the CPU.

    Returns:
        The block size for the device's type (the CPU's for a type not measured).
    """
    check_window(window)
    device_type = "cpu" if device is None else torch.device(device).type
    return _BLOCK_SIZES.get(device_type, _BLOCK_SIZES["cpu"])


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


class _BlockPlan(NamedTuple):
    """How the blocked path cuts a sequence, and the band's masks for each run of blocks.

    Block ``b`` holds queries ``b * block_size .. b * block_size + block_size - 1`` and
    attends to the ``span`` keys from ``b * block_size - left``. ``runs`` are the blocks
    before the interior (their windows start before the sequence), the interior (every
    key of every window inside the sequence: one mask serves them all) and the blocks
    after it, each as ``(first block, number of blocks, visible, bias)``: ``visible`` the
    boolean mask, of shape ``(blocks or 1, block_size, span)``, and ``bias`` the same as
    SDPA's additive mask in the queries' dtype (0 where visible, -inf elsewhere), which SDPA
    would otherwise make from the booleans on every call. Empty runs are left out.
    """

    left: int
    span: int
    runs: tuple[tuple[int, int, torch.Tensor, torch.Tensor], ...]


def _build_block_plan(seq_len: int, window: int, causal: bool, block_size: int,
                      device: torch.device | str, dtype: torch.dtype) -> _BlockPlan:
    lowest, left = band_offsets(window, causal)  # query i sees keys i - left .. i - lowest
    # Keys one block of queries can see, rounded up to a multiple of 8 so that the
    # fused kernels' alignment rules for the mask hold; the extra keys are masked.
    span = _round_up(block_size + left - lowest, 8)
    n_blocks = -(-seq_len // block_size)
    before = min(-(-left // block_size), n_blocks)  # blocks whose window starts before key 0
    # Interior blocks b >= before end their window by the last key: b * block_size - left + span <= seq_len.
    interior = max(min((seq_len + left - span) // block_size + 1, n_blocks) - before, 0)
    after = n_blocks - before - interior
    in_band = band(window, causal)

    def mask(first: int, count: int) -> torch.Tensor:
        # int32 positions, bool results: query block * block_size + row, key block * block_size + column - left.
        starts = torch.arange(first, first + count, dtype=torch.int32, device=device)[:, None, None] * block_size
        query = starts + torch.arange(block_size, dtype=torch.int32, device=device)[None, :, None]
        key = starts + torch.arange(span, dtype=torch.int32, device=device)[None, None, :] - left
        zero = starts.new_zeros(())  # batch and head, which the band does not use
        visible = in_band(zero, zero, query, key) & (key >= 0) & (key < seq_len)
        # Padding queries past the end see every key, so that no row of the fused
        # kernel is fully masked (their outputs are cut off).
        return visible | (query >= seq_len)  # (count, block_size, span)

    runs = []
    # (first block, blocks, blocks with a mask of their own): every interior block has the first one's mask
    for first, count, masks in ((0, before, before), (before, interior, 1), (before + interior, after, after)):
        if count:
            visible = mask(first, masks)
            bias = torch.zeros(visible.shape, dtype=dtype, device=device).masked_fill_(~visible, -math.inf)
            runs.append((first, count, visible, bias))
    return _BlockPlan(left, span, tuple(runs))


@functools.lru_cache(maxsize=64)
def _cached_block_plan(seq_len: int, window: int, causal: bool, block_size: int, device: str,
                       dtype: torch.dtype) -> _BlockPlan:
    # A tensor made under torch.inference_mode could not be saved for a later backward pass.
    with torch.inference_mode(False):
        return _build_block_plan(seq_len, window, causal, block_size, device, dtype)


def _block_plan(seq_len: int, window: int, causal: bool, block_size: int, device: torch.device,
                dtype: torch.dtype) -> _BlockPlan:
    """The plan of the blocked path, built once per ``(seq_len, window, causal, block_size, device, dtype)``.

    Under ``torch.compile`` it is built inside the graph instead (a few small integer
    ops): the compiler traces through a cache rather than reading it.
    """
    if torch.compiler.is_compiling():
        return _build_block_plan(seq_len, window, causal, block_size, device, dtype)
    return _cached_block_plan(seq_len, window, causal, block_size, str(device), dtype)


def _windows(tensor: torch.Tensor, dim: int, start: int, count: int, width: int, step: int) -> torch.Tensor:
    """Positions ``start + b * step .. start + b * step + width - 1`` along ``dim``, for ``b < count``,
    zero (False) outside the sequence. A view of ``tensor`` when every window lies inside it;
    ``dim`` becomes the ``count`` windows and a last dimension of size ``width`` is added."""
    length = tensor.shape[dim]
    stop = start + (count - 1) * step + width
    piece = tensor.narrow(dim, max(start, 0), min(stop, length) - max(start, 0))
    if start < 0 or stop > length:
        piece = F.pad(piece, [0, 0] * (tensor.ndim - 1 - dim) + [max(-start, 0), max(stop - length, 0)])
    return piece.unfold(dim, width, step)


def _attend_run(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, key_padding_mask: torch.Tensor | None,
                plan: _BlockPlan, block_size: int, first: int, count: int, visible: torch.Tensor,
                bias: torch.Tensor) -> torch.Tensor:
    """One fused SDPA call for ``count`` blocks from block ``first``: ``(batch, heads, count, block_size, dim_v)``."""
    batch, heads = query.shape[:2]
    # Without a padding mask the band is the same for every sequence and head: SDPA's batch is
    # batch * heads and its heads are the blocks, so one mask broadcasts over all of them and
    # the key windows are views of the key tensor. A padding mask differs per sequence but not
    # per head: then SDPA's batch is batch * blocks and its heads are the heads (the windows
    # are views when batch == 1, copies otherwise).
    heads_first = key_padding_mask is None

    def to_sdpa(windows: torch.Tensor) -> torch.Tensor:
        # (batch, heads, count, dim, width) -> (batch * heads, count, width, dim) or (batch * count, heads, width, dim)
        windows = windows.transpose(-1, -2)
        return (windows if heads_first else windows.transpose(1, 2)).flatten(0, 1)

    start = first * block_size
    query_blocks = to_sdpa(_windows(query, 2, start, count, block_size, block_size))
    key_blocks, value_blocks = (to_sdpa(_windows(t, 2, start - plan.left, count, plan.span, block_size))
                                for t in (key, value))
    if heads_first:
        # bias[None]: (1, count or 1, block, span), broadcast over batch * heads
        context = F.scaled_dot_product_attention(query_blocks, key_blocks, value_blocks, attn_mask=bias[None])
        return context.unflatten(0, (batch, heads))
    real = _windows(key_padding_mask, 1, start - plan.left, count, plan.span, block_size)  # (batch, count, span)
    visible = visible & real[:, :, None, :]  # (batch, count, block, span)
    has_key = visible.any(-1, keepdim=True)
    # A query with no real key in its window attends to all of it (finite), then gets zero.
    visible = visible | ~has_key
    mask = visible.reshape(batch * count, 1, block_size, plan.span)
    context = F.scaled_dot_product_attention(query_blocks, key_blocks, value_blocks, attn_mask=mask)
    context = context * has_key.reshape(batch * count, 1, block_size, 1).to(context.dtype)
    return context.unflatten(0, (batch, count)).transpose(1, 2)


def _blocked(query, key, value, window, causal, key_padding_mask, block_size):
    seq_len = query.shape[2]
    plan = _block_plan(seq_len, window, causal, block_size, query.device, query.dtype)
    contexts = [_attend_run(query, key, value, key_padding_mask, plan, block_size, *run) for run in plan.runs]
    # The runs' contexts, (batch, heads, blocks, block, dim_v) each, joined by one copy.
    context = contexts[0] if len(contexts) == 1 else torch.cat(contexts, dim=2)
    return context.flatten(2, 3)[:, :, :seq_len]


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
        block_size = default_block_size(window, query.device)
    else:
        check_int("block_size", block_size, 1)
    if path == "auto":
        path = "flex" if query.is_cuda else "blocked"
    if path == "dense":
        return _dense(query, key, value, window, causal, key_padding_mask)
    if path == "blocked":
        return _blocked(query, key, value, window, causal, key_padding_mask, block_size)
    return _flex(query, key, value, window, causal, key_padding_mask)
