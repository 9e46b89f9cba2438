"""Chapter 1, attention in one picture: score, normalise, weighted sum.

Scoring functions, the masked softmax, ``attention`` itself, multi-head attention,
sinusoidal positions and Nadaraya-Watson attention pooling. Every other room builds on this one.
"""

from .softmax import masked_softmax
from .scoring import (
    SCORE_NAMES,
    dot_score,
    scaled_dot_score,
    general_score,
    additive_score,
    cosine_score,
    location_score,
    DotScore,
    ScaledDotScore,
    GeneralScore,
    AdditiveScore,
    CosineScore,
    LocationScore,
    make_score,
)
from .attention import ScoreFn, AttentionOutput, attention
from .multihead import MultiHeadAttention, split_heads, merge_heads
from .positional import sinusoidal_positional_encoding
from .pooling import gaussian_score, nadaraya_watson

__all__ = [
    "masked_softmax",
    "SCORE_NAMES",
    "dot_score",
    "scaled_dot_score",
    "general_score",
    "additive_score",
    "cosine_score",
    "location_score",
    "DotScore",
    "ScaledDotScore",
    "GeneralScore",
    "AdditiveScore",
    "CosineScore",
    "LocationScore",
    "make_score",
    "ScoreFn",
    "AttentionOutput",
    "attention",
    "MultiHeadAttention",
    "split_heads",
    "merge_heads",
    "sinusoidal_positional_encoding",
    "gaussian_score",
    "nadaraya_watson",
]
