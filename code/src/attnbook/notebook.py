"""Set-up shared by every chapter: seeds, thread count, printing, figure style."""

from __future__ import annotations

import random

import matplotlib as mpl
import numpy as np
import torch

from ._checks import check_int
from .device import get_device

__all__ = ["BOOK_DPI", "MAX_FIGURE_PIXELS", "MIN_FONT_POINTS", "TEXT_WIDTH_INCHES", "setup_notebook"]

#: Resolution at which the book stores figures (inline PNGs and slider frames).
BOOK_DPI = 100
#: Width of the book's text column: a figure wider than this is shrunk in the HTML.
TEXT_WIDTH_INCHES = 7.5
#: Widest stored PNG that the HTML shows at full size (text column at the book's dpi).
MAX_FIGURE_PIXELS = round(TEXT_WIDTH_INCHES * BOOK_DPI)
#: Smallest font size, in points, of any text in a figure.
MIN_FONT_POINTS = 9


def setup_notebook(seed: int = 0, threads: int = 2) -> torch.device:
    """Make a chapter's run repeatable and return the device it should use.

    Seeds Python, NumPy and PyTorch, fixes PyTorch's CPU thread count (results
    of reductions can depend on it), prints tensors rounded to 4 digits and
    sets one figure style for the book: figures at most :data:`TEXT_WIDTH_INCHES`
    wide at :data:`BOOK_DPI` (wider figures wrap their panels into rows) and no
    text smaller than :data:`MIN_FONT_POINTS`.

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
        "figure.dpi": BOOK_DPI,
        "savefig.dpi": BOOK_DPI,
        "figure.figsize": (6.4, 3.6),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "font.size": 10,
        "xtick.labelsize": MIN_FONT_POINTS,
        "ytick.labelsize": MIN_FONT_POINTS,
        "legend.fontsize": MIN_FONT_POINTS,
        "figure.titlesize": 11,
        "svg.hashsalt": "attnbook",
    })
    return get_device()
