"""Models the chapters train: ResNet with pluggable attention, glimpse classifiers, a seq2seq
model with Luong attention, a small vision transformer, a tiny causal language model that
decodes with the rolling KV cache (attention sinks), and their training loops.
"""

from .resnet import BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50, small_resnet
from .glimpse import (
    BASELINES,
    SoftAttentionOutput,
    SoftAttentionClassifier,
    GlimpseOutput,
    RecurrentAttentionModel,
    multiply_adds,
)
from .seq2seq import Seq2SeqOutput, AttentionSeq2Seq
from .tiny_lm import TinyLMOutput, TinyCausalLM
from .streaming import StreamingScores, fit_language_model, streaming_losses, first_token_share
from .vit import POSITIONS, ViTOutput, ViTBlock, VisionTransformer
from .train import (SCHEDULES, LossValue, FitResult, fit, fit_soft, train_soft, fit_glimpses, train_glimpses,
                    train_seq2seq)

__all__ = [
    "BasicBlock",
    "Bottleneck",
    "ResNet",
    "resnet18",
    "resnet34",
    "resnet50",
    "small_resnet",
    "BASELINES",
    "SoftAttentionOutput",
    "SoftAttentionClassifier",
    "GlimpseOutput",
    "RecurrentAttentionModel",
    "multiply_adds",
    "Seq2SeqOutput",
    "AttentionSeq2Seq",
    "TinyLMOutput",
    "TinyCausalLM",
    "StreamingScores",
    "fit_language_model",
    "streaming_losses",
    "first_token_share",
    "POSITIONS",
    "ViTOutput",
    "ViTBlock",
    "VisionTransformer",
    "SCHEDULES",
    "LossValue",
    "FitResult",
    "fit",
    "fit_soft",
    "train_soft",
    "fit_glimpses",
    "train_glimpses",
    "train_seq2seq",
]
