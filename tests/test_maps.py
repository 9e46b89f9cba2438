"""The map methods and their measures (attnbook.maps), against hand computations on toys."""

import math

import pytest
import torch
from scipy.stats import spearmanr

import attnbook as ab


def _toy_vit(depth=2):
    torch.manual_seed(0)
    return ab.models.VisionTransformer(image_size=8, patch_size=4, width=8, depth=depth, heads=2).eval()


def _random_attentions(layers=2, batch=3, heads=2, tokens=5, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, heads, tokens, tokens, generator=generator, dtype=torch.float64).softmax(-1)
            for _ in range(layers)]


# --- raw attention and rollout ---------------------------------------------------------------

def test_rollout_of_two_hand_layers():
    # one head, two tokens: A_hat = (A + I) / 2 row-normalised, then A_hat_2 @ A_hat_1
    first = torch.tensor([[[[1.0, 0.0], [0.5, 0.5]]]])
    second = torch.tensor([[[[0.5, 0.5], [0.0, 1.0]]]])
    expected = torch.tensor([[[0.8125, 0.1875], [0.25, 0.75]]])   # [[1, 0], [.25, .75]] then [[.75, .25], [0, 1]]
    torch.testing.assert_close(ab.maps.attention_rollout([first, second]), expected)
    torch.testing.assert_close(ab.maps.attention_rollout_reference([first, second]), expected)


def test_rollout_equals_the_explicit_matrix_product_on_a_two_layer_vit():
    attentions = _toy_vit()(torch.rand(3, 1, 8, 8)).attentions
    eye = torch.eye(5)
    steps = [(a.mean(1) + eye) / (a.mean(1) + eye).sum(-1, keepdim=True) for a in attentions]
    product = torch.einsum("bij,bjk->bik", steps[1], steps[0])
    torch.testing.assert_close(ab.maps.attention_rollout(attentions), product)
    torch.testing.assert_close(ab.maps.attention_rollout_reference(attentions), product)
    torch.testing.assert_close(ab.maps.attention_rollout(attentions).sum(-1), torch.ones(3, 5))
    # starting at the last layer leaves that layer's step alone
    torch.testing.assert_close(ab.maps.attention_rollout(attentions, start_layer=1), steps[1])


def test_rollout_fast_path_agrees_with_the_reference_on_deeper_stacks():
    attentions = _random_attentions(layers=4, tokens=10)
    torch.testing.assert_close(ab.maps.attention_rollout(attentions),
                               ab.maps.attention_rollout_reference(attentions))


def test_raw_attention_and_token_map_read_the_class_row_on_the_grid():
    attentions = _random_attentions(layers=2, tokens=5)
    raw = ab.maps.cls_attention(attentions)
    assert raw.shape == (3, 2, 2, 2)
    torch.testing.assert_close(raw[1, 0, 1, 0], attentions[-1][1, 0, 0, 3])   # patch (1, 0) = token 3
    torch.testing.assert_close(ab.maps.cls_attention(attentions, layer=0), ab.maps.token_map(attentions[0]))
    torch.testing.assert_close(raw.sum((-1, -2)), 1 - attentions[-1][:, :, 0, 0])


# --- gradient-weighted rollout (Chefer et al. 2021) ------------------------------------------

def test_gradient_rollout_is_the_product_of_identity_plus_weighted_means():
    # R = I; R = R + A_bar R for each layer  ==  (I + A_bar_2)(I + A_bar_1)
    attentions = _random_attentions()
    gradients = [torch.randn_like(a) for a in attentions]
    bars = [(g * a).clamp(min=0).mean(1) for a, g in zip(attentions, gradients)]
    eye = torch.eye(5, dtype=torch.float64)
    expected = (eye + bars[1]) @ (eye + bars[0])
    torch.testing.assert_close(ab.maps.gradient_rollout(attentions, gradients), expected)
    # negative gradient * attention products are dropped: all-negative gradients leave R = I
    negative = [-a for a in attentions]
    torch.testing.assert_close(ab.maps.gradient_rollout(attentions, negative), eye.expand(3, 5, 5))


