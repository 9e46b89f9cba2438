"""The one training loop, fit(), against plain hand-written loops, and its contracts."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import attnbook as ab
from attnbook.models import fit, train_glimpses


def _data(count=64, seed=0):
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(count, 6, generator=generator)
    labels = (inputs[:, 0] > 0).long() + (inputs[:, 1] > 0).long()
    return inputs, labels


def _model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))


def _hand_loop(model, inputs, labels, steps, batch_size, lr, seed, clip_norm=None, one_cycle=False):
    """The loop fit() replaces, written out (chapter 4's and the channel sweep's recipe)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, lr, total_steps=steps) if one_cycle else None
    batches = torch.Generator().manual_seed(seed)
    losses = []
    model.train()
    for _ in range(steps):
        rows = torch.randint(0, len(labels), (batch_size,), generator=batches)
        loss = F.cross_entropy(model(inputs[rows]), labels[rows])
        optimizer.zero_grad()
        loss.backward()
        if clip_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        optimizer.step()
        if schedule is not None:
            schedule.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("options", [{}, {"clip_norm": 0.5}, {"one_cycle": True}])
def test_fit_equals_the_hand_written_loop(options):
    inputs, labels = _data()
    reference = _model()
    expected = _hand_loop(reference, inputs, labels, 20, 8, 3e-3, seed=4, **options)
    model = _model()
    result = fit(model, lambda rows: F.cross_entropy(model(inputs[rows]), labels[rows]), len(labels), 20, 8,
                 lr=3e-3, seed=4, clip_norm=options.get("clip_norm"),
                 schedule="one_cycle" if options.get("one_cycle") else None)
    assert result.losses == expected
    for mine, theirs in zip(model.state_dict().values(), reference.state_dict().values(), strict=True):
        torch.testing.assert_close(mine, theirs, rtol=0, atol=0)


def test_checkpoints_run_in_eval_mode_without_gradients_and_the_model_comes_back_in_eval_mode():
    inputs, labels = _data()
    model = _model()
    seen = []

    def evaluate(m):
        seen.append((m.training, torch.is_grad_enabled()))
        return F.cross_entropy(m(inputs), labels).item()

    result = fit(model, lambda rows: F.cross_entropy(model(inputs[rows]), labels[rows]), len(labels), 30, 16,
                 lr=1e-2, checkpoints=[0, 10, 30], evaluate=evaluate)
    assert sorted(result.evaluations) == [0, 10, 30] and len(result.losses) == 30
    assert seen == [(False, False)] * 3
    assert not model.training
    assert result.evaluations[30] < result.evaluations[0]


def test_logged_value_is_recorded_and_the_loss_is_minimised():
    inputs, labels = _data()
    model = _model()

    def loss_fn(rows):
        cross_entropy = F.cross_entropy(model(inputs[rows]), labels[rows])
        return cross_entropy + 100.0, cross_entropy

    losses = fit(model, loss_fn, len(labels), 5, 8, lr=1e-3).losses
    assert max(losses) < 10


def test_only_the_given_parameters_move():
    inputs, labels = _data()
    model = _model()
    frozen = model[3].weight.detach().clone()
    fit(model, lambda rows: F.cross_entropy(model(inputs[rows]), labels[rows]), len(labels), 5, 8, lr=1e-2,
        parameters=list(model[0].parameters()))
    torch.testing.assert_close(model[3].weight, frozen, rtol=0, atol=0)


def test_the_reinforce_ablation_leaves_the_callers_policy_trainable():
    digits = ab.data.make_cluttered_digits(32, seed=0, split="train")
    model = ab.models.RecurrentAttentionModel(glimpses=2, glimpse_size=16)
    policy = list(model.saliency.parameters()) + list(model.recurrent_policy.parameters())
    before = [p.detach().clone() for p in policy]
    train_glimpses(model, digits.images, digits.labels, 2, batch_size=8, reinforce=False)
    assert all(p.requires_grad for p in policy)
    for p, old in zip(policy, before, strict=True):
        torch.testing.assert_close(p, old, rtol=0, atol=0)


@pytest.mark.parametrize(("arguments", "message"), [
    ({"steps": 0}, "steps"),
    ({"batch_size": 1.5}, "batch_size"),
    ({"lr": 0.0}, "lr"),
    ({"schedule": "cosine"}, "schedule"),
    ({"clip_norm": -1.0}, "clip_norm"),
    ({"checkpoints": [11]}, "checkpoints"),
    ({"checkpoints": [5]}, "evaluate"),
    ({"parameters": []}, "parameters"),
])
def test_bad_arguments_are_named(arguments, message):
    inputs, labels = _data()
    model = _model()
    settings = {"steps": 10, "batch_size": 8, "lr": 1e-3} | arguments
    steps, batch_size = settings.pop("steps"), settings.pop("batch_size")
    with pytest.raises((ValueError, TypeError), match=message):
        fit(model, lambda rows: F.cross_entropy(model(inputs[rows]), labels[rows]), len(labels), steps,
            batch_size, **settings)


def test_the_glimpse_model_is_deterministic_in_eval_mode_and_samples_in_train_mode():
    images = ab.data.make_cluttered_digits(8, seed=0, split="train").images
    torch.manual_seed(0)
    model = ab.models.RecurrentAttentionModel(glimpses=2, glimpse_size=16)
    first = model(images, generator=torch.Generator().manual_seed(1)).locations
    second = model(images, generator=torch.Generator().manual_seed(2)).locations
    assert not torch.equal(first, second)  # train mode: the locations are drawn
    model.eval()
    evaluated = model(images, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(evaluated.locations, model(images, sample=False).locations, rtol=0, atol=0)
    assert torch.equal(evaluated.log_prob, torch.zeros(8))
