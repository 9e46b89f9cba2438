"""The tiny causal LM of the attention-sink demonstration and its synthetic language."""

import pytest
import torch
import torch.nn.functional as F

import attnbook as ab
from attnbook.data.markov import make_markov_language
from attnbook.local import render_mask, sink_window
from attnbook.models.tiny_lm import TinyCausalLM


def _model(null_logit=False, vocab=11, seed=0):
    torch.manual_seed(seed)
    model = TinyCausalLM(vocab, width=16, heads=4, layers=2, max_length=24, null_logit=null_logit).double().eval()
    if null_logit:  # away from zero, so that the null key's share is not the same for every head
        with torch.no_grad():
            for block in model.blocks:
                block.null.copy_(torch.linspace(-1.0, 1.0, 4))
    return model


def _tokens(batch=3, seq=20, vocab=11, seed=1):
    return torch.randint(0, vocab, (batch, seq), generator=torch.Generator().manual_seed(seed))


def test_the_plain_path_is_the_package_multi_head_attention_under_a_causal_mask():
    model, tokens = _model(), _tokens()
    out = model(tokens, need_weights=True)
    x = model.embed(tokens).double() + model.positions[:20]
    causal = torch.ones(20, 20, dtype=torch.bool).tril()
    for block, weights in zip(model.blocks, out.weights):
        h = block.attn_norm(x)
        attended, reference = block.attn(h, h, h, mask=causal)
        torch.testing.assert_close(weights, reference)
        x = x + attended
        x = x + block.mlp(block.mlp_norm(x))
    torch.testing.assert_close(out.logits, model.head(model.norm(x)))


@pytest.mark.parametrize("null_logit", [False, True])
@pytest.mark.parametrize(("window", "sinks"), [(0, 0), (3, 0), (3, 1), (5, 4), (18, 2), (30, 0)])
def test_decoding_with_the_rolling_cache_equals_the_dense_mask_of_sink_window(null_logit, window, sinks):
    model, tokens = _model(null_logit), _tokens()
    with torch.no_grad():
        decoded = model.decode(tokens, window, sinks=sinks)
        dense = model(tokens, mask=render_mask(sink_window(window, sinks), 20)).logits
    torch.testing.assert_close(decoded, dense)


@pytest.mark.parametrize("null_logit", [False, True])
def test_decoding_without_a_window_is_full_attention(null_logit):
    model, tokens = _model(null_logit), _tokens()
    with torch.no_grad():
        torch.testing.assert_close(model.decode(tokens), model(tokens).logits)


def test_evicting_the_first_tokens_changes_later_predictions_only():
    model, tokens = _model(), _tokens()
    with torch.no_grad():
        full, windowed = model(tokens).logits, model.decode(tokens, 4)
    torch.testing.assert_close(windowed[:, :5], full[:, :5])
    assert (windowed[:, 5:] - full[:, 5:]).abs().amax(-1).amin() > 0


def test_null_logit_weights_sum_to_less_than_one():
    model, tokens = _model(True), _tokens()
    for weights in model(tokens, need_weights=True).weights:
        assert (weights.sum(-1) < 1).all()
    for weights in _model(False)(tokens, need_weights=True).weights:
        torch.testing.assert_close(weights.sum(-1), torch.ones(3, 4, 20, dtype=torch.float64))


def test_recompute_runs_the_model_afresh_on_each_window():
    model, tokens, window = _model(), _tokens(batch=2, seq=12), 3
    with torch.no_grad():
        got = model.recompute(tokens, window)
        for t in range(12):
            part = tokens[:, max(0, t - window): t + 1]
            torch.testing.assert_close(got[:, t], model(part).logits[:, -1])


def test_loss_per_position_is_the_cross_entropy_of_the_next_token():
    model, tokens = _model(), _tokens()
    logits = model(tokens).logits
    losses = model.loss_per_position(logits, tokens)
    assert losses.shape == (19,)
    torch.testing.assert_close(losses.mean(), F.cross_entropy(logits[:, :-1].flatten(0, 1), tokens[:, 1:].flatten()))


