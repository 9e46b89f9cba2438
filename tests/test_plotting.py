import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

import attnbook as ab
from attnbook.book import ROLE_COLORS, draw_encoder_decoder_diagram, draw_pipeline, draw_principle_diagram
from attnbook import plot_attention


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_heatmap_labels_and_values():
    weights = torch.tensor([[0.9, 0.1], [0.25, 0.75]])
    ax = plot_attention(weights, query_labels=["a", "b"], key_labels=["x", "y"], title="t")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x", "y"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    assert {t.get_text() for t in ax.texts} == {"0.90", "0.10", "0.25", "0.75"}
    np.testing.assert_allclose(ax.images[0].get_array(), weights.numpy())


def test_large_heatmap_is_not_annotated():
    ax = plot_attention(np.random.rand(20, 30))
    assert len(ax.texts) == 0


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"weights": torch.zeros(2, 3, 4)}, "weights must be 2-D (queries, keys), got shape (2, 3, 4)"),
        ({"weights": torch.zeros(2, 3), "key_labels": ["a"]}, "key_labels must have 3 entries"),
    ],
)
def test_heatmap_bad_input(kwargs, words):
    with pytest.raises(ValueError) as info:
        plot_attention(**kwargs)
    assert words in str(info.value)


def test_masked_cells_get_their_own_colour_and_no_value():
    weights = torch.tensor([[1.0, 0.0, 0.0], [0.3, 0.7, 0.0], [0.2, 0.3, 0.5]])
    mask = torch.ones(3, 3, dtype=torch.bool).tril()
    ax = plot_attention(weights, mask=mask, masked_color="#123456")
    image = ax.images[0]
    shown = image.get_array()
    np.testing.assert_array_equal(np.ma.getmaskarray(shown), ~mask.numpy())
    np.testing.assert_allclose(shown.compressed(), weights[mask].numpy())
    assert mcolors.to_hex(image.get_cmap().get_bad()) == "#123456"
    # the bad colour is set on a copy: the registered colormap keeps its own
    assert mcolors.to_hex(plt.get_cmap("viridis").get_bad()) != "#123456"
    assert sorted(t.get_text() for t in ax.texts) == sorted(f"{v:.2f}" for v in weights[mask].tolist())
    colour_bar = ax.figure.axes[1]
    assert [t.get_text() for t in colour_bar.get_legend().get_texts()] == ["masked"]


def test_colour_scale_ignores_masked_values():
    weights = torch.tensor([[0.2, 9.0], [0.4, 0.6]])
    mask = torch.tensor([[True, False], [True, True]])
    ax = plot_attention(weights, mask=mask)
    assert ax.images[0].get_clim() == (0.0, pytest.approx(0.6))


def test_key_padding_mask_broadcasts_and_legend_without_colour_bar():
    mask = np.array([[True, True, False, False]])
    ax = plot_attention(np.full((3, 4), 0.5), mask=mask, colorbar=False)
    np.testing.assert_array_equal(np.ma.getmaskarray(ax.images[0].get_array()), np.tile(~mask, (3, 1)))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["masked"]


def test_all_true_mask_draws_like_no_mask():
    weights = torch.tensor([[0.9, 0.1], [0.25, 0.75]])
    ax = plot_attention(weights, mask=torch.ones(2, 2, dtype=torch.bool))
    assert not np.ma.getmaskarray(ax.images[0].get_array()).any()
    assert ax.get_legend() is None and ax.figure.axes[1].get_legend() is None


@pytest.mark.parametrize(
    ("mask", "error", "words"),
    [
        (torch.ones(2, 3), TypeError, "mask must be boolean (True = attend), got dtype float32"),
        (torch.ones(3, 2, dtype=torch.bool), ValueError, "mask of shape (3, 2) does not broadcast"),
    ],
)
def test_bad_mask(mask, error, words):
    with pytest.raises(error) as info:
        plot_attention(torch.zeros(2, 3), mask=mask)
    assert words in str(info.value)


