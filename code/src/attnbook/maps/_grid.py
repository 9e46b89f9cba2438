"""Private: checks shared by the map methods (patch grids, maps, boxes, predictors)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch

from .._checks import check_int, check_tensor

#: A predictor: ``images (batch, channels, height, width) -> logits (batch, classes)``.
Predict = Callable[[torch.Tensor], torch.Tensor]


def check_attentions(attentions: Sequence[torch.Tensor], name: str = "attentions") -> list[torch.Tensor]:
    """A non-empty sequence of ``(batch, heads, tokens, tokens)`` tensors of one shape."""
    if isinstance(attentions, torch.Tensor) or not isinstance(attentions, Sequence) or not attentions:
        raise TypeError(f"{name} must be a non-empty list or tuple of (batch, heads, tokens, tokens) tensors, "
                        f"got {type(attentions).__name__}")
    layers = []
    for index, layer in enumerate(attentions):
        check_tensor(f"{name}[{index}]", layer, min_ndim=4)
        if layer.ndim != 4 or layer.shape[-1] != layer.shape[-2]:
            raise ValueError(f"{name}[{index}] must have shape (batch, heads, tokens, tokens), "
                             f"got {tuple(layer.shape)}")
        if layer.shape != attentions[0].shape:
            raise ValueError(f"{name} must share one shape, got {tuple(attentions[0].shape)} for layer 0 "
                             f"and {tuple(layer.shape)} for layer {index}")
        layers.append(layer)
    return layers


def grid_of(tokens: int) -> int:
    """The side of the square patch grid of ``tokens`` tokens (a class token and ``grid ** 2`` patches)."""
    grid = math.isqrt(tokens - 1)
    if tokens < 2 or grid * grid != tokens - 1:
        raise ValueError(f"tokens must be 1 + a square number of patches (class token first), got {tokens}")
    return grid


def check_maps(maps: object, name: str = "maps") -> torch.Tensor:
    """A ``(batch, grid_h, grid_w)`` floating tensor of finite values."""
    check_tensor(name, maps, min_ndim=3)
    if maps.ndim != 3:
        raise ValueError(f"{name} must have shape (batch, grid_h, grid_w), got {tuple(maps.shape)}")
    if not torch.isfinite(maps).all():
        raise ValueError(f"{name} must be finite, got non-finite values")
    return maps


def check_images(images: object, patch_size: int, name: str = "images") -> torch.Tensor:
    """A ``(batch, channels, height, width)`` floating tensor whose sides ``patch_size`` divides."""
    check_int("patch_size", patch_size, 1)
    check_tensor(name, images, min_ndim=4)
    if images.ndim != 4:
        raise ValueError(f"{name} must have shape (batch, channels, height, width), got {tuple(images.shape)}")
    height, width = images.shape[-2:]
    if height % patch_size or width % patch_size:
        raise ValueError(f"patch_size must divide the image sides, got patch_size={patch_size} "
                         f"and images of {height}x{width}")
    return images


def check_boxes(boxes: object, batch: int, name: str = "boxes") -> torch.Tensor:
    """A ``(batch, 4)`` tensor of (top, left, height, width) in pixels, sides >= 1."""
    if not isinstance(boxes, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(boxes).__name__}")
    if boxes.shape != (batch, 4):
        raise ValueError(f"{name} must have shape ({batch}, 4) as (top, left, height, width), "
                         f"got {tuple(boxes.shape)}")
    if (boxes[:, 2:] < 1).any() or (boxes[:, :2] < 0).any():
        raise ValueError(f"{name} must have top, left >= 0 and height, width >= 1, got {boxes.tolist()}")
    return boxes


def check_target(target: torch.Tensor | None, batch: int, classes: int, logits: torch.Tensor) -> torch.Tensor:
    """The ``(batch,)`` target classes: ``target`` checked, or the arg-max of ``logits``."""
    if target is None:
        return logits.argmax(-1)
    if not isinstance(target, torch.Tensor) or target.dtype != torch.long or target.shape != (batch,):
        shown = tuple(target.shape) if isinstance(target, torch.Tensor) else type(target).__name__
        raise ValueError(f"target must be None or a ({batch},) long tensor of classes, got {shown}")
    if ((target < 0) | (target >= classes)).any():
        raise ValueError(f"target must hold classes in [0, {classes}), got {target.tolist()}")
    return target.to(logits.device)


def call_predict(predict: Predict, images: torch.Tensor) -> torch.Tensor:
    """``predict(images)``, checked to be ``(batch, classes)`` logits."""
    if not callable(predict):
        raise TypeError(f"predict must be callable images -> logits, got {type(predict).__name__}")
    logits = predict(images)
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2 or logits.shape[0] != images.shape[0]:
        shown = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise TypeError(f"predict must return (batch, classes) logits for {images.shape[0]} images, got {shown}")
    return logits