def test_attention_gradients_are_each_images_own():
    model = _toy_vit()
    images = torch.rand(3, 1, 8, 8)
    together = ab.maps.attention_gradients(model, images)
    assert together.target.tolist() == model(images).logits.argmax(-1).tolist()
    for row in range(3):
        alone = ab.maps.attention_gradients(model, images[row:row + 1], target=together.target[row:row + 1])
        for a, b in zip(alone.gradients, together.gradients):
            torch.testing.assert_close(a[0], b[row], atol=1e-6, rtol=1e-5)


def test_attention_gradients_match_a_finite_difference():
    # redo the last layer by hand with its weights perturbed by delta: the logit moves by <grad, delta>
    from attnbook import merge_heads, split_heads
    model = _toy_vit()
    images = torch.rand(1, 1, 8, 8)
    found = ab.maps.attention_gradients(model, images, target=torch.tensor([3]))
    delta = 1e-3 * torch.randn(found.attentions[-1].shape)
    block, attention = model.blocks[-1], model.blocks[-1].attention
    tokens = torch.cat((model.cls_token, model.patch_embed(images).flatten(2).transpose(1, 2)), 1) + model.pos_embed
    below = model.blocks[0](tokens)[0]
    h = block.norm1(below)

    def logit(extra):
        q, k, v = (split_heads(p(h), 2) for p in (attention.query_proj, attention.key_proj, attention.value_proj))
        weights = (q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])).softmax(-1) + extra
        x = below + attention.out_proj(merge_heads(weights @ v))
        x = x + block.mlp(block.norm2(x))
        return model.head(model.norm(x[:, 0]))[0, 3]

    with torch.no_grad():
        torch.testing.assert_close(logit(torch.zeros_like(delta)), found.logits[0, 3])
        change = logit(delta) - logit(torch.zeros_like(delta))
    torch.testing.assert_close(change, (found.gradients[-1] * delta).sum(), atol=1e-6, rtol=1e-2)


# --- occlusion --------------------------------------------------------------------------------

def _patch_reader(weights):
    """A predictor whose class-0 logit is sum_p weights[p] * (sum of patch p's pixels), 4 x 4 images,
    patch 2; class 1's logit is 0."""
    def predict(images):
        sums = images.unfold(2, 2, 2).unfold(3, 2, 2).sum((-1, -2)).flatten(1)   # (batch, 4 patches)
        return torch.stack((sums @ weights, torch.zeros(len(images))), dim=1)
    return predict


def test_occlusion_by_hand_and_an_ignored_patch_changes_nothing():
    weights = torch.tensor([1.0, 0.0, -2.0, 3.0])                          # patch 1 is ignored
    images = torch.arange(16.0).view(1, 1, 4, 4) / 16
    sums = images.unfold(2, 2, 2).unfold(3, 2, 2).sum((-1, -2)).flatten()
    drops = ab.maps.occlusion_map(_patch_reader(weights), images, 2, target=torch.tensor([0]), score="logit")
    torch.testing.assert_close(drops.flatten(), weights * sums)            # fill 0 removes w * sum
    assert drops[0, 0, 1] == 0
    # with another fill value, occluding writes fill into every pixel: drop = w * (sum - 4 * fill)
    filled = ab.maps.occlusion_map(_patch_reader(weights), images, 2, fill=0.5, target=torch.tensor([0]),
                                   score="logit")
    torch.testing.assert_close(filled.flatten(), weights * (sums - 2.0))
    probability = ab.maps.occlusion_map(_patch_reader(weights), images, 2, target=torch.tensor([0]))
    assert probability[0, 0, 1] == 0 and probability[0, 1, 1] > 0 > probability[0, 1, 0]


