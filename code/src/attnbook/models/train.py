"""The one training loop of the book, and the recipes the chapters train with.

:func:`fit` is minibatch gradient descent with Adam: each step draws ``batch_size`` example
indices with replacement from a generator seeded by ``seed`` (so the batch order is a
function of the seed alone, apart from the model's initialisation), asks ``loss_fn`` for
the loss of those rows, and takes one optimiser step, optionally clipping the gradient
norm and following a one-cycle learning-rate schedule (Smith and Topin, 2017,
https://arxiv.org/abs/1708.07120). At the steps listed in ``checkpoints`` it calls
``evaluate(model)`` in eval mode without gradients. The model is handed back in eval mode.

Losses stay on the model's device during training and are copied to the host once at the
end, so the loop adds no host-device synchronisation per step.

The chapters' recipes are thin wrappers: :func:`train_soft` and :func:`train_glimpses`
(chapter 2; they return the losses of :func:`fit_soft` and :func:`fit_glimpses`, which
also take checkpoints and hand back the whole :class:`FitResult`, for learning curves),
:func:`train_seq2seq` (chapter 3); chapter 4 and the sweeps in ``experiments/`` call
:func:`fit` directly.
"""

from __future__ import annotations

from typing import Callable, Generic, Iterable, NamedTuple, Sequence, TypeVar

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_int, check_positive
from ..hard.estimators import MovingAverageBaseline, reinforce_loss
from .glimpse import BASELINES, RecurrentAttentionModel, SoftAttentionClassifier
from .seq2seq import AttentionSeq2Seq

__all__ = ["SCHEDULES", "LossValue", "FitResult", "fit", "fit_soft", "train_soft", "fit_glimpses", "train_glimpses",
           "train_seq2seq"]

_T = TypeVar("_T")

#: Learning-rate schedules :func:`fit` knows: None (constant) or ``"one_cycle"``.
SCHEDULES = (None, "one_cycle")

#: What a loss function returns: the loss to minimise, or ``(loss, logged)`` where
#: ``logged`` is the value recorded for the step (for example the cross-entropy alone
#: when the loss also holds a REINFORCE term).
LossValue = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


class FitResult(NamedTuple, Generic[_T]):
    """What :func:`fit` returns.

    Attributes:
        losses: the recorded training loss of every step, ``steps`` floats.
        evaluations: ``{checkpoint: evaluate(model)}`` for every checkpoint.
    """

    losses: list[float]
    evaluations: dict[int, _T]


