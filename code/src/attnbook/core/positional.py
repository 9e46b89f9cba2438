"""Sinusoidal positional encoding (Vaswani et al., 2017, https://arxiv.org/abs/1706.03762, section 3.5).

Self-attention without positions is permutation-equivariant: permuting the
input rows permutes the output rows the same way, so the layer cannot tell
word order apart. Adding a different vector to each position breaks that
symmetry. The Transformer adds

    PE[pos, 2i]     = sin(pos / base^(2i / dim))
    PE[pos, 2i + 1] = cos(pos / base^(2i / dim))

with ``base = 10000``: each pair of dimensions is a sine and a cosine of one
frequency, the frequencies falling geometrically from 1 to about ``1 / base``.
"""

from __future__ import annotations

import torch

from .._checks import check_int, check_positive

__all__ = ["sinusoidal_positional_encoding"]


def sinusoidal_positional_encoding(
    length: int,
    dim: int,
    base: float = 10000.0,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """The Transformer's sinusoidal encodings of positions ``0 .. length - 1``.

    Args:
        length: number of positions (an integer >= 1).
        dim: encoding size, the model width (an even integer >= 2).
        base: the wavelength scale, 10000 in the paper (a number > 0).
        dtype: floating dtype of the result.
        device: device of the result.

    Returns:
        ``(length, dim)``: row ``pos`` holds ``sin(pos * w_i)`` in the even
        columns ``2i`` and ``cos(pos * w_i)`` in the odd columns ``2i + 1``,
        with ``w_i = base^(-2i / dim)``.
    """
    check_int("length", length, 1)
    check_int("dim", dim, 2)
    if dim % 2:
        raise ValueError(f"dim must be even (sine and cosine pairs), got {dim}")
    check_positive("base", base)
    if not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating-point dtype, got {dtype}")
    # Angles in float64, then cast: keeps large positions accurate in float32.
    positions = torch.arange(length, dtype=torch.float64, device=device)[:, None]   # (length, 1)
    frequencies = base ** (-torch.arange(0, dim, 2, dtype=torch.float64, device=device) / dim)  # (dim / 2,)
    angles = positions * frequencies                                                   # (length, dim / 2)
    encoding = torch.stack((angles.sin(), angles.cos()), dim=-1).reshape(length, dim)  # interleave sin, cos
    return encoding.to(dtype)
