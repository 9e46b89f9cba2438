"""Chapter 3, global vs local attention: which positions a query may see.

Mask predicates (the band, from which the sliding and causal windows derive, dilated,
global tokens, BigBird), sliding-window attention by three paths (dense, blocked,
FlexAttention) that all evaluate the one band predicate, the rolling
KV cache (with attention sinks) and Luong et al.'s global, local-m and local-p attention.
"""

# The module sliding_window first: the predicate of the same name from masks then wins the
# package attribute (attnbook.local.sliding_window is the predicate).
from .sliding_window import (
    SLIDING_WINDOW_PATHS,
    FLEX_BLOCK_SIZE,
    band_block_mask,
    default_block_size,
    sliding_window_attention,
    sliding_window_mask,
)
from .masks import (
    MaskPredicate,
    check_window,
    band_offsets,
    band,
    sliding_window,
    causal_window,
    dilated_window,
    global_tokens,
    sink_window,
    bigbird,
    and_masks,
    or_masks,
    render_mask,
)
from .kv_cache import RollingKVCache, decode_causal_window
from .luong import LUONG_SCORES, LUONG_MODES, LuongOutput, LuongAttention

__all__ = [
    "MaskPredicate",
    "check_window",
    "band_offsets",
    "band",
    "sliding_window",
    "causal_window",
    "dilated_window",
    "global_tokens",
    "sink_window",
    "bigbird",
    "and_masks",
    "or_masks",
    "render_mask",
    "SLIDING_WINDOW_PATHS",
    "FLEX_BLOCK_SIZE",
    "band_block_mask",
    "default_block_size",
    "sliding_window_attention",
    "sliding_window_mask",
    "RollingKVCache",
    "decode_causal_window",
    "LUONG_SCORES",
    "LUONG_MODES",
    "LuongOutput",
    "LuongAttention",
]
