import datetime

import pytest
import torch
import torch.nn.functional as F

from attnbook.data.dates import (
    DATE_FORMATS,
    SOURCE_VOCAB,
    TARGET_FIELDS,
    TARGET_VOCAB,
    decode_target,
    encode_dates,
    make_dates,
)
from attnbook.local import LuongAttention
from attnbook.models import AttentionSeq2Seq, Seq2SeqOutput


def test_same_seed_same_data_and_targets_are_iso_dates():
    first, second = make_dates(200, seed=3), make_dates(200, seed=3)
    assert first == second and first != make_dates(200, seed=4)
    for example in first:
        date = datetime.date.fromisoformat(example.target)
        assert datetime.date(1950, 1, 1) <= date <= datetime.date(2049, 12, 31)
    assert {example.format_index for example in first} == set(range(len(DATE_FORMATS)))


def test_spans_hold_the_fields():
    for example in make_dates(300, seed=0):
        date = datetime.date.fromisoformat(example.target)
        year = example.source[slice(*example.spans["year"])]
        day = example.source[slice(*example.spans["day"])]
        assert int(year) % 100 == date.year % 100 and int(day) == date.day
        month = example.source[slice(*example.spans["month"])]
        assert month.isdigit() and int(month) == date.month or month[:3] == date.strftime("%B")[:3].lower()


def test_encoding_roundtrip_and_alignment():
    examples = make_dates(5, seed=1)
    batch = encode_dates(examples)
    assert decode_target(batch.target) == [example.target for example in examples]
    for row, example in enumerate(examples):
        assert "".join(SOURCE_VOCAB[i] for i in batch.source[row][batch.source_mask[row]]) == example.source
        start, end = example.spans["day"]
        assert batch.alignment[row, 8, start:end].all() and batch.alignment[row, 8].sum() == end - start
        assert not batch.alignment[row, 4].any()  # the dash comes from no field
    assert TARGET_FIELDS.count(None) == 2


def test_make_dates_rejects_bad_count():
    with pytest.raises(ValueError, match="count must be an integer >= 1, got 0"):
        make_dates(0, seed=0)


