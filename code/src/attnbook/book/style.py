"""The book's typographic constants: figure resolution, text-column width, font sizes, colours.

One place for the figure rule (every figure at most :data:`TEXT_WIDTH_INCHES` wide at
:data:`BOOK_DPI`, no text smaller than :data:`MIN_FONT_POINTS`) that ``setup_notebook``
applies, the plotting helpers draw by and ``tests/test_figure_widths.py`` checks.
"""

from __future__ import annotations

__all__ = ["BOOK_DPI", "MAX_FIGURE_PIXELS", "MIN_FONT_POINTS", "TEXT_WIDTH_INCHES", "WIDGET_VIEW_MIMETYPE"]

#: Resolution at which the book stores figures (inline PNGs and slider frames).
BOOK_DPI = 100
#: Width of the book's text column: a figure wider than this is shrunk in the HTML.
TEXT_WIDTH_INCHES = 7.5
#: Widest stored PNG that the HTML shows at full size (text column at the book's dpi).
MAX_FIGURE_PIXELS = round(TEXT_WIDTH_INCHES * BOOK_DPI)
#: Smallest font size, in points, of any text in a figure.
MIN_FONT_POINTS = 9
#: MIME type of a live widget's view in a notebook output.
WIDGET_VIEW_MIMETYPE = "application/vnd.jupyter.widget-view+json"
