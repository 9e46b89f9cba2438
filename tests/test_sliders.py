import base64
import json
import re

import matplotlib.pyplot as plt
import pytest

from attnbook.book import Slider
from attnbook import slider
from attnbook.book import MAX_FRAMES, WIDGET_VIEW_MIMETYPE, widget_view


def _line_plot(slope, offset=0):
    figure, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [offset, offset + slope])
    ax.set_ylim(-3, 3)
    return figure


def _script_list(page: str, name: str) -> list:
    return json.loads(re.search(rf"var {name} = (\[.*?\]);", page).group(1))


def _without_script(page: str) -> str:
    """The HTML as a sanitizer that strips scripts (an untrusted notebook) leaves it."""
    return re.sub(r"<script>.*?</script>", "", page, flags=re.DOTALL)


def test_one_frame_per_combination_in_order():
    widget = slider(_line_plot, slope=[-1, 0, 1], offset=[0, 1])
    page = widget.to_html()
    assert _script_list(page, "alts") == [f"slope={s}, offset={o}" for s in (-1, 0, 1) for o in (0, 1)]
    images = re.findall(r"base64,([A-Za-z0-9+/=]+)", page)
    assert len(images) == len(set(images)) == 6, "each frame is stored once"
    assert all(base64.b64decode(image).startswith(b"\x89PNG") for image in images)
    assert widget.slider_id in page and "<script>" in page
    assert plt.get_fignums() == []


@pytest.mark.parametrize("initial", [None, {"slope": -1, "offset": 1}, {"slope": 1, "offset": 0}])
def test_without_its_script_the_html_shows_the_initial_frame_only(initial):
    widget = slider(_line_plot, initial=initial, slope=[-1, 0, 1], offset=[0, 1])
    static = _without_script(widget.to_html())
    images = re.findall(r'<img class="attnbook-frame" alt="([^"]+)"[^>]*base64,([A-Za-z0-9+/=]+)"', static)
    assert len(images) == 1 and static.count("<img") == 1
    (alt, encoded), = images
    chosen = widget.initial
    assert alt == f"slope={chosen['slope']}, offset={chosen['offset']}"
    assert base64.b64decode(encoded) == widget.frame(**chosen)
    readouts = re.findall(r"<output>([^<]*)</output>", static)
    assert readouts == [str(chosen["slope"]), str(chosen["offset"])], "the readouts name the frame shown"
    assert static.count(" disabled ") == 2, "the inputs cannot move without the script"
    assert "Run the cell" in static


def test_the_script_holds_every_other_frame_in_order():
    widget = slider(_line_plot, initial={"slope": 1}, slope=[-1, 0, 1])
    page = widget.to_html()
    frames = re.findall(r'null|"data:image/png;base64,([A-Za-z0-9+/=]+)"',
                        re.search(r"var frames = \[(.*?)\];", page).group(1))
    assert len(frames) == 3 and frames[2] == "", "the initial frame is the <img> itself, not stored twice"
    for encoded, slope in zip(frames, [-1, 0]):
        assert base64.b64decode(encoded) == widget.frame(slope=slope)


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
    view = bundle[WIDGET_VIEW_MIMETYPE]
    assert view["version_major"] == 2 and isinstance(view["model_id"], str) and view["model_id"]


@pytest.mark.parametrize("initial", [None, {"slope": -1, "offset": 1}])
def test_mimebundle_carries_the_initial_frame_as_a_png(initial):
    # A front end that renders neither the HTML nor the widget (a PDF through LaTeX, a
    # terminal) shows the figure the slider starts on, not the repr.
    widget = slider(_line_plot, initial=initial, slope=[-1, 0, 1], offset=[0, 1])
    bundle = widget._repr_mimebundle_()
    encoded = bundle["image/png"]
    assert isinstance(encoded, str), "nbformat stores image/png as base64 text"
    png = base64.b64decode(encoded, validate=True)
    assert png.startswith(b"\x89PNG") and png == widget.frame(**widget.initial)
    shown = re.search(r'<img class="attnbook-frame"[^>]*base64,([A-Za-z0-9+/=]+)"',
                      _without_script(bundle["text/html"])).group(1)
    assert shown == encoded, "the PNG is the frame the HTML shows first"
    assert plt.get_fignums() == []


def test_live_slider_descriptions_are_not_cut():
    # ipywidgets' default description width cuts "temperature" to "temperat..."
    box = slider(_line_plot, slope=[0, 1], offset=[0, 1]).widget()
    for control in box.children[:-1]:
        assert control.style.description_width == "initial", control.description


class _Widget7:
    """What an ipywidgets 7 widget offers for display: a model id, no _repr_mimebundle_."""

    model_id = "0123abcd"


def test_widget_view_of_an_ipywidgets_7_widget_is_built_from_its_model_id():
    assert widget_view(_Widget7()) == {"model_id": "0123abcd", "version_major": 2, "version_minor": 0}


def test_widget_view_of_an_ipywidgets_8_widget_is_its_own():
    import ipywidgets

    widget = ipywidgets.IntSlider()
    assert widget_view(widget) == widget._repr_mimebundle_()[WIDGET_VIEW_MIMETYPE]


def test_widget_view_needs_a_widget():
    with pytest.raises(TypeError, match="widget must be an open ipywidgets widget with a model id, got str"):
        widget_view("slider")


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
