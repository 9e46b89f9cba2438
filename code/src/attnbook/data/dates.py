"""A seq2seq task with a known alignment: dates in many human formats -> ISO ``YYYY-MM-DD``.

Everything is generated from a seed. Each example also carries its true
alignment: target character i is determined by one field of the source (the
year, the month or the day), and ``alignment[i, s]`` is True for the source
characters s of that field. The two ``-`` of the target come from no field.
"""

from __future__ import annotations

import datetime
import random
from typing import NamedTuple

import torch

from .._checks import check_int

__all__ = ["DATE_FORMATS", "SOURCE_VOCAB", "TARGET_VOCAB", "TARGET_FIELDS", "DateExample", "DateBatch", "DateScores",
           "make_dates", "encode_dates", "decode_target", "score_dates", "accuracy_by_format"]

_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december"]
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

#: Each format lists its pieces: a field name (year, yy, month, mon, mm, m, dd, d, weekday, wkd)
#: or a literal string.
DATE_FORMATS = (
    ("d", " ", "month", " ", "year"),                 # 5 march 2024
    ("month", " ", "d", ", ", "year"),                # march 5, 2024
    ("dd", "/", "mm", "/", "year"),                   # 05/03/2024
    ("year", ".", "mm", ".", "dd"),                   # 2024.03.05
    ("wkd", ", ", "d", " ", "mon", " ", "yy"),        # tue, 5 mar 24
    ("mon", " ", "dd", " ", "year"),                  # mar 05 2024
    ("d", ".", "m", ".", "yy"),                       # 5.3.24
    ("weekday", " ", "month", " ", "d", " ", "year"),  # tuesday march 5 2024
)
_PAD, _BOS = "_", "^"
#: The source characters; id 0, ``_``, pads a source to the batch's length.
SOURCE_VOCAB = _PAD + "abcdefghijklmnopqrstuvwxyz0123456789 ,./"
#: The target characters; id 0, ``^``, is the start symbol the decoder reads first.
TARGET_VOCAB = _BOS + "0123456789-"
_FIELD_OF = {"year": "year", "yy": "year", "month": "month", "mon": "month", "mm": "month", "m": "month",
             "dd": "day", "d": "day"}
#: Which source field determines each character of YYYY-MM-DD (None for the dashes).
TARGET_FIELDS = ("year",) * 4 + (None,) + ("month",) * 2 + (None,) + ("day",) * 2


class DateExample(NamedTuple):
    """One generated example.

    Attributes:
        source: the date as a person writes it, in format ``DATE_FORMATS[format_index]``.
        target: the same date as ``YYYY-MM-DD``.
        format_index: which of :data:`DATE_FORMATS` wrote the source.
        spans: each field (``"year"``, ``"month"``, ``"day"``) -> ``(start, end)`` of its characters
            in the source.
    """

    source: str
    target: str
    format_index: int
    spans: dict[str, tuple[int, int]]  # field -> [start, end) in the source


class DateBatch(NamedTuple):
    """Encoded examples.

    Attributes:
        source: ``(batch, source_len)`` character ids, padded with 0.
        source_mask: ``(batch, source_len)``, True for real characters.
        target: ``(batch, 10)`` character ids of ``YYYY-MM-DD``.
        alignment: ``(batch, 10, source_len)`` boolean true alignment.
    """

    source: torch.Tensor
    source_mask: torch.Tensor
    target: torch.Tensor
    alignment: torch.Tensor


def _render(date: datetime.date, piece: str) -> str:
    return {
        "year": f"{date.year}", "yy": f"{date.year % 100:02d}",
        "month": _MONTHS[date.month - 1], "mon": _MONTHS[date.month - 1][:3],
        "mm": f"{date.month:02d}", "m": f"{date.month}",
        "dd": f"{date.day:02d}", "d": f"{date.day}",
        "weekday": _WEEKDAYS[date.weekday()], "wkd": _WEEKDAYS[date.weekday()][:3],
    }.get(piece, piece)


