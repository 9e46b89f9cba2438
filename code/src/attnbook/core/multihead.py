"""Multi-head attention (Vaswani et al., 2017, https://arxiv.org/abs/1706.03762).

``MultiHeadAttention`` computes exactly what ``torch.nn.MultiheadAttention``
computes (batch-first) given the same weights, with two paths that agree:
the plain path builds every head's weight matrix with :func:`attnbook.attention`;
the fast path, used when the weights are not asked for, calls
``torch.nn.functional.scaled_dot_product_attention``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_int, check_mask, check_same_size, check_tensor
from .attention import attention

__all__ = ["MultiHeadAttention", "split_heads", "merge_heads"]


def split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """``(batch, seq, heads * dim)`` -> ``(batch, heads, seq, dim)``."""
    batch, seq, width = x.shape
    return x.view(batch, seq, heads, width // heads).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """``(batch, heads, seq, dim)`` -> ``(batch, seq, heads * dim)``."""
    batch, heads, seq, dim = x.shape
    return x.transpose(1, 2).reshape(batch, seq, heads * dim)


class MultiHeadAttention(nn.Module):
    """Batch-first multi-head attention with separate query, key and value projections.

    Args:
        embed_dim: model width; queries have this feature size and so does the output.
        num_heads: number of heads; must divide ``embed_dim``.
        bias: whether the four projections have biases.
        key_dim: feature size of the keys; defaults to ``embed_dim``.
        value_dim: feature size of the values; defaults to ``embed_dim``.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        bias: bool = True,
        key_dim: int | None = None,
        value_dim: int | None = None,
    ) -> None:
        super().__init__()
        check_int("embed_dim", embed_dim, 1)
        check_int("num_heads", num_heads, 1)
        if embed_dim % num_heads:
            raise ValueError(
                f"num_heads must divide embed_dim, got embed_dim={embed_dim} and num_heads={num_heads}"
            )
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.query_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.key_proj = nn.Linear(key_dim or embed_dim, embed_dim, bias=bias)
        self.value_proj = nn.Linear(value_dim or embed_dim, embed_dim, bias=bias)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    @torch.no_grad()
    def load_torch_weights(self, reference: nn.MultiheadAttention) -> "MultiHeadAttention":
        """Copy the weights of a ``torch.nn.MultiheadAttention`` into this module.

        Args:
            reference: a module with the same ``embed_dim``, ``num_heads`` and bias setting.

        Returns:
            ``self``, for chaining.
        """
        if not isinstance(reference, nn.MultiheadAttention):
            raise TypeError(f"reference must be torch.nn.MultiheadAttention, got {type(reference).__name__}")
        check_same_size("self", self.embed_dim, "reference", reference.embed_dim, "embed_dim")
        check_same_size("self", self.num_heads, "reference", reference.num_heads, "num_heads")
        if reference.in_proj_weight is not None:
            weights = reference.in_proj_weight.chunk(3)
        else:
            weights = (reference.q_proj_weight, reference.k_proj_weight, reference.v_proj_weight)
        biases = (None,) * 3 if reference.in_proj_bias is None else reference.in_proj_bias.chunk(3)
        for layer, weight, bias in zip((self.query_proj, self.key_proj, self.value_proj), weights, biases):
            layer.weight.copy_(weight)
            if layer.bias is not None and bias is not None:
                layer.bias.copy_(bias)
        self.out_proj.weight.copy_(reference.out_proj.weight)
        if self.out_proj.bias is not None and reference.out_proj.bias is not None:
            self.out_proj.bias.copy_(reference.out_proj.bias)
        return self

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        mask: torch.Tensor | None = None,
        need_weights: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Attend from ``query`` over ``key``/``value`` with every head.

        Args:
            query: ``(batch, queries, embed_dim)``.
            key: ``(batch, keys, key_dim)``.
            value: ``(batch, keys, value_dim)``.
            mask: optional boolean tensor broadcastable to ``(batch, heads, queries, keys)``;
                True = attend. A query with no allowed key gets a zero context
                (its output is the output projection's bias).
            need_weights: return each head's weights ``(batch, heads, queries, keys)``
                (plain path); when False the fast SDPA path runs and ``None`` is returned.

        Returns:
            ``(output, weights)``: output ``(batch, queries, embed_dim)``.
        """
        for name, tensor in (("query", query), ("key", key), ("value", value)):
            check_tensor(name, tensor, min_ndim=3)
            if tensor.ndim != 3:
                raise ValueError(f"{name} must have shape (batch, seq, features), got {tuple(tensor.shape)}")
        check_same_size("query", query.shape[-1], "embed_dim", self.embed_dim, "feature size")
        check_same_size("key", key.shape[1], "value", value.shape[1], "number of positions (dimension 1)")
        check_same_size("query", query.shape[0], "key", key.shape[0], "batch size")
        check_same_size("key", key.shape[0], "value", value.shape[0], "batch size")
        q = split_heads(self.query_proj(query), self.num_heads)
        k = split_heads(self.key_proj(key), self.num_heads)
        v = split_heads(self.value_proj(value), self.num_heads)
        if mask is not None:
            check_mask(mask, torch.Size((query.shape[0], self.num_heads, query.shape[1], key.shape[1])))
        if need_weights:
            context, weights = attention(q, k, v, mask=mask, score="scaled_dot")
        else:
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            if mask is not None:
                # Define fully masked rows as a zero context on every backend.
                context = context.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)
            weights = None
        return self.out_proj(merge_heads(context)), weights
