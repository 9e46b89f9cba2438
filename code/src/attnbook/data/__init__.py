"""Data the chapters generate from a seed: cluttered digits (scikit-learn's digits in clutter,
with the true box), channel choice (two digits on two channels and a cue saying which is
the label, with a control label that needs no choice), the date-format translation task
with its known alignment, and the long transliteration task (a random string mapped symbol
by symbol, so target t aligns to source t).
"""

from .cluttered import ClutteredDigits, make_cluttered_digits
from .channel_choice import ChannelChoice, make_channel_choice
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
from .markov import MarkovLanguage, make_markov_language
from .transliteration import (
    TRANSLITERATION_SOURCE_VOCAB,
    TRANSLITERATION_TARGET_VOCAB,
    TRANSLITERATION,
    TransliterationExample,
    TransliterationBatch,
    TransliterationScores,
    transliterate,
    make_transliterations,
    encode_transliterations,
    decode_transliterations,
    score_transliterations,
)

__all__ = [
    "MarkovLanguage",
    "make_markov_language",
    "ClutteredDigits",
    "make_cluttered_digits",
    "ChannelChoice",
    "make_channel_choice",
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
    "TRANSLITERATION_SOURCE_VOCAB",
    "TRANSLITERATION_TARGET_VOCAB",
    "TRANSLITERATION",
    "TransliterationExample",
    "TransliterationBatch",
    "TransliterationScores",
    "transliterate",
    "make_transliterations",
    "encode_transliterations",
    "decode_transliterations",
    "score_transliterations",
]
