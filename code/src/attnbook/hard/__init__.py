"""Chapter 2, soft vs hard attention: from a weighted average to a sampled choice.

Sparsemax (a normaliser that returns exact zeros) and alpha-entmax (the family between
softmax and sparsemax), soft and hard attention over locations, the estimators that train a
discrete choice (REINFORCE, Gumbel-softmax, straight-through), glimpses, the differentiable
crop and DRAW's Gaussian read.
"""

from .sparsemax import sparsemax, sparsemax_threshold
from .locations import ATTEND_MODES, LocationAttention, attend_locations
from .estimators import sample_gumbel, gumbel_softmax, MovingAverageBaseline, reinforce_loss
from .glimpse import PADDING_MODES, pixel_to_location, extract_glimpses
from .crop import crop_theta, crop
from .gaussian_read import gaussian_filterbank, gaussian_read
from .entmax import entmax_bisect

__all__ = [
    "sparsemax",
    "sparsemax_threshold",
    "ATTEND_MODES",
    "LocationAttention",
    "attend_locations",
    "sample_gumbel",
    "gumbel_softmax",
    "MovingAverageBaseline",
    "reinforce_loss",
    "PADDING_MODES",
    "pixel_to_location",
    "extract_glimpses",
    "crop_theta",
    "crop",
    "gaussian_filterbank",
    "gaussian_read",
    "entmax_bisect",
]
