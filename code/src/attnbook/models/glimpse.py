"""Two classifiers for cluttered images: one with soft attention
over every location of a CNN feature map, one that takes a few hard glimpses (after the
recurrent attention model of Mnih et al., 2014, https://arxiv.org/abs/1406.6247).

The glimpse model departs from Mnih et al. in ways this module names: its policy is a
categorical choice over a lattice of cells (theirs: a Gaussian over continuous
locations), it starts from a brightness prior over a coarse view of the whole image
(the coarse "context" view comes from Ba et al., 2015, https://arxiv.org/abs/1412.7755;
RAM has no prior), it reads one scale, and it takes two glimpses by default. By default
the policy and the baseline read the recurrent state itself, so their losses also train the
core; ``detach_policy_input=True`` gives them a detached copy instead, as common RAM
implementations do, so the core learns from the classification loss alone.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ..measure.complexity import count_macs
from ..hard.glimpse import extract_glimpses
from ..hard.locations import attend_locations

__all__ = ["BASELINES", "SoftAttentionOutput", "SoftAttentionClassifier", "GlimpseOutput",
           "RecurrentAttentionModel", "multiply_adds"]

#: The REINFORCE baselines ``train_glimpses(baseline=...)`` offers.
BASELINES = ("learned", "moving_average", "none")


class SoftAttentionOutput(NamedTuple):
    """Attributes:
        logits: class scores ``(batch, classes)``.
        weights: attention over the feature map ``(batch, rows, cols)``.
        log_prob: log-probability of a sampled location ``(batch,)``; None unless ``mode="sample"``.
    """

    logits: torch.Tensor
    weights: torch.Tensor
    log_prob: torch.Tensor | None


class SoftAttentionClassifier(nn.Module):
    """A small convolutional network, one attention score per location of its feature map,
    an attention-pooled feature vector and a classifier.

    ``mode="soft"`` pools by the softmax of the scores (trained with plain backpropagation);
    ``"argmax"`` and ``"sample"`` pick one location instead (hard attention over the same
    map, in the manner of Xu et al., 2015: every location's features are computed first).

    Args:
        in_channels: image channels.
        num_classes: classes.
        width: channels of the last feature map.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, width: int = 64) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, width, 3, padding=1), nn.ReLU(),
        )
        self.score = nn.Conv2d(width, 1, 1)
        self.classifier = nn.Sequential(nn.Linear(width, 128), nn.ReLU(), nn.Linear(128, num_classes))

    def forward(self, images: torch.Tensor, mode: str = "soft", temperature: float = 1.0,
                generator: torch.Generator | None = None) -> SoftAttentionOutput:
        """``images (batch, channels, height, width)`` -> :class:`SoftAttentionOutput`."""
        feature_map = self.features(images)  # (batch, width, rows, cols)
        batch, width, rows, cols = feature_map.shape
        logits = self.score(feature_map).flatten(1)  # (batch, rows * cols)
        pooled = attend_locations(feature_map.flatten(2).transpose(1, 2), logits, mode=mode,
                                  temperature=temperature, generator=generator)
        return SoftAttentionOutput(self.classifier(pooled.context), pooled.weights.view(batch, rows, cols),
                                   pooled.log_prob)


class GlimpseOutput(NamedTuple):
    """Attributes:
        logits: class scores after the last glimpse ``(batch, classes)``.
        locations: glimpse centres ``(batch, glimpses, 2)``, normalised ``(row, col)``.
        log_prob: log-probability of the sampled locations, summed over glimpses ``(batch,)``
            (zero when the locations were not sampled).
        step_log_probs: the same per glimpse ``(batch, glimpses)``.
        baselines: the learned baseline's prediction of the reward before each glimpse
            ``(batch, glimpses)``, from the state that the choice is made in.
    """

    logits: torch.Tensor
    locations: torch.Tensor
    log_prob: torch.Tensor
    step_log_probs: torch.Tensor
    baselines: torch.Tensor


