"""Every static slider stored in the notebooks shows one frame where its script cannot run.

An opened notebook is untrusted: JupyterLab, Notebook 7 and Colab show its
stored HTML without scripts. Each slider must then show its initial frame only,
with readouts that name that frame, and still carry every frame for the book.
"""

from __future__ import annotations

import base64
import json
import math
import re
from html.parser import HTMLParser

import pytest

from book import CHAPTERS, load_notebook


class _SliderParts(HTMLParser):
    """Images, range inputs and readouts of one slider's HTML, scripts left out."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.inputs: list[dict[str, str | None]] = []
        self.readouts: list[str] = []
        self._in_script = self._in_output = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self._in_script = self._in_script or tag == "script"
        if self._in_script:
            return
        if tag == "img":
            self.images.append(attributes)
        elif tag == "input" and attributes.get("type") == "range":
            self.inputs.append(attributes)
        elif tag == "output":
            self._in_output = True
            self.readouts.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False
        elif tag == "output":
            self._in_output = False

    def handle_data(self, data):
        if self._in_output and not self._in_script:
            self.readouts[-1] += data


def stored_sliders(notebook: dict) -> list[tuple[int, str]]:
    """(cell index, HTML) of every static slider among a notebook's outputs."""
    return [(index, "".join(output["data"]["text/html"]))
            for index, cell in enumerate(notebook["cells"])
            for output in cell.get("outputs", [])
            if 'class="attnbook-slider"' in "".join(output.get("data", {}).get("text/html", ""))]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_each_stored_slider_shows_one_frame_without_its_script(path):
    sliders = stored_sliders(load_notebook(path))
    for index, page in sliders:
        parts = _SliderParts()
        parts.feed(page)
        where = f"{path.name} cell {index}"
        assert len(parts.images) == 1, f"{where}: {len(parts.images)} frames show without the script, not 1"
        image, = parts.images
        names = [control["aria-label"] for control in parts.inputs]
        expected = ", ".join(f"{name}={value}" for name, value in zip(names, parts.readouts))
        assert image["alt"] == expected, f"{where}: the readouts {expected!r} do not name the frame {image['alt']!r}"
        assert all("disabled" in control for control in parts.inputs), f"{where}: a range input moves nothing"
        sizes = [int(control["max"]) + 1 for control in parts.inputs]
        frames = json.loads(re.search(r"var alts = (\[.*?\]);", page).group(1))
        assert len(frames) == math.prod(sizes) and image["alt"] in frames, f"{where}: the script lacks frames"


def stored_slider_outputs(notebook: dict) -> list[tuple[int, dict]]:
    """(cell index, output data) of every stored static slider."""
    return [(index, output["data"])
            for index, cell in enumerate(notebook["cells"])
            for output in cell.get("outputs", [])
            if 'class="attnbook-slider"' in "".join(output.get("data", {}).get("text/html", ""))]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_a_stored_slider_png_is_its_initial_frame(path):
    # Sliders made since the bundle gained image/png carry their initial frame as a PNG;
    # outputs stored before (until the notebooks are re-executed) have none. Either is
    # accepted, but a PNG that is there must be the frame the HTML shows without its script.
    for index, data in stored_slider_outputs(load_notebook(path)):
        if "image/png" not in data:
            continue
        encoded = "".join(data["image/png"]).replace("\n", "")
        assert base64.b64decode(encoded, validate=True).startswith(b"\x89PNG"), f"{path.name} cell {index}"
        shown = re.search(r'<img class="attnbook-frame"[^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"',
                          "".join(data["text/html"])).group(1)
        assert encoded == shown, f"{path.name} cell {index}: the PNG is not the slider's initial frame"


def test_the_notebooks_store_sliders():
    assert sum(len(stored_sliders(load_notebook(path))) for path in CHAPTERS) > 0, "no stored static slider found"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_no_stored_widget_view_outlives_its_kernel(path):
    # A widget view needs its model, which lives in the kernel that ran the cell; stored
    # without it, JupyterLab and Colab show "model not found" instead of the static slider.
    views = [index for index, cell in enumerate(load_notebook(path)["cells"])
             for output in cell.get("outputs", [])
             if "application/vnd.jupyter.widget-view+json" in output.get("data", {})]
    assert not views, f"{path.name}: stored widget views in cells {views}; run tools/execute_notebooks.py"
