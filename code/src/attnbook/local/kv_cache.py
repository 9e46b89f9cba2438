"""Causal sliding-window decoding with a rolling key-value cache, as in Mistral 7B
(Jiang et al., 2023, https://arxiv.org/abs/2310.06825).

With a causal window of half-width w, the query at position t sees keys
``t - w .. t``. When decoding token by token, keys older than ``t - w`` are never
needed again, so a cache of ``w + 1`` slots suffices: the key and value of
position t go to slot ``t mod (w + 1)``, overwriting position ``t - w - 1``.
Memory stays fixed however long the sequence grows. The slots are not in
position order, which does not matter: attention is a weighted sum over a set of
keys (positional information, such as rotary embeddings, is applied to the keys
before they are cached).

Attention sinks (Xiao et al., 2023, "Efficient Streaming Language Models with
Attention Sinks", https://arxiv.org/abs/2309.17453): a model trained with full
attention puts a large share of its attention on the first tokens, whatever they
hold. When they leave a ``w + 1`` cache that mass moves onto the window and the
model's predictions degrade. With ``sinks=k`` the cache keeps the first k
positions in k slots of their own, forever, beside the rolling ``w + 1``: memory
``k + w + 1`` slots, and the pattern is :func:`attnbook.local.sink_window`.
"""

from __future__ import annotations

import math

import torch

from .._checks import check_int, check_tensor
from ..core.softmax import masked_softmax
from .masks import check_window

__all__ = ["RollingKVCache", "decode_causal_window"]


class RollingKVCache:
    """A fixed-size cache of the last ``window + 1`` keys and values, and of the first
    ``sinks`` ones (attention sinks, Xiao et al., 2023).

    Position t < sinks goes to slot t and stays there; a later position t goes to slot
    ``sinks + (t - sinks) mod (window + 1)``, overwriting the position ``window + 1``
    before it. The query at t therefore sees the keys ``t - window .. t`` and
    ``0 .. sinks - 1``, the pattern of :func:`attnbook.local.sink_window`.

    Args:
        window: half-width w of the causal window (query t sees keys t - w .. t), >= 0.
        batch: batch size.
        heads: number of heads.
        key_dim: size of each key.
        value_dim: size of each value (default ``key_dim``).
        device: where the cache lives.
        dtype: dtype of the cache.
        sinks: how many first positions to keep for ever, >= 0 (StreamingLLM keeps 4).
    """

    def __init__(self, window: int, batch: int, heads: int, key_dim: int, value_dim: int | None = None,
                 device: torch.device | str | None = None, dtype: torch.dtype = torch.float32,
                 sinks: int = 0) -> None:
        self.window = check_window(window)
        self.sinks = check_window(sinks, name="sinks")
        for name, value in (("batch", batch), ("heads", heads), ("key_dim", key_dim)):
            check_int(name, value, 1)
        value_dim = key_dim if value_dim is None else check_int("value_dim", value_dim, 1)
        self.slots = sinks + window + 1
        self.keys = torch.zeros(batch, heads, self.slots, key_dim, device=device, dtype=dtype)
        self.values = torch.zeros(batch, heads, self.slots, value_dim, device=device, dtype=dtype)
        self.positions = torch.full((self.slots,), -1, dtype=torch.long, device=device)  # -1: empty slot
        self.length = 0  # tokens seen so far

    def append(self, key: torch.Tensor, value: torch.Tensor) -> None:
        """Store the key and value of the next position, ``(batch, heads, dim)`` each."""
        if key.shape != self.keys[:, :, 0].shape or value.shape != self.values[:, :, 0].shape:
            raise ValueError(f"key and value must have shapes {tuple(self.keys[:, :, 0].shape)} and "
                             f"{tuple(self.values[:, :, 0].shape)}, got {tuple(key.shape)} and {tuple(value.shape)}")
        if key.dtype != self.keys.dtype or value.dtype != self.values.dtype:
            raise TypeError(f"key and value must have the cache's dtype {self.keys.dtype}, got {key.dtype} and "
                            f"{value.dtype}")
        # a Python int: no index tensor to copy to the device
        slot = self.length if self.length < self.sinks else self.sinks + (self.length - self.sinks) % (
            self.window + 1)
        # out of place, so that gradients flow through the cache (a serving system writes in place)
        self.keys = self.keys.select_scatter(key, 2, slot)
        self.values = self.values.select_scatter(value, 2, slot)
        self.positions = self.positions.select_scatter(self.positions.new_full((), self.length), 0, slot)
        self.length += 1

    def attend(self, query: torch.Tensor, null_logit: torch.Tensor | float | None = None) -> torch.Tensor:
        """Scaled-dot attention of the newest position's query over the cached keys.

        Args:
            query: ``(batch, heads, key_dim)``.
            null_logit: optional logit of one more key whose value is zero, a number or a
                tensor broadcastable to ``(batch, heads)``: the softmax then gives the null key
                ``exp(null_logit) / (exp(null_logit) + sum_j exp(score_j))`` and the context
                shrinks by that share. ``0.0`` is the "softmax off by one" (Miller, 2023;
                Xiao et al., 2023's "zero sink"); a learned logit per head gives a head
                somewhere to put attention that is not a token.

        Returns:
            The context, ``(batch, heads, value_dim)``.
        """
        check_tensor("query", query, min_ndim=3)
        if self.length == 0:
            raise ValueError("the cache is empty: append the current position's key and value before attending")
        scores = torch.einsum("bhd,bhsd->bhs", query, self.keys) / math.sqrt(query.shape[-1])
        filled = self.positions >= 0
        if null_logit is None:
            weights = masked_softmax(scores, filled.expand_as(scores))
            return torch.einsum("bhs,bhsd->bhd", weights, self.values)
        if isinstance(null_logit, torch.Tensor):
            null = null_logit.to(scores.dtype)
        elif isinstance(null_logit, (int, float)) and not isinstance(null_logit, bool):
            null = scores.new_full((), float(null_logit))  # a fill on the device: no copy from the host
        else:
            raise TypeError(f"null_logit must be None, a number or a tensor, got {type(null_logit).__name__}")
        try:
            null = null.expand(scores.shape[:2])[..., None]
        except RuntimeError:
            raise ValueError(f"null_logit must be a number or broadcast to (batch, heads) = "
                             f"{tuple(scores.shape[:2])}, got shape {tuple(null.shape)}") from None
        allowed = torch.cat((filled.expand_as(scores), filled.new_ones(()).expand_as(null)), -1)
        weights = masked_softmax(torch.cat((scores, null), -1), allowed)[..., :-1]
        return torch.einsum("bhs,bhsd->bhd", weights, self.values)


