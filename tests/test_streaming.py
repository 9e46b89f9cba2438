"""Scoring a tiny LM decoded as a stream: full attention, rolling cache, sinks, re-computation."""

import pytest
import torch

from attnbook.data import make_markov_language
from attnbook.models import TinyCausalLM
from attnbook.models.streaming import first_token_share, fit_language_model, streaming_losses


def _model_and_tokens():
    torch.manual_seed(0)
    model = TinyCausalLM(19, width=16, heads=2, layers=2, max_length=20).double()
    tokens = make_markov_language(6, 20, seed=2).tokens
    return model, tokens


def test_every_mode_is_scored_and_agrees_before_the_first_eviction():
    model, tokens = _model_and_tokens()
    scores = streaming_losses(model, tokens, window=5, sinks=(1, 3))
    assert list(scores.losses) == ["full", "window", "sinks=1", "sinks=3", "recompute"]
    assert scores.window == 5 and scores.cache_error < 1e-10
    for mode, loss in scores.losses.items():
        assert loss.shape == (19,)
        # positions 0 .. 5 see their whole prefix in every mode
        torch.testing.assert_close(loss[:6], scores.losses["full"][:6])
        if mode != "full":
            assert (loss[6:] - scores.losses["full"][6:]).abs().max() > 0, mode


def test_first_token_share_is_the_weight_on_position_zero():
    model, tokens = _model_and_tokens()
    share = first_token_share(model, tokens, start=4)
    assert share.shape == (2, 2)
    weights = model(tokens, need_weights=True).weights
    torch.testing.assert_close(share[1, 0], weights[1][:, 0, 4:, 0].mean())
    assert (share > 0).all() and (share < 1).all()
    with pytest.raises(ValueError, match="start must be < seq=20, got 20"):
        first_token_share(model, tokens, start=20)


def test_training_lowers_the_loss_and_bad_arguments_are_named():
    model, tokens = _model_and_tokens()
    model = model.float()
    losses = fit_language_model(model, make_markov_language(256, 20, seed=2).tokens, 60, 16, lr=3e-3)
    assert len(losses) == 60 and sum(losses[-5:]) < sum(losses[:5])
    with pytest.raises(TypeError, match="model must be a TinyCausalLM, got Linear"):
        fit_language_model(torch.nn.Linear(2, 2), tokens, 1)
    with pytest.raises(ValueError, match="sinks must be an integer >= 1, got 0"):
        streaming_losses(model, tokens, 3, sinks=(0,))
