"""The glimpse model's options for the learning-curve sweep (issue 17): a detached policy
input, fixed glimpse locations, the first glimpse's policy, and fit_soft / fit_glimpses
(checkpoints of one run, with train_soft / train_glimpses unchanged)."""

import pytest
import torch

import attnbook as ab
from attnbook.models import RecurrentAttentionModel, SoftAttentionClassifier
from attnbook.models import fit_glimpses, fit_soft, train_glimpses, train_soft


def _images(count=6, seed=0):
    return ab.data.make_cluttered_digits(count, seed=seed, split="train")


def _policy_gradients(detach):
    torch.manual_seed(0)
    model = RecurrentAttentionModel(glimpses=3, detach_policy_input=detach)
    out = model(_images().images, generator=torch.Generator().manual_seed(0))
    # what REINFORCE and the baseline's regression differentiate
    (out.step_log_probs.sum() + out.baselines.sum()).backward()
    return model


@pytest.mark.parametrize("detach", [False, True])
def test_a_detached_policy_input_keeps_its_losses_out_of_the_core(detach):
    model = _policy_gradients(detach)
    core = [p.grad for part in (model.core, model.what, model.where) for p in part.parameters()]
    reached = any(g is not None and g.abs().sum() > 0 for g in core)
    assert reached is not detach
    # the policy and the baseline themselves still learn
    assert model.recurrent_policy.weight.grad.abs().sum() > 0 and model.baseline.weight.grad.abs().sum() > 0


def test_detaching_changes_no_value_of_the_forward_pass():
    torch.manual_seed(0)
    plain = RecurrentAttentionModel(glimpses=3)
    detached = RecurrentAttentionModel(glimpses=3, detach_policy_input=True)
    detached.load_state_dict(plain.state_dict())
    images = _images().images
    a = plain(images, generator=torch.Generator().manual_seed(3))
    b = detached(images, generator=torch.Generator().manual_seed(3))
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x, y, rtol=0, atol=0)


def test_fixed_locations_equal_the_policys_own_choices_when_given_them():
    torch.manual_seed(0)
    model = RecurrentAttentionModel(glimpses=3).eval()
    images = _images().images
    chosen = model(images, sample=False)
    fixed = model(images, locations=chosen.locations)
    torch.testing.assert_close(fixed.logits, chosen.logits, rtol=0, atol=0)
    torch.testing.assert_close(fixed.baselines, chosen.baselines, rtol=0, atol=0)
    assert torch.equal(fixed.locations, chosen.locations) and torch.equal(fixed.log_prob, torch.zeros(6))
    # other locations give other glimpses, so other logits, and are followed as given
    elsewhere = torch.full_like(chosen.locations, -0.9)
    moved = model(images, locations=elsewhere)
    assert torch.equal(moved.locations, elsewhere) and not torch.allclose(moved.logits, chosen.logits)


