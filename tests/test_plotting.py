import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from attnbook import draw_encoder_decoder_diagram, draw_pipeline, draw_principle_diagram, plot_attention


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


def test_principle_diagram_labels_the_weights():
    ax = draw_principle_diagram(torch.tensor([0.1, 0.2, 0.3, 0.4]))
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "=0.40" in texts and "softmax" in texts and "context" in texts


def test_principle_diagram_needs_four_weights():
    with pytest.raises(ValueError, match="weights must have 4 entries, got 2"):
        draw_principle_diagram([0.5, 0.5])


def test_encoder_decoder_diagram_has_every_role():
    texts = " ".join(t.get_text() for t in draw_encoder_decoder_diagram().texts)
    for word in ("$h_1$", "attention", "context", "$s_{t-1}$", "$s_t$"):
        assert word in texts


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
