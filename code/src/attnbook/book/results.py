"""The stored results the chapters read: sweeps from ``experiments/`` and benchmark runs.

They ship inside the package (``attnbook/results/*.json``, package data), so a chapter
opened alone, in Colab or downloaded, reads the results that match the package it
installed; the sweep scripts and benchmarks write there by default. Read them through
:func:`stored_results`, never by a path next to the notebook.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["results_folder", "stored_result_names", "stored_results"]


def results_folder() -> Path:
    """The package folder that holds the stored results, one ``<name>.json`` each.

    In a checkout (the editable install ``make`` sets up) this is ``code/src/attnbook/results``,
    where the sweep scripts and benchmarks write by default.
    """
    return Path(str(resources.files("attnbook") / "results"))


def stored_result_names() -> list[str]:
    """Names of the stored results this installation carries, sorted (e.g. ``"dates"``)."""
    folder = results_folder()
    return sorted(path.stem for path in folder.glob("*.json")) if folder.is_dir() else []


def stored_results(name: str) -> dict[str, Any]:
    """The stored results called ``name``, parsed from its JSON.

    Args:
        name: one of :func:`stored_result_names`, e.g. ``"dates"`` or ``"sliding_window_cpu"``.

    Raises:
        TypeError: ``name`` is not a string.
        FileNotFoundError: this installation has no such results; the message lists the
            names it has and says how to get the package the chapter needs.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    path = results_folder() / f"{name}.json"
    if not path.is_file():
        from importlib.metadata import PackageNotFoundError, version

        try:
            installed = version("attnbook")
        except PackageNotFoundError:
            installed = "unknown"
        raise FileNotFoundError(
            f"attnbook {installed} has no stored results named {name!r}; it has {stored_result_names()}. "
            "Run the chapter's first cell, which installs the version the chapter was computed with, "
            "or run the experiment or benchmark that writes it (see experiments/README.md).")
    return json.loads(path.read_text(encoding="utf-8"))
