"""attnbook: the attention mechanisms of the book *Attention, Interactively*.

Every chapter imports this package; the notebooks build pieces from scratch to
teach them and check them against the functions here.
"""

from .attention import AttentionOutput, attention
from . import dates
from .bam import BAM
from .cbam import CBAM, CBAMChannelGate, CBAMSpatialGate
from .cluttered import ClutteredDigits, make_cluttered_digits
from .complexity import MacCount, count_macs, count_parameters
from .create_attention import ATTENTION_MODULES, create_attention
from .eca import EfficientChannelAttention, eca_kernel_size
from .estimators import MovingAverageBaseline, gumbel_softmax, reinforce_loss, sample_gumbel
from .glimpse import extract_glimpses, pixel_to_location
from .glimpse_models import RecurrentAttentionModel, SoftAttentionClassifier
from .hard import ATTEND_MODES, LocationAttention, attend_locations
from .resnet import ResNet, resnet18, resnet34, resnet50, small_resnet
from .se import SqueezeExcite
from .device import DEVICE_ENV_VAR, get_device
from .luong import LUONG_MODES, LUONG_SCORES, LuongAttention, LuongOutput
from .measure import median_time, peak_tensor_memory
from .multihead import MultiHeadAttention, merge_heads, split_heads
from .notebook import BOOK_DPI, MAX_FIGURE_PIXELS, MIN_FONT_POINTS, TEXT_WIDTH_INCHES, setup_notebook
from .plotting import (
    ROLE_COLORS,
    draw_encoder_decoder_diagram,
    draw_pipeline,
    draw_principle_diagram,
    plot_attention,
)
from .pooling import gaussian_score, nadaraya_watson
from .seq2seq import AttentionSeq2Seq, Seq2SeqOutput
from .sliding_window import SLIDING_WINDOW_PATHS, default_block_size, sliding_window_attention, sliding_window_mask
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
    "BAM",
    "CBAM",
    "CBAMChannelGate",
    "CBAMSpatialGate",
    "ClutteredDigits",
    "make_cluttered_digits",
    "MacCount",
    "count_macs",
    "count_parameters",
    "ATTENTION_MODULES",
    "create_attention",
    "EfficientChannelAttention",
    "eca_kernel_size",
    "ResNet",
    "resnet18",
    "resnet34",
    "resnet50",
    "small_resnet",
    "SqueezeExcite",
    "MovingAverageBaseline",
    "gumbel_softmax",
    "reinforce_loss",
    "sample_gumbel",
    "extract_glimpses",
    "pixel_to_location",
    "RecurrentAttentionModel",
    "SoftAttentionClassifier",
    "ATTEND_MODES",
    "LocationAttention",
    "attend_locations",
    "AttentionOutput",
    "attention",
    "dates",
    "DEVICE_ENV_VAR",
    "get_device",
    "LUONG_MODES",
    "LUONG_SCORES",
    "LuongAttention",
    "LuongOutput",
    "median_time",
    "peak_tensor_memory",
    "MultiHeadAttention",
    "merge_heads",
    "split_heads",
    "BOOK_DPI",
    "MAX_FIGURE_PIXELS",
    "MIN_FONT_POINTS",
    "TEXT_WIDTH_INCHES",
    "setup_notebook",
    "ROLE_COLORS",
    "draw_encoder_decoder_diagram",
    "draw_pipeline",
    "draw_principle_diagram",
    "plot_attention",
    "gaussian_score",
    "nadaraya_watson",
    "AttentionSeq2Seq",
    "Seq2SeqOutput",
    "SLIDING_WINDOW_PATHS",
    "default_block_size",
    "sliding_window_attention",
    "sliding_window_mask",
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
