"""Pictures of attention: weight heatmaps with token labels and the principle diagrams.

The principle diagram follows the score -> normalise -> weighted-sum view of
attention; the encoder-decoder diagram follows Bahdanau et al. (2015),
https://arxiv.org/abs/1409.0473.
"""

from __future__ import annotations

import math
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch
from matplotlib.path import Path

from .._checks import check_int
from .style import MIN_FONT_POINTS, TEXT_WIDTH_INCHES

__all__ = [
    "ROLE_COLORS",
    "plot_attention",
    "draw_principle_diagram",
    "draw_encoder_decoder_diagram",
    "draw_pipeline",
]

#: One colour per role, used by every diagram in the book.
ROLE_COLORS = {
    "query": "#f4a261",
    "key": "#8ecae6",
    "value": "#95d5b2",
    "score": "#e9ecef",
    "context": "#cdb4db",
}


def _to_numpy_2d(name: str, weights: torch.Tensor | np.ndarray) -> np.ndarray:
    array = weights.detach().float().cpu().numpy() if isinstance(weights, torch.Tensor) else np.asarray(weights)
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D (queries, keys), got shape {array.shape}")
    return array


def _attend_array(mask: torch.Tensor | np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Return ``mask`` (True = attend) as a boolean array of ``shape``, broadcasting it."""
    array = mask.detach().cpu().numpy() if isinstance(mask, torch.Tensor) else np.asarray(mask)
    if array.dtype != np.bool_:
        raise TypeError(f"mask must be boolean (True = attend), got dtype {array.dtype}")
    try:
        return np.broadcast_to(array, shape)
    except ValueError:
        raise ValueError(
            f"mask of shape {array.shape} does not broadcast to the weights' shape {shape}; "
            f"allowed: (queries, keys) = {shape} or a shape that broadcasts to it"
        ) from None


def _tick_positions(count: int, max_ticks: int | None) -> list[int]:
    """Every position, or every ``step``-th one so that at most ``max_ticks`` remain."""
    if max_ticks is None or count <= max_ticks:
        return list(range(count))
    return list(range(0, count, math.ceil(count / max_ticks)))


def plot_attention(
    weights: torch.Tensor | np.ndarray,
    query_labels: Sequence[str] | None = None,
    key_labels: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    annotate: bool | None = None,
    cmap: str = "viridis",
    vmin: float | None = 0.0,
    vmax: float | None = None,
    colorbar: bool = True,
    mask: torch.Tensor | np.ndarray | None = None,
    max_ticks: int | None = 12,
    masked_color: str = "#d9d9d9",
) -> Axes:
    """Draw a weight matrix as a heatmap, queries down the rows, keys across.

    Args:
        weights: ``(queries, keys)`` tensor or array.
        query_labels: one label per row (query tokens); default row numbers.
        key_labels: one label per column (key tokens); default column numbers.
        ax: axes to draw on; a new figure when None.
        title: axes title.
        annotate: write each value in its cell; default when the matrix has at most 12x12 cells.
        cmap: matplotlib colormap name.
        vmin: lower end of the colour scale (0 suits weights; None for scores).
        vmax: upper end of the colour scale; None for the largest shown value.
        colorbar: add a colour bar.
        mask: optional boolean ``(queries, keys)`` tensor or array, or a shape that
            broadcasts to it, with True = attend (as in
            ``torch.nn.functional.scaled_dot_product_attention``). Masked-out
            cells are drawn in ``masked_color``, are left out of the colour
            scale, carry no value and are named in a legend.
        max_ticks: at most this many tick labels per axis; when there are more
            rows or columns, every ``ceil(n / max_ticks)``-th one is labelled.
            None labels every row and column.
        masked_color: colour of the masked-out cells.

    Returns:
        The axes drawn on.
    """
    array = _to_numpy_2d("weights", weights)
    rows, cols = array.shape
    for name, labels, count in (("query_labels", query_labels, rows), ("key_labels", key_labels, cols)):
        if labels is not None and len(labels) != count:
            raise ValueError(f"{name} must have {count} entries to match weights {array.shape}, got {len(labels)}")
    if max_ticks is not None:
        check_int("max_ticks", max_ticks, 1)
    attend = None if mask is None else _attend_array(mask, (rows, cols))
    if ax is None:
        _, ax = plt.subplots(figsize=(0.5 * cols + 2.0, 0.45 * rows + 1.2), layout="constrained")
    colormap = plt.get_cmap(cmap).with_extremes(bad=masked_color)
    shown = array if attend is None else np.ma.masked_array(array, mask=~attend)
    image = ax.imshow(shown, cmap=colormap, vmin=vmin, vmax=vmax, aspect="auto", interpolation="nearest")
    for axis, count, labels in (("x", cols, key_labels), ("y", rows, query_labels)):
        positions = _tick_positions(count, max_ticks)
        names = [labels[i] if labels is not None else i for i in positions]
        (ax.set_xticks if axis == "x" else ax.set_yticks)(positions, labels=names)
    if key_labels is not None and max((len(str(label)) for label in key_labels), default=0) > 2:
        ax.tick_params(axis="x", labelrotation=45)
    ax.set_xlabel("key")
    ax.set_ylabel("query")
    if title:
        ax.set_title(title)
    if annotate is None:
        annotate = rows <= 12 and cols <= 12
    if annotate:
        low, high = image.get_clim()
        middle = (low + high) / 2
        for row in range(rows):
            for col in range(cols):
                if attend is not None and not attend[row, col]:
                    continue
                value = array[row, col]
                ax.text(col, row, f"{value:.2f}", ha="center", va="center", fontsize=MIN_FONT_POINTS,
                        color="black" if value > middle else "white")
    colour_bar = ax.figure.colorbar(image, ax=ax, shrink=0.8) if colorbar else None
    if attend is not None and not attend.all():
        swatch = [Patch(facecolor=masked_color, edgecolor="#6c757d", label="masked")]
        if colour_bar is not None:
            colour_bar.ax.legend(handles=swatch, loc="upper center", bbox_to_anchor=(0.5, -0.02),
                                 frameon=False, borderaxespad=0.0, handlelength=1.0, handleheight=1.0,
                                 handletextpad=0.3, markerfirst=True)
        else:
            ax.legend(handles=swatch, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                      borderaxespad=0.0, handlelength=1.0, handleheight=1.0, handletextpad=0.3)
    return ax


def _box(ax: Axes, center: tuple[float, float], text: str, color: str, width: float = 0.9,
         height: float = 0.55, fontsize: float = 10) -> None:
    x, y = center
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.03,rounding_size=0.12", facecolor=color,
                                edgecolor="#343a40", linewidth=1.0, zorder=2))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=3)


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], width: float = 1.0,
           color: str = "#495057", rad: float = 0.0) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, linewidth=width,
                                 color=color, shrinkA=2, shrinkB=2,
                                 connectionstyle=f"arc3,rad={rad}", zorder=1))


def _path_arrow(ax: Axes, points: Sequence[tuple[float, float]], width: float = 1.0,
                color: str = "#495057") -> None:
    """An arrow along a polyline through ``points``, its head at the last point."""
    codes = [Path.MOVETO] + [Path.LINETO] * (len(points) - 1)
    ax.add_patch(FancyArrowPatch(path=Path(points, codes), arrowstyle="-|>", mutation_scale=10,
                                 linewidth=width, color=color, zorder=1))


def _new_diagram_axes(ax: Axes | None, size: tuple[float, float], limits: tuple[float, float]) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    ax.set_xlim(0, limits[0])
    ax.set_ylim(0, limits[1])
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def draw_principle_diagram(weights: Sequence[float] | torch.Tensor | None = None, ax: Axes | None = None) -> Axes:
    """Draw attention as 1. score, 2. normalise, 3. weighted sum for one query over four keys.

    Args:
        weights: optional four attention weights; when given, each value's arrow
            into the sum is as thick as its weight and labelled with it.
        ax: axes to draw on; a new figure when None.

    Returns:
        The axes drawn on.
    """
    count = 4
    if weights is None:
        alphas = None
    else:
        alphas = [float(w) for w in (weights.tolist() if isinstance(weights, torch.Tensor) else weights)]
        if len(alphas) != count:
            raise ValueError(f"weights must have {count} entries, got {len(alphas)}")
    ax = _new_diagram_axes(ax, (7.3, 3.45), (11.6, 5.45))
    rows = [4.1, 3.1, 2.1, 1.1]
    query_colour = "#e76f51"
    _box(ax, (0.55, 2.6), "query\n$q$", ROLE_COLORS["query"], width=0.95, height=0.9)
    # The query reaches every score box along a bus that runs through the gaps
    # between the key boxes, so no arrow passes behind a box.
    bus_x, gaps = 1.45, [y + 0.5 for y in rows]
    ax.plot([1.03, bus_x], [2.6, 2.6], color=query_colour, linewidth=0.8, zorder=1)
    ax.plot([bus_x, bus_x], [min(gaps), max(gaps)], color=query_colour, linewidth=0.8, zorder=1)
    for index, y in enumerate(rows, start=1):
        _box(ax, (2.3, y), f"$k_{index}$", ROLE_COLORS["key"], width=0.7)
        _box(ax, (4.1, y), f"$a(q, k_{index})$", ROLE_COLORS["score"], width=1.3)
        _path_arrow(ax, [(bus_x, y + 0.5), (2.95, y + 0.5), (3.45, y + 0.15)], width=0.8, color=query_colour)
        _arrow(ax, (2.65, y - 0.05), (3.45, y - 0.05), width=0.8)
        _arrow(ax, (4.75, y), (5.55, y), width=0.8)
        label = f"$\\alpha_{index}$" if alphas is None else f"$\\alpha_{index}={alphas[index - 1]:.2f}$"
        ax.text(6.9, y + 0.2, label, ha="center", va="bottom", fontsize=MIN_FONT_POINTS)
        _arrow(ax, (6.15, y), (7.55, y), width=0.8)
        _box(ax, (7.95, y), f"$v_{index}$", ROLE_COLORS["value"], width=0.7)
        thickness = 1.2 if alphas is None else 0.4 + 6.0 * alphas[index - 1]
        _arrow(ax, (8.3, y), (9.25, 2.6), width=thickness, color="#6a4c93")
    ax.add_patch(FancyBboxPatch((5.55, 0.75), 0.6, 3.7, boxstyle="round,pad=0.03,rounding_size=0.12",
                                facecolor="#fff3b0", edgecolor="#343a40"))
    ax.text(5.85, 2.6, "softmax", rotation=90, ha="center", va="center", fontsize=10)
    ax.add_patch(plt.Circle((9.5, 2.6), 0.28, facecolor="white", edgecolor="#343a40"))
    ax.text(9.5, 2.6, r"$\Sigma$", ha="center", va="center", fontsize=12)
    _arrow(ax, (9.78, 2.6), (10.3, 2.6))
    _box(ax, (10.9, 2.6), "context\n$c$", ROLE_COLORS["context"], width=1.0, height=0.9)
    # "values" sits just above v_1, below the heading line, so it stays clear of "3. weighted sum"
    for x, y, text, colour in ((2.3, 5.1, "keys", "#495057"), (4.1, 5.1, "1. score", "#212529"),
                               (5.85, 5.1, "2. normalise", "#212529"), (7.95, 4.65, "values", "#495057"),
                               (9.5, 5.1, "3. weighted sum", "#212529")):
        ax.text(x, y, text, ha="center", va="center", fontsize=10 if text[0].isdigit() else MIN_FONT_POINTS,
                color=colour, fontweight="bold" if text[0].isdigit() else "normal")
    ax.text(5.5, 0.2, r"$c = \sum_i \alpha_i v_i,\quad \alpha = \mathrm{softmax}(a(q, k_1), \ldots, a(q, k_n))$",
            ha="center", va="center", fontsize=11)
    return ax


def draw_encoder_decoder_diagram(ax: Axes | None = None) -> Axes:
    """Draw one decoder step of Bahdanau et al.'s attention-based translation model.

    A bidirectional encoder reads a short English source; each annotation
    ``h_j = [forward h_j; backward h_j]`` is a key and a value. The decoder's
    previous state ``s_{t-1}`` is the query; the context ``c_t``, the previous
    output word ``y_{t-1}`` and ``s_{t-1}`` make the next state ``s_t``, which
    predicts the French word ``y_t``.

    Args:
        ax: axes to draw on; a new figure when None.

    Returns:
        The axes drawn on.
    """
    ax = _new_diagram_axes(ax, (7.3, 3.75), (11.4, 5.85))
    words = ["the", "cat", "sat", "."]
    columns = [0.8, 2.05, 3.3, 4.55]
    forward_y, backward_y = 1.2, 2.05
    for index, (x, word) in enumerate(zip(columns, words), start=1):
        ax.text(x, 0.3, word, ha="center", va="center", fontsize=10, style="italic")
        # each word feeds both directions; the backward input runs up the gap right of the forward box
        _arrow(ax, (x, 0.5), (x, forward_y - 0.27))
        _path_arrow(ax, [(x + 0.12, 0.5), (x + 0.52, 0.8), (x + 0.52, backward_y - 0.45),
                         (x + 0.22, backward_y - 0.29)], color="#868e96", width=0.8)
        _box(ax, (x, forward_y), f"$\\overrightarrow{{h}}_{index}$", ROLE_COLORS["key"], width=0.7, height=0.5)
        _box(ax, (x, backward_y), f"$\\overleftarrow{{h}}_{index}$", ROLE_COLORS["key"], width=0.7, height=0.5)
        if index > 1:
            _arrow(ax, (x - 0.9, forward_y), (x - 0.35, forward_y))
            _arrow(ax, (x - 0.35, backward_y), (x - 0.9, backward_y))
        _arrow(ax, (x, backward_y + 0.27), (6.0, 3.5), width=0.7, color="#457b9d", rad=-0.08)
    ax.text(0.05, forward_y, "forward", ha="right", va="center", fontsize=MIN_FONT_POINTS, color="#495057")
    ax.text(0.05, backward_y, "backward", ha="right", va="center", fontsize=MIN_FONT_POINTS, color="#495057")
    ax.text(2.4, 3.75, r"$h_j = [\overrightarrow{h}_j; \overleftarrow{h}_j]$: keys and values",
            ha="center", fontsize=10, color="#457b9d")
    _box(ax, (6.7, 3.75), "attention\nscore, softmax,\nweighted sum", ROLE_COLORS["score"], width=1.7,
         height=1.0, fontsize=MIN_FONT_POINTS)
    _box(ax, (9.2, 1.2), "$s_{t-1}$", ROLE_COLORS["query"], width=0.9)
    ax.text(9.2, 0.45, "previous decoder state:\nthe query", ha="center", va="center",
            fontsize=MIN_FONT_POINTS, color="#e76f51")
    _arrow(ax, (8.85, 1.5), (7.3, 3.25), width=0.9, color="#e76f51")
    _box(ax, (6.7, 5.35), "context $c_t$", ROLE_COLORS["context"], width=1.6)
    _arrow(ax, (6.7, 4.25), (6.7, 5.05))
    _box(ax, (9.2, 3.75), "$s_t$", ROLE_COLORS["query"], width=0.9)
    _arrow(ax, (9.2, 1.5), (9.2, 3.45))
    _arrow(ax, (7.5, 5.3), (8.95, 4.05), rad=-0.2)
    _box(ax, (10.75, 2.6), "$y_{t-1}$\n$le$", "#f8f9fa", width=0.95, height=0.8)
    ax.text(10.75, 1.95, "previous\noutput", ha="center", va="top", fontsize=MIN_FONT_POINTS, color="#495057")
    _arrow(ax, (10.5, 3.0), (9.65, 3.6))
    ax.text(9.2, 5.35, "next word $y_t$:\n$chat$", ha="center", va="center", fontsize=10)
    _arrow(ax, (9.2, 4.05), (9.2, 4.95))
    return ax


def draw_pipeline(rows: Sequence[Sequence[tuple[str, str]]], ax: Axes | None = None, title: str | None = None,
                  merge: str | None = None) -> Axes:
    """Draw one or more chains of steps as boxes joined by arrows, e.g. a module's data flow.

    Args:
        rows: each row is a chain of ``(text, role)`` boxes, drawn left to right; ``role``
            is a key of :data:`ROLE_COLORS`. Several rows are drawn one above the other
            (parallel branches).
        ax: axes to draw on; a new figure when None, at most the text column wide
            (:data:`TEXT_WIDTH_INCHES`).
        title: axes title.
        merge: when given, the last boxes of all rows feed one final box with this text.

    Box text is :data:`MIN_FONT_POINTS` high, the smallest the book
    allows.

    Returns:
        The axes drawn on.
    """
    if not rows or any(not row for row in rows):
        raise ValueError("rows must be a non-empty list of non-empty chains of (text, role) boxes")
    for row in rows:
        for text, role in row:
            if role not in ROLE_COLORS:
                raise ValueError(f"role must be one of {tuple(ROLE_COLORS)}, got {role!r}")
    columns = max(len(row) for row in rows) + (1 if merge else 0)
    step, height = 2.1, 1.3
    limits = (step * columns, height * len(rows) + 0.4)
    # two inches per box, fewer when that would be wider than the text column
    inches = min(2.0 / step, TEXT_WIDTH_INCHES / limits[0])
    ax = _new_diagram_axes(ax, (inches * limits[0], inches * limits[1] + (0.3 if title else 0.1)), limits)
    centre_y = (height * len(rows) + 0.4) / 2
    for index, row in enumerate(rows):
        y = height * (len(rows) - index) - height / 2 + 0.2
        for column, (text, role) in enumerate(row):
            x = step * column + step / 2
            _box(ax, (x, y), text, ROLE_COLORS[role], width=1.75, height=0.9, fontsize=MIN_FONT_POINTS)
            if column:
                _arrow(ax, (x - step + 0.88, y), (x - 0.88, y))
        if merge:
            last_x = step * (len(row) - 1) + step / 2
            _arrow(ax, (last_x + 0.88, y), (step * (columns - 1) + step / 2 - 0.88, centre_y))
    if merge:
        _box(ax, (step * (columns - 1) + step / 2, centre_y), merge, ROLE_COLORS["context"], width=1.75,
             height=0.9, fontsize=MIN_FONT_POINTS)
    if title:
        ax.set_title(title, fontsize=10)
    return ax