@pytest.mark.parametrize(("mode", "window"), [("global", None), ("local-m", 2), ("local-p", 3)])
def test_model_shapes_and_learning(mode, window):
    torch.manual_seed(0)
    batch = encode_dates(make_dates(64, seed=0))
    model = AttentionSeq2Seq(len(SOURCE_VOCAB), len(TARGET_VOCAB), 16, LuongAttention(16, "general", mode, window))
    out = model(batch.source, batch.source_mask, target=batch.target)
    assert out.logits.shape == (64, 10, len(TARGET_VOCAB))
    assert out.weights.shape == (64, 10, batch.source.shape[1])
    assert (out.positions is None) == (mode == "global")
    assert torch.all(out.weights[~batch.source_mask[:, None, :].expand_as(out.weights)] == 0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        out = model(batch.source, batch.source_mask, target=batch.target)
        loss = F.cross_entropy(out.logits.flatten(0, 1), batch.target.flatten())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.6 * losses[0]
    greedy = model(batch.source, batch.source_mask, steps=10)
    assert greedy.logits.shape == (64, 10, len(TARGET_VOCAB))


def test_model_needs_target_or_steps():
    model = AttentionSeq2Seq(len(SOURCE_VOCAB), len(TARGET_VOCAB), 8, LuongAttention(8))
    batch = encode_dates(make_dates(2, seed=0))
    with pytest.raises(ValueError, match="exactly one of target"):
        model(batch.source, batch.source_mask)


@pytest.mark.parametrize("init_from_encoder", [True, False])
def test_initial_state_bypass_can_be_removed(init_from_encoder):
    """With init_from_encoder=False the decoder's first state is zero: the source
    reaches the decoder through attention only, so with a window that sees nothing
    of the source the output does not depend on the source at all."""
    torch.manual_seed(0)
    layer = LuongAttention(8, "dot", "local-m", window=0)
    model = AttentionSeq2Seq(len(SOURCE_VOCAB), len(TARGET_VOCAB), 8, layer, init_from_encoder=init_from_encoder)
    first, second = encode_dates(make_dates(1, seed=0)), encode_dates(make_dates(1, seed=5))
    # zero every encoder state at positions 0..9 (the only ones local-m with D = 0 reads over 10 steps)
    # by making the sources share their first 10 characters: pad both to the same prefix.
    prefix = torch.full((1, 12), SOURCE_VOCAB.index("a"))
    source_a = torch.cat([prefix, first.source], 1)
    source_b = torch.cat([prefix, second.source], 1)
    out_a = model(source_a, source_a != 0, steps=10).logits
    out_b = model(source_b, source_b != 0, steps=10).logits
    # local-m with D = 0 attends to positions 0..9, the shared prefix (a left-to-right GRU has read only it)
    assert torch.equal(out_a, out_b) == (not init_from_encoder)


def test_init_from_encoder_must_be_bool():
    with pytest.raises(TypeError, match="init_from_encoder must be a bool, got int"):
        AttentionSeq2Seq(5, 5, 4, LuongAttention(4), init_from_encoder=1)


def test_score_dates_and_accuracy_by_format():
    from attnbook.data.dates import accuracy_by_format, score_dates

    examples = make_dates(40, seed=2)
    batch = encode_dates(examples)

    class Oracle(torch.nn.Module):
        """Returns the right answer, attending to the true field (first character of it)."""

        def forward(self, source, source_mask, steps):
            logits = F.one_hot(batch.target, len(TARGET_VOCAB)).float()
            weights = batch.alignment.float() + 1e-3 * (torch.arange(source.shape[1]) == 0)
            return Seq2SeqOutput(logits, weights, None)

    scores = score_dates(Oracle(), batch)
    assert scores.exact.all() and scores.characters == 1.0 and scores.alignment == 1.0
    exact = torch.tensor([example.format_index != 3 for example in examples])
    by_format = accuracy_by_format(exact, examples)
    assert by_format[3] == 0.0 and all(value == 1.0 for i, value in enumerate(by_format) if i != 3)
    with pytest.raises(ValueError, match=r"exact must have shape \(40,\)"):
        accuracy_by_format(exact[:5], examples)


def _model(hidden=8, bidirectional=False, mode="global", window=None, seed=0, **kwargs):
    torch.manual_seed(seed)
    return AttentionSeq2Seq(len(SOURCE_VOCAB), len(TARGET_VOCAB), hidden, LuongAttention(hidden, "general", mode, window),
                            bidirectional=bidirectional, **kwargs)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_encoder_shapes_either_direction(bidirectional):
    batch = encode_dates(make_dates(16, seed=0))
    model = _model(8, bidirectional)
    states, final = model.encode(batch.source, batch.source_mask)
    assert states.shape == (16, batch.source.shape[1], 8) and final.shape == (16, 8)
    out = model(batch.source, batch.source_mask, target=batch.target)
    assert out.logits.shape == (16, 10, len(TARGET_VOCAB)) and out.weights.shape == (16, 10, batch.source.shape[1])
    assert model(batch.source, batch.source_mask, steps=10).logits.shape == (16, 10, len(TARGET_VOCAB))
    if bidirectional:  # packed: nothing at the padding, and the final state is [forward last; backward first]
        assert torch.all(states[~batch.source_mask] == 0)
        last = batch.source_mask.sum(1) - 1
        assert torch.allclose(final[:, :4], states[torch.arange(16), last, :4])
        assert torch.allclose(final[:, 4:], states[:, 0, 4:])


@pytest.mark.parametrize("bidirectional", [False, True])
def test_a_bidirectional_state_has_read_the_symbols_after_it(bidirectional):
    """Changing the symbol at position 8 changes the states before it only with the bidirectional encoder."""
    batch = encode_dates([next(example for example in make_dates(50, seed=0) if len(example.source) >= 12)])
    model = _model(8, bidirectional)
    other = batch.source.clone()
    other[0, 8] = SOURCE_VOCAB.index("7") if SOURCE_VOCAB[other[0, 8]] != "7" else SOURCE_VOCAB.index("3")
    before, _ = model.encode(batch.source, batch.source_mask)
    after, _ = model.encode(other, batch.source_mask)
    earlier = (before[0, :8] - after[0, :8]).abs().amax(-1)
    assert bool((earlier > 1e-6).all()) == bidirectional
    assert bool((earlier == 0).all()) == (not bidirectional)
    # and by gradient: the state at position 2 depends on the embedding at position 8
    embedded = model.source_embedding(batch.source).detach().requires_grad_()
    if bidirectional:
        packed = torch.nn.utils.rnn.pack_padded_sequence(embedded, batch.source_mask.sum(1), batch_first=True)
        states, _ = torch.nn.utils.rnn.pad_packed_sequence(model.encoder(packed)[0], batch_first=True)
    else:
        states, _ = model.encoder(embedded)
    states[0, 2].sum().backward()
    assert (embedded.grad[0, 8].abs().sum() > 0) == bidirectional
    assert embedded.grad[0, :3].abs().sum() > 0


def test_bidirectional_states_do_not_depend_on_the_batch_padding():
    examples = make_dates(2, seed=0)
    alone, padded = encode_dates(examples[:1]), encode_dates(examples[:1] + [examples[1]._replace(source="x" * 30)])
    model = _model(8, True)
    length = alone.source.shape[1]
    states_alone, final_alone = model.encode(alone.source, alone.source_mask)
    states_padded, final_padded = model.encode(padded.source, padded.source_mask)
    assert padded.source.shape[1] > length
    assert torch.allclose(states_alone[0], states_padded[0, :length], atol=1e-6)
    assert torch.allclose(final_alone[0], final_padded[0], atol=1e-6)


def test_bidirectional_encoder_needs_an_even_size_and_has_fewer_parameters():
    with pytest.raises(ValueError, match="bidirectional encoder needs an even hidden_size .* got 7"):
        _model(7, True)
    _model(7, False)  # an odd size is fine for the unidirectional encoder
    with pytest.raises(TypeError, match="bidirectional must be a bool, got int"):
        _model(8, 1)

    def count(module):
        return sum(p.numel() for p in module.parameters())

    for hidden in (8, 64):
        uni, bi = _model(hidden, False), _model(hidden, True)
        assert count(bi) < count(uni) and count(bi.encoder) < count(uni.encoder)
        assert count(bi) - count(bi.encoder) == count(uni) - count(uni.encoder)  # only the encoder differs
        assert bi.encoder.hidden_size == hidden // 2 and bi.encoder.bidirectional


def test_bidirectional_encoder_needs_right_padded_sources():
    batch = encode_dates(make_dates(2, seed=0))
    model = _model(8, True)
    left_padded = batch.source_mask.flip(1)
    with pytest.raises(ValueError, match="right-padded sources"):
        model.encode(batch.source.flip(1), left_padded)
    empty = torch.zeros(1, 4, dtype=torch.long)
    with pytest.raises(ValueError, match="at least one symbol"):
        model.encode(empty, empty != 0)


def test_the_default_encoder_is_the_unidirectional_one_unchanged():
    """Same parameters, same random draws at initialisation and same outputs as before the option."""
    batch = encode_dates(make_dates(8, seed=0))
    default = _model(8, seed=3)
    after_default = torch.rand(1)
    explicit = _model(8, False, seed=3)
    torch.manual_seed(3)
    reference = AttentionSeq2Seq(len(SOURCE_VOCAB), len(TARGET_VOCAB), 8, LuongAttention(8, "general"))
    assert torch.equal(torch.rand(1), after_default)
    assert not default.bidirectional and not default.encoder.bidirectional and default.encoder.hidden_size == 8
    for model in (explicit, reference):
        assert [(n, p.shape) for n, p in model.named_parameters()] == [(n, p.shape) for n, p in default.named_parameters()]
        assert all(torch.equal(p, q) for p, q in zip(model.parameters(), default.parameters()))
    names = [name for name, _ in default.named_parameters()]
    assert names[:4] == ["source_embedding.weight", "target_embedding.weight", "encoder.weight_ih_l0",
                         "encoder.weight_hh_l0"]
    states, final = default.encode(batch.source, batch.source_mask)
    direct, last = default.encoder(default.source_embedding(batch.source))  # the encoder as it was called before
    assert torch.equal(states, direct) and torch.equal(final, last[0])
    assert torch.equal(default(batch.source, batch.source_mask, steps=10).logits,
                       explicit(batch.source, batch.source_mask, steps=10).logits)