def test_occluding_a_blank_patch_of_a_vit_changes_nothing():
    model = _toy_vit()
    images = torch.rand(4, 1, 8, 8)
    images[:, :, 4:, :4] = 0.0                                             # patch (1, 0) already at the fill value

    def predict(x):
        return model(x, need_weights=False).logits

    drops = ab.maps.occlusion_map(predict, images, 4, batch_size=3)
    assert drops.shape == (4, 2, 2)
    assert (drops[:, 1, 0] == 0).all() and (drops.abs().flatten(1).sum(1) > 0).all()


def test_batched_occlusion_equals_a_plain_loop_over_patches():
    model = _toy_vit()
    images = torch.rand(3, 1, 8, 8)

    def predict(x):
        return model(x, need_weights=False).logits

    with torch.no_grad():
        probabilities = predict(images).softmax(-1)
        target = probabilities.argmax(-1)
        plain = torch.zeros(3, 2, 2)
        for row in range(2):
            for col in range(2):
                hidden = images.clone()
                hidden[:, :, 4 * row:4 * row + 4, 4 * col:4 * col + 4] = 0.5
                after = predict(hidden).softmax(-1)
                plain[:, row, col] = (probabilities - after).gather(1, target[:, None])[:, 0]
    for batch_size in (1, 256):
        torch.testing.assert_close(ab.maps.occlusion_map(predict, images, 4, fill=0.5, batch_size=batch_size),
                                   plain, atol=1e-6, rtol=1e-5)


# --- deletion and insertion -------------------------------------------------------------------

def test_deletion_and_insertion_by_hand():
    weights = torch.tensor([1.0, 2.0, 3.0, 4.0])
    images = torch.ones(1, 1, 4, 4)                                         # every patch sums to 4
    maps = torch.tensor([[[0.1, 0.4], [0.3, 0.2]]])                        # order: patch 1, 2, 3, 0
    curves = ab.maps.deletion_insertion(_patch_reader(weights), images, maps, 2, target=torch.tensor([0]),
                                        score="logit")
    # the logit is 4 * (sum of the weights of the patches shown)
    torch.testing.assert_close(curves.deletion[0], torch.tensor([40.0, 32.0, 20.0, 4.0, 0.0]))
    torch.testing.assert_close(curves.insertion[0], torch.tensor([0.0, 8.0, 20.0, 36.0, 40.0]))
    torch.testing.assert_close(curves.deletion_area[0], torch.tensor((40 / 2 + 32 + 20 + 4 + 0 / 2) / 4))
    torch.testing.assert_close(curves.insertion_area[0], torch.tensor((0 / 2 + 8 + 20 + 36 + 40 / 2) / 4))
    # the curves meet at the ends: all hidden = none shown
    torch.testing.assert_close(curves.deletion[:, -1], curves.insertion[:, 0])


def test_deletion_insertion_on_a_vit_ranks_maps():
    model = _toy_vit()
    images = torch.rand(5, 1, 8, 8)

    def predict(x):
        return model(x, need_weights=False).logits

    occlusion = ab.maps.occlusion_map(predict, images, 4)
    best = ab.maps.deletion_insertion(predict, images, occlusion, 4, batch_size=7)
    worst = ab.maps.deletion_insertion(predict, images, -occlusion, 4)
    probability = predict(images).softmax(-1).max(-1).values
    torch.testing.assert_close(best.deletion[:, 0], probability)
    torch.testing.assert_close(best.insertion[:, -1], probability)
    # one deleted patch: the occlusion map's first choice is the one that drops the most
    assert (best.deletion[:, 1] <= worst.deletion[:, 1] + 1e-7).all()
    assert (best.deletion_area.mean() <= worst.deletion_area.mean())


def test_area_under_curve_is_the_trapezoid_rule():
    torch.testing.assert_close(ab.maps.area_under_curve(torch.tensor([0.0, 1.0])), torch.tensor(0.5))
    torch.testing.assert_close(ab.maps.area_under_curve(torch.tensor([1.0, 1.0, 0.0])), torch.tensor(0.75))


# --- measures against the box -----------------------------------------------------------------

