"""Gradient-weighted attention rollout (Chefer, Gur & Wolf, 2021, "Generic Attention-model
Explainability for Interpreting Bi-Modal and Encoder-Decoder Transformers", ICCV 2021,
https://arxiv.org/abs/2103.15679, equations 5-6 for self-attention).

Raw attention and rollout weigh every head alike, whatever the head does for the class
being explained. Chefer et al. weigh each attention entry by the gradient of the target
class's logit ``y_t`` with respect to it, keep the positive part, and average the heads:

    A_bar_l = E_h[(grad_{A_l} y_t * A_l)^+]          (equation 5)

then accumulate from the identity (each token is relevant to itself at the input),

    R = I;   for each layer l, first to last:  R = R + A_bar_l R      (equation 6)

and read the class token's row of ``R`` over the patches. This is the rule of the ICCV paper;
their earlier CVPR paper ("Transformer Interpretability Beyond Attention Visualization",
https://arxiv.org/abs/2012.09838) multiplies the gradient by LRP relevances instead of by the
attention, which needs relevance rules for every layer and is not implemented here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import torch

from ._grid import check_attentions, check_target

__all__ = ["AttentionGradients", "attention_gradients", "gradient_rollout"]


class AttentionGradients(NamedTuple):
    """What :func:`attention_gradients` returns.

    Attributes:
        logits: ``(batch, classes)``, detached.
        target: ``(batch,)`` the class explained for each image.
        attentions: one ``(batch, heads, tokens, tokens)`` tensor per layer, detached.
        gradients: the gradient of the target logit with respect to each of them, same shapes.
    """

    logits: torch.Tensor
    target: torch.Tensor
    attentions: tuple[torch.Tensor, ...]
    gradients: tuple[torch.Tensor, ...]


def attention_gradients(model: Callable[[torch.Tensor], Any], images: torch.Tensor,
                        target: torch.Tensor | None = None) -> AttentionGradients:
    """Run ``model`` on ``images`` and take the gradient of each image's target logit with
    respect to every attention weight.

    Args:
        model: called as ``model(images)``; returns an object with ``logits``
            ``(batch, classes)`` and ``attentions`` (one ``(batch, heads, tokens, tokens)``
            tensor per layer, in the graph), as :class:`attnbook.models.VisionTransformer` does.
        images: the model's input, ``(batch, ...)``.
        target: ``(batch,)`` long classes to explain (default: the predicted class).

    Returns:
        :class:`AttentionGradients`. The images in a batch do not interact, so the gradient
        of the sum of the target logits gives each image's own gradient.
    """
    if not callable(model):
        raise TypeError(f"model must be callable, got {type(model).__name__}")
    with torch.enable_grad():
        out = model(images)
        logits, attentions = getattr(out, "logits", None), getattr(out, "attentions", None)
        if not isinstance(logits, torch.Tensor) or logits.ndim != 2:
            raise TypeError("model(images) must return an object with (batch, classes) logits and attentions, "
                            f"got {type(out).__name__}")
        layers = check_attentions(attentions, "model(images).attentions")
        if not all(layer.requires_grad for layer in layers):
            raise ValueError("model(images).attentions must be in the autograd graph (requires_grad); "
                             "call the model with its parameters trainable and weights returned")
        chosen = check_target(target, logits.shape[0], logits.shape[1], logits)
        selected = logits.gather(1, chosen[:, None]).sum()
        gradients = torch.autograd.grad(selected, layers)
    return AttentionGradients(logits.detach(), chosen, tuple(layer.detach() for layer in layers),
                              tuple(gradients))


def gradient_rollout(attentions: Sequence[torch.Tensor], gradients: Sequence[torch.Tensor]) -> torch.Tensor:
    """Chefer et al.'s (2021) relevance ``R`` from the attentions and their gradients.

    Args:
        attentions: one ``(batch, heads, tokens, tokens)`` tensor per layer, first layer first.
        gradients: the target logit's gradient with respect to each, same shapes.

    Returns:
        ``(batch, tokens, tokens)``: ``R`` of equation 6; :func:`attnbook.maps.token_map`
        gives the class token's map.
    """
    layers = check_attentions(attentions)
    grads = check_attentions(gradients, "gradients")
    if len(grads) != len(layers) or grads[0].shape != layers[0].shape:
        raise ValueError(f"gradients must match attentions layer for layer, got {len(grads)} of shape "
                         f"{tuple(grads[0].shape)} for {len(layers)} of shape {tuple(layers[0].shape)}")
    batch, _, tokens, _ = layers[0].shape
    relevance = torch.eye(tokens, dtype=layers[0].dtype, device=layers[0].device).expand(batch, -1, -1)
    for layer, grad in zip(layers, grads):
        weighted = (grad * layer).clamp(min=0).mean(dim=1)        # (batch, tokens, tokens)
        relevance = relevance + weighted @ relevance
    return relevance
