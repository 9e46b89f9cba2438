"""The book's notebook helpers: set-up (seeds, threads, figure style), the style constants,
the device choice, plotting and the slider that works live and in the static book.
"""

from .style import BOOK_DPI, MAX_FIGURE_PIXELS, MIN_FONT_POINTS, TEXT_WIDTH_INCHES, WIDGET_VIEW_MIMETYPE
from .device import DEVICE_ENV_VAR, get_device
from .setup import busy_cores, setup_notebook, threads_to_use
from .plotting import (
    ROLE_COLORS,
    plot_attention,
    draw_principle_diagram,
    draw_encoder_decoder_diagram,
    draw_pipeline,
)
from .sliders import MAX_FRAMES, Slider, slider, widget_view
from .results import results_folder, stored_result_names, stored_results

__all__ = [
    "BOOK_DPI",
    "MAX_FIGURE_PIXELS",
    "MIN_FONT_POINTS",
    "TEXT_WIDTH_INCHES",
    "WIDGET_VIEW_MIMETYPE",
    "DEVICE_ENV_VAR",
    "get_device",
    "busy_cores",
    "setup_notebook",
    "threads_to_use",
    "ROLE_COLORS",
    "plot_attention",
    "draw_principle_diagram",
    "draw_encoder_decoder_diagram",
    "draw_pipeline",
    "MAX_FRAMES",
    "Slider",
    "slider",
    "widget_view",
    "results_folder",
    "stored_result_names",
    "stored_results",
]