def test_box_coverage_share_and_mass_by_hand():
    # 8 x 8 image, patch 4: a 4 x 4 box at (2, 2) covers a quarter of every patch
    coverage = ab.maps.box_coverage(torch.tensor([[2, 2, 4, 4], [0, 0, 4, 6]]), 8, 4)
    torch.testing.assert_close(coverage[0], torch.full((2, 2), 0.25))
    torch.testing.assert_close(coverage[1], torch.tensor([[1.0, 0.5], [0.0, 0.0]]))
    torch.testing.assert_close(ab.maps.box_share(coverage), torch.tensor([16 / 64, 24 / 64]))
    maps = torch.tensor([[[1.0, 0.0], [0.0, 0.0]], [[1.0, 1.0], [-5.0, 2.0]]])
    # image 1: positive mass 4, inside 1 * 1 + 1 * 0.5 = 1.5; the negative patch counts as 0
    torch.testing.assert_close(ab.maps.mass_in_box(maps, coverage), torch.tensor([0.25, 1.5 / 4]))
    # a map with no positive mass scores the chance level
    torch.testing.assert_close(ab.maps.mass_in_box(-maps.abs(), coverage), ab.maps.box_share(coverage))


def test_a_box_past_the_edge_is_cut_to_the_image():
    coverage = ab.maps.box_coverage(torch.tensor([[6, 6, 4, 4]]), 8, 4)
    torch.testing.assert_close(coverage[0], torch.tensor([[0.0, 0.0], [0.0, 0.25]]))


def test_pointing_game_by_hand_with_ties_and_chance():
    coverage = ab.maps.box_coverage(torch.tensor([[0, 0, 4, 6]] * 3), 8, 4)   # [[1, .5], [0, 0]]
    maps = torch.tensor([[[0.0, 1.0], [0.0, 0.0]],      # arg-max half inside: a hit
                         [[0.0, 0.0], [1.0, 0.0]],      # outside: a miss
                         [[1.0, 1.0], [1.0, 1.0]]])     # a four-way tie, two of them inside
    torch.testing.assert_close(ab.maps.pointing_game(maps, coverage), torch.tensor([1.0, 0.0, 0.5]))
    torch.testing.assert_close(ab.maps.pointing_game(maps, coverage, threshold=1.0), torch.tensor([0.0, 0.0, 0.25]))
    torch.testing.assert_close(ab.maps.pointing_chance(coverage), torch.full((3,), 0.5))


def test_spearman_matches_scipy_with_ties():
    generator = torch.Generator().manual_seed(0)
    a = torch.randint(0, 4, (6, 3, 3), generator=generator).float()      # many ties
    b = torch.randn(6, 3, 3, generator=generator)
    found = ab.maps.spearman(a, b)
    expected = torch.tensor([spearmanr(x.flatten(), y.flatten()).statistic for x, y in zip(a, b)],
                            dtype=torch.float32)
    torch.testing.assert_close(found, expected)
    torch.testing.assert_close(ab.maps.spearman(b, b.exp()), torch.ones(6))
    torch.testing.assert_close(ab.maps.spearman(b, -b), -torch.ones(6))
    assert ab.maps.spearman(torch.ones(1, 2, 2), b[:1, :2, :2]).isnan().all()


def test_spearman_over_kept_patches_matches_scipy_on_the_subset():
    generator = torch.Generator().manual_seed(1)
    a = torch.randint(0, 3, (8, 3, 3), generator=generator).float()      # ties
    b = torch.randn(8, 3, 3, generator=generator)
    keep = torch.rand(8, 3, 3, generator=generator) < 0.6
    keep[0] = True                                                        # all: the plain correlation
    keep[1] = False
    keep[1, 0, 0] = True                                                  # one patch: undefined
    found = ab.maps.spearman(a, b, keep=keep)
    for index in range(2, 8):
        chosen = keep[index]
        if chosen.sum() < 2 or a[index][chosen].unique().numel() < 2:
            assert found[index].isnan()
        else:
            expected = spearmanr(a[index][chosen], b[index][chosen]).statistic
            assert abs(found[index].item() - expected) < 1e-5
    torch.testing.assert_close(found[0], ab.maps.spearman(a[:1], b[:1])[0])
    assert found[1].isnan()
    # what lies outside the mask does not matter
    changed = torch.where(keep, b, torch.randn(8, 3, 3, generator=generator))
    torch.testing.assert_close(ab.maps.spearman(a, changed, keep=keep), found, equal_nan=True)


