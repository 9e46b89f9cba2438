import math

import pytest
import torch
import torch.nn.functional as F

from attnbook.data import make_cluttered_digits
from attnbook.hard import MovingAverageBaseline, gumbel_softmax, reinforce_loss, sample_gumbel
from attnbook.hard import extract_glimpses, pixel_to_location
from attnbook.models import RecurrentAttentionModel, SoftAttentionClassifier
from attnbook.hard import attend_locations


def _features(batch=3, locations=5, dim=4, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, locations, dim, generator=generator), torch.randn(batch, locations, generator=generator)


def test_soft_is_the_expected_feature():
    features, logits = _features()
    out = attend_locations(features, logits, "soft")
    torch.testing.assert_close(out.context, (torch.softmax(logits, -1)[..., None] * features).sum(1))
    assert out.indices is None and out.log_prob is None


def test_argmax_picks_the_top_k():
    features, logits = _features()
    out = attend_locations(features, logits, "argmax", k=2)
    top = logits.topk(2, -1).indices
    assert torch.equal(out.indices, top)
    torch.testing.assert_close(out.context, features.gather(1, top[..., None].expand(-1, -1, 4)).mean(1))
    torch.testing.assert_close(out.weights.sum(-1), torch.ones(3))


def test_sampling_matches_the_softmax_and_log_prob_is_exact():
    features, logits = _features(batch=1, locations=4)
    generator = torch.Generator().manual_seed(1)
    draws = torch.stack([attend_locations(features, logits, "sample", generator=generator).indices[0, 0]
                         for _ in range(4000)])
    frequencies = torch.bincount(draws, minlength=4).float() / 4000
    torch.testing.assert_close(frequencies, torch.softmax(logits[0], -1), atol=0.03, rtol=0)
    out = attend_locations(features, logits, "sample", generator=generator)
    torch.testing.assert_close(out.log_prob, torch.log_softmax(logits, -1)[0, out.indices[0, 0]][None])


def test_sampling_k_without_replacement_log_prob():
    features, logits = _features(batch=1, locations=4)
    out = attend_locations(features, logits, "sample", k=2, generator=torch.Generator().manual_seed(0))
    first, second = out.indices[0].tolist()
    assert first != second
    p = torch.softmax(logits[0], -1)
    expected = math.log(p[first]) + math.log(p[second] / (1 - p[first]))
    assert math.isclose(out.log_prob.item(), expected, rel_tol=1e-5)


def test_reinforce_is_unbiased_on_a_tiny_case():
    logits = torch.tensor([0.5, -0.3, 1.2], requires_grad=True)
    rewards = torch.tensor([1.0, 3.0, -2.0])
    probabilities = torch.softmax(logits, -1)
    exact = torch.autograd.grad((probabilities * rewards).sum(), logits)[0]
    generator = torch.Generator().manual_seed(0)
    choices = torch.multinomial(probabilities.detach(), 50_000, replacement=True, generator=generator)
    for baseline in (0.0, 1.0):
        log_prob = torch.log_softmax(logits, -1)[choices]
        estimate = torch.autograd.grad(-reinforce_loss(log_prob, rewards[choices], baseline), logits)[0]
        torch.testing.assert_close(estimate, exact, atol=0.03, rtol=0)


