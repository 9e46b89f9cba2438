"""Set-up shared by every chapter: seeds, thread count, printing, figure style."""

from __future__ import annotations

import math
import os
import random
import time

import matplotlib as mpl
import numpy as np
import torch

from .._checks import check_int
from .device import get_device
from .style import BOOK_DPI, MAX_FIGURE_PIXELS, MIN_FONT_POINTS, TEXT_WIDTH_INCHES

__all__ = ["busy_cores", "setup_notebook", "threads_to_use"]


def busy_cores(seconds: float = 0.2) -> float:
    """How many CPU cores other processes keep busy, measured over ``seconds``.

    Reads the machine's CPU time from ``/proc/stat`` before and after a short
    sleep and subtracts this process's own CPU time. Returns 0 where
    ``/proc/stat`` does not exist (not Linux).
    """

    def busy_seconds() -> float:
        with open("/proc/stat") as stat:
            fields = [int(field) for field in stat.readline().split()[1:9]]
        # user nice system idle iowait irq softirq steal: busy is all but idle and iowait
        return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")

    try:
        machine, own, start = busy_seconds(), time.process_time(), time.monotonic()
        time.sleep(seconds)
        machine, own = busy_seconds() - machine, time.process_time() - own
    except (OSError, ValueError):
        return 0.0
    return max(0.0, machine - own) / (time.monotonic() - start)


def threads_to_use(threads: int, busy: float, cores: int | None = None) -> int:
    """At most ``threads`` PyTorch threads, and no more than the cores left idle (at least 1).

    PyTorch's CPU operations wait for all their threads at the end of each
    parallel region; a thread whose core another process holds makes every
    step wait for the scheduler, so on a busy machine fewer threads run faster.

    Args:
        threads: the most threads wanted.
        busy: cores kept busy by other processes (:func:`busy_cores`).
        cores: cores this process may use; default those of its CPU affinity.
    """
    check_int("threads", threads, 1)
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(threads, math.floor(cores - busy + 0.5)))


def _chosen_threads(threads: int) -> int:
    choice = os.environ.get("ATTNBOOK_THREADS", "").strip()
    if not choice:
        return threads
    if choice == "auto":
        return threads_to_use(threads, busy_cores())
    if not choice.isdigit() or int(choice) < 1:
        raise ValueError(f"ATTNBOOK_THREADS must be 'auto' or a positive integer, got {choice!r}")
    return int(choice)


def setup_notebook(seed: int = 0, threads: int = 2) -> torch.device:
    """Make a chapter's run repeatable and return the device it should use.

    Seeds Python, NumPy and PyTorch, fixes PyTorch's CPU thread count (results
    of reductions can depend on it: a small training loop's weights differ in
    the last bits between 1 and 2 threads), prints tensors rounded to 4 digits and
    sets one figure style for the book: figures at most :data:`TEXT_WIDTH_INCHES`
    wide at :data:`BOOK_DPI` (wider figures wrap their panels into rows) and no
    text smaller than :data:`MIN_FONT_POINTS`.

    Args:
        seed: seed for every random generator.
        threads: the most PyTorch CPU threads to use.

    On a busy machine two threads made a small training loop 2-3.5x slower than one (each
    parallel region waits for a thread whose core another process holds). Set
    the environment variable ``ATTNBOOK_THREADS=auto`` to use fewer threads
    there (:func:`threads_to_use` after measuring :func:`busy_cores` for
    0.2 s), or ``ATTNBOOK_THREADS=1`` to fix one; printed digits may then
    differ from the stored outputs, which were computed with ``threads``.

    Returns:
        The device from :func:`attnbook.get_device`.
    """
    check_int("threads", threads, 1)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(_chosen_threads(threads))
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