@pytest.mark.parametrize(
    ("size", "max_ticks", "positions"),
    [
        (12, 12, list(range(12))),
        (13, 12, list(range(0, 13, 2))),
        (32, 12, list(range(0, 32, 3))),
        (32, 16, list(range(0, 32, 2))),
        (32, None, list(range(32))),
        (5, 1, [0]),
    ],
)
def test_ticks_are_thinned_beyond_max_ticks(size, max_ticks, positions):
    labels = [f"t{i}" for i in range(size)]
    ax = plot_attention(torch.rand(size, size), query_labels=labels, key_labels=labels, max_ticks=max_ticks)
    for ticks, tick_labels in ((ax.get_xticks(), ax.get_xticklabels()), (ax.get_yticks(), ax.get_yticklabels())):
        assert list(ticks) == positions
        assert [t.get_text() for t in tick_labels] == [labels[i] for i in positions]
    assert len(positions) <= (max_ticks or size)


@pytest.mark.parametrize("max_ticks", [0, 2.5, True])
def test_bad_max_ticks(max_ticks):
    with pytest.raises(ValueError, match="max_ticks must be an integer >= 1"):
        plot_attention(torch.zeros(2, 3), max_ticks=max_ticks)


def test_principle_diagram_labels_the_weights():
    ax = draw_principle_diagram(torch.tensor([0.1, 0.2, 0.3, 0.4]))
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "=0.40" in texts and "softmax" in texts and "context" in texts


def test_principle_diagram_numbers_the_three_steps_in_order():
    ax = draw_principle_diagram()
    steps = sorted((t.get_position()[0], t.get_text()) for t in ax.texts if t.get_text()[:2] in ("1.", "2.", "3."))
    assert [text for _, text in steps] == ["1. score", "2. normalise", "3. weighted sum"]
    positions = {t.get_text(): t.get_position()[0] for t in ax.texts}
    # each step's label stands over its own column: scores, softmax, sum
    assert positions["1. score"] == positions["$a(q, k_1)$"]
    assert positions["3. weighted sum"] == positions["$\\Sigma$"]


def _boxes(ax, colour):
    return [patch.get_bbox() for patch in ax.patches
            if isinstance(patch, FancyBboxPatch) and mcolors.to_hex(patch.get_facecolor()) == colour]


def _points_along(vertices, steps=200):
    return np.concatenate([np.linspace(a, b, steps) for a, b in zip(vertices[:-1], vertices[1:])])


def test_principle_diagram_query_arrows_do_not_pass_behind_key_boxes():
    ax = draw_principle_diagram()
    ax.figure.canvas.draw()
    query = ROLE_COLORS["query"]
    keys = _boxes(ax, ROLE_COLORS["key"])
    assert len(keys) == 4
    query_paths = [polygon for patch in ax.patches
                   if isinstance(patch, FancyArrowPatch) and mcolors.to_hex(patch.get_edgecolor()) == "#e76f51"
                   for polygon in patch.get_path().to_polygons(closed_only=False)]  # shaft and head
    query_paths += [line.get_xydata() for line in ax.lines if mcolors.to_hex(line.get_color()) == "#e76f51"]
    assert len(query_paths) >= 4 and query != "#e76f51"
    for vertices in query_paths:
        points = _points_along(vertices)
        for box in keys:
            inside = ((points[:, 0] > box.x0) & (points[:, 0] < box.x1)
                      & (points[:, 1] > box.y0) & (points[:, 1] < box.y1))
            assert not inside.any(), (vertices, box)


def test_principle_diagram_needs_four_weights():
    with pytest.raises(ValueError, match="weights must have 4 entries, got 2"):
        draw_principle_diagram([0.5, 0.5])


def test_encoder_decoder_diagram_has_every_role():
    texts = " ".join(t.get_text() for t in draw_encoder_decoder_diagram().texts)
    for word in ("attention", "context", "$s_{t-1}$", "$s_t$", "$y_{t-1}$", "next word $y_t$"):
        assert word in texts


def test_encoder_decoder_diagram_is_bidirectional_and_english_to_french():
    ax = draw_encoder_decoder_diagram()
    texts = [t.get_text() for t in ax.texts]
    for index in range(1, 5):
        assert f"$\\overrightarrow{{h}}_{index}$" in texts and f"$\\overleftarrow{{h}}_{index}$" in texts
    assert any("[\\overrightarrow{h}_j; \\overleftarrow{h}_j]" in text for text in texts)
    # a shortened version of the English source and French target of the chapter's score heatmaps
    assert [text for text in texts if text in ("the", "cat", "sat", ".")] == ["the", "cat", "sat", "."]
    assert any("le" in text for text in texts if "y_{t-1}" in text)
    assert any("chat" in text for text in texts if "y_t" in text)


