"""A small vision transformer (Dosovitskiy et al., 2021, "An Image is Worth 16x16 Words",
https://arxiv.org/abs/2010.11929), sized to train on a laptop CPU.

The image is cut into non-overlapping ``patch_size`` squares; each patch is projected
linearly to ``width`` features (a convolution with kernel = stride = ``patch_size``, the
same map as the paper's linear projection of flattened patches). A learned class token is
put in front, position embeddings are added (learned, as in the paper, or the fixed
sinusoidal ones of :func:`attnbook.core.sinusoidal_positional_encoding`), and ``depth``
pre-norm encoder layers follow, each

    x = x + MHA(LN(x)),    x = x + MLP(LN(x))

with the package's :class:`attnbook.core.MultiHeadAttention` and a GELU MLP (the paper's
equations 2-3). The class token's final state, normalised, goes to a linear head
(equation 4). With ``need_weights=True`` every layer's attention weights come back,
``(batch, heads, tokens, tokens)`` with token 0 the class token and tokens ``1 ..``
the patches in row-major order; with ``need_weights=False`` the attention runs on the
fast SDPA path and gives the same logits (a test checks).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from .._checks import check_int, check_positive, check_tensor
from ..core.multihead import MultiHeadAttention
from ..core.positional import sinusoidal_positional_encoding

__all__ = ["POSITIONS", "ViTOutput", "ViTBlock", "VisionTransformer"]

#: The position embeddings :class:`VisionTransformer` knows.
POSITIONS = ("learned", "sinusoidal")


class ViTOutput(NamedTuple):
    """What :class:`VisionTransformer` returns.

    Attributes:
        logits: ``(batch, classes)``.
        attentions: one ``(batch, heads, tokens, tokens)`` tensor per layer, first layer
            first, token 0 the class token (empty when ``need_weights=False``).
    """

    logits: torch.Tensor
    attentions: tuple[torch.Tensor, ...]


class ViTBlock(nn.Module):
    """One pre-norm encoder layer: attention and MLP, each with a residual connection.

    Args:
        width: model width.
        heads: attention heads; must divide ``width``.
        mlp_ratio: the MLP's hidden width as a multiple of ``width`` (> 0).
    """

    def __init__(self, width: int, heads: int, mlp_ratio: float = 2.0) -> None:
        super().__init__()
        check_positive("mlp_ratio", mlp_ratio)
        hidden = max(1, round(width * mlp_ratio))
        self.norm1 = nn.LayerNorm(width)
        self.attention = MultiHeadAttention(width, heads)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, hidden), nn.GELU(), nn.Linear(hidden, width))

    def forward(self, x: torch.Tensor, need_weights: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Apply the layer.

        Args:
            x: ``(batch, tokens, width)``.
            need_weights: return the attention weights (plain path) or None (SDPA path).

        Returns:
            ``(x, weights)``: x ``(batch, tokens, width)``, weights ``(batch, heads, tokens, tokens)``.
        """
        h = self.norm1(x)
        context, weights = self.attention(h, h, h, need_weights=need_weights)
        x = x + context
        return x + self.mlp(self.norm2(x)), weights


class VisionTransformer(nn.Module):
    """A vision transformer: patches, a class token, positions, pre-norm layers, a linear head.

    Args:
        image_size: side of the square input images in pixels.
        patch_size: side of a patch; must divide ``image_size``.
        in_channels: image channels.
        classes: output classes.
        width: token width (the paper's D).
        depth: encoder layers.
        heads: attention heads per layer; must divide ``width``.
        mlp_ratio: MLP hidden width / ``width``.
        positions: ``"learned"`` (the paper) or ``"sinusoidal"`` (fixed, 1-D over the
            tokens in row-major order, class token at position 0).
    """

    def __init__(self, image_size: int = 40, patch_size: int = 8, in_channels: int = 1, classes: int = 10,
                 width: int = 64, depth: int = 4, heads: int = 4, mlp_ratio: float = 2.0,
                 positions: str = "learned") -> None:
        super().__init__()
        for name, value in (("image_size", image_size), ("patch_size", patch_size), ("in_channels", in_channels),
                            ("classes", classes), ("width", width), ("depth", depth), ("heads", heads)):
            check_int(name, value, 1)
        if image_size % patch_size:
            raise ValueError(f"patch_size must divide image_size, got patch_size={patch_size} "
                             f"and image_size={image_size}")
        if positions not in POSITIONS:
            raise ValueError(f"positions must be one of {POSITIONS}, got {positions!r}")
        if positions == "sinusoidal" and width % 2:
            raise ValueError(f"sinusoidal positions need an even width, got width={width}")
        self.image_size = image_size
        self.patch_size = patch_size
        self.in_channels = in_channels
        self.grid = image_size // patch_size
        tokens = self.grid ** 2 + 1
        self.patch_embed = nn.Conv2d(in_channels, width, kernel_size=patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, width))
        if positions == "learned":
            self.pos_embed = nn.Parameter(torch.randn(1, tokens, width) * 0.02)
        else:
            self.register_buffer("pos_embed", sinusoidal_positional_encoding(tokens, width)[None])
        self.blocks = nn.ModuleList(ViTBlock(width, heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, classes)

    def forward(self, images: torch.Tensor, need_weights: bool = True) -> ViTOutput:
        """Classify ``images``.

        Args:
            images: ``(batch, in_channels, image_size, image_size)``.
            need_weights: return every layer's attention weights (plain path); False runs
                the fast SDPA path and returns no weights.

        Returns:
            :class:`ViTOutput`: logits ``(batch, classes)`` and, with ``need_weights``, one
            ``(batch, heads, grid ** 2 + 1, grid ** 2 + 1)`` tensor per layer.
        """
        check_tensor("images", images, min_ndim=4)
        expected = (self.in_channels, self.image_size, self.image_size)
        if images.ndim != 4 or tuple(images.shape[1:]) != expected:
            raise ValueError(f"images must have shape (batch, {', '.join(map(str, expected))}), "
                             f"got {tuple(images.shape)}")
        x = self.patch_embed(images).flatten(2).transpose(1, 2)          # (batch, patches, width)
        x = torch.cat((self.cls_token.expand(len(x), -1, -1), x), dim=1) + self.pos_embed
        attentions = []
        for block in self.blocks:
            x, weights = block(x, need_weights=need_weights)
            if weights is not None:
                attentions.append(weights)
        return ViTOutput(self.head(self.norm(x[:, 0])), tuple(attentions))
