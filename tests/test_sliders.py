import base64
import re

import matplotlib.pyplot as plt
import pytest

from attnbook import Slider, slider
from attnbook.sliders import MAX_FRAMES


def _line_plot(slope, offset=0):
    figure, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [offset, offset + slope])
    ax.set_ylim(-3, 3)
    return figure


def test_one_frame_per_combination_in_order():
    widget = slider(_line_plot, slope=[-1, 0, 1], offset=[0, 1])
    page = widget.to_html()
    frames = re.findall(r'alt="([^"]+)"', page)
    assert frames == [f"slope={s}, offset={o}" for s in (-1, 0, 1) for o in (0, 1)]
    images = re.findall(r"base64,([A-Za-z0-9+/=]+)", page)
    assert len(set(images)) == 6
    assert all(base64.b64decode(image).startswith(b"\x89PNG") for image in images)
    assert widget.slider_id in page and "<script>" in page
    assert plt.get_fignums() == []


def test_initial_value_defaults_to_middle_and_can_be_set():
    assert 'value="1"' in slider(_line_plot, slope=[-1, 0, 1]).to_html()
    assert 'value="2"' in slider(_line_plot, initial={"slope": 1}, slope=[-1, 0, 1]).to_html()


def test_static_frames_are_repeatable():
    first = slider(_line_plot, slope=[0, 1]).to_html()
    second = slider(_line_plot, slope=[0, 1]).to_html()
    assert re.sub(r"attnbook-slider-\d+", "", first) == re.sub(r"attnbook-slider-\d+", "", second)


def test_mimebundle_has_static_and_live_views():
    bundle = slider(_line_plot, slope=[0, 1])._repr_mimebundle_()
    assert bundle["text/plain"] == "Slider(slope: 2 values)"
    assert "text/html" in bundle
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_live_widget_steps_through_the_same_values_and_redraws():
    calls = []

    def plot(slope):
        calls.append(slope)
        return _line_plot(slope)

    widget = slider(plot, slope=[-1, 0, 1])
    box = widget.widget()
    selection, image = box.children
    assert [value for _, value in selection.options] == [-1, 0, 1]
    assert selection.value == 0 and image.value == widget.frame(slope=0)
    selection.value = 1
    assert image.value == widget.frame(slope=1) and image.value != widget.frame(slope=0)
    assert calls == [0, 1], "each frame is drawn once"


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: slider(_line_plot), ValueError, "at least one parameter"),
        (lambda: slider(_line_plot, slope=[1]), ValueError, "'slope' needs at least 2 values"),
        (lambda: slider(_line_plot, slope="abc"), TypeError, "values of 'slope' must be a list or tuple, got str"),
        (lambda: slider(_line_plot, slope=list(range(MAX_FRAMES + 1))), ValueError,
         f"{MAX_FRAMES + 1} frames; at most {MAX_FRAMES}"),
        (lambda: slider(_line_plot, initial={"slope": 5}, slope=[0, 1]), ValueError, "initial value 5 of 'slope'"),
        (lambda: slider(_line_plot, initial={"tilt": 0}, slope=[0, 1]), ValueError, "unknown parameters ['tilt']"),
        (lambda: Slider("plot", {"slope": [0, 1]}), TypeError, "plot_fn must be callable, got str"),
        (lambda: slider(lambda slope: None, slope=[0, 1]).to_html(), TypeError,
         "plot_fn must return a matplotlib Figure, got NoneType"),
    ],
)
def test_bad_input_is_named(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)
