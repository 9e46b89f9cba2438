"""Set-up shared by every chapter: seeds, thread count, printing, figure style."""

from __future__ import annotations

import random

import matplotlib as mpl
import numpy as np
import torch

from ._checks import check_int
from .device import get_device

__all__ = ["setup_notebook"]


def setup_notebook(seed: int = 0, threads: int = 2) -> torch.device:
    """Make a chapter's run repeatable and return the device it should use.

    Seeds Python, NumPy and PyTorch, fixes PyTorch's CPU thread count (results
    of reductions can depend on it), prints tensors rounded to 4 digits and
    sets one figure style for the book.

    Args:
        seed: seed for every random generator.
        threads: PyTorch CPU threads.

    Returns:
        The device from :func:`attnbook.get_device`.
    """
    check_int("threads", threads, 1)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.set_printoptions(precision=4, sci_mode=False)
    np.set_printoptions(precision=4, suppress=True)
    mpl.rcParams.update({
        "figure.dpi": 100,
        "figure.figsize": (6.4, 3.6),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 11,
        "font.size": 10,
        "svg.hashsalt": "attnbook",
    })
    return get_device()
