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

The encoder reads the source left to right (``bidirectional=False``, the default),
so its state at position ``s`` has read the symbols ``0..s`` and nothing after them,
or in both directions (``bidirectional=True``), so that every state has read the
whole source. Luong et al. (2015) used a unidirectional stack and fed it the source
reversed; Bahdanau, Cho and Bengio (2015, https://arxiv.org/abs/1409.0473,
Section 3.2) used a bidirectional RNN and annotated position ``s`` with the
concatenation ``[h_fwd_s; h_bwd_s]`` of both directions' states. Which one matters
for local attention: a window over left-to-right states that ends at ``s`` holds
nothing of the source after ``s``.
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
        hidden_size: size of every hidden state, the encoder's states included.
        attention: the attention the decoder uses; its hidden size must be ``hidden_size``.
        init_from_encoder: start the decoder from the encoder's final state (True)
            or from zeros (False), which leaves attention as the only path from
            the source to the decoder.
        bidirectional: the encoder's direction. False (the default): one
            left-to-right ``nn.GRU(hidden_size, hidden_size)``, as Luong et al.
            (2015, without their reversed source); the state at position ``s``
            depends on the symbols ``0..s`` only. True: ``nn.GRU(hidden_size,
            hidden_size // 2, bidirectional=True)``, as Bahdanau et al. (2015):
            the state at ``s`` is ``[h_fwd_s; h_bwd_s]``, still ``hidden_size``
            wide, and depends on the whole source; the encoder has fewer
            parameters than the unidirectional one (``hidden_size`` must be even).
            The bidirectional encoder reads each source only up to its length
            (a packed sequence, so that the backward direction starts at the
            source's last real symbol, not at the batch's padding; sources must be
            right-padded, as :func:`attnbook.data.encode_dates` pads them), and with
            ``init_from_encoder=True`` the decoder starts from the concatenation of
            the two final states, ``[h_fwd_last; h_bwd_0]``: the forward state after
            the last symbol and the backward state after the first, each having read
            the whole source. (Bahdanau et al. start from ``tanh(W h_bwd_0)``; the
            concatenation needs no new parameters and is the same kind of vector as
            the states attention reads.) The default model is unchanged by this
            option: same parameters, same random draws at initialisation, same outputs.

    Raises:
        TypeError: ``init_from_encoder`` or ``bidirectional`` is not a bool.
        ValueError: ``bidirectional`` with an odd ``hidden_size``.
    """

    def __init__(self, source_vocab: int, target_vocab: int, hidden_size: int, attention: LuongAttention,
                 init_from_encoder: bool = True, bidirectional: bool = False) -> None:
        super().__init__()
        if not isinstance(init_from_encoder, bool):
            raise TypeError(f"init_from_encoder must be a bool, got {type(init_from_encoder).__name__}")
        if not isinstance(bidirectional, bool):
            raise TypeError(f"bidirectional must be a bool, got {type(bidirectional).__name__}")
        if bidirectional and hidden_size % 2:
            raise ValueError(f"a bidirectional encoder needs an even hidden_size (hidden_size // 2 per direction, "
                             f"concatenated), got {hidden_size}")
        self.init_from_encoder = init_from_encoder
        self.bidirectional = bidirectional
        self.source_embedding = nn.Embedding(source_vocab, hidden_size, padding_idx=0)
        self.target_embedding = nn.Embedding(target_vocab, hidden_size)
        if bidirectional:
            self.encoder = nn.GRU(hidden_size, hidden_size // 2, batch_first=True, bidirectional=True)
        else:
            self.encoder = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.decoder = nn.GRUCell(2 * hidden_size, hidden_size)
        self.attention = attention
        self.combine = nn.Linear(2 * hidden_size, hidden_size, bias=False)  # W_c
        self.output = nn.Linear(hidden_size, target_vocab)                  # W_s

    def encode(self, source: torch.Tensor, source_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The encoder's states and its final state.

        Args:
            source: ``(batch, source)`` ids.
            source_mask: ``(batch, source)``, True for real symbols; with a
                bidirectional encoder each row must be right-padded (a run of True,
                at least one, then False).

        Returns:
            ``(states, final)``: ``states`` ``(batch, source, hidden_size)``, the
            annotation of every source position (zero at padding for a bidirectional
            encoder; the unidirectional one runs over the padding too, which the
            attention masks); ``final`` ``(batch, hidden_size)``, the state the
            decoder starts from when ``init_from_encoder=True``: the unidirectional
            encoder's last state, or ``[h_fwd_last; h_bwd_0]`` for the bidirectional one.
        """
        embedded = self.source_embedding(source)
        if not self.bidirectional:
            encoded, final = self.encoder(embedded)
            return encoded, final[0]
        lengths = source_mask.sum(1)
        if not torch.equal(source_mask, torch.arange(source.shape[1], device=source.device) < lengths[:, None]):
            raise ValueError("a bidirectional encoder needs right-padded sources: each row of source_mask a run "
                             "of True, then False")
        if source.shape[1] == 0 or bool((lengths == 0).any()):
            raise ValueError("a bidirectional encoder needs every source to have at least one symbol")
        packed = nn.utils.rnn.pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False)
        encoded, final = self.encoder(packed)
        encoded, _ = nn.utils.rnn.pad_packed_sequence(encoded, batch_first=True, total_length=source.shape[1])
        return encoded, torch.cat([final[0], final[1]], -1)

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
        encoded, final = self.encode(source, source_mask)
        state = final if self.init_from_encoder else torch.zeros_like(final)
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