def test_ink_patches_are_those_whose_black_occlusion_can_change_anything():
    images = torch.zeros(2, 1, 8, 8)
    images[0, 0, 1, 6] = 0.3            # patch (0, 1) of image 0
    images[1, 0, 5, 2] = 1.0            # patch (1, 0) of image 1
    images[1, 0, 7, 7] = 0.2            # patch (1, 1) of image 1
    ink = ab.maps.ink_patches(images, 4)
    expected = torch.tensor([[[False, True], [False, False]], [[False, False], [True, True]]])
    assert torch.equal(ink, expected)
    weights = torch.randn(64, 3, generator=torch.Generator().manual_seed(0))
    occlusion = ab.maps.occlusion_map(lambda x: x.flatten(1) @ weights, images, 4, fill=0.0)
    assert (occlusion[~ink] == 0).all()                # hiding a blank patch hides nothing
    assert torch.equal(ab.maps.ink_patches(images + 0.5, 4, background=0.5), expected)


def test_occlusion_readings_are_the_three_rank_correlations():
    generator = torch.Generator().manual_seed(2)
    maps = torch.rand(5, 3, 3, generator=generator)
    occlusion = torch.randn(5, 3, 3, generator=generator)
    ink = torch.rand(5, 3, 3, generator=generator) < 0.7
    readings = ab.maps.occlusion_readings(maps, occlusion, ink)
    assert tuple(readings) == ab.maps.READINGS
    torch.testing.assert_close(readings["signed"], ab.maps.spearman(maps, occlusion))
    torch.testing.assert_close(readings["size"], ab.maps.spearman(maps, occlusion.abs()))
    torch.testing.assert_close(readings["ink"], ab.maps.spearman(maps, occlusion, keep=ink), equal_nan=True)
    torch.testing.assert_close(readings["ink_size"], ab.maps.spearman(maps, occlusion.abs(), keep=ink),
                               equal_nan=True)
    # a map equal to |occlusion| is perfect by size, and negative drops break the signed order
    assert torch.allclose(ab.maps.occlusion_readings(occlusion.abs(), occlusion, ink)["size"], torch.ones(5))


def test_patch_means_average_each_patch_over_its_pixels_and_channels():
    images = torch.zeros(1, 2, 4, 4)
    images[0, 0, :2, :2] = 1.0          # patch (0, 0): channel 0 full, channel 1 empty
    images[0, 1, 3, 3] = 0.8            # patch (1, 1): one pixel of channel 1
    expected = torch.tensor([[[0.5, 0.0], [0.0, 0.1]]])
    torch.testing.assert_close(ab.maps.patch_means(images, 2), expected)


def test_paired_bootstrap_by_hand():
    first = torch.tensor([0.5, 0.4, float("nan"), 0.9], dtype=torch.float64)
    second = torch.tensor([0.1, 0.4, 0.3, 0.2], dtype=torch.float64)
    found = ab.maps.paired_bootstrap(first, second, resamples=500, seed=3)
    assert found["images"] == 3                                   # the NaN image is left out
    assert abs(found["mean"] - (0.4 + 0.0 + 0.7) / 3) < 1e-9
    assert abs(found["wins"] - 2 / 3) < 1e-9
    assert 0.0 <= found["low"] <= found["mean"] <= found["high"] <= 0.7   # within the values' range
    assert ab.maps.paired_bootstrap(first, second, resamples=500, seed=3) == found   # seeded
    same = ab.maps.paired_bootstrap(torch.full((5,), 0.25), torch.zeros(5))
    assert same["low"] == same["high"] == same["mean"] == 0.25


