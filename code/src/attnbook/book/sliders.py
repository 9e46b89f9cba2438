"""Sliders from one definition: a live ipywidgets control and a precomputed static one.

``slider(plot_fn, window=[1, 2, 4, 8])`` calls ``plot_fn(window=...)`` for each
value. Displayed in a notebook it gives one output holding two renderings:

* ``application/vnd.jupyter.widget-view+json``: a live ``ipywidgets`` control
  that redraws the figure in the kernel in Jupyter and Colab;
* ``text/html``: every frame rendered now, behind ``<input type="range">``
  controls and a few lines of inline JavaScript, so the static book needs no
  kernel and no network;
* ``image/png``: the initial frame alone, for front ends that render neither
  (a PDF made through LaTeX), so they show a figure instead of the repr.

A frontend with a widget manager shows the first; the book is configured to
prefer the second. The live view works with ipywidgets 7.7 (what Colab ships)
and 8.x.

Where the script does not run (an untrusted notebook in JupyterLab, Notebook 7
or Colab strips it), the HTML still shows one figure: only the initial frame is
an ``<img>``; the other frames travel as data inside the script, which swaps
the image's source when a range input moves. The inputs start ``disabled`` and
a hint says to run the cell, so a control that cannot work does not pretend to.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import math
from typing import Any, Callable, Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .style import BOOK_DPI, WIDGET_VIEW_MIMETYPE

__all__ = ["MAX_FRAMES", "Slider", "slider", "widget_view"]

#: Most frames one static slider may hold (they all travel inside the page).
MAX_FRAMES = 64

_slider_count = itertools.count(1)


# The frames other than the initial one are only in this script (sources and
# alt texts, null where the <img> already holds the frame), so a page that
# strips scripts shows the initial frame alone.
_SCRIPT = """<script>
(function () {
  var root = document.getElementById("%(id)s");
  var sizes = %(sizes)s;
  var frames = [%(frames)s];
  var alts = %(alts)s;
  var inputs = root.querySelectorAll("input[type=range]");
  var image = root.querySelector("img.attnbook-frame");
  frames[%(start)d] = image.src;
  root.querySelectorAll(".attnbook-hint").forEach(function (hint) { hint.remove(); });
  function show() {
    var index = 0;
    inputs.forEach(function (input, axis) {
      index = index * sizes[axis] + Number(input.value);
      input.nextElementSibling.textContent = JSON.parse(input.dataset.labels)[Number(input.value)];
    });
    image.src = frames[index];
    image.alt = alts[index];
  }
  inputs.forEach(function (input) {
    input.disabled = false;
    input.addEventListener("input", show);
  });
  show();
})();
</script>"""


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


class Slider:
    """A figure controlled by one slider per parameter; build it with :func:`slider`.

    Args:
        plot_fn: called with one keyword argument per parameter; returns a matplotlib Figure.
        params: parameter name -> the values its slider steps through.
        initial: parameter name -> value shown first; default each list's middle value.
        dpi: resolution of the precomputed frames.
    """

    def __init__(
        self,
        plot_fn: Callable[..., Figure],
        params: dict[str, Sequence[Any]],
        initial: dict[str, Any] | None = None,
        dpi: int = BOOK_DPI,
    ) -> None:
        if not callable(plot_fn):
            raise TypeError(f"plot_fn must be callable, got {type(plot_fn).__name__}")
        if not params:
            raise ValueError("slider needs at least one parameter, got none")
        self.params = {}
        for name, values in params.items():
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
                raise TypeError(f"values of {name!r} must be a list or tuple, got {type(values).__name__}")
            if len(values) < 2:
                raise ValueError(f"{name!r} needs at least 2 values to slide through, got {list(values)!r}")
            self.params[name] = list(values)
        frame_count = math.prod(len(values) for values in self.params.values())
        if frame_count > MAX_FRAMES:
            raise ValueError(f"the sliders give {frame_count} frames; at most {MAX_FRAMES} are allowed")
        initial = dict(initial or {})
        unknown = set(initial) - set(self.params)
        if unknown:
            raise ValueError(f"initial names unknown parameters {sorted(unknown)}; allowed: {list(self.params)}")
        self.initial = {}
        for name, values in self.params.items():
            value = initial.get(name, values[len(values) // 2])
            if value not in values:
                raise ValueError(f"initial value {value!r} of {name!r} is not one of {values!r}")
            self.initial[name] = value
        self.plot_fn = plot_fn
        self.dpi = dpi
        self.slider_id = f"attnbook-slider-{next(_slider_count)}"
        self._frames: dict[tuple, bytes] = {}

    def render_frame(self, **values: Any) -> bytes:
        """Call ``plot_fn`` with ``values`` and return the figure as PNG bytes (the figure is closed)."""
        figure = self.plot_fn(**values)
        if not isinstance(figure, Figure):
            raise TypeError(f"plot_fn must return a matplotlib Figure, got {type(figure).__name__}")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=self.dpi, metadata={"Software": None})
        plt.close(figure)
        return buffer.getvalue()

    def to_html(self) -> str:
        """Every frame, precomputed, behind range inputs: works with no kernel and no network.

        Without its script the HTML shows the initial frame only, under disabled
        inputs whose readouts name that frame's values.
        """
        names = list(self.params)
        start = self._initial_index()
        sources, alts = [], []
        for combination in itertools.product(*self.params.values()):
            alts.append(", ".join(f"{name}={_format_value(v)}" for name, v in zip(names, combination)))
            png = base64.b64encode(self.frame(**dict(zip(names, combination)))).decode("ascii")
            sources.append(f"data:image/png;base64,{png}")
        image = (f'<img class="attnbook-frame" alt="{html.escape(alts[start])}" '
                 f'style="max-width:100%" src="{sources[start]}">')
        controls = []
        for name, values in self.params.items():
            labels = html.escape(str([_format_value(v) for v in values]).replace("'", '"'))
            controls.append(
                f'<label style="display:block;font-family:sans-serif;font-size:0.9em">{html.escape(name)} '
                f'<input type="range" min="0" max="{len(values) - 1}" step="1" '
                f'value="{values.index(self.initial[name])}" disabled '
                f'data-labels="{labels}" aria-label="{html.escape(name)}">'
                f'<output>{html.escape(_format_value(self.initial[name]))}</output></label>'
            )
        hint = ('<p class="attnbook-hint" style="font-family:sans-serif;font-size:0.9em">'
                'Run the cell to move the slider.</p>')
        sizes = [len(values) for values in self.params.values()]
        script = _SCRIPT % {
            "id": self.slider_id,
            "sizes": json.dumps(sizes),
            "frames": ",".join("null" if i == start else f'"{source}"' for i, source in enumerate(sources)),
            "alts": json.dumps(alts).replace("</", "<\\/"),
            "start": start,
        }
        return (f'<div class="attnbook-slider" id="{self.slider_id}">' + "".join(controls) + hint + image
                + "</div>" + script)

    def _initial_index(self) -> int:
        """Position of the initial combination in the row-major order of the frames."""
        index = 0
        for name, values in self.params.items():
            index = index * len(values) + values.index(self.initial[name])
        return index

    def frame(self, **values: Any) -> bytes:
        """The PNG of one combination of values, rendered once and then reused."""
        key = tuple(values[name] for name in self.params)
        if key not in self._frames:
            self._frames[key] = self.render_frame(**values)
        return self._frames[key]

    def widget(self):
        """The live ``ipywidgets`` control: one selection slider per parameter above the figure.

        Moving a slider calls ``plot_fn`` in the kernel (once per combination;
        frames already drawn are reused) and shows the new figure.
        """
        import ipywidgets

        controls = {
            # "initial": the label takes the width of its text; the default cuts it to
            # about 8 characters ("temperat...") in JupyterLab and Colab.
            name: ipywidgets.SelectionSlider(options=[(_format_value(v), v) for v in values],
                                             value=self.initial[name], description=name,
                                             continuous_update=True,
                                             style={"description_width": "initial"})
            for name, values in self.params.items()
        }
        image = ipywidgets.Image(value=self.frame(**self.initial), format="png")

        def redraw(_change: object = None) -> None:
            image.value = self.frame(**{name: control.value for name, control in controls.items()})

        for control in controls.values():
            control.observe(redraw, names="value")
        return ipywidgets.VBox([*controls.values(), image])

    def __repr__(self) -> str:
        ranges = ", ".join(f"{name}: {len(values)} values" for name, values in self.params.items())
        return f"Slider({ranges})"

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str | dict]:
        # image/png: the initial frame, for front ends that show neither HTML nor widgets
        # (a PDF through LaTeX, a terminal): a picture where there would be the repr.
        initial_png = base64.b64encode(self.frame(**self.initial)).decode("ascii")
        bundle: dict[str, str | dict] = {"text/plain": repr(self), "text/html": self.to_html(),
                                         "image/png": initial_png}
        try:
            widget = self.widget()
        except ImportError:
            return bundle
        bundle[WIDGET_VIEW_MIMETYPE] = widget_view(widget)
        return bundle


def widget_view(widget: Any) -> dict[str, Any]:
    """The ``application/vnd.jupyter.widget-view+json`` data that displays ``widget``.

    ipywidgets 8 gives it through ``_repr_mimebundle_``; ipywidgets 7 (Colab's)
    displays widgets through ``_ipython_display_`` instead and has no
    ``_repr_mimebundle_``, so the same data (protocol version 2.0, as 7.x
    publishes it) is built from the widget's model id.

    Args:
        widget: a displayable ipywidgets widget (``DOMWidget``).

    Returns:
        ``{"model_id": ..., "version_major": 2, "version_minor": 0}``.
    """
    repr_bundle = getattr(widget, "_repr_mimebundle_", None)
    if repr_bundle is not None:
        view = (repr_bundle() or {}).get(WIDGET_VIEW_MIMETYPE)
        if view is not None:
            return view
    model_id = getattr(widget, "model_id", None)
    if not model_id:
        raise TypeError(f"widget must be an open ipywidgets widget with a model id, got {type(widget).__name__}")
    return {"model_id": model_id, "version_major": 2, "version_minor": 0}


def slider(plot_fn: Callable[..., Figure], initial: dict[str, Any] | None = None, **params: Sequence[Any]) -> Slider:
    """Make ``plot_fn`` explorable with one slider per keyword.

    Args:
        plot_fn: ``plot_fn(**values) -> matplotlib.figure.Figure``.
        initial: parameter name -> the value shown first (default: the middle value).
        **params: parameter name -> list of values, e.g. ``temperature=[0.1, 0.5, 1, 2]``.

    Returns:
        A :class:`Slider`; display it (make it a cell's last expression) to show it.
    """
    return Slider(plot_fn, params, initial=initial)
