"""Gather-Excite (Hu, Shen, Albanie, Sun and Vedaldi, 2018, https://arxiv.org/abs/1810.12348).

A *gather* operator summarises each channel over a spatial *extent*, an *excite* operator
spreads the summary back to the positions it came from and gates them:
``y = x * sigmoid(excite(gather(x)))``. The paper's subject is the extent: ``e`` (each
summary covers an ``e x e`` window, the map shrinks by ``e``) or global (one summary per
channel, as SE's squeeze).

Three variants, as the paper names them:

* **GE-θ⁻** (:class:`GatherExcite`, parameter-free): gather = average pooling over the
  extent, excite = nearest-neighbour upsampling back to ``H x W``, then the sigmoid. With a
  global extent the gate of channel c is ``sigmoid(mean(x_c))``: every channel gates itself
  by its own mean, with no mixing of channels.
* **GE-θ** (:class:`GatherExciteTheta`): the gather is learned, depthwise. Global: one
  depthwise convolution whose kernel covers the whole map (so ``feature_size`` must be
  known), then batch norm, as in the authors' released ``RN50-GEP.prototxt``
  (https://github.com/hujie-frank/GENet, ``DepthwiseConvolution`` with ``kernel_size: 56``,
  no bias, then BN, then the sigmoid). Extent ``e``: ``log2(e)`` depthwise 3x3 convolutions of
  stride 2, each followed by batch norm, with ReLU between them (the authors released only
  the global models; this follows the paper's "strided depth-wise convolution" and timm's
  ``GatherExcite``).
* **GE-θ⁺** (:class:`GatherExciteThetaPlus`): the learned gather, then ReLU and an SE-style
  excite of two 1x1 convolutions with biases (C -> C/r -> C, ReLU between), then the sigmoid,
  as in ``RN50-GEPP.prototxt`` (r = 16 there).

Where this differs from other code: the parameter-free gather with extent ``e`` here averages
non-overlapping ``e x e`` windows (the last ones cut by the map's edge; ``ceil_mode``), and the
excite gives every position the gate of the window it lies in. timm's ``GatherExcite`` instead
pools windows of ``2e - 1`` with stride ``e`` (overlapping) and upsamples with
``F.interpolate``; both shrink the map by ``e``. The global variants agree with the prototxts.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_int
from ._common import check_channels, check_feature_map, check_logit, reduced_channels

__all__ = ["GatherExcite", "GatherExciteTheta", "GatherExciteThetaPlus", "spread_to"]


def spread_to(gathered: torch.Tensor, extent: int | None, size: tuple[int, int]) -> torch.Tensor:
    """The excite's upsampling: every position of a ``size`` map gets the value of its window.

    Args:
        gathered: ``(batch, channels, ceil(height / extent), ceil(width / extent))``, or
            ``(batch, channels, 1, 1)`` for a global extent.
        extent: the window side ``e``, or None (global).
        size: ``(height, width)`` of the map to spread to.

    Returns:
        ``(batch, channels, height, width)`` (broadcast, not copied, for a global extent):
        position ``(i, j)`` holds ``gathered[..., i // e, j // e]``, nearest-neighbour
        upsampling by ``e`` cut to ``size``.
    """
    if extent is None:
        return gathered.expand(*gathered.shape[:2], *size)
    height, width = size
    return gathered.repeat_interleave(extent, dim=2)[:, :, :height].repeat_interleave(extent, dim=3)[:, :, :, :width]


def _check_extent(extent: object, power_of_two: bool) -> int | None:
    if extent is None:
        return None
    check_int("extent", extent, 2)
    if power_of_two and extent & (extent - 1):
        raise ValueError(f"extent must be None (global) or a power of two >= 2 for a learned gather "
                         f"(log2(extent) stride-2 convolutions), got {extent!r}")
    return extent


class GatherExcite(nn.Module):
    """GE-θ⁻: the parameter-free gather-excite, ``x * sigmoid(spread(avgpool_e(x)))``.

    Args:
        channels: input channels C (the module has no parameters; C is checked on every call).
        extent: the side ``e`` >= 2 of the pooled windows, or None for a global extent (the
            paper's GE-θ⁻ with global extent, which its ImageNet table reports best).
        device: accepted for the package's constructor vocabulary; there are no parameters.
        dtype: accepted for the package's constructor vocabulary; there are no parameters.
    """

    #: Passes over the feature map besides convolutions and linear layers: gathers once and scales
    #: once (the gate's spreading to every position is folded into the scaling; read by
    #: :func:`attnbook.measure.count_macs`).
    elementwise_passes = 2

    def __init__(self, channels: int, extent: int | None = None, *, device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.channels = check_channels(channels)
        self.extent = _check_extent(extent, power_of_two=False)

    def init_gate(self, logit: float) -> None:
        """Not possible: GE-θ⁻ has no parameters, so nothing shifts its sigmoid.

        Raises:
            NotImplementedError: always.
        """
        raise NotImplementedError(
            f"GatherExcite (GE-θ⁻) has no parameters, so its gate sigmoid(mean) cannot be set to "
            f"sigmoid(logit={logit!r}); use GatherExciteTheta or GatherExciteThetaPlus for a learned gate")

    def gathered(self, x: torch.Tensor) -> torch.Tensor:
        """The gather: ``(batch, channels, 1, 1)`` means (global) or ``(batch, channels,
        ceil(height / e), ceil(width / e))`` window means."""
        if self.extent is None:
            return x.mean(dim=(2, 3), keepdim=True)
        return F.avg_pool2d(x, self.extent, self.extent, ceil_mode=True)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """The gate before its sigmoid, at the gathered resolution (see :meth:`gathered`)."""
        return self.gathered(x)

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        """The gate, ``(batch, channels, height, width)`` (a broadcast view for a global extent)."""
        check_feature_map(x, self.channels)
        return spread_to(torch.sigmoid(self.logits(x)), self.extent, (x.shape[2], x.shape[3]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x * gate(x)`` for ``x`` of shape ``(batch, channels, height, width)``."""
        return x * self.gate(x)


class GatherExciteTheta(GatherExcite):
    """GE-θ: a learned depthwise gather (and batch norm) before the sigmoid.

    Args:
        channels: input channels C.
        extent: the side ``e`` (a power of two >= 2: ``log2(e)`` depthwise 3x3 stride-2
            convolutions), or None for a global extent: one depthwise convolution with a
            ``feature_size x feature_size`` kernel, as in the authors' models.
        feature_size: the side of the (square) maps the module will see; needed for a global
            extent, where it fixes the kernel, and checked on every call; must be None
            otherwise.
        device: where the parameters are created (as in ``torch.nn``).
        dtype: the parameters' floating-point type (as in ``torch.nn``).
    """

    def __init__(self, channels: int, extent: int | None = 8, feature_size: int | None = None, *,
                 device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> None:
        nn.Module.__init__(self)
        self.channels = check_channels(channels)
        self.extent = _check_extent(extent, power_of_two=True)
        factory = {"device": device, "dtype": dtype}
        if self.extent is None:
            if feature_size is None:
                raise ValueError("feature_size must be given for a global learned gather (extent=None): the "
                                 "depthwise kernel covers the whole map, so its size must be known")
            self.feature_size = check_int("feature_size", feature_size, 1)
            layers: list[nn.Module] = [nn.Conv2d(channels, channels, feature_size, groups=channels, bias=False,
                                                 **factory), nn.BatchNorm2d(channels, **factory)]
        else:
            if feature_size is not None:
                raise ValueError(f"feature_size is only for a global extent (extent=None), got "
                                 f"feature_size={feature_size!r} with extent={extent!r}")
            self.feature_size = None
            layers = []
            for index in range(int(math.log2(self.extent))):
                if index:
                    layers.append(nn.ReLU())
                layers += [nn.Conv2d(channels, channels, 3, 2, 1, groups=channels, bias=False, **factory),
                           nn.BatchNorm2d(channels, **factory)]
        self.gather = nn.Sequential(*layers)

    def init_gate(self, logit: float) -> None:
        """Set the last batch norm's shift to ``logit``, in place (the convolutions have no bias).

        On an all-zero input the gather gives zero, the batch norm its shift, and the gate is
        exactly ``sigmoid(logit)``.

        Args:
            logit: a finite number (3 gives gates near 0.95).
        """
        nn.init.constant_(self.gather[-1].bias, check_logit(logit))

    def gathered(self, x: torch.Tensor) -> torch.Tensor:
        """The learned gather, ``(batch, channels, 1, 1)`` or ``(batch, channels, ceil(height / e),
        ceil(width / e))``."""
        if self.feature_size is not None and tuple(x.shape[2:]) != (self.feature_size, self.feature_size):
            raise ValueError(f"x has maps of {tuple(x.shape[2:])}, the global gather was built for "
                             f"feature_size={self.feature_size} (maps of {(self.feature_size, self.feature_size)})")
        return self.gather(x)


class GatherExciteThetaPlus(GatherExciteTheta):
    """GE-θ⁺: the learned gather, then ReLU and an SE-style excite (two 1x1 convolutions).

    Args:
        channels: input channels C.
        extent: as for :class:`GatherExciteTheta` (None: global, with ``feature_size``).
        feature_size: as for :class:`GatherExciteTheta`.
        rd_ratio: hidden width of the excite as a fraction of C (1/16 in the authors' model).
        rd_channels: the hidden width, overriding ``rd_ratio``.
        rd_divisor: round the hidden width to a multiple of this.
        device: where the parameters are created (as in ``torch.nn``).
        dtype: the parameters' floating-point type (as in ``torch.nn``).
    """

    def __init__(self, channels: int, extent: int | None = 8, feature_size: int | None = None,
                 rd_ratio: float = 1 / 16, rd_channels: int | None = None, rd_divisor: int | None = None, *,
                 device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> None:
        super().__init__(channels, extent, feature_size, device=device, dtype=dtype)
        hidden = reduced_channels(channels, rd_ratio, rd_channels, rd_divisor)
        self.excite = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, hidden, 1, device=device, dtype=dtype), nn.ReLU(),
                                    nn.Conv2d(hidden, channels, 1, device=device, dtype=dtype))

    def init_gate(self, logit: float) -> None:
        """Set the last 1x1 convolution's bias to ``logit``, in place (as SE's ``b_2``).

        Args:
            logit: a finite number (3 gives gates near 0.95).
        """
        nn.init.constant_(self.excite[-1].bias, check_logit(logit))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """The excite's output before the sigmoid, at the gathered resolution."""
        return self.excite(self.gathered(x))
