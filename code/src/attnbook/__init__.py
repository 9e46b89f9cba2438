"""attnbook: the attention mechanisms of the book *Attention, Interactively*.

Every chapter imports this package; the notebooks build pieces from scratch to
teach them and check them against the functions here.
"""

from .attention import AttentionOutput, attention
from .device import DEVICE_ENV_VAR, get_device
from .multihead import MultiHeadAttention, merge_heads, split_heads
from .notebook import setup_notebook
from .plotting import ROLE_COLORS, draw_encoder_decoder_diagram, draw_principle_diagram, plot_attention
from .pooling import gaussian_score, nadaraya_watson
from .scoring import (
    SCORE_NAMES,
    AdditiveScore,
    DotScore,
    GeneralScore,
    ScaledDotScore,
    additive_score,
    dot_score,
    general_score,
    make_score,
    scaled_dot_score,
)
from .sliders import Slider, slider
from .softmax import masked_softmax

__version__ = "0.1.0"

__all__ = [
    "AttentionOutput",
    "attention",
    "DEVICE_ENV_VAR",
    "get_device",
    "MultiHeadAttention",
    "merge_heads",
    "split_heads",
    "setup_notebook",
    "ROLE_COLORS",
    "draw_encoder_decoder_diagram",
    "draw_principle_diagram",
    "plot_attention",
    "gaussian_score",
    "nadaraya_watson",
    "SCORE_NAMES",
    "AdditiveScore",
    "DotScore",
    "GeneralScore",
    "ScaledDotScore",
    "additive_score",
    "dot_score",
    "general_score",
    "make_score",
    "scaled_dot_score",
    "Slider",
    "slider",
    "masked_softmax",
]