def test_bad_input_is_named():
    model = _model()
    with pytest.raises(TypeError, match="tokens must be a torch.long tensor"):
        model(torch.zeros(2, 5))
    with pytest.raises(ValueError, match=r"tokens must have shape \(batch, seq\) with 1 <= seq <= max_length=24"):
        model(torch.zeros(2, 25, dtype=torch.long))
    with pytest.raises(ValueError, match=r"mask must be a boolean tensor of shape \(5, 5\)"):
        model(torch.zeros(2, 5, dtype=torch.long), mask=torch.ones(4, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="sinks must be an integer >= 0, got -1"):
        model.decode(torch.zeros(2, 5, dtype=torch.long), 2, sinks=-1)
    with pytest.raises(TypeError, match="window must be an integer >= 0, got 1.5"):
        model.recompute(torch.zeros(2, 5, dtype=torch.long), 1.5)
    with pytest.raises(TypeError, match="null_logit must be a bool"):
        TinyCausalLM(10, null_logit=1)
    with pytest.raises(ValueError, match="num_heads must divide embed_dim"):
        TinyCausalLM(10, width=10, heads=4)


def test_the_language_follows_its_chain_and_recalls_the_triggered_symbol():
    data = make_markov_language(200, 60, symbols=8, branching=2, seed=3, recall_rate=0.15, max_gap=4)
    tokens, trigger, recall = data.tokens, 8, 9
    assert tokens.shape == (200, 60) and data.vocab_size == 11 and (tokens[:, 0] == 10).all()
    assert ((tokens[:, 1:] >= 0) & (tokens[:, 1:] < 10)).all()
    recalls = 0
    for row, recalled in zip(tokens.tolist(), data.recall.tolist()):
        for t in range(3, 60):
            if row[t - 1] == recall:
                assert recalled[t]
                source = max(i for i in range(t - 1) if row[i] == trigger)
                assert row[t] == row[source + 1] and t - 1 - (source + 1) <= 4
                recalls += 1
            elif row[t - 1] != trigger and row[t] not in (trigger, recall):
                assert not recalled[t]
                assert row[t] in data.successors[row[t - 2], row[t - 1]].tolist()
    assert recalls > 200  # the pattern is frequent enough to be learned
    again = make_markov_language(200, 60, symbols=8, branching=2, seed=3, recall_rate=0.15, max_gap=4)
    assert torch.equal(again.tokens, tokens)
    assert not torch.equal(make_markov_language(200, 60, symbols=8, seed=4).tokens, tokens)
    no_bos = make_markov_language(5, 10, bos=False, recall_rate=0.0)
    assert (no_bos.tokens < 16).all()


def test_bad_language_arguments_are_named():
    with pytest.raises(ValueError, match="branching must be <= symbols=4, got 5"):
        make_markov_language(2, 10, symbols=4, branching=5)
    with pytest.raises(ValueError, match=r"recall_rate must be a number in \[0, 1\), got 1.0"):
        make_markov_language(2, 10, recall_rate=1.0)
    with pytest.raises(ValueError, match="length must be an integer >= 3, got 2"):
        make_markov_language(2, 2)
    with pytest.raises(TypeError, match="bos must be a bool"):
        make_markov_language(2, 10, bos=1)


def test_the_model_learns_the_language_beyond_the_chain_alone():
    data = make_markov_language(512, 24, symbols=8, branching=2, seed=0, recall_rate=0.1, max_gap=3)
    torch.manual_seed(0)
    model = TinyCausalLM(data.vocab_size, width=32, heads=4, layers=2, max_length=24)

    def loss_fn(rows):
        x = data.tokens[rows]
        return F.cross_entropy(model(x).logits[:, :-1].flatten(0, 1), x[:, 1:].flatten())

    losses = ab.models.fit(model, loss_fn, 512, 150, 32, lr=3e-3, seed=0).losses
    uniform = torch.log(torch.tensor(float(data.vocab_size)))
    assert sum(losses[-10:]) / 10 < 0.8 * uniform