def test_encoder_decoder_diagram_backward_inputs_do_not_cut_the_encoder_boxes():
    ax = draw_encoder_decoder_diagram()
    ax.figure.canvas.draw()
    states = _boxes(ax, ROLE_COLORS["key"])
    assert len(states) == 8
    grey_paths = [polygon for patch in ax.patches
                  if isinstance(patch, FancyArrowPatch) and mcolors.to_hex(patch.get_edgecolor()) == "#868e96"
                  for polygon in patch.get_path().to_polygons(closed_only=False)]
    assert len(grey_paths) >= 4
    for vertices in grey_paths:
        points = _points_along(vertices)
        for box in states:
            inside = ((points[:, 0] > box.x0) & (points[:, 0] < box.x1)
                      & (points[:, 1] > box.y0) & (points[:, 1] < box.y1))
            assert not inside.any(), (vertices, box)


def test_principle_diagram_column_labels_do_not_overlap():
    ax = draw_principle_diagram()
    ax.figure.canvas.draw()  # the constrained layout places the axes
    renderer = ax.figure.canvas.get_renderer()
    labels = [t for t in ax.texts if t.get_text() in ("keys", "1. score", "2. normalise", "values",
                                                      "3. weighted sum")]
    assert len(labels) == 5
    extents = [t.get_window_extent(renderer).expanded(1.1, 1.1) for t in labels]
    for i, first in enumerate(extents):
        for second in extents[i + 1:]:
            assert not first.overlaps(second)


# The squeeze-and-excitation chain of the channel-attention chapter: five boxes, the most it draws.
SE_PIPELINE = [[("F\n(C, H, W)", "value"), ("avg pool\n(C)", "score"), ("FC C→C/r\nReLU (C/r)", "key"),
                ("FC C/r→C\nσ (C)", "key"), ("F ⊗ s\n(C, H, W)", "context")]]
BRANCHES = [[("x", "value"), ("pool", "score")], [("x", "value"), ("conv", "key"), ("BN", "score")]]


@pytest.mark.parametrize(
    "draw",
    [draw_principle_diagram, draw_encoder_decoder_diagram, lambda: draw_pipeline(SE_PIPELINE, title="SE"),
     lambda: draw_pipeline(BRANCHES, merge="sum, sigmoid"), lambda: draw_pipeline([[("x", "value")] * 8])],
    ids=["principle", "encoder_decoder", "pipeline", "pipeline_merge", "pipeline_eight_boxes"],
)
def test_diagrams_fit_the_text_column(draw):
    figure = draw().figure
    assert figure.get_size_inches()[0] <= ab.book.TEXT_WIDTH_INCHES
    assert min(t.get_fontsize() for t in figure.axes[0].texts) >= ab.book.MIN_FONT_POINTS


def test_pipeline_text_stays_inside_its_box():
    ax = draw_pipeline(SE_PIPELINE, title="SE")
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    boxes = [patch.get_window_extent(renderer) for patch in ax.patches if isinstance(patch, FancyBboxPatch)]
    assert len(boxes) == len(ax.texts) == 5
    for text, box in zip(ax.texts, boxes):
        extent = text.get_window_extent(renderer)
        assert box.x0 < extent.x0 and extent.x1 < box.x1 and box.y0 < extent.y0 and extent.y1 < box.y1, \
            text.get_text()


def test_pipeline_draws_every_box_and_the_merge():
    rows = [[("x", "value"), ("pool", "score")], [("x", "value"), ("conv", "key"), ("BN", "score")]]
    ax = draw_pipeline(rows, merge="sum, sigmoid", title="t")
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("x") == 2 and "conv" in texts and "sum, sigmoid" in texts


@pytest.mark.parametrize(
    ("rows", "words"),
    [([], "rows must be a non-empty list"), ([[("x", "colour")]], "role must be one of")],
)
def test_pipeline_bad_input(rows, words):
    with pytest.raises(ValueError, match=words):
        draw_pipeline(rows)
