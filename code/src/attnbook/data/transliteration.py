"""A long monotonic seq2seq task with a known alignment: transliterate a random string symbol by symbol.

The source is a random string of lowercase letters (``a`` .. ``t``); the target is the
same string with every letter replaced by its image under one fixed bijection,
:data:`TRANSLITERATION` (``a -> H``, ``b -> O``, ...). Target symbol t is determined by
source symbol t and nothing else, so the true alignment is the diagonal: target position
t aligns to source position t. With sources of 100+ symbols a global attention must find
position t among hundreds of encoder states, which look alike (each letter occurs about
every 20 positions); a monotonic local window (``p_t = t``) holds it by construction.

Everything is generated from a seed. Sources have one length or lengths drawn from a
range; :func:`encode_transliterations` pads sources and targets to the batch's longest.
"""

from __future__ import annotations

import random
from typing import NamedTuple

import torch

from .._checks import check_int

__all__ = ["TRANSLITERATION_SOURCE_VOCAB", "TRANSLITERATION_TARGET_VOCAB", "TRANSLITERATION",
           "TransliterationExample", "TransliterationBatch", "TransliterationScores", "transliterate",
           "make_transliterations", "encode_transliterations", "decode_transliterations",
           "score_transliterations"]

_PAD, _BOS = "_", "^"
_LETTERS = "abcdefghijklmnopqrst"
#: The source symbols; id 0, ``_``, pads a source to the batch's length.
TRANSLITERATION_SOURCE_VOCAB = _PAD + _LETTERS
#: The target symbols; id 0, ``^``, is the start symbol the decoder reads first (and pads a
#: target to the batch's length; the target mask says which positions are real).
TRANSLITERATION_TARGET_VOCAB = _BOS + _LETTERS.upper()
#: The fixed bijection from source letters to target letters: letter i goes to upper-case
#: letter ``(7 i + 7) mod 20`` (7 is prime to 20, so every target letter has one source).
TRANSLITERATION = {letter: _LETTERS.upper()[(7 * index + 7) % len(_LETTERS)] for index, letter in enumerate(_LETTERS)}


class TransliterationExample(NamedTuple):
    """One generated example: ``source`` (lowercase letters) and ``target = transliterate(source)``."""

    source: str
    target: str


class TransliterationBatch(NamedTuple):
    """Encoded examples.

    Attributes:
        source: ``(batch, source_len)`` symbol ids, padded with 0.
        source_mask: ``(batch, source_len)``, True for real symbols.
        target: ``(batch, target_len)`` symbol ids, padded with 0 (target_len = source_len).
        target_mask: ``(batch, target_len)``, True for real symbols (equal to ``source_mask``).
        alignment: ``(batch, target_len, source_len)`` boolean true alignment: ``[b, t, t]``
            for every real position t, nothing else.
    """

    source: torch.Tensor
    source_mask: torch.Tensor
    target: torch.Tensor
    target_mask: torch.Tensor
    alignment: torch.Tensor


class TransliterationScores(NamedTuple):
    """How well a model transliterates a :class:`TransliterationBatch` (greedy decoding).

    Attributes:
        exact: ``(batch,)`` True where every target symbol is right.
        symbols: fraction of the real target symbols right.
        alignment: fraction of the real target positions t whose most attended source
            position is t.
        weights: attention weights ``(batch, target_len, source_len)``.
    """

    exact: torch.Tensor
    symbols: float
    alignment: float
    weights: torch.Tensor


