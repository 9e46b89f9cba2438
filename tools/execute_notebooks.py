"""Re-run notebooks in place, deterministically, so their stored outputs are the ones nbval checks.

Usage: python tools/execute_notebooks.py chapters/*.ipynb

Outputs are computed on the CPU (ATTNBOOK_DEVICE=cpu) with a fixed hash seed;
no timing metadata is stored, and the widget state that the run records is
dropped: it would make the book load the widget manager from a CDN, and the
static slider frames are in the outputs themselves. The stored widget views go
too: without their state a front end that opens the notebook (JupyterLab, Colab)
shows "model not found" where the static slider should be; running the cell
brings the live widget back. nbval never compares widget views (random ids).

Each notebook runs in an empty temporary directory, as in Colab, where a chapter is one
file with the package installed and no repository around it; nbval runs them the same
way (tests/conftest.py).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from attnbook.book.style import WIDGET_VIEW_MIMETYPE as WIDGET_VIEW


def drop_widget_views(notebook: nbformat.NotebookNode) -> None:
    """Remove stored widget views, whose models die with the kernel that made them."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(WIDGET_VIEW, None)


def execute(path: Path) -> float:
    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="attnbook-chapter-") as empty:
        client = NotebookClient(
            notebook,
            timeout=600,
            kernel_name="python3",
            resources={"metadata": {"path": empty}},
            record_timing=False,
        )
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
    notebook.metadata.pop("widgets", None)
    drop_widget_views(notebook)
    nbformat.write(notebook, path)
    return seconds


def main(paths: list[str]) -> None:
    if not paths:
        raise SystemExit("usage: python tools/execute_notebooks.py NOTEBOOK.ipynb ...")
    os.environ["ATTNBOOK_DEVICE"] = "cpu"
    os.environ["PYTHONHASHSEED"] = "0"
    for name in paths:
        seconds = execute(Path(name))
        print(f"{name}: executed in {seconds:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
