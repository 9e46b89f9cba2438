"""A tiny causal transformer language model that decodes with the rolling KV cache,
for chapter 3's attention sinks (Xiao et al., 2023, "Efficient Streaming Language Models
with Attention Sinks", https://arxiv.org/abs/2309.17453).

Pre-norm blocks (Xiong et al., 2020) of :class:`attnbook.MultiHeadAttention` and a GELU
feed-forward layer, sinusoidal positions added to the embeddings (Vaswani et al., 2017).
Two paths compute the same logits:

* :meth:`TinyCausalLM.forward`, the plain path: every position at once under a dense
  boolean mask (causal by default; any pattern rendered from a predicate such as
  :func:`attnbook.local.sink_window`), returning the attention weights if asked;
* :meth:`TinyCausalLM.decode`, token by token with one
  :class:`attnbook.local.RollingKVCache` per layer (``window``, ``sinks``): what a
  streaming server does, memory ``sinks + window + 1`` slots per layer.

:meth:`TinyCausalLM.recompute` is StreamingLLM's "sliding window with re-computation"
baseline: each position is predicted by running the model afresh on its last
``window + 1`` tokens (positions restarted at 0).

With ``null_logit=True`` every head has a learned logit of one extra key whose value is
zero, so a head can attend to "nothing" (softmax off by one when the logit is 0; Miller,
2023): the ablation that asks whether a sink token is needed at all.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_int
from ..core.multihead import MultiHeadAttention, merge_heads, split_heads
from ..core.positional import sinusoidal_positional_encoding
from ..core.softmax import masked_softmax
from ..local.kv_cache import RollingKVCache
from ..local.masks import check_window

__all__ = ["TinyLMOutput", "TinyCausalLM"]


class TinyLMOutput(NamedTuple):
    """What :meth:`TinyCausalLM.forward` returns.

    Attributes:
        logits: ``(batch, seq, vocab_size)``.
        weights: per layer, the attention weights ``(batch, heads, seq, seq)`` (the null key's
            share left out), or an empty tuple when not asked for.
    """

    logits: torch.Tensor
    weights: tuple[torch.Tensor, ...]


class _Block(nn.Module):
    def __init__(self, width: int, heads: int, null_logit: bool) -> None:
        super().__init__()
        self.heads = heads
        self.attn_norm = nn.LayerNorm(width)
        self.attn = MultiHeadAttention(width, heads)
        self.mlp_norm = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))
        self.null = nn.Parameter(torch.zeros(heads)) if null_logit else None

    def project(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.attn_norm(x)
        return self.attn.query_proj(h), self.attn.key_proj(h), self.attn.value_proj(h)

    def finish(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        x = x + self.attn.out_proj(context)
        return x + self.mlp(self.mlp_norm(x))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        q, k, v = (split_heads(t, self.heads) for t in self.project(x))  # (batch, heads, seq, dim)
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])         # (batch, heads, seq, seq)
        if self.null is None:
            weights = masked_softmax(scores, mask)
        else:
            null = self.null.view(1, -1, 1, 1).expand(*scores.shape[:3], 1)
            allowed = torch.cat((mask.expand(scores.shape), mask.new_ones(()).expand(null.shape)), -1)
            weights = masked_softmax(torch.cat((scores, null), -1), allowed)[..., :-1]
        return self.finish(x, merge_heads(weights @ v)), weights


class TinyCausalLM(nn.Module):
    """A small decoder-only transformer with two equal paths, dense and cached.

    Args:
        vocab_size: number of token ids, >= 2.
        width: model width, divisible by ``heads``.
        heads: attention heads per layer, >= 1.
        layers: transformer blocks, >= 1.
        max_length: the longest sequence (the positional table's size), >= 1.
        null_logit: give every head a learned logit of a key with a zero value.
    """

    def __init__(self, vocab_size: int, width: int = 64, heads: int = 4, layers: int = 2,
                 max_length: int = 256, null_logit: bool = False) -> None:
        super().__init__()
        check_int("vocab_size", vocab_size, 2)
        check_int("layers", layers, 1)
        check_int("max_length", max_length, 1)
        if not isinstance(null_logit, bool):
            raise TypeError(f"null_logit must be a bool, got {type(null_logit).__name__}")
        self.vocab_size, self.width, self.heads, self.max_length = vocab_size, width, heads, max_length
        self.embed = nn.Embedding(vocab_size, width)
        self.register_buffer("positions", sinusoidal_positional_encoding(max_length, width), persistent=False)
        self.blocks = nn.ModuleList(_Block(width, heads, null_logit) for _ in range(layers))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab_size)

    def _check_tokens(self, tokens: object) -> torch.Tensor:
        if not isinstance(tokens, torch.Tensor) or tokens.dtype != torch.long:
            raise TypeError(f"tokens must be a torch.long tensor, got "
                            f"{getattr(tokens, 'dtype', type(tokens).__name__)}")
        if tokens.ndim != 2 or not 1 <= tokens.shape[1] <= self.max_length:
            raise ValueError(f"tokens must have shape (batch, seq) with 1 <= seq <= max_length="
                             f"{self.max_length}, got {tuple(tokens.shape)}")
        return tokens

    def _embed(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.embed(tokens) + self.positions[: tokens.shape[-1]]

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor | None = None,
                need_weights: bool = False) -> TinyLMOutput:
        """Next-token logits of every position at once (the plain path).

        Args:
            tokens: ``(batch, seq)`` long ids.
            mask: optional boolean ``(seq, seq)``, True = query may attend to key; causal by
                default. Pass ``render_mask(sink_window(w, k), seq)`` for the pattern the
                cache decodes with.
            need_weights: also return every layer's attention weights.

        Returns:
            A :class:`TinyLMOutput`.
        """
        tokens = self._check_tokens(tokens)
        seq = tokens.shape[1]
        if mask is None:
            mask = torch.ones(seq, seq, dtype=torch.bool, device=tokens.device).tril()
        elif not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool or mask.shape != (seq, seq):
            raise ValueError(f"mask must be a boolean tensor of shape ({seq}, {seq}), got "
                             f"{getattr(mask, 'dtype', type(mask).__name__)} {tuple(getattr(mask, 'shape', ()))}")
        x = self._embed(tokens)
        weights = []
        for block in self.blocks:
            x, layer_weights = block(x, mask)
            weights.append(layer_weights)
        return TinyLMOutput(self.head(self.norm(x)), tuple(weights) if need_weights else ())

    def decode(self, tokens: torch.Tensor, window: int | None = None, sinks: int = 0) -> torch.Tensor:
        """Next-token logits computed one token at a time with a rolling KV cache per layer.

        Args:
            tokens: ``(batch, seq)`` long ids (teacher forcing: the stream to score).
            window: the cache keeps the last ``window + 1`` positions; None keeps all (full
                attention with a cache that grows).
            sinks: the first ``sinks`` positions are kept as well (attention sinks).

        Returns:
            ``(batch, seq, vocab_size)``: equal to ``forward(tokens, mask)`` with the mask of
            :func:`attnbook.local.sink_window` ``(window, sinks)``.
        """
        tokens = self._check_tokens(tokens)
        batch, seq = tokens.shape
        window = seq - 1 if window is None else check_window(window)
        dim = self.width // self.heads
        caches = [RollingKVCache(window, batch, self.heads, dim, device=tokens.device,
                                 dtype=self.positions.dtype, sinks=sinks) for _ in self.blocks]
        x_all = self._embed(tokens)
        logits = []
        for position in range(seq):
            x = x_all[:, position]  # (batch, width)
            for block, cache in zip(self.blocks, caches):
                q, k, v = (t.view(batch, self.heads, dim) for t in block.project(x))
                cache.append(k, v)
                context = cache.attend(q, null_logit=None if block.null is None else block.null[None])
                x = block.finish(x, context.reshape(batch, self.width))
            logits.append(self.head(self.norm(x)))
        return torch.stack(logits, dim=1)

    def recompute(self, tokens: torch.Tensor, window: int) -> torch.Tensor:
        """Sliding window with re-computation: position t is predicted by the model run afresh
        on tokens ``t - window .. t`` at positions ``0 .. window`` (O(seq window^2) work).

        Args:
            tokens: ``(batch, seq)`` long ids.
            window: half-width w, >= 0.

        Returns:
            ``(batch, seq, vocab_size)``.
        """
        tokens = self._check_tokens(tokens)
        window = check_window(window)
        seq = tokens.shape[1]
        head = self(tokens[:, : min(seq, window + 1)]).logits  # the first window + 1 see their whole prefix
        if seq <= window + 1:
            return head
        windows = tokens.unfold(1, window + 1, 1)[:, 1:]  # (batch, seq - window - 1, window + 1)
        tail = self(windows.reshape(-1, window + 1)).logits[:, -1]
        return torch.cat((head, tail.view(tokens.shape[0], -1, self.vocab_size)), dim=1)

    def loss_per_position(self, logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of predicting token t + 1 from position t, averaged over the batch.

        Args:
            logits: ``(batch, seq, vocab_size)``.
            tokens: ``(batch, seq)``.

        Returns:
            ``(seq - 1,)`` nats per position.
        """
        return F.cross_entropy(logits[:, :-1].transpose(1, 2), tokens[:, 1:], reduction="none").mean(0)
