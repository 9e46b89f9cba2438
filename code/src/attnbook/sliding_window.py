"""Sliding-window (local) self-attention: query i sees key j when |i - j| <= window,
or i - window <= j <= i when causal, as in Longformer's local attention
(Beltagy et al., 2020, https://arxiv.org/abs/2004.05150).

Three paths that compute the same thing:

* ``"dense"``: the reference. Builds the full ``(seq, seq)`` band mask and
  scores, O(seq^2) time and memory.
* ``"blocked"``: pure PyTorch, any device. Queries go in blocks of
  ``block_size``; each block scores only the ``block_size + 2 * window`` keys
  around it (a strided view of the padded keys), so nothing of size
  ``seq x seq`` exists: O(seq * (block_size + 2 * window)).
* ``"flex"``: ``torch.nn.attention.flex_attention`` with a block mask built
  from the same predicate, compiled on CUDA.

``"auto"`` takes ``"flex"`` on CUDA and ``"blocked"`` elsewhere.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Callable

import torch
import torch.nn.functional as F

from ._checks import check_int, check_tensor
from .softmax import masked_softmax

__all__ = ["SLIDING_WINDOW_PATHS", "sliding_window_mask", "sliding_window_attention", "default_block_size"]

SLIDING_WINDOW_PATHS = ("auto", "dense", "blocked", "flex")


def _check_window(window: object) -> int:
    if isinstance(window, bool) or not isinstance(window, int):
        raise TypeError(f"window must be an integer, got {type(window).__name__}")
    if window < 0:
        raise ValueError(f"window must be >= 0, got {window}")
    return window


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
    window = _check_window(window)
    positions = torch.arange(seq_len, device=device)
    offset = positions[:, None] - positions[None, :]  # i - j
    if causal:
        return (offset >= 0) & (offset <= window)
    return offset.abs() <= window


def default_block_size(window: int) -> int:
    """Block size of the blocked path: the window, kept between 16 and 512."""
    return min(max(_check_window(window), 16), 512)


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


def _blocked(query, key, value, window, causal, key_padding_mask, block_size):
    batch, heads, seq_len, dim = query.shape
    n_blocks = -(-seq_len // block_size)
    query_pad = n_blocks * block_size - seq_len
    left, right = window, (0 if causal else window)
    span = block_size + left + right  # keys one block of queries can see

    def windows(tensor: torch.Tensor) -> torch.Tensor:
        # (batch, heads, seq, d) -> (batch, heads, blocks, span, d), a strided view
        padded = F.pad(tensor, (0, 0, left, query_pad + right))
        return padded.unfold(2, span, block_size).transpose(-2, -1)

    query_blocks = F.pad(query, (0, 0, 0, query_pad)).view(batch, heads, n_blocks, block_size, dim)
    scores = query_blocks @ windows(key).transpose(-2, -1) / math.sqrt(dim)  # (b, h, blocks, block, span)

    # Absolute positions: query block * block_size + row; key block * block_size + column - left.
    starts = torch.arange(n_blocks, device=query.device)[:, None, None] * block_size
    query_pos = starts + torch.arange(block_size, device=query.device)[None, :, None]
    key_pos = starts + torch.arange(span, device=query.device)[None, None, :] - left
    offset = query_pos - key_pos
    visible = (offset >= 0) & (offset <= window) if causal else offset.abs() <= window
    visible = visible & (key_pos >= 0) & (key_pos < seq_len)  # (blocks, block, span)
    if key_padding_mask is not None:
        padded_keys = F.pad(key_padding_mask, (left, query_pad + right), value=False)
        key_blocks = padded_keys.unfold(1, span, block_size)  # (batch, blocks, span)
        visible = visible & key_blocks[:, None, :, None, :]
    weights = masked_softmax(scores, visible)
    context = weights @ windows(value)  # (b, h, blocks, block, dim_v)
    return context.reshape(batch, heads, n_blocks * block_size, -1)[:, :, :seq_len]


@functools.lru_cache(maxsize=32)
def _cached_block_mask(seq_len: int, window: int, causal: bool, device: str):
    from torch.nn.attention.flex_attention import create_block_mask

    return create_block_mask(_band_predicate(window, causal), None, None, seq_len, seq_len, device=device)


def _band_predicate(window: int, causal: bool) -> Callable:
    def band(batch, head, query_index, key_index):
        offset = query_index - key_index
        if causal:
            return (offset >= 0) & (offset <= window)
        return offset.abs() <= window

    return band


@functools.lru_cache(maxsize=1)
def _compiled_flex_attention():
    from torch.nn.attention.flex_attention import flex_attention

    return torch.compile(flex_attention, dynamic=False)


def _flex(query, key, value, window, causal, key_padding_mask):
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention

    seq_len = query.shape[2]
    if key_padding_mask is None:
        block_mask = _cached_block_mask(seq_len, window, causal, str(query.device))
    else:
        band = _band_predicate(window, causal)

        def band_and_real_key(batch, head, query_index, key_index):
            return band(batch, head, query_index, key_index) & key_padding_mask[batch, key_index]

        block_mask = create_block_mask(band_and_real_key, query.shape[0], None, seq_len, seq_len,
                                       device=query.device)
    if query.is_cuda:
        context = _compiled_flex_attention()(query, key, value, block_mask=block_mask)
    else:
        with warnings.catch_warnings():  # eager flex attention warns that it is unfused; it is the test path
            warnings.simplefilter("ignore", UserWarning)
            context = flex_attention(query, key, value, block_mask=block_mask)
    if key_padding_mask is not None:
        # A query whose window holds no real key gets a zero context, as on the other paths.
        width, right_pad = (window + 1, 0) if causal else (2 * window + 1, window)
        in_window = F.pad(key_padding_mask, (window, right_pad), value=False).unfold(1, width, 1)
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
    window = _check_window(window)
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
