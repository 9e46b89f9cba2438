"""Gate initialisation: how open a sigmoid gate starts.

A gate ``sigmoid(a)`` with ``a`` near zero at initialisation is about 1/2, so an SE or
CBAM channel gate placed on a residual branch halves that branch when training starts
(CBAM's spatial gate halves it again, coordinate attention's two gates quarter it).
:func:`open_gates` sets the biases that feed each gate's sigmoid so that the gate starts
near ``sigmoid(logit)`` instead, while the weights keep their random initialisation.
Zero-initialising the last layer of a residual branch (Goyal et al., 2017,
https://arxiv.org/abs/1706.02677) is the same idea applied to the branch itself; GCNet's
code starts its transform at zero for that reason.

Each module knows where its own gate's bias is: :func:`open_gates` only finds the
modules and calls their ``init_gate(logit)`` method. A module of one's own joins in by
defining that method.
"""

from __future__ import annotations

from torch import nn

from ._common import check_logit

__all__ = ["open_gates"]


def open_gates(model: nn.Module, logit: float = 3.0) -> int:
    """Call ``init_gate(logit)`` on every attention module of ``model`` so that its gates start open.

    The modules are found from the top: a module with an ``init_gate`` method sets all the
    gates inside it (:class:`~attnbook.channel.CBAM` sets its channel and its spatial gate),
    and its submodules are not visited again. What each module sets:

    * :class:`~attnbook.channel.SqueezeExcite`: the second linear layer's bias to ``logit``;
    * :class:`~attnbook.channel.CBAMChannelGate`: the MLP's last bias to ``logit / 2`` (the MLP
      runs on the average and on the max, and the two are added);
    * :class:`~attnbook.channel.CBAMSpatialGate`: the batch norm's shift to ``logit``;
    * :class:`~attnbook.channel.CoordinateAttention`: both gate convolutions' biases to ``logit``;
    * :class:`~attnbook.channel.BAM` (``variant="paper"``): each branch's closing batch norm's
      shift to ``logit / 2``.

    ECA (no bias), the GC block (no gate) and BAM's official variant (branches multiplied)
    raise ``NotImplementedError`` from their ``init_gate``.

    Args:
        model: any module; its attention modules are changed in place.
        logit: the pre-sigmoid value the gates start at (3 gives gates near 0.95).

    Returns:
        The number of modules whose ``init_gate`` was called (one per CBAM, not one per gate).

    Raises:
        TypeError: if a module declares ``elementwise_passes`` (the mark of an attention module,
            read by :func:`attnbook.measure.count_macs`) but has no ``init_gate`` method, since
            its gates would otherwise be left as they are without a word.
        NotImplementedError: from a module whose gate cannot be set (see above).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    check_logit(logit)
    changed = 0
    visited: set[int] = set()
    pending: list[tuple[str, nn.Module]] = [("", model)]
    while pending:
        path, module = pending.pop()
        if id(module) in visited:
            continue
        visited.add(id(module))
        init_gate = getattr(module, "init_gate", None)
        if callable(init_gate):
            init_gate(logit)
            changed += 1
        elif getattr(type(module), "elementwise_passes", None) is not None:
            raise TypeError(
                f"{type(module).__name__} at {path or 'the top of the model'!r} declares elementwise_passes, so it "
                "looks like an attention module, but it has no init_gate(logit) method to set its gates; define "
                "one (it should set the bias in front of its sigmoid) or raise NotImplementedError from it")
        else:
            pending.extend(reversed([(f"{path}.{name}" if path else name, child)
                                     for name, child in module.named_children()]))
    return changed
