"""The small vision transformer (attnbook.models.VisionTransformer, Dosovitskiy et al. 2021)."""

import pytest
import torch
import torch.nn.functional as F

import attnbook as ab


def _model(**kwargs):
    torch.manual_seed(0)
    return ab.models.VisionTransformer(**{"image_size": 16, "patch_size": 4, "width": 16, "depth": 2,
                                          "heads": 2, **kwargs})


@pytest.mark.parametrize("positions", ab.models.POSITIONS)
def test_shapes_and_one_weight_matrix_per_layer_and_head(positions):
    model = _model(positions=positions, depth=3)
    out = model(torch.rand(5, 1, 16, 16))
    assert out.logits.shape == (5, 10)
    assert len(out.attentions) == 3
    for weights in out.attentions:
        assert weights.shape == (5, 2, 17, 17)                     # class token + 4 x 4 patches
        torch.testing.assert_close(weights.sum(-1), torch.ones(5, 2, 17))


@pytest.mark.parametrize("positions", ab.models.POSITIONS)
def test_the_fast_path_gives_the_plain_paths_logits(positions):
    model = _model(positions=positions).eval()
    images = torch.rand(4, 1, 16, 16)
    plain = model(images)
    fast = model(images, need_weights=False)
    assert fast.attentions == ()
    torch.testing.assert_close(fast.logits, plain.logits, atol=1e-5, rtol=1e-5)


def test_the_tokens_are_the_patches_in_row_major_order():
    # the patch embedding is a linear map of each patch: changing one patch changes only its token
    model = _model()
    images = torch.rand(1, 1, 16, 16)
    changed = images.clone()
    changed[..., 4:8, 8:12] += 1.0                                  # patch (row 1, column 2) = token 1 + 6
    tokens = model.patch_embed(images).flatten(2).transpose(1, 2)
    tokens_changed = model.patch_embed(changed).flatten(2).transpose(1, 2)
    moved = (tokens_changed - tokens).abs().sum(-1)[0] > 0
    assert moved.nonzero().flatten().tolist() == [6]


def test_sinusoidal_positions_are_the_cores_and_fixed():
    model = _model(positions="sinusoidal")
    torch.testing.assert_close(model.pos_embed[0], ab.sinusoidal_positional_encoding(17, 16))
    assert "pos_embed" not in dict(model.named_parameters())


def test_it_learns_a_tiny_task():
    # two classes told apart by where a bright patch is: a position task, which needs the positions
    torch.manual_seed(0)
    images = torch.zeros(64, 1, 16, 16)
    labels = torch.arange(64) % 2
    images[labels == 0, :, :4, :4] = 1.0
    images[labels == 1, :, 12:, 12:] = 1.0
    model = _model()

    def loss_fn(rows):
        return F.cross_entropy(model(images[rows], need_weights=False).logits, labels[rows])

    losses = ab.models.fit(model, loss_fn, 64, 60, 16, lr=1e-2).losses
    assert sum(losses[-10:]) / 10 < 0.1 < sum(losses[:10]) / 10
    assert (model(images).logits.argmax(-1) == labels).float().mean() == 1.0


@pytest.mark.parametrize("kwargs, message", [
    ({"patch_size": 5}, "patch_size must divide image_size"),
    ({"positions": "rotary"}, "positions must be one of"),
    ({"heads": 3}, "num_heads must divide embed_dim"),
    ({"depth": 0}, "depth must be an integer >= 1"),
    ({"mlp_ratio": 0.0}, "mlp_ratio must be a finite number > 0"),
    ({"width": 15, "heads": 1, "positions": "sinusoidal"}, "even width"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _model(**kwargs)


def test_bad_images_are_named():
    model = _model()
    with pytest.raises(ValueError, match=r"images must have shape \(batch, 1, 16, 16\), got \(2, 1, 12, 12\)"):
        model(torch.rand(2, 1, 12, 12))
    with pytest.raises(TypeError, match="images must be a floating-point tensor"):
        model(torch.zeros(2, 1, 16, 16, dtype=torch.long))
