import datetime

import pytest
import torch
import torch.nn.functional as F

from attnbook.dates import (
    DATE_FORMATS,
    SOURCE_VOCAB,
    TARGET_FIELDS,
    TARGET_VOCAB,
    decode_target,
    encode_dates,
    make_dates,
)
from attnbook.luong import LuongAttention
from attnbook.seq2seq import AttentionSeq2Seq


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
