"""The long transliteration task: determinism by seed, the bijection, shapes, the diagonal alignment,
scoring, and the errors for bad arguments."""

import pytest
import torch

from attnbook.data import (TRANSLITERATION, TRANSLITERATION_SOURCE_VOCAB, TRANSLITERATION_TARGET_VOCAB,
                           TransliterationExample, decode_transliterations, encode_transliterations,
                           make_transliterations, score_transliterations, transliterate)
from attnbook.local import LuongAttention
from attnbook.models import AttentionSeq2Seq


def test_same_seed_same_examples_other_seed_others():
    first, second = make_transliterations(50, seed=3), make_transliterations(50, seed=3)
    assert first == second and first != make_transliterations(50, seed=4)
    assert all(len(example.source) == 128 for example in first)


def test_the_mapping_is_a_fixed_bijection_applied_symbol_by_symbol():
    assert sorted(TRANSLITERATION) == sorted(TRANSLITERATION_SOURCE_VOCAB[1:])
    assert sorted(TRANSLITERATION.values()) == sorted(TRANSLITERATION_TARGET_VOCAB[1:])
    assert transliterate("abc") == TRANSLITERATION["a"] + TRANSLITERATION["b"] + TRANSLITERATION["c"]
    for example in make_transliterations(20, seed=0, length=(100, 200)):
        assert 100 <= len(example.source) <= 200
        assert example.target == "".join(TRANSLITERATION[c] for c in example.source)


def test_lengths_from_a_range_cover_it():
    lengths = {len(example.source) for example in make_transliterations(400, seed=1, length=(3, 6))}
    assert lengths == {3, 4, 5, 6}


def test_encoding_shapes_roundtrip_and_diagonal_alignment():
    examples = make_transliterations(6, seed=2, length=(5, 9))
    batch = encode_transliterations(examples)
    longest = max(len(example.source) for example in examples)
    assert batch.source.shape == batch.target.shape == batch.source_mask.shape == (6, longest)
    assert batch.alignment.shape == (6, longest, longest) and batch.alignment.dtype == torch.bool
    assert torch.equal(batch.source_mask, batch.target_mask)
    assert decode_transliterations(batch.target, batch.target_mask) == [example.target for example in examples]
    for row, example in enumerate(examples):
        size = len(example.source)
        assert "".join(TRANSLITERATION_SOURCE_VOCAB[i] for i in batch.source[row, :size]) == example.source
        assert batch.source_mask[row].sum() == size and not batch.source[row, size:].any()
        # target t aligns to source t and nothing else; padded positions align to nothing
        assert torch.equal(batch.alignment[row, :size, :size], torch.eye(size, dtype=torch.bool))
        assert batch.alignment[row].sum() == size


def test_a_model_that_attends_on_the_diagonal_scores_full_alignment():
    class Oracle(torch.nn.Module):
        """Reads the answer and attends to source t at step t."""

        def __init__(self, batch):
            super().__init__()
            self.batch = batch

        def forward(self, source, source_mask, steps):
            logits = torch.nn.functional.one_hot(self.batch.target, len(TRANSLITERATION_TARGET_VOCAB)).float()
            logits[0, 1] = -logits[0, 1] + logits[0, 1].roll(1)  # one wrong symbol in row 0
            weights = torch.eye(source.shape[1])[None].expand(source.shape[0], -1, -1)
            return type("Out", (), {"logits": logits, "weights": weights})()

    batch = encode_transliterations(make_transliterations(4, seed=0, length=(6, 8)))
    scores = score_transliterations(Oracle(batch), batch)
    real = batch.target_mask.sum().item()
    assert scores.alignment == 1.0
    assert scores.symbols == pytest.approx((real - 1) / real)
    assert scores.exact.tolist() == [False, True, True, True]


def test_scores_of_a_real_model_have_the_batch_shapes():
    torch.manual_seed(0)
    batch = encode_transliterations(make_transliterations(3, seed=0, length=12))
    model = AttentionSeq2Seq(len(TRANSLITERATION_SOURCE_VOCAB), len(TRANSLITERATION_TARGET_VOCAB), 8,
                             LuongAttention(8, "general", "local-m", 2), init_from_encoder=False, bidirectional=True)
    scores = score_transliterations(model.eval(), batch)
    assert scores.weights.shape == (3, 12, 12) and scores.exact.shape == (3,)
    assert 0 <= scores.symbols <= 1 and 0 <= scores.alignment <= 1


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: make_transliterations(0, seed=0), ValueError, "count must be an integer >= 1, got 0"),
    (lambda: make_transliterations(2, seed=0, length=0), ValueError, "length must be an integer >= 1, got 0"),
    (lambda: make_transliterations(2, seed=0, length=(5, 4)), ValueError, r"length\[1\] \(high\) must be an integer >= 5"),
    (lambda: make_transliterations(2, seed=0, length=(5, 6, 7)), ValueError, "length must be an integer or a"),
    (lambda: transliterate("abz"), ValueError, "text must hold only the letters"),
    (lambda: transliterate(3), TypeError, "text must be a str, got int"),
    (lambda: encode_transliterations([]), ValueError, "examples must not be empty"),
    (lambda: encode_transliterations([TransliterationExample("ab", "H")]), ValueError,
     "example 0: source and target must have the same length, got 2 and 1"),
])
def test_bad_arguments_are_refused(call, error, message):
    with pytest.raises(error, match=message):
        call()