def decode_causal_window(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, window: int,
                         sinks: int = 0) -> torch.Tensor:
    """Causal sliding-window attention computed one position at a time with a :class:`RollingKVCache`.

    Args:
        query: ``(batch, heads, seq, key_dim)``.
        key: ``(batch, heads, seq, key_dim)``.
        value: ``(batch, heads, seq, value_dim)``.
        window: half-width w: position t sees t - w .. t.
        sinks: the first ``sinks`` positions stay in the cache (attention sinks,
            Xiao et al., 2023), >= 0.

    Returns:
        The context, ``(batch, heads, seq, value_dim)``; equal to
        ``sliding_window_attention(query, key, value, window, causal=True)`` when ``sinks=0``,
        and in general to dense attention under the mask of
        :func:`attnbook.local.sink_window` ``(window, sinks)``.
    """
    for name, tensor in (("query", query), ("key", key), ("value", value)):
        check_tensor(name, tensor, min_ndim=4)
        if tensor.ndim != 4:
            raise ValueError(f"{name} must have shape (batch, heads, seq, dim), got {tuple(tensor.shape)}")
    if not (query.shape[:3] == key.shape[:3] == value.shape[:3]) or query.shape[3] != key.shape[3]:
        raise ValueError("query, key and value must share (batch, heads, seq) and query and key their dim, got "
                         f"{tuple(query.shape)}, {tuple(key.shape)} and {tuple(value.shape)}")
    batch, heads, seq, key_dim = key.shape
    cache = RollingKVCache(window, batch, heads, key_dim, value.shape[-1], device=key.device, dtype=key.dtype,
                           sinks=sinks)
    outputs = []
    for position in range(seq):
        cache.append(key[:, :, position], value[:, :, position])
        outputs.append(cache.attend(query[:, :, position]))
    return torch.stack(outputs, dim=2)