def transliterate(text: str) -> str:
    """``text`` (letters ``a`` .. ``t``) mapped symbol by symbol through :data:`TRANSLITERATION`."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    unknown = sorted(set(text) - set(_LETTERS))
    if unknown:
        raise ValueError(f"text must hold only the letters {_LETTERS!r}, got {''.join(unknown)!r}")
    return "".join(TRANSLITERATION[letter] for letter in text)


def make_transliterations(count: int, seed: int, length: int | tuple[int, int] = 128) -> list[TransliterationExample]:
    """``count`` random source strings and their transliterations.

    Args:
        count: number of examples, >= 1.
        seed: seed of the generator; the same seed (and length) gives the same examples.
        length: the length of every source, >= 1, or ``(low, high)`` with ``1 <= low <= high``:
            each source's length is drawn uniformly from ``low .. high`` (both included).

    Returns:
        A list of :class:`TransliterationExample`; each letter of a source is drawn
        uniformly and independently.
    """
    check_int("count", count, 1)
    if isinstance(length, tuple):
        if len(length) != 2:
            raise ValueError(f"length must be an integer or a (low, high) pair, got {length!r}")
        low, high = length
        check_int("length[0] (low)", low, 1)
        check_int("length[1] (high)", high, low)
    else:
        check_int("length", length, 1)
        low = high = length
    rng = random.Random(seed)
    examples = []
    for _ in range(count):
        size = rng.randint(low, high)
        source = "".join(rng.choice(_LETTERS) for _ in range(size))
        examples.append(TransliterationExample(source, transliterate(source)))
    return examples


def encode_transliterations(examples: list[TransliterationExample],
                            device: torch.device | str | None = None) -> TransliterationBatch:
    """Turn examples into right-padded id tensors with masks and the diagonal true alignment."""
    if not examples:
        raise ValueError("examples must not be empty")
    length = max(len(example.source) for example in examples)
    source = torch.zeros(len(examples), length, dtype=torch.long)
    target = torch.zeros(len(examples), length, dtype=torch.long)
    for row, example in enumerate(examples):
        if len(example.source) != len(example.target):
            raise ValueError(f"example {row}: source and target must have the same length, got "
                             f"{len(example.source)} and {len(example.target)}")
        source[row, : len(example.source)] = torch.tensor([TRANSLITERATION_SOURCE_VOCAB.index(c)
                                                           for c in example.source])
        target[row, : len(example.target)] = torch.tensor([TRANSLITERATION_TARGET_VOCAB.index(c)
                                                           for c in example.target])
    mask = source != 0
    alignment = torch.eye(length, dtype=torch.bool)[None] & mask[:, :, None] & mask[:, None, :]
    return TransliterationBatch(source.to(device), mask.to(device), target.to(device), mask.clone().to(device),
                                alignment.to(device))


def decode_transliterations(ids: torch.Tensor, mask: torch.Tensor | None = None) -> list[str]:
    """``(batch, length)`` target ids -> strings (only the positions ``mask`` marks, if given)."""
    rows = ids.tolist()
    keep = mask.tolist() if mask is not None else [[True] * len(row) for row in rows]
    return ["".join(TRANSLITERATION_TARGET_VOCAB[i] for i, k in zip(row, kept) if k) for row, kept in zip(rows, keep)]


def score_transliterations(model: torch.nn.Module, batch: TransliterationBatch) -> TransliterationScores:
    """Decode ``batch`` greedily with ``model`` and score it.

    Args:
        model: an ``AttentionSeq2Seq`` (anything called as ``model(source, source_mask, steps=T)``
            that returns ``logits`` ``(batch, T, vocab)`` and ``weights`` ``(batch, T, source)``).
        batch: the encoded examples.

    Returns:
        :class:`TransliterationScores`, over the real target positions.
    """
    with torch.no_grad():
        out = model(batch.source, batch.source_mask, steps=batch.target.shape[1])
    mask = batch.target_mask
    right = (out.logits.argmax(-1) == batch.target) & mask
    top = out.weights.argmax(-1, keepdim=True)
    aligned = batch.alignment.gather(2, top)[..., 0] & mask
    real = mask.sum().item()
    return TransliterationScores((right | ~mask).all(-1), right.sum().item() / real, aligned.sum().item() / real,
                                 out.weights)