class RecurrentAttentionModel(nn.Module):
    """A coarse view, then a few high-resolution glimpses at locations a policy chooses.

    The image is average-pooled by ``coarse_factor`` into a coarse view with one cell per
    candidate glimpse centre. At each step a categorical policy over those cells picks where
    to look (sampled in training, the most likely at test time). Its logits are a small
    convolution of the coarse view (the same detector everywhere, initialised as a
    brightness detector) plus a term from the recurrent state (so later glimpses can go
    elsewhere). The glimpse sensor reads there, a small CNN encodes the glimpse, and a GRU
    core folds it, with its position, into the state; the class is predicted from the last
    state. A linear head on the state predicts the reward before each choice (a learned
    baseline, as in Mnih et al.). The picks are discrete draws, so the policy is trained
    with REINFORCE; everything else with backpropagation.

    Args:
        glimpse_size: side of each glimpse in pixels (a multiple of 4).
        scales: glimpse scales.
        glimpses: glimpses per image.
        hidden: size of the core state.
        num_classes: classes.
        image_size: side of the square input images.
        coarse_factor: average-pooling factor of the coarse view (cell size in pixels).
        in_channels: image channels.
        saliency_gain: initial weight of the brightness prior of the policy (0: uniform start).
        detach_policy_input: the policy and the baseline read a detached copy of the state
            (no gradient of REINFORCE or of the baseline's regression reaches the core, the
            glimpse network or ``where``); False (default) lets them train the core too.
    """

    def __init__(self, glimpse_size: int = 16, scales: int = 1, glimpses: int = 2, hidden: int = 64,
                 num_classes: int = 10, image_size: int = 40, coarse_factor: int = 4,
                 in_channels: int = 1, saliency_gain: float = 20.0, detach_policy_input: bool = False) -> None:
        super().__init__()
        if not isinstance(detach_policy_input, bool):
            raise TypeError(f"detach_policy_input must be a bool, got {detach_policy_input!r}")
        self.detach_policy_input = detach_policy_input
        if glimpse_size % 4:
            raise ValueError(f"glimpse_size must be a multiple of 4, got {glimpse_size}")
        if image_size % coarse_factor:
            raise ValueError(f"coarse_factor must divide image_size, got {coarse_factor} and {image_size}")
        self.glimpse_size, self.scales, self.glimpses = glimpse_size, scales, glimpses
        self.coarse_factor, self.in_channels, self.image_size = coarse_factor, in_channels, image_size
        self.grid = image_size // coarse_factor
        # The policy starts as a brightness detector over 5x5 coarse cells (a box filter);
        # REINFORCE then adapts it.
        self.saliency = nn.Conv2d(in_channels, 1, 5, padding=2)
        with torch.no_grad():
            self.saliency.weight.fill_(saliency_gain / (25 * in_channels))
            self.saliency.bias.zero_()
        self.recurrent_policy = nn.Linear(hidden, self.grid**2)
        self.what = nn.Sequential(  # a small CNN reads each glimpse (all scales as channels)
            nn.Conv2d(in_channels * scales, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * (glimpse_size // 4) ** 2, hidden),
        )
        self.where = nn.Linear(2, hidden)
        self.core = nn.GRUCell(hidden, hidden)
        self.classifier = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))
        self.baseline = nn.Linear(hidden, 1)
        cells = (torch.arange(self.grid) * 2 + 1) / self.grid - 1  # normalised centres of the coarse cells
        self.register_buffer("centres", torch.cartesian_prod(cells, cells), persistent=False)  # (grid^2, 2)

    def pixels_per_image(self) -> int:
        """Values the glimpse networks read per image: the coarse view plus every glimpse.

        The coarse view itself is an average of every pixel (``image_size**2`` additions).
        """
        return self.in_channels * (self.grid**2 + self.glimpses * self.scales * self.glimpse_size**2)

    def initial_log_policy(self, images: torch.Tensor) -> torch.Tensor:
        """The policy of the first glimpse (from the zero state), as log-probabilities.

        Args:
            images: ``(batch, channels, image_size, image_size)``.

        Returns:
            ``(batch, grid**2)`` log-probabilities over the coarse cells (:attr:`centres`),
            the distribution the first glimpse of :meth:`forward` is drawn from.
        """
        saliency = self.saliency(F.avg_pool2d(images, self.coarse_factor)).flatten(1)
        state = images.new_zeros(images.shape[0], self.core.hidden_size)
        return torch.log_softmax(saliency + self.recurrent_policy(state), dim=-1)

    def forward(self, images: torch.Tensor, sample: bool | None = None,
                generator: torch.Generator | None = None, locations: torch.Tensor | None = None) -> GlimpseOutput:
        """Look ``glimpses`` times, then classify.

        Args:
            images: ``(batch, channels, image_size, image_size)``.
            sample: draw locations from the policy, or (False) take the most likely ones;
                None (default) follows the module's mode, as dropout does: sample in train
                mode, take the most likely in eval mode, so ``model.eval()`` is deterministic.
            generator: random generator for the draws.
            locations: ``(batch, glimpses, 2)`` normalised ``(row, col)`` centres to look at
                instead of the policy's choices (for example the true object's place: an
                upper bound of the classifier side); the policy is not consulted, so
                ``log_prob`` is zero. None (default): the policy chooses.
        """
        if sample is None:
            sample = self.training
        fixed = locations
        if fixed is not None:
            if not isinstance(fixed, torch.Tensor) or not fixed.is_floating_point():
                raise TypeError(f"locations must be a floating-point tensor, got {type(fixed).__name__}"
                                + (f" of {fixed.dtype}" if isinstance(fixed, torch.Tensor) else ""))
            expected = (images.shape[0], self.glimpses, 2)
            if tuple(fixed.shape) != expected:
                raise ValueError(f"locations must have shape (batch, glimpses, 2) = {expected}, "
                                 f"got {tuple(fixed.shape)}")
        coarse = F.avg_pool2d(images, self.coarse_factor)
        saliency = self.saliency(coarse).flatten(1)  # (batch, grid^2)
        state = images.new_zeros(images.shape[0], self.core.hidden_size)
        locations, log_probs, baselines = [], [], []
        for index in range(self.glimpses):
            policy_state = state.detach() if self.detach_policy_input else state
            if fixed is None:
                log_policy = torch.log_softmax(saliency + self.recurrent_policy(policy_state), dim=-1)
            baselines.append(self.baseline(policy_state)[:, 0])
            if fixed is not None:
                location = fixed[:, index]
                log_probs.append(images.new_zeros(images.shape[0]))
            elif sample:
                choice = torch.multinomial(log_policy.detach().exp(), 1, generator=generator)[:, 0]
                log_probs.append(log_policy.gather(1, choice[:, None])[:, 0])
                location = self.centres[choice]
            else:
                choice = log_policy.argmax(-1)
                log_probs.append(torch.zeros_like(log_policy[:, 0]))
                location = self.centres[choice]
            patch = extract_glimpses(images, location, self.glimpse_size, self.scales, padding="zeros")
            glimpse = torch.relu(self.what(patch.flatten(1, 2)) + self.where(location))
            state = self.core(glimpse, state)
            locations.append(location)
        step_log_probs = torch.stack(log_probs, 1)
        return GlimpseOutput(self.classifier(state), torch.stack(locations, 1), step_log_probs.sum(1),
                             step_log_probs, torch.stack(baselines, 1))


