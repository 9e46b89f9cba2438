"""Chapter 5: where does a model look? Attention maps and the measures that test them.

The maps: raw class-token attention, attention rollout (Abnar & Zuidema 2020), gradient-
weighted rollout (Chefer et al. 2021) and occlusion; the measures against the truth: mass
in the digit's box, the pointing game, rank correlation with occlusion, and deletion and
insertion curves (Petsiuk et al. 2018). Everything works on tensors and on callables
``images -> logits``, so this room imports no model.
"""

from .rollout import attention_rollout, attention_rollout_reference, cls_attention, token_map
from .chefer import AttentionGradients, attention_gradients, gradient_rollout
from .occlusion import SCORES, fill_patches, occlusion_map
from .curves import Curves, area_under_curve, deletion_insertion
from .metrics import (READINGS, box_coverage, box_share, ink_patches, mass_in_box, occlusion_readings,
                      paired_bootstrap, patch_means, pointing_chance, pointing_game, spearman)

__all__ = [
    "attention_rollout",
    "attention_rollout_reference",
    "cls_attention",
    "token_map",
    "AttentionGradients",
    "attention_gradients",
    "gradient_rollout",
    "SCORES",
    "fill_patches",
    "occlusion_map",
    "Curves",
    "area_under_curve",
    "deletion_insertion",
    "box_coverage",
    "box_share",
    "mass_in_box",
    "pointing_chance",
    "pointing_game",
    "spearman",
    "READINGS",
    "ink_patches",
    "occlusion_readings",
    "patch_means",
    "paired_bootstrap",
]
