"""Dates to ISO: a left-to-right vs a bidirectional GRU encoder under each Luong attention (bypass off).

The encoder-direction factor of ``dates.py`` (issue 18). A state of the left-to-right
encoder at source position ``s`` has read the symbols up to ``s`` and nothing after them,
so a local window over such states misses what follows it; a bidirectional encoder
(Bahdanau et al. 2015; ``AttentionSeq2Seq(..., bidirectional=True)``, ``hidden // 2``
units per direction, so fewer parameters) gives every state the whole source. A variant
is a mode and an encoder, ``global/bypass-off/encoder-bi`` ...
``local-p/bypass-off/encoder-uni``; the decoder always starts from zeros (bypass off),
so attention is the only path from the source.

Everything else is ``dates.py``'s: the same options and defaults, so the same budget
(steps, batch size, learning rate, data, checkpoints; the file's ``config`` equals that of
``dates.json``), the same training of a run and the same scores at every checkpoint
(exact match overall and per format, characters, alignment accuracy). The runs go to their
own file, ``code/src/attnbook/results/dates_encoder.json``, so ``dates.json``, which the
chapter reads, stays as it is. The ``encoder-uni`` runs are the models of ``dates.py``'s
``<mode>/bypass-off`` runs, trained again (on the same instruction set they give the same
numbers). Runs go seed by seed, the eight variants of a seed first; run it again (e.g.
with ``--budget-minutes``) until it prints ``complete``.

    python experiments/dates_encoder.py --budget-minutes 4      # one chunk of the sweep
"""

from __future__ import annotations

from attnbook.book import results_folder

from dates import MODES, sweep

SCRIPT = "experiments/dates_encoder.py"
ENCODERS = ("bi", "uni")
VARIANTS = tuple(f"{mode}/bypass-off/encoder-{encoder}" for mode in MODES for encoder in ENCODERS)
DEFAULT_OUTPUT = results_folder() / "dates_encoder.json"


def main(argv: list[str] | None = None) -> int:
    return sweep(argv, script=SCRIPT, description=__doc__.split("\n")[0], variants=VARIANTS, output=DEFAULT_OUTPUT)


if __name__ == "__main__":
    raise SystemExit(main())