# --- bad input --------------------------------------------------------------------------------

def test_bad_input_is_named():
    attentions = _random_attentions()
    with pytest.raises(TypeError, match="attentions must be a non-empty list"):
        ab.maps.attention_rollout(attentions[0])
    with pytest.raises(ValueError, match="must share one shape"):
        ab.maps.attention_rollout([attentions[0], attentions[1][:, :, :4, :4]])
    with pytest.raises(ValueError, match="start_layer must be an integer in \\[0, 2\\), got 2"):
        ab.maps.attention_rollout(attentions, start_layer=2)
    with pytest.raises(ValueError, match="tokens must be 1 \\+ a square number"):
        ab.maps.token_map(torch.rand(1, 6, 6))
    with pytest.raises(ValueError, match="gradients must match attentions"):
        ab.maps.gradient_rollout(attentions, attentions[:1])
    images = torch.rand(2, 1, 8, 8)
    with pytest.raises(ValueError, match="patch_size must divide the image sides"):
        ab.maps.occlusion_map(lambda x: x.flatten(1), images, 3)
    with pytest.raises(ValueError, match="score must be one of"):
        ab.maps.occlusion_map(lambda x: x.flatten(1), images, 4, score="loss")
    with pytest.raises(TypeError, match="predict must return \\(batch, classes\\) logits"):
        ab.maps.occlusion_map(lambda x: x, images, 4)
    with pytest.raises(ValueError, match="target must hold classes in \\[0, 64\\)"):
        ab.maps.occlusion_map(lambda x: x.flatten(1), images, 4, target=torch.tensor([0, 64]))
    with pytest.raises(ValueError, match="maps must have shape \\(2, 2, 2\\)"):
        ab.maps.deletion_insertion(lambda x: x.flatten(1), images, torch.rand(2, 4, 4), 4)
    with pytest.raises(ValueError, match="boxes must have shape"):
        ab.maps.box_coverage(torch.tensor([1, 2, 3, 4]), 8, 4)
    with pytest.raises(ValueError, match="height, width >= 1"):
        ab.maps.box_coverage(torch.tensor([[0, 0, 0, 4]]), 8, 4)
    with pytest.raises(ValueError, match="maps and coverage must have the same shape"):
        ab.maps.mass_in_box(torch.rand(1, 2, 2), torch.rand(1, 3, 3))
    with pytest.raises(ValueError, match="threshold must be a number in \\(0, 1\\]"):
        ab.maps.pointing_game(torch.rand(1, 2, 2), torch.rand(1, 2, 2), threshold=0)
    with pytest.raises(ValueError, match="maps must be finite"):
        ab.maps.spearman(torch.full((1, 2, 2), float("nan")), torch.rand(1, 2, 2))
    with pytest.raises(ValueError, match="keep must be None or a boolean tensor of the maps' shape \\(1, 2, 2\\)"):
        ab.maps.spearman(torch.rand(1, 2, 2), torch.rand(1, 2, 2), keep=torch.ones(1, 2, 2))
    with pytest.raises(ValueError, match="first must be a 1-D floating tensor"):
        ab.maps.paired_bootstrap(torch.zeros(2, 2), torch.zeros(2))
    with pytest.raises(ValueError, match="no image where both are defined"):
        ab.maps.paired_bootstrap(torch.full((2,), float("nan")), torch.zeros(2))
    with pytest.raises(ValueError, match="resamples must be"):
        ab.maps.paired_bootstrap(torch.zeros(2), torch.zeros(2), resamples=0)
    with pytest.raises(TypeError, match="background must be a number, got str"):
        ab.maps.ink_patches(images, 4, background="black")
    with pytest.raises(ValueError, match="patch_size must divide the image sides"):
        ab.maps.ink_patches(images, 3)