def test_the_initial_policy_is_the_first_glimpses_distribution():
    torch.manual_seed(0)
    model = RecurrentAttentionModel(glimpses=2)
    images = _images().images
    log_policy = model.initial_log_policy(images)
    assert log_policy.shape == (6, model.grid**2)
    torch.testing.assert_close(log_policy.exp().sum(-1), torch.ones(6))
    sampled = model(images, sample=True, generator=torch.Generator().manual_seed(1))
    cell = torch.cdist(sampled.locations[:, 0], model.centres).argmin(-1)
    torch.testing.assert_close(sampled.step_log_probs[:, 0], log_policy.gather(1, cell[:, None])[:, 0])
    greedy = model(images, sample=False)
    assert torch.equal(greedy.locations[:, 0], model.centres[log_policy.argmax(-1)])
    # the brightness prior is far from uniform, yet far from certain (issue 17: ~3.6 of 4.6 nats)
    entropy = torch.distributions.Categorical(logits=log_policy).entropy()
    assert (entropy < torch.log(torch.tensor(100.0)) - 0.2).all() and (entropy > 1.0).all()
    # without the prior only the recurrent head's small random bias is left: nearly uniform
    uniform = RecurrentAttentionModel(saliency_gain=0.0)
    torch.testing.assert_close(torch.distributions.Categorical(logits=uniform.initial_log_policy(images)).entropy(),
                               torch.full((6,), torch.log(torch.tensor(100.0)).item()), rtol=0, atol=0.01)


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda m, x: m(x, locations=torch.zeros(6, 3, 2)), ValueError,
         "locations must have shape (batch, glimpses, 2) = (6, 2, 2), got (6, 3, 2)"),
        (lambda m, x: m(x, locations=torch.zeros(6, 2, 2, dtype=torch.long)), TypeError,
         "locations must be a floating-point tensor, got Tensor of torch.int64"),
        (lambda m, x: RecurrentAttentionModel(detach_policy_input=1), TypeError,
         "detach_policy_input must be a bool, got 1"),
        (lambda m, x: fit_glimpses(m, x, torch.zeros(6, dtype=torch.long), 1, 2, locations=torch.zeros(6, 2, 2)),
         ValueError, "pass reinforce=False with locations, got reinforce=True"),
        (lambda m, x: fit_glimpses(m, x, torch.zeros(6, dtype=torch.long), 1, 2, reinforce=False,
                                   locations=torch.zeros(5, 2, 2)),
         ValueError, "locations must be a tensor of shape (count, glimpses, 2) = (6, 2, 2), got (5, 2, 2)"),
    ],
)
def test_bad_options_are_named(call, error, words):
    with pytest.raises(error) as info:
        call(RecurrentAttentionModel(glimpses=2), _images().images)
    assert words in str(info.value)


def test_fixed_locations_train_the_classifier_only_where_they_say():
    data = _images(32)
    torch.manual_seed(0)
    model = RecurrentAttentionModel(glimpses=2)
    policy = [p.detach().clone() for p in model.saliency.parameters()]
    where = torch.zeros(32, 2, 2)
    seen = []
    result = fit_glimpses(model, data.images, data.labels, 3, 8, reinforce=False, locations=where,
                          checkpoints=[3], evaluate=lambda m: seen.append(m(data.images[:4], locations=where[:4])))
    assert len(result.losses) == 3 and list(result.evaluations) == [3]
    assert torch.equal(seen[0].locations, where[:4])
    for p, old in zip(model.saliency.parameters(), policy, strict=True):
        assert torch.equal(p, old)


def _sampling_evaluation(images):
    def evaluate(model):  # draws from its own generator, as fit_glimpses asks
        out = model(images, sample=True, generator=torch.Generator().manual_seed(0))
        return out.logits.sum().item()
    return evaluate


def test_checkpoints_change_nothing_of_the_training():
    data = _images(64)
    torch.manual_seed(0)
    plain = RecurrentAttentionModel()
    losses = train_glimpses(plain, data.images, data.labels, 12, 8)
    torch.manual_seed(0)
    checked = RecurrentAttentionModel()
    result = fit_glimpses(checked, data.images, data.labels, 12, 8, checkpoints=[0, 4, 12],
                          evaluate=_sampling_evaluation(data.images[:8]))
    assert result.losses == losses and sorted(result.evaluations) == [0, 4, 12]
    for a, b in zip(plain.parameters(), checked.parameters(), strict=True):
        assert torch.equal(a, b)
    torch.manual_seed(0)
    soft_losses = train_soft(SoftAttentionClassifier(), data.images, data.labels, 4, 8)
    torch.manual_seed(0)
    soft = fit_soft(SoftAttentionClassifier(), data.images, data.labels, 4, 8, checkpoints=[2, 4],
                    evaluate=lambda m: m(data.images[:4]).logits.sum().item())
    assert soft.losses == soft_losses and sorted(soft.evaluations) == [2, 4]
