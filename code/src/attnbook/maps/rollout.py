"""Raw attention and attention rollout (Abnar & Zuidema, 2020, "Quantifying Attention Flow in
Transformers", https://arxiv.org/abs/2005.00928).

A layer's attention says how each token mixes the tokens of the layer below, but the
residual connection carries every token's own state past the attention too. Rollout models
that: average the heads, add the identity for the residual and renormalise the rows,

    A_hat_l = normalise_rows(mean_h A_l + I),

then compose the layers, ``R = A_hat_L ... A_hat_2 A_hat_1`` (last layer on the left), so that
``R[i, j]`` is how much input token ``j`` reaches token ``i`` at the top. Row 0 of ``R`` (the
class token), without its column 0, is the rollout map over the patches. Since the rows of
``A_l`` sum to 1, ``A_hat_l = (A_l + I) / 2``: the paper's "0.5 W_att + 0.5 I".

The raw map (:func:`cls_attention`) is the last layer's class-token row, one map per head.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .._checks import check_tensor
from ._grid import check_attentions, grid_of

__all__ = ["cls_attention", "attention_rollout", "attention_rollout_reference", "token_map"]


def token_map(relevance: torch.Tensor) -> torch.Tensor:
    """The class token's row of a token-to-token matrix as a map over the patch grid.

    Args:
        relevance: ``(..., tokens, tokens)`` with token 0 the class token and tokens
            ``1 ..`` a square grid of patches in row-major order.

    Returns:
        ``(..., grid, grid)``: ``relevance[..., 0, 1:]`` laid out on the grid.
    """
    check_tensor("relevance", relevance, min_ndim=2)
    grid = grid_of(relevance.shape[-1])
    return relevance[..., 0, 1:].reshape(*relevance.shape[:-2], grid, grid)


def cls_attention(attentions: Sequence[torch.Tensor], layer: int = -1) -> torch.Tensor:
    """Raw attention: how the class token attends to the patches in one layer, per head.

    Args:
        attentions: one ``(batch, heads, tokens, tokens)`` tensor per layer.
        layer: which layer (default: the last).

    Returns:
        ``(batch, heads, grid, grid)``; each head's map sums to 1 minus the class token's
        attention to itself.
    """
    layers = check_attentions(attentions)
    if isinstance(layer, bool) or not isinstance(layer, int) or not -len(layers) <= layer < len(layers):
        raise ValueError(f"layer must be an integer in [{-len(layers)}, {len(layers)}), got {layer!r}")
    return token_map(layers[layer])


def _residual_step(layer: torch.Tensor) -> torch.Tensor:
    """``normalise_rows(mean_h layer + I)``: ``(batch, tokens, tokens)``."""
    mixed = layer.mean(dim=1) + torch.eye(layer.shape[-1], dtype=layer.dtype, device=layer.device)
    return mixed / mixed.sum(dim=-1, keepdim=True)


def attention_rollout(attentions: Sequence[torch.Tensor], start_layer: int = 0) -> torch.Tensor:
    """Attention rollout over the layers ``start_layer ..`` (Abnar & Zuidema 2020, equation 1).

    Args:
        attentions: one ``(batch, heads, tokens, tokens)`` tensor per layer, first layer first.
        start_layer: the first layer composed (0: all of them).

    Returns:
        ``(batch, tokens, tokens)``: ``A_hat_L ... A_hat_start``, rows summing to 1; pass it to
        :func:`token_map` for the class token's map.
    """
    layers = check_attentions(attentions)
    if isinstance(start_layer, bool) or not isinstance(start_layer, int) or not 0 <= start_layer < len(layers):
        raise ValueError(f"start_layer must be an integer in [0, {len(layers)}), got {start_layer!r}")
    rolled = _residual_step(layers[start_layer])
    for layer in layers[start_layer + 1:]:
        rolled = _residual_step(layer) @ rolled
    return rolled


def attention_rollout_reference(attentions: Sequence[torch.Tensor]) -> torch.Tensor:
    """The plain reference of :func:`attention_rollout`: one image, one entry at a time.

    Builds each ``A_hat_l`` with explicit loops over heads and entries, and multiplies the
    matrices entry by entry, in Python floats on the CPU without gradients (slow; for tests
    and for teaching).

    Args:
        attentions: one ``(batch, heads, tokens, tokens)`` tensor per layer.

    Returns:
        ``(batch, tokens, tokens)`` on the CPU, equal to ``attention_rollout(attentions)``.
    """
    layers = [layer.detach().cpu() for layer in check_attentions(attentions)]
    batch, heads, tokens, _ = layers[0].shape
    out = torch.zeros(batch, tokens, tokens, dtype=layers[0].dtype)
    for b in range(batch):
        rolled = None
        for layer in layers:
            step = [[0.0] * tokens for _ in range(tokens)]
            for i in range(tokens):
                row = [sum(float(layer[b, h, i, j]) for h in range(heads)) / heads + (1.0 if i == j else 0.0)
                       for j in range(tokens)]
                total = sum(row)
                step[i] = [value / total for value in row]
            if rolled is None:
                rolled = step
            else:
                rolled = [[sum(step[i][k] * rolled[k][j] for k in range(tokens)) for j in range(tokens)]
                          for i in range(tokens)]
        out[b] = torch.tensor(rolled, dtype=layers[0].dtype)
    return out