def fit(model: nn.Module, loss_fn: Callable[[torch.Tensor], LossValue], examples: int, steps: int,
        batch_size: int, *, lr: float, parameters: Iterable[nn.Parameter] | None = None,
        schedule: str | None = None, clip_norm: float | None = None, seed: int = 0,
        checkpoints: Iterable[int] = (), evaluate: Callable[[nn.Module], _T] | None = None) -> FitResult[_T]:
    """Train ``model`` in place with Adam on random minibatches.

    Args:
        model: the model; it is put in train mode for the steps and handed back in eval mode.
        loss_fn: ``loss_fn(rows)`` with ``rows`` a ``(batch_size,)`` long tensor of example
            indices on the model's device; returns the loss, or ``(loss, logged)``.
        examples: how many examples the indices range over, >= 1.
        steps: optimiser steps, >= 1.
        batch_size: examples per step, drawn with replacement, >= 1.
        lr: Adam's learning rate (the peak rate with ``schedule="one_cycle"``), > 0.
        parameters: the parameters to train (default: all of the model's).
        schedule: one of :data:`SCHEDULES`.
        clip_norm: clip the trained parameters' gradient norm to this (None: no clipping), > 0.
        seed: seeds the minibatch draws (the model's initialisation is the caller's).
        checkpoints: steps in ``0 .. steps`` after which ``evaluate`` runs (0: before training).
        evaluate: called as ``evaluate(model)`` in eval mode, without gradients, at each checkpoint.

    Returns:
        A :class:`FitResult` with every step's loss and the evaluations.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    check_int("examples", examples, 1)
    check_int("steps", steps, 1)
    check_int("batch_size", batch_size, 1)
    check_positive("lr", lr)
    if clip_norm is not None:
        check_positive("clip_norm", clip_norm)
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    checkpoints = sorted(set(checkpoints))
    for checkpoint in checkpoints:
        if isinstance(checkpoint, bool) or not isinstance(checkpoint, int) or not 0 <= checkpoint <= steps:
            raise ValueError(f"checkpoints must be integers in [0, steps={steps}], got {checkpoint!r}")
    if checkpoints and evaluate is None:
        raise ValueError("checkpoints need an evaluate function, got evaluate=None")
    trained = list(model.parameters() if parameters is None else parameters)
    if not trained:
        raise ValueError("parameters is empty: there is nothing to train")
    device = trained[0].device
    optimizer = torch.optim.Adam(trained, lr=lr)
    scheduler = (torch.optim.lr_scheduler.OneCycleLR(optimizer, lr, total_steps=steps)
                 if schedule == "one_cycle" else None)
    draws = torch.Generator().manual_seed(seed)
    evaluations: dict[int, _T] = {}

    def run_evaluation(step: int) -> None:
        model.eval()
        with torch.no_grad():
            evaluations[step] = evaluate(model)
        model.train()

    losses = []
    model.train()
    if 0 in checkpoints:
        run_evaluation(0)
    for step in range(1, steps + 1):
        rows = torch.randint(0, examples, (batch_size,), generator=draws).to(device)
        value = loss_fn(rows)
        loss, logged = value if isinstance(value, tuple) else (value, value)
        optimizer.zero_grad()
        loss.backward()
        if clip_norm is not None:
            nn.utils.clip_grad_norm_(trained, clip_norm)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(logged.detach())
        if step in checkpoints:
            run_evaluation(step)
    model.eval()
    return FitResult(torch.stack(losses).tolist(), evaluations)


def fit_soft(model: SoftAttentionClassifier, images: torch.Tensor, labels: torch.Tensor, steps: int,
             batch_size: int = 64, lr: float = 1e-3, clip_norm: float | None = 1.0, seed: int = 0, *,
             checkpoints: Iterable[int] = (), evaluate: Callable[[nn.Module], _T] | None = None) -> FitResult[_T]:
    """Train the soft model by backpropagation of the cross-entropy (:func:`fit`).

    Args:
        model: the model, on the device of ``images``.
        images: ``(count, channels, height, width)``; labels ``(count,)``.
        steps: optimiser steps; batch_size: images per step.
        lr: Adam's learning rate; clip_norm: gradient-norm clipping (None: off).
        seed: seed of the batch order.
        checkpoints: steps in ``0 .. steps`` after which ``evaluate(model)`` runs (as in :func:`fit`).
        evaluate: called in eval mode without gradients at each checkpoint.

    Returns:
        A :class:`FitResult`: the training loss of every step and the evaluations; the
        model is left in eval mode. Evaluating changes nothing of the training (an
        ``evaluate`` that draws random numbers must use its own generator).
    """
    def loss_fn(rows: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(model(images[rows]).logits, labels[rows])

    return fit(model, loss_fn, len(labels), steps, batch_size, lr=lr, clip_norm=clip_norm, seed=seed,
               checkpoints=checkpoints, evaluate=evaluate)


def train_soft(model: SoftAttentionClassifier, images: torch.Tensor, labels: torch.Tensor, steps: int,
               batch_size: int = 64, lr: float = 1e-3, clip_norm: float | None = 1.0, seed: int = 0) -> list[float]:
    """Train the soft model by backpropagation of the cross-entropy (:func:`fit_soft`).

    Args:
        model: the model, on the device of ``images``.
        images: ``(count, channels, height, width)``; labels ``(count,)``.
        steps: optimiser steps; batch_size: images per step.
        lr: Adam's learning rate; clip_norm: gradient-norm clipping (None: off).
        seed: seed of the batch order.

    Returns:
        The training loss of every step; the model is left in eval mode.
    """
    return fit_soft(model, images, labels, steps, batch_size, lr, clip_norm, seed).losses


def fit_glimpses(model: RecurrentAttentionModel, images: torch.Tensor, labels: torch.Tensor, steps: int,
                 batch_size: int = 64, lr: float = 3e-3, clip_norm: float | None = 1.0, seed: int = 0,
                 baseline: str = "learned", reinforce: bool = True, *, locations: torch.Tensor | None = None,
                 checkpoints: Iterable[int] = (), evaluate: Callable[[nn.Module], _T] | None = None,
                 ) -> FitResult[_T]:
    """Train the glimpse model: cross-entropy by backpropagation, the policy by REINFORCE.

    The reward is 1 for a correct class, 0 otherwise. With ``baseline="learned"`` the
    model's baseline head regresses the reward (squared error) and each glimpse's
    choice is reinforced by ``reward - baseline`` of the state it was made in;
    ``"moving_average"`` uses one scalar for all images (:class:`MovingAverageBaseline`);
    ``"none"`` no baseline. ``reinforce=False`` trains no policy at all: the locations
    stay wherever the initial policy puts them (an ablation); the policy's parameters
    are frozen during the run only and get back their ``requires_grad`` afterwards.

    Args:
        model: the model, on the device of ``images``.
        images: ``(count, channels, height, width)``; labels ``(count,)``.
        steps: optimiser steps; batch_size: images per step.
        lr: Adam's learning rate; clip_norm: gradient-norm clipping (None: off).
        seed: seed of the batch order.
        baseline: one of :data:`BASELINES`.
        reinforce: train the policy by REINFORCE (False: freeze it).
        locations: ``(count, glimpses, 2)`` fixed glimpse centres per training image (the
            model's ``forward(locations=...)``), for example on the true object; needs
            ``reinforce=False``, since no policy chooses. None (default): the policy chooses.
        checkpoints: steps in ``0 .. steps`` after which ``evaluate(model)`` runs (as in :func:`fit`).
        evaluate: called in eval mode without gradients at each checkpoint.

    Returns:
        A :class:`FitResult`: the training loss (cross-entropy) of every step and the
        evaluations; the model is left in eval mode. Evaluating changes nothing of the
        training (an ``evaluate`` that samples must use its own generator).
    """
    if baseline not in BASELINES:
        raise ValueError(f"baseline must be one of {BASELINES}, got {baseline!r}")
    if locations is not None:
        if reinforce:
            raise ValueError("locations fixes the glimpses, so no policy can be reinforced: pass reinforce=False "
                             "with locations, got reinforce=True")
        expected = (len(labels), model.glimpses, 2)
        if not isinstance(locations, torch.Tensor) or tuple(locations.shape) != expected:
            found = tuple(locations.shape) if isinstance(locations, torch.Tensor) else type(locations).__name__
            raise ValueError(f"locations must be a tensor of shape (count, glimpses, 2) = {expected}, got {found}")
    average = MovingAverageBaseline(0.9)

    def loss_fn(rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if locations is None:
            out = model(images[rows])
        else:
            out = model(images[rows], locations=locations[rows])
        cross_entropy = F.cross_entropy(out.logits, labels[rows])
        reward = (out.logits.argmax(-1) == labels[rows]).float()
        loss = cross_entropy
        if reinforce:
            if baseline == "learned":
                per_glimpse = reward[:, None].expand_as(out.baselines)
                loss = loss + F.mse_loss(out.baselines, per_glimpse)
                loss = loss + reinforce_loss(out.step_log_probs.flatten(), per_glimpse.flatten(),
                                             out.baselines.flatten())
            else:
                b = average.value if baseline == "moving_average" and average.value is not None else 0.0
                loss = loss + reinforce_loss(out.log_prob, reward, b)
                average.update(reward)
        return loss, cross_entropy

    policy = [p for part in (model.saliency, model.recurrent_policy) for p in part.parameters()]
    was_trainable = [p.requires_grad for p in policy]
    if not reinforce:  # the policy gets no gradient during this run
        for p in policy:
            p.requires_grad_(False)
    try:
        trained = [p for p in model.parameters() if p.requires_grad]
        return fit(model, loss_fn, len(labels), steps, batch_size, lr=lr, parameters=trained,
                   clip_norm=clip_norm, seed=seed, checkpoints=checkpoints, evaluate=evaluate)
    finally:
        for p, trainable in zip(policy, was_trainable, strict=True):
            p.requires_grad_(trainable)


def train_glimpses(model: RecurrentAttentionModel, images: torch.Tensor, labels: torch.Tensor, steps: int,
                   batch_size: int = 64, lr: float = 3e-3, clip_norm: float | None = 1.0, seed: int = 0,
                   baseline: str = "learned", reinforce: bool = True) -> list[float]:
    """Train the glimpse model: cross-entropy by backpropagation, the policy by REINFORCE
    (:func:`fit_glimpses`, which describes the reward, the baselines and the ablation).

    Args: as :func:`train_soft`, plus ``baseline`` (one of :data:`BASELINES`) and ``reinforce``.

    Returns:
        The training loss (cross-entropy) of every step; the model is left in eval mode.
    """
    return fit_glimpses(model, images, labels, steps, batch_size, lr, clip_norm, seed, baseline, reinforce).losses


def train_seq2seq(model: AttentionSeq2Seq, source: torch.Tensor, source_mask: torch.Tensor, target: torch.Tensor,
                  steps: int, batch_size: int = 128, lr: float = 1e-2, seed: int = 0,
                  checkpoints: Sequence[int] = (), evaluate: Callable[[AttentionSeq2Seq], _T] | None = None,
                  ) -> dict[int, _T]:
    """Train with Adam and teacher forcing on random minibatches; evaluate at checkpoints.

    Args:
        model: the model to train, in place.
        source: ``(examples, source)`` ids.
        source_mask: ``(examples, source)``, True for real symbols.
        target: ``(examples, steps)`` ids.
        steps: number of optimiser steps, >= 1.
        batch_size: examples per step, drawn with replacement.
        lr: Adam's learning rate.
        seed: seeds the minibatch draws (the model's initialisation is the caller's).
        checkpoints: steps (1 .. steps) after which ``evaluate`` runs.
        evaluate: called as ``evaluate(model)`` in eval mode at each checkpoint.

    Returns:
        ``{checkpoint: evaluate(model)}``; the model is left in eval mode.
    """
    for checkpoint in checkpoints:
        if isinstance(checkpoint, bool) or not isinstance(checkpoint, int) or not 1 <= checkpoint <= steps:
            raise ValueError(f"checkpoints must be integers in [1, steps={steps}], got {checkpoint!r}")

    def loss_fn(rows: torch.Tensor) -> torch.Tensor:
        out = model(source[rows], source_mask[rows], target=target[rows])
        return F.cross_entropy(out.logits.flatten(0, 1), target[rows].flatten())

    return fit(model, loss_fn, source.shape[0], steps, batch_size, lr=lr, seed=seed, checkpoints=checkpoints,
               evaluate=evaluate).evaluations