def multiply_adds(model: SoftAttentionClassifier | RecurrentAttentionModel, image_size: int = 40) -> dict[str, int]:
    """Multiply-adds for one image, by part.

    Convolutions and linear layers are counted by :func:`attnbook.count_macs` (hooks, one
    count per call, so each glimpse counts). Added here: attention pooling (one
    multiply-add per weight and feature), the GRU core (``3 (in + hidden) hidden`` per
    step), bilinear glimpse reads (4 per value read) and the coarse view's average
    (one addition per pixel).

    Returns:
        ``{"conv_linear": ..., "other": ..., "total": ...}``.
    """
    if not isinstance(model, (SoftAttentionClassifier, RecurrentAttentionModel)):
        raise TypeError(f"model must be a SoftAttentionClassifier or RecurrentAttentionModel, "
                        f"got {type(model).__name__}")
    channels = model.in_channels if isinstance(model, RecurrentAttentionModel) else model.features[0].in_channels
    conv_linear = count_macs(model, (channels, image_size, image_size)).conv_linear
    if isinstance(model, SoftAttentionClassifier):
        width = model.score.in_channels
        rows = image_size // 4
        other = rows * rows * width
    else:
        hidden = model.core.hidden_size
        other = (model.glimpses * 3 * (model.core.input_size + hidden) * hidden
                 + 4 * model.glimpses * channels * model.scales * model.glimpse_size**2
                 + channels * image_size**2)
    return {"conv_linear": conv_linear, "other": other, "total": conv_linear + other}
