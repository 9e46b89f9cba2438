"""attnbook: the attention mechanisms of the book *Attention, Interactively*.

One room per chapter, plus the rooms every chapter shares:

* :mod:`attnbook.core` (chapter 1): scores, the masked softmax, ``attention``, multi-head
  attention, positions, attention pooling;
* :mod:`attnbook.hard` (chapter 2): sparsemax, soft and hard attention over locations, the
  estimators that train a discrete choice, glimpses and crops;
* :mod:`attnbook.local` (chapter 3): masks, sliding-window attention, the rolling KV cache,
  Luong's global and local attention;
* :mod:`attnbook.channel` (chapter 4): SE, ECA, CBAM, BAM, global context, coordinate
  attention and their factory;
* :mod:`attnbook.maps` (chapter 5): raw attention, rollout, gradient-weighted rollout,
  occlusion, and the measures that test a map against the truth;
* :mod:`attnbook.models`, :mod:`attnbook.data`, :mod:`attnbook.book`, :mod:`attnbook.measure`:
  the models and training loop, the data generators, the notebook helpers, the instruments.

The top level exports chapter 1's core and the helpers every chapter calls; everything else
is reached through its room (``ab.local.sliding_window_attention``), which also says where
the code lives. ``code/README.md`` draws the map.
"""

from importlib.metadata import PackageNotFoundError, version as _version

from . import book, channel, core, data, hard, local, maps, measure, models
from ._checks import checks_enabled, set_checks
from .book import get_device, plot_attention, setup_notebook, slider
from .core import (
    SCORE_NAMES,
    AdditiveScore,
    AttentionOutput,
    CosineScore,
    DotScore,
    GeneralScore,
    LocationScore,
    MultiHeadAttention,
    ScaledDotScore,
    additive_score,
    attention,
    cosine_score,
    dot_score,
    gaussian_score,
    general_score,
    location_score,
    make_score,
    masked_softmax,
    merge_heads,
    nadaraya_watson,
    scaled_dot_score,
    sinusoidal_positional_encoding,
    split_heads,
)
from .measure import count_parameters

try:
    __version__ = _version("attnbook")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "__version__",
    # the rooms
    "book",
    "channel",
    "core",
    "data",
    "hard",
    "local",
    "maps",
    "measure",
    "models",
    # chapter 1's core
    "SCORE_NAMES",
    "AdditiveScore",
    "AttentionOutput",
    "CosineScore",
    "DotScore",
    "GeneralScore",
    "LocationScore",
    "MultiHeadAttention",
    "ScaledDotScore",
    "additive_score",
    "attention",
    "cosine_score",
    "dot_score",
    "gaussian_score",
    "general_score",
    "location_score",
    "make_score",
    "masked_softmax",
    "merge_heads",
    "nadaraya_watson",
    "scaled_dot_score",
    "sinusoidal_positional_encoding",
    "split_heads",
    # the debug switch of the checks that read a tensor's values
    "checks_enabled",
    "set_checks",
    # what every chapter calls
    "count_parameters",
    "get_device",
    "plot_attention",
    "setup_notebook",
    "slider",
]
