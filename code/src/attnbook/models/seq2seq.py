"""A small GRU encoder-decoder with Luong attention and input feeding
(Luong, Pham and Manning, 2015, https://arxiv.org/abs/1508.04025, Section 3.3).

Decoder step t: ``h_t = GRU([embed(y_{t-1}); htilde_{t-1}], h_{t-1})``, then
``c_t = attention(h_t, encoder states)``, ``htilde_t = tanh(W_c [c_t; h_t])``
and the logits ``W_s htilde_t``. Feeding ``htilde_{t-1}`` back into the next
step is Luong's *input feeding*: it tells the decoder what it attended to before.

The decoder starts from the encoder's final state (``init_from_encoder=True``,
the usual choice) or from zeros. The final state is a path from the source to
the decoder that bypasses attention; zero it to measure what attention alone
carries.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from ..local.luong import LuongAttention

__all__ = ["Seq2SeqOutput", "AttentionSeq2Seq"]



class Seq2SeqOutput(NamedTuple):
    """Attributes:
        logits: ``(batch, steps, target_vocab)``.
        weights: attention weights ``(batch, steps, source)``.
        positions: window centres ``p_t`` ``(batch, steps)``; None for global attention.
    """

    logits: torch.Tensor
    weights: torch.Tensor
    positions: torch.Tensor | None


class AttentionSeq2Seq(nn.Module):
    """GRU encoder, GRU decoder with input feeding, one Luong attention.

    Args:
        source_vocab: number of source symbols (id 0 is padding).
        target_vocab: number of target symbols (id 0 starts a sequence).
        hidden_size: size of every hidden state.
        attention: the attention the decoder uses; its hidden size must be ``hidden_size``.
        init_from_encoder: start the decoder from the encoder's final state (True)
            or from zeros (False), which leaves attention as the only path from
            the source to the decoder.
    """

    def __init__(self, source_vocab: int, target_vocab: int, hidden_size: int, attention: LuongAttention,
                 init_from_encoder: bool = True) -> None:
        super().__init__()
        if not isinstance(init_from_encoder, bool):
            raise TypeError(f"init_from_encoder must be a bool, got {type(init_from_encoder).__name__}")
        self.init_from_encoder = init_from_encoder
        self.source_embedding = nn.Embedding(source_vocab, hidden_size, padding_idx=0)
        self.target_embedding = nn.Embedding(target_vocab, hidden_size)
        self.encoder = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.decoder = nn.GRUCell(2 * hidden_size, hidden_size)
        self.attention = attention
        self.combine = nn.Linear(2 * hidden_size, hidden_size, bias=False)  # W_c
        self.output = nn.Linear(hidden_size, target_vocab)                  # W_s

    def forward(self, source: torch.Tensor, source_mask: torch.Tensor, target: torch.Tensor | None = None,
                steps: int | None = None) -> Seq2SeqOutput:
        """Decode with teacher forcing when ``target`` is given, greedily for ``steps`` otherwise.

        Args:
            source: ``(batch, source)`` ids.
            source_mask: ``(batch, source)``, True for real symbols.
            target: ``(batch, steps)`` ids of the right answer (teacher forcing).
            steps: number of greedy steps when ``target`` is None.
        """
        if (target is None) == (steps is None):
            raise ValueError("give exactly one of target (teacher forcing) and steps (greedy decoding)")
        steps = target.shape[1] if target is not None else steps
        encoded, final = self.encoder(self.source_embedding(source))
        state = final[0] if self.init_from_encoder else torch.zeros_like(final[0])
        attentional = torch.zeros_like(state)
        previous = torch.zeros(source.shape[0], dtype=torch.long, device=source.device)  # start symbol
        logits, weights, positions = [], [], []
        for step in range(steps):
            state = self.decoder(torch.cat([self.target_embedding(previous), attentional], -1), state)
            context, step_weights, position = self.attention(state, encoded, step=step,
                                                             key_padding_mask=source_mask,
                                                             target_length=steps)
            attentional = torch.tanh(self.combine(torch.cat([context, state], -1)))
            step_logits = self.output(attentional)
            logits.append(step_logits)
            weights.append(step_weights)
            positions.append(position)
            previous = target[:, step] if target is not None else step_logits.argmax(-1)
        return Seq2SeqOutput(torch.stack(logits, 1), torch.stack(weights, 1),
                             None if positions[0] is None else torch.stack(positions, 1))
