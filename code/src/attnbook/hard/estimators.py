"""Training signals for discrete (hard) choices.

* REINFORCE (Williams, 1992): ``grad E[R] = E[(R - b) grad log p(choice)]`` for any
  baseline ``b`` that does not depend on the choice; :class:`MovingAverageBaseline`
  keeps ``b`` as an exponential moving average of the rewards.
* Gumbel-softmax (Jang et al., 2017, https://arxiv.org/abs/1611.01144; Maddison et al.,
  2017, https://arxiv.org/abs/1611.00712): ``softmax((logits + g) / tau)`` with Gumbel
  noise ``g`` is a differentiable relaxation of a categorical sample (as ``tau -> 0``
  it tends to ``one_hot(argmax(logits + g))``, which by the Gumbel-max trick is an exact
  sample of ``softmax(logits)``). With ``hard=True`` the forward pass is that one-hot
  arg-max and the backward pass the relaxation's gradient: the straight-through
  Gumbel-softmax estimator of Jang et al. (2017, section 2.2), a special case of the
  generic straight-through idea discussed by Bengio et al. (2013,
  https://arxiv.org/abs/1308.3432).
"""

from __future__ import annotations

import torch

from .._checks import check_positive, check_tensor

__all__ = ["sample_gumbel", "gumbel_softmax", "MovingAverageBaseline", "reinforce_loss"]


def sample_gumbel(shape: torch.Size | tuple[int, ...], generator: torch.Generator | None = None,
                  dtype: torch.dtype = torch.float32, device: torch.device | str | None = None) -> torch.Tensor:
    """Standard Gumbel noise ``-log(-log(U))``, ``U ~ Uniform(0, 1)``."""
    uniform = torch.rand(shape, generator=generator, dtype=dtype, device=device)
    tiny = torch.finfo(dtype).tiny
    return -torch.log((-torch.log(uniform.clamp_min(tiny))).clamp_min(tiny))


def gumbel_softmax(logits: torch.Tensor, temperature: float = 1.0, hard: bool = False,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """A relaxed (or, with ``hard``, straight-through one-hot) categorical sample.

    Args:
        logits: unnormalised log-probabilities ``(..., categories)``.
        temperature: tau > 0; small values give samples close to one-hot.
        hard: return the one-hot arg-max in the forward pass, with the relaxed gradient.
        generator: random generator for the noise.

    Returns:
        Samples of the shape of ``logits``; each sums to 1 over the last dimension.
    """
    check_tensor("logits", logits, min_ndim=1)
    temperature = check_positive("temperature", temperature)
    noise = sample_gumbel(logits.shape, generator, logits.dtype, logits.device)
    soft = torch.softmax((logits + noise) / temperature, dim=-1)
    if not hard:
        return soft
    one_hot = torch.zeros_like(soft).scatter(-1, soft.argmax(-1, keepdim=True), 1.0)
    return one_hot + soft - soft.detach()


class MovingAverageBaseline:
    """``b <- momentum * b + (1 - momentum) * mean(reward)``, starting from the first rewards.

    The baseline stays on the rewards' device, a 0-dimensional tensor, so that an update
    never waits for the device; it is kept in float64 (float32 on MPS, which has no
    float64), as a Python float would be.

    Args:
        momentum: in [0, 1); 0.9 averages roughly the last ten batches.

    Attributes:
        value: the baseline, a 0-dimensional tensor; None before the first update.
    """

    def __init__(self, momentum: float = 0.9) -> None:
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0 <= momentum < 1:
            raise ValueError(f"momentum must be a number in [0, 1), got {momentum!r}")
        self.momentum = float(momentum)
        self.value: torch.Tensor | None = None

    def update(self, reward: torch.Tensor) -> torch.Tensor:
        """Fold a batch of rewards in and return the new baseline.

        Args:
            reward: the rewards of one batch, any shape (no gradient is taken through them).

        Returns:
            The baseline after the update, a 0-dimensional tensor on the rewards' device.
        """
        if not isinstance(reward, torch.Tensor):
            raise TypeError(f"reward must be a torch.Tensor, got {type(reward).__name__}")
        dtype = torch.float32 if reward.device.type == "mps" else torch.float64
        mean = reward.detach().float().mean().to(dtype)
        self.value = mean if self.value is None else self.momentum * self.value + (1 - self.momentum) * mean
        return self.value


def reinforce_loss(log_prob: torch.Tensor, reward: torch.Tensor, baseline: float | torch.Tensor = 0.0) -> torch.Tensor:
    """A loss whose gradient is the REINFORCE estimate ``-(R - b) grad log p``, averaged.

    Args:
        log_prob: log-probability of each sampled choice ``(batch,)``, with gradients.
        reward: reward of each choice ``(batch,)`` (no gradient is taken through it).
        baseline: a number, or a tensor ``(batch,)`` such as a learned baseline's output
            (no gradient is taken through it either).

    Returns:
        A scalar loss to minimise.
    """
    check_tensor("log_prob", log_prob, min_ndim=1)
    check_tensor("reward", reward, min_ndim=1)
    if log_prob.shape != reward.shape:
        raise ValueError(f"log_prob and reward must have the same shape, got {tuple(log_prob.shape)} and "
                         f"{tuple(reward.shape)}")
    advantage = (reward - baseline).detach() if isinstance(baseline, torch.Tensor) else reward.detach() - baseline
    return -(advantage * log_prob).mean()
