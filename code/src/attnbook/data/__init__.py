"""Data the chapters generate from a seed: cluttered digits (scikit-learn's digits in clutter,
with the true box) and the date-format translation task with its known alignment.
"""

from .cluttered import ClutteredDigits, make_cluttered_digits
from .dates import (
    DATE_FORMATS,
    SOURCE_VOCAB,
    TARGET_VOCAB,
    TARGET_FIELDS,
    DateExample,
    DateBatch,
    DateScores,
    make_dates,
    encode_dates,
    decode_target,
    score_dates,
    accuracy_by_format,
)

__all__ = [
    "ClutteredDigits",
    "make_cluttered_digits",
    "DATE_FORMATS",
    "SOURCE_VOCAB",
    "TARGET_VOCAB",
    "TARGET_FIELDS",
    "DateExample",
    "DateBatch",
    "DateScores",
    "make_dates",
    "encode_dates",
    "decode_target",
    "score_dates",
    "accuracy_by_format",
]