def make_dates(count: int, seed: int) -> list[DateExample]:
    """``count`` random dates from 1950-01-01 to 2049-12-31, each in a random format.

    Two-digit years are unambiguous in that range: 50-99 mean 19xx, 00-49 mean 20xx.

    Args:
        count: number of examples, >= 1.
        seed: seed of the generator; the same seed gives the same examples.

    Returns:
        A list of :class:`DateExample`.
    """
    check_int("count", count, 1)
    rng = random.Random(seed)
    first, last = datetime.date(1950, 1, 1).toordinal(), datetime.date(2049, 12, 31).toordinal()
    examples = []
    for _ in range(count):
        date = datetime.date.fromordinal(rng.randint(first, last))
        format_index = rng.randrange(len(DATE_FORMATS))
        text, spans = "", {}
        for piece in DATE_FORMATS[format_index]:
            rendered = _render(date, piece)
            if piece in _FIELD_OF:
                spans[_FIELD_OF[piece]] = (len(text), len(text) + len(rendered))
            text += rendered
        examples.append(DateExample(text, date.isoformat(), format_index, spans))
    return examples


def encode_dates(examples: list[DateExample], device: torch.device | str | None = None) -> DateBatch:
    """Turn examples into padded id tensors with masks and true alignments."""
    if not examples:
        raise ValueError("examples must not be empty")
    length = max(len(example.source) for example in examples)
    source = torch.zeros(len(examples), length, dtype=torch.long)
    target = torch.zeros(len(examples), len(TARGET_FIELDS), dtype=torch.long)
    alignment = torch.zeros(len(examples), len(TARGET_FIELDS), length, dtype=torch.bool)
    for row, example in enumerate(examples):
        source[row, : len(example.source)] = torch.tensor([SOURCE_VOCAB.index(c) for c in example.source])
        target[row] = torch.tensor([TARGET_VOCAB.index(c) for c in example.target])
        for position, field in enumerate(TARGET_FIELDS):
            if field is not None:
                start, end = example.spans[field]
                alignment[row, position, start:end] = True
    return DateBatch(source.to(device), (source != 0).to(device), target.to(device), alignment.to(device))


def decode_target(ids: torch.Tensor) -> list[str]:
    """``(batch, 10)`` target ids -> strings."""
    return ["".join(TARGET_VOCAB[i] for i in row) for row in ids.tolist()]


class DateScores(NamedTuple):
    """How well a model translates a :class:`DateBatch` (greedy decoding).

    Attributes:
        exact: ``(batch,)`` True where all ten characters are right.
        characters: fraction of target characters right.
        alignment: fraction of the eight field characters whose most attended
            source character lies in the true field.
        weights: attention weights ``(batch, 10, source)``.
    """

    exact: torch.Tensor
    characters: float
    alignment: float
    weights: torch.Tensor


def score_dates(model: torch.nn.Module, batch: DateBatch) -> DateScores:
    """Decode ``batch`` greedily with ``model`` and score it.

    Args:
        model: an ``AttentionSeq2Seq`` (anything called as ``model(source, source_mask, steps=10)``
            that returns ``logits`` ``(batch, 10, vocab)`` and ``weights`` ``(batch, 10, source)``).
        batch: the encoded examples.

    Returns:
        :class:`DateScores`.
    """
    with torch.no_grad():
        out = model(batch.source, batch.source_mask, steps=len(TARGET_FIELDS))
    right = out.logits.argmax(-1) == batch.target
    fields = torch.tensor([field is not None for field in TARGET_FIELDS], device=batch.target.device)
    top = out.weights.argmax(-1, keepdim=True)
    aligned = batch.alignment.gather(2, top)[..., 0][:, fields]
    return DateScores(right.all(-1), right.float().mean().item(), aligned.float().mean().item(), out.weights)


def accuracy_by_format(exact: torch.Tensor, examples: list[DateExample]) -> list[float]:
    """Exact-match accuracy for each of :data:`DATE_FORMATS` (NaN for a format with no example).

    Args:
        exact: ``(batch,)`` boolean, one entry per example.
        examples: the examples ``exact`` scores, in the same order.
    """
    if exact.shape != (len(examples),):
        raise ValueError(f"exact must have shape ({len(examples)},) to match examples, got {tuple(exact.shape)}")
    formats = torch.tensor([example.format_index for example in examples], device=exact.device)
    return [exact[formats == index].float().mean().item() if bool((formats == index).any()) else float("nan")
            for index in range(len(DATE_FORMATS))]