def test_gumbel_softmax_matches_torch_statistically():
    logits = torch.tensor([[1.0, 0.0, -1.0, 0.5]]).expand(20_000, -1)
    ours = gumbel_softmax(logits, temperature=0.5, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    theirs = F.gumbel_softmax(logits, tau=0.5)
    torch.testing.assert_close(ours.mean(0), theirs.mean(0), atol=0.01, rtol=0)
    torch.testing.assert_close(ours.std(0), theirs.std(0), atol=0.01, rtol=0)
    # arg-max of a Gumbel-perturbed sample follows the softmax exactly
    frequencies = torch.bincount(ours.argmax(-1), minlength=4).float() / 20_000
    torch.testing.assert_close(frequencies, torch.softmax(logits[0], -1), atol=0.01, rtol=0)


def test_straight_through_is_one_hot_with_soft_gradient():
    # Generators seeded alike draw the same Gumbel noise: the straight-through sample is then
    # the one-hot arg-max of the relaxed sample, and its gradient is the relaxed sample's.
    logits = torch.randn(5, 3, generator=torch.Generator().manual_seed(1), requires_grad=True)
    weights = torch.randn(5, 3, generator=torch.Generator().manual_seed(2))
    soft = gumbel_softmax(logits, 0.7, generator=torch.Generator().manual_seed(0))
    noise = sample_gumbel(logits.shape, torch.Generator().manual_seed(0))
    torch.testing.assert_close(soft, torch.softmax((logits + noise) / 0.7, -1))
    hard = gumbel_softmax(logits, 0.7, hard=True, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(hard, F.one_hot(soft.argmax(-1), 3).float())
    relaxed_gradient, = torch.autograd.grad((soft * weights).sum(), logits)
    straight_through_gradient, = torch.autograd.grad((hard * weights).sum(), logits)
    assert relaxed_gradient.abs().min() > 0
    torch.testing.assert_close(straight_through_gradient, relaxed_gradient)


def test_gumbel_noise_has_the_right_mean():
    noise = sample_gumbel((200_000,), torch.Generator().manual_seed(0))
    assert abs(noise.mean().item() - 0.5772) < 0.01  # Euler-Mascheroni constant


def test_moving_average_baseline():
    baseline = MovingAverageBaseline(0.5)
    assert baseline.update(torch.tensor([1.0, 3.0])) == 2.0
    assert baseline.update(torch.tensor([0.0])) == 1.0


def test_glimpses_equal_direct_slicing():
    images = torch.randn(2, 3, 10, 12)
    locations = torch.stack([pixel_to_location(4, 5, 10, 12), pixel_to_location(6, 7, 10, 12)])
    glimpses = extract_glimpses(images, locations, size=3, scales=2)
    assert glimpses.shape == (2, 2, 3, 3, 3)
    torch.testing.assert_close(glimpses[0, 0], images[0, :, 3:6, 4:7])
    torch.testing.assert_close(glimpses[1, 0], images[1, :, 5:8, 6:9])
    corner = pixel_to_location(torch.tensor(4.5), torch.tensor(5.5), 10, 12)[None].expand(2, 2)
    coarse = extract_glimpses(images, corner, size=3, scales=2)[:, 1]
    torch.testing.assert_close(coarse, F.avg_pool2d(images[:, :, 2:8, 3:9], 2))


def test_glimpse_borders():
    images = torch.ones(1, 1, 8, 8)
    corner = pixel_to_location(0, 0, 8, 8)[None]
    zeros = extract_glimpses(images, corner, 3, padding="zeros")
    border = extract_glimpses(images, corner, 3, padding="border")
    assert zeros[0, 0, 0, 0, 0] == 0 and torch.all(border == 1)
    with pytest.raises(ValueError, match="with padding=None every glimpse must lie inside the image"):
        extract_glimpses(images, corner, 3, padding=None)
    inside = extract_glimpses(images, pixel_to_location(1, 1, 8, 8)[None], 3, padding=None)
    assert torch.all(inside == 1)


@pytest.mark.parametrize("padding", ["zeros", "border"])
def test_glimpses_are_differentiable_in_image_and_location(padding):
    # Bilinear sampling has kinks where a sample crosses a pixel centre: every sample here lies
    # at least 0.05 pixel from one (centres at rows 3.1 and 5.8, columns 4.45 and 2.2; samples
    # at whole-pixel offsets for scale 0, at offsets of +-0.5, 1.5, 2.5 pixels for scale 1).
    images = torch.randn(2, 2, 9, 9, generator=torch.Generator().manual_seed(0), dtype=torch.float64,
                         requires_grad=True)
    locations = torch.stack([pixel_to_location(3.1, 4.45, 9, 9), pixel_to_location(5.8, 2.2, 9, 9)]).double()
    locations.requires_grad_(True)

    def glimpses(images, locations):
        return extract_glimpses(images, locations, 3, scales=2, padding=padding)

    assert torch.autograd.gradcheck(glimpses, (images, locations))
    # and the glimpses move smoothly with the location (nearest-pixel sampling would pass the
    # gradcheck with a zero gradient)
    weights = torch.randn(2, 2, 2, 3, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    gradient, = torch.autograd.grad((glimpses(images, locations) * weights).sum(), locations)
    assert (gradient.abs() > 1e-3).all(), gradient


def test_models_shapes():
    images = torch.rand(4, 1, 40, 40)
    soft = SoftAttentionClassifier()
    out = soft(images)
    assert out.logits.shape == (4, 10) and out.weights.shape == (4, 10, 10)
    torch.testing.assert_close(out.weights.sum((1, 2)), torch.ones(4))
    hard = soft(images, mode="sample", generator=torch.Generator().manual_seed(0))
    assert hard.log_prob.shape == (4,) and torch.equal(hard.weights.flatten(1).sum(-1), torch.ones(4))
    ram = RecurrentAttentionModel(glimpses=3)
    glimpsed = ram(images, generator=torch.Generator().manual_seed(0))
    assert glimpsed.logits.shape == (4, 10) and glimpsed.locations.shape == (4, 3, 2)
    assert glimpsed.log_prob.shape == (4,) and torch.all(glimpsed.log_prob <= 0)
    assert ram.pixels_per_image() == 100 + 3 * 16 * 16
    assert torch.equal(ram(images, sample=False).log_prob, torch.zeros(4))


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: extract_glimpses(torch.zeros(1, 1, 8, 8), torch.zeros(1, 2), size=9), ValueError,
         "the largest glimpse (9 pixels: size=9, scales=1) is larger than the image (8x8)"),
        (lambda: extract_glimpses(torch.zeros(1, 1, 8, 8), torch.zeros(1, 2), size=3, scales=3), ValueError,
         "the largest glimpse (12 pixels"),
        (lambda: extract_glimpses(torch.zeros(1, 1, 8, 8), torch.zeros(2, 2), size=3), ValueError,
         "locations must have shape (batch, 2) = (1, 2), got (2, 2)"),
        (lambda: extract_glimpses(torch.zeros(1, 1, 8, 8), torch.zeros(1, 2), size=3, padding="reflect"), ValueError,
         "padding must be one of ('zeros', 'border', None)"),
        (lambda: gumbel_softmax(torch.zeros(3), temperature=0), ValueError,
         "temperature must be a finite number > 0, got 0"),
        (lambda: gumbel_softmax(torch.zeros(3), temperature=-1.0), ValueError, "got -1.0"),
        (lambda: attend_locations(*_features(), mode="hard"), ValueError,
         "mode must be one of ('soft', 'sample', 'argmax'), got 'hard'"),
        (lambda: attend_locations(*_features(), mode="argmax", k=6), ValueError,
         "k must be an integer in [1, 5] (the number of locations), got 6"),
        (lambda: attend_locations(torch.zeros(3, 5, 4), torch.zeros(3, 4)), ValueError,
         "features must be (batch, locations, dim) and logits (batch, locations)"),
        (lambda: attend_locations(*_features(), temperature=0.0), ValueError, "temperature must be a finite number > 0"),
        (lambda: MovingAverageBaseline(1.0), ValueError, "momentum must be a number in [0, 1), got 1.0"),
        (lambda: reinforce_loss(torch.zeros(3), torch.zeros(4)), ValueError,
         "log_prob and reward must have the same shape, got (3,) and (4,)"),
        (lambda: RecurrentAttentionModel(glimpse_size=10), ValueError, "glimpse_size must be a multiple of 4, got 10"),
    ],
)
def test_bad_input_is_named(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


def test_multiply_adds_count_every_layer_call():
    from attnbook.models import multiply_adds

    soft = multiply_adds(SoftAttentionClassifier())
    # three convolutions at 40x40, 20x20 and 10x10, the 1x1 score, the pooled classifier
    conv = 40 * 40 * 16 * 9 + 20 * 20 * 32 * 16 * 9 + 10 * 10 * 64 * 32 * 9 + 10 * 10 * 64
    assert soft["conv_linear"] == conv + 64 * 128 + 128 * 10
    assert soft["other"] == 10 * 10 * 64 and soft["total"] == soft["conv_linear"] + soft["other"]
    ram = RecurrentAttentionModel(glimpses=2)
    hard = multiply_adds(ram)
    per_glimpse = (16 * 16 * 16 * 9 + 8 * 8 * 32 * 16 * 9 + 32 * 4 * 4 * 64  # the glimpse CNN
                   + 2 * 64 + 64 * 100)  # where, and the recurrent policy
    saliency = 10 * 10 * 25
    assert hard["conv_linear"] == saliency + 2 * per_glimpse + 64 * 64 + 64 * 10 + 2 * 64
    assert hard["other"] == 2 * 3 * 128 * 64 + 4 * 2 * 256 + 1600
    with pytest.raises(TypeError, match="model must be a SoftAttentionClassifier or RecurrentAttentionModel"):
        multiply_adds(torch.nn.Linear(2, 2))


def test_learned_baseline_and_per_step_log_probs():
    ram = RecurrentAttentionModel(glimpses=3)
    out = ram(torch.rand(5, 1, 40, 40), generator=torch.Generator().manual_seed(0))
    assert out.step_log_probs.shape == (5, 3) and out.baselines.shape == (5, 3)
    torch.testing.assert_close(out.step_log_probs.sum(1), out.log_prob)


@pytest.mark.parametrize("baseline", ["learned", "moving_average", "none"])
def test_training_runs_and_the_ablation_freezes_the_policy(baseline):
    from attnbook.models import train_glimpses, train_soft

    data = make_cluttered_digits(32, seed=0)
    torch.manual_seed(0)
    ram = RecurrentAttentionModel()
    losses = train_glimpses(ram, data.images, data.labels, steps=3, batch_size=8, baseline=baseline)
    assert len(losses) == 3 and all(math.isfinite(v) for v in losses)
    frozen = RecurrentAttentionModel()
    before = frozen.saliency.weight.clone()
    train_glimpses(frozen, data.images, data.labels, steps=2, batch_size=8, reinforce=False)
    assert torch.equal(frozen.saliency.weight, before)
    assert len(train_soft(SoftAttentionClassifier(), data.images, data.labels, steps=2, batch_size=8,
                          clip_norm=None)) == 2


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"steps": 0}, "steps must be an integer >= 1, got 0"),
        ({"batch_size": 0}, "batch_size must be an integer >= 1, got 0"),
        ({"lr": -1.0}, "lr must be a finite number > 0, got -1.0"),
        ({"clip_norm": 0.0}, "clip_norm must be a finite number > 0, got 0.0"),
        ({"baseline": "mean"}, "baseline must be one of ('learned', 'moving_average', 'none'), got 'mean'"),
    ],
)
def test_training_arguments_are_checked(kwargs, words):
    from attnbook.models import train_glimpses

    arguments = {"steps": 1, "batch_size": 2}
    arguments.update(kwargs)
    with pytest.raises(ValueError) as info:
        train_glimpses(RecurrentAttentionModel(), torch.zeros(2, 1, 40, 40), torch.zeros(2, dtype=torch.long),
                       **arguments)
    assert words in str(info.value)
