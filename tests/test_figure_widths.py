"""The book's figure rule, checked on the committed notebook outputs.

Every stored figure (inline PNGs and the frames of static sliders) must fit the
text column at the book's dpi: a wider PNG is shrunk in the HTML and its text
drops below the readable size that ``setup_notebook`` sets.
"""

from __future__ import annotations

import base64
import re
import struct

import matplotlib as mpl
import pytest

import attnbook as ab
from book import CHAPTERS, load_notebook

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FRAME_PATTERN = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]+)")


def png_size(encoded: str) -> tuple[int, int]:
    """Width and height in pixels of a base64-encoded PNG, read from its IHDR chunk."""
    data = base64.b64decode(encoded)
    if data[:8] != PNG_SIGNATURE:
        raise ValueError("not a PNG")
    return struct.unpack(">II", data[16:24])


def stored_figures(notebook: dict) -> list[tuple[str, str]]:
    """(where, base64 PNG) for every inline image and every slider frame of a notebook."""
    figures = []
    for index, cell in enumerate(notebook["cells"]):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                figures.append((f"cell {index} image", "".join(data["image/png"])))
            for frame, encoded in enumerate(FRAME_PATTERN.findall("".join(data.get("text/html", "")))):
                figures.append((f"cell {index} slider frame {frame}", encoded))
    return figures


def test_png_size_reads_a_matplotlib_png(tmp_path):
    figure = mpl.figure.Figure(figsize=(3, 2), dpi=ab.book.BOOK_DPI)
    path = tmp_path / "figure.png"
    figure.savefig(path)
    assert png_size(base64.b64encode(path.read_bytes()).decode()) == (300, 200)


def test_the_rule_is_the_text_column_at_the_book_dpi():
    assert ab.book.MAX_FIGURE_PIXELS == round(ab.book.TEXT_WIDTH_INCHES * ab.book.BOOK_DPI) == 750


def test_setup_notebook_keeps_text_readable():
    ab.setup_notebook()
    for key in ("font.size", "axes.titlesize", "axes.labelsize", "xtick.labelsize",
                "ytick.labelsize", "legend.fontsize"):
        size = mpl.font_manager.FontProperties(size=mpl.rcParams[key]).get_size_in_points()
        assert size >= ab.book.MIN_FONT_POINTS, (key, size)
    assert mpl.rcParams["figure.dpi"] == mpl.rcParams["savefig.dpi"] == ab.book.BOOK_DPI


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_every_stored_figure_fits_the_text_column(path):
    figures = stored_figures(load_notebook(path))
    assert figures, f"{path.name} stores no figures"
    too_wide = [(where, png_size(encoded)[0]) for where, encoded in figures
                if png_size(encoded)[0] > ab.book.MAX_FIGURE_PIXELS]
    assert not too_wide, (f"{path.name}: figures wider than {ab.book.MAX_FIGURE_PIXELS} px "
                          f"(would shrink in the HTML): {too_wide}")
