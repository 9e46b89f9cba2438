"""Dates to ISO: global vs local Luong attention, with and without the encoder-state bypass.

Trains ``AttentionSeq2Seq`` (GRU encoder-decoder with input feeding) with each
attention mode, each seed, and the decoder started either from the encoder's
final state (``bypass-on``, the usual set-up) or from zeros (``bypass-off``:
attention is the only path from the source to the decoder). A variant is a mode and a
bypass, ``global/bypass-on`` ... ``local-p/bypass-off``. Every run has the same budget
(steps, batch size, learning rate, data) and is evaluated at the same checkpoints, on the
same test set, overall and per source format.

The runs go through the shared sweep store (``experiments/_sweep.py``): finished runs are
kept and skipped, ``--budget-minutes`` starts no run after that time so that the sweep can
run in chunks (run it again until it prints ``complete``), and a call with other settings
stops and leaves the file as it is. ``dates_encoder.py`` runs the same sweep with the
encoder's direction as a factor (its variants ``<mode>/bypass-off/encoder-<uni|bi>``), through
:func:`sweep`, into its own file.

    python experiments/dates.py                      # the full sweep the chapter reads
    python experiments/dates.py --steps 3 --checkpoints 3 --seeds 0 --train-size 64 --test-size 32 \\
        --output /tmp/x.json
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from attnbook.book import results_folder
from attnbook.data.dates import (DATE_FORMATS, SOURCE_VOCAB, TARGET_VOCAB, accuracy_by_format, encode_dates,
                                 make_dates, score_dates)
from attnbook.local import LuongAttention
from attnbook.models import AttentionSeq2Seq, train_seq2seq

from _sweep import SweepStore, at_least, run_sweep, sweep_parser

SCRIPT = "experiments/dates.py"
MODES = ("global", "local-m", "local-m-scaled", "local-p")
VARIANTS = tuple(f"{mode}/bypass-{bypass}" for bypass in ("on", "off") for mode in MODES)
DEFAULT_OUTPUT = results_folder() / "dates.json"


def settings_of(variant: str) -> dict:
    """A variant's settings: ``{"mode": ..., "bypass": "on" or "off"}`` for ``<mode>/bypass-<on|off>``,
    and also ``"encoder": "uni" or "bi"`` for ``<mode>/bypass-<on|off>/encoder-<uni|bi>`` (the variants
    of ``dates_encoder.py``). A variant without an encoder has the unidirectional one."""
    mode, bypass = variant.split("/bypass-")
    bypass, _, encoder = bypass.partition("/encoder-")
    return {"mode": mode, "bypass": bypass, **({"encoder": encoder} if encoder else {})}


def run_one(spec: dict, data: dict) -> dict:
    """Train the run of ``spec`` and score it at every checkpoint, overall and per format."""
    config, settings = spec["config"], spec["settings"]
    mode = settings["mode"]
    torch.manual_seed(spec["seed"])
    attention = LuongAttention(config["hidden"], score=config["score"], mode=mode,
                               window=None if mode == "global" else config["window"])
    model = AttentionSeq2Seq(len(SOURCE_VOCAB), len(TARGET_VOCAB), config["hidden"], attention,
                             init_from_encoder=settings["bypass"] == "on",
                             bidirectional=settings.get("encoder", "uni") == "bi")
    train, test = data["train"], data["test"]

    def evaluate(trained: AttentionSeq2Seq) -> dict:
        scores = score_dates(trained, test)
        return {"exact": scores.exact.float().mean().item(), "characters": scores.characters,
                "alignment": scores.alignment, "exact_by_format": accuracy_by_format(scores.exact, data["examples"])}

    start = time.perf_counter()
    curve = train_seq2seq(model, train.source, train.source_mask, train.target, config["steps"],
                          batch_size=config["batch_size"], lr=config["lr"], seed=spec["seed"],
                          checkpoints=config["checkpoints"], evaluate=evaluate)
    encoder = {"encoder": settings["encoder"]} if "encoder" in settings else {}
    return {"mode": mode, "bypass": settings["bypass"], **encoder, "seconds": round(time.perf_counter() - start, 1),
            "checkpoints": {str(step): result for step, result in curve.items()}}


def sweep(argv: list[str] | None, *, script: str, description: str, variants: tuple[str, ...],
          output: Path) -> int:
    """The command line and the sweep of ``script``: ``dates.py`` and ``dates_encoder.py`` share the
    options, the configuration (so the same budget), the data and the training of a run; they differ
    in their variants and their file."""
    parser = sweep_parser(description, variants=variants, steps=400, batch_size=128, output=output)
    parser.add_argument("--checkpoints", nargs="+", type=at_least(1), default=[200, 400],
                        help="steps after which to score, increasing, the last = --steps")
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--hidden", type=at_least(1), default=64)
    parser.add_argument("--window", type=at_least(0), default=6, help="half-width D of the local windows")
    parser.add_argument("--train-size", type=at_least(1), default=4000)
    parser.add_argument("--test-size", type=at_least(1), default=1000)
    args = parser.parse_args(argv)
    if sorted(set(args.checkpoints)) != args.checkpoints or args.checkpoints[-1] != args.steps:
        parser.error(f"--checkpoints must increase and end at --steps={args.steps}, got {args.checkpoints}")
    bidirectional = [variant for variant in args.variants if settings_of(variant).get("encoder") == "bi"]
    if bidirectional and args.hidden % 2:
        parser.error(f"--hidden must be even for the bidirectional encoder ({bidirectional[0]}), got {args.hidden}")
    torch.set_num_threads(args.threads)
    config = {"steps": args.steps, "checkpoints": args.checkpoints, "batch_size": args.batch_size, "lr": args.lr,
              "hidden": args.hidden, "window": args.window, "score": "general", "train_size": args.train_size,
              "train_data_seed": 0, "test_size": args.test_size, "test_data_seed": 1,
              "formats": [list(f) for f in DATE_FORMATS]}
    store = SweepStore(args.output, script=script, config=config,
                       settings={variant: settings_of(variant) for variant in args.variants})

    def prepare() -> dict:
        train, test = make_dates(args.train_size, seed=0), make_dates(args.test_size, seed=1)
        return {"train": encode_dates(train), "test": encode_dates(test), "examples": test}

    def describe(run: dict) -> str:
        final = run["checkpoints"][str(args.steps)]
        encoder = f" encoder {run['encoder']:>3}" if "encoder" in run else ""
        return (f"{run['mode']:>15} bypass {run['bypass']:>3}{encoder} seed {run['seed']}: exact {final['exact']:.3f} "
                f"alignment {final['alignment']:.3f} ({run['seconds']:.0f} s)")

    return run_sweep(store, args.variants, args.seeds, prepare=prepare, train=run_one, describe=describe,
                     budget_minutes=args.budget_minutes, argv=argv)


def main(argv: list[str] | None = None) -> int:
    return sweep(argv, script=SCRIPT, description=__doc__.split("\n")[0], variants=VARIANTS, output=DEFAULT_OUTPUT)


if __name__ == "__main__":
    raise SystemExit(main())
