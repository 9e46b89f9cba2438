"""Where a measurement came from: one record for every script that stores results.

:func:`provenance` returns the record the sweep scripts (``experiments/``) store with each
run and the benchmarks (``benchmarks/``) store with each report: the torch and Python
versions, the platform, the device and its processor's name, the thread count and the
vector instructions torch's CPU kernels use, the date, the command line and the git commit
of the code (with whether the tree was dirty).
"""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

__all__ = ["provenance"]

# The environment variables that choose the instruction sets of torch's CPU kernels (ATen's
# vectorised kernels, oneDNN's convolutions and matrix products, MKL's BLAS), and so their rounding.
_CPU_KERNEL_VARIABLES = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS",
                        "MKL_CBWR")
# The directory whose git checkout provenance() reports by default: attnbook's own.
_PACKAGE_DIR = Path(__file__).resolve().parents[1]


def provenance(command: str | Sequence[str] | None = None, *, device: torch.device | str = "cpu",
               repository: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The record of where and how a result was computed, as a JSON-ready dict.

    Keys:

    * ``torch``, ``python``: the versions; ``platform``: :func:`platform.platform`.
    * ``device``: ``device`` as a string; ``hardware``: the GPU's name for a CUDA device,
      else the processor's model name (``/proc/cpuinfo``; else :func:`platform.processor`
      or the machine type).
    * ``threads``: :func:`torch.get_num_threads` at the call; ``cpu_capability``: the vector
      instruction set torch's CPU kernels use (``torch.backends.cpu.get_cpu_capability()``,
      e.g. ``"AVX2"``, ``"AVX512"``; the environment variable ``ATEN_CPU_CAPABILITY`` lowers
      it); ``cpu_env``: those of ``ATEN_CPU_CAPABILITY``, ``ONEDNN_MAX_CPU_ISA``,
      ``DNNL_MAX_CPU_ISA``, ``MKL_ENABLE_INSTRUCTIONS`` and ``MKL_CBWR`` that are set (they
      choose the instruction sets of torch's, oneDNN's and MKL's kernels).
      The same code, seeds and threads give other numbers on other instruction sets, so a
      CPU result reproduces exactly only where these agree: a run recorded on an AVX2 machine
      reproduces on an AVX-512 one under ``ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2
      MKL_ENABLE_INSTRUCTIONS=AVX2``.
    * ``date``: now, ISO 8601 in UTC to the second (``2026-12-01T09:30:00+00:00``).
    * ``command``: the command line, a string.
    * ``git_commit``: the full hash of ``HEAD`` of the checkout holding ``repository``, or
      None where there is none (an installed package, Colab, no git, a directory git ignores);
      ``git_dirty``: whether tracked files differ from ``HEAD`` (untracked files do not
      count, as for ``git describe --dirty``), None without a commit.

    Args:
        command: the command line, as a string or as its words (joined with shell quoting);
            None: this process's, ``python`` followed by :data:`sys.argv`.
        device: the device the work ran on (``"cpu"``, ``"cuda"``, ``torch.device(...)``).
        repository: a directory inside the checkout to report (default: attnbook's own
            source directory, so an editable install reports the book's repository).

    Returns:
        The record; it never raises for a missing repository or a missing ``git``.
    """
    if command is None:
        command = shlex.join([Path(sys.executable).name, *sys.argv])
    elif not isinstance(command, str):
        words = list(command)
        if not all(isinstance(word, str) for word in words):
            raise TypeError(f"command must be a string or a sequence of strings, got {command!r}")
        command = shlex.join(words)
    device = torch.device(device)
    commit, dirty = _git_state(Path(repository if repository is not None else _PACKAGE_DIR))
    return {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": str(device),
        "hardware": torch.cuda.get_device_name(device) if device.type == "cuda" else _cpu_name(),
        "threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cpu_env": {name: os.environ[name] for name in _CPU_KERNEL_VARIABLES if name in os.environ},
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "git_commit": commit,
        "git_dirty": dirty,
    }


def _cpu_name() -> str:
    """The processor's model name where the system tells it, else the machine type."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git(directory: Path, *arguments: str) -> subprocess.CompletedProcess[str] | None:
    """``git -C directory arguments``, or None where git is missing or hangs."""
    try:  # --no-optional-locks: reading the state must not take the index lock from a concurrent commit
        return subprocess.run(["git", "--no-optional-locks", "-C", str(directory), *arguments],
                              capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None


def _git_state(directory: Path) -> tuple[str | None, bool | None]:
    """The commit of the checkout holding ``directory`` and whether it is dirty; (None, None) for none."""
    if not directory.is_dir():
        return None, None
    head = _git(directory, "rev-parse", "HEAD")
    if head is None or head.returncode != 0:
        return None, None
    ignored = _git(directory, "check-ignore", "-q", str(directory))
    if ignored is None or ignored.returncode == 0:  # e.g. a virtual environment inside someone's checkout
        return None, None
    status = _git(directory, "status", "--porcelain", "--untracked-files=no")
    dirty = None if status is None or status.returncode != 0 else bool(status.stdout.strip())
    return head.stdout.strip(), dirty
