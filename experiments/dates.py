"""Dates to ISO: global vs local Luong attention, with and without the encoder-state bypass.

Trains ``AttentionSeq2Seq`` (GRU encoder-decoder with input feeding) with each
attention mode, each seed, and the decoder started either from the encoder's
final state (``bypass=on``, the usual set-up) or from zeros (``bypass=off``:
attention is the only path from the source to the decoder). Every run has the
same budget (steps, batch size, learning rate, data) and is evaluated at the
same checkpoints, on the same test set, overall and per source format.

Resumable: finished runs are kept in the output JSON and skipped; the script
stops starting new runs after ``--max-minutes`` so that it can run in chunks.
Run it again until it prints ``complete``.

    python experiments/dates.py                      # the full sweep the chapter reads
    python experiments/dates.py --steps 3 --seeds 0 --train-size 64 --test-size 32 --out /tmp/x.json
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
import time
from pathlib import Path

import torch

from attnbook.data.dates import (DATE_FORMATS, SOURCE_VOCAB, TARGET_VOCAB, accuracy_by_format, encode_dates,
                            make_dates, score_dates)
from attnbook.local import LuongAttention
from attnbook.models import AttentionSeq2Seq, train_seq2seq

MODES = ("global", "local-m", "local-m-scaled", "local-p")
DEFAULT_OUT = Path(__file__).parent / "results" / "dates.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--bypass", nargs="+", default=["on", "off"], choices=["on", "off"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--checkpoints", nargs="+", type=int, default=[200, 400])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--window", type=int, default=6, help="half-width D of the local windows")
    parser.add_argument("--train-size", type=int, default=4000)
    parser.add_argument("--test-size", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-minutes", type=float, default=7.0,
                        help="start no new run after this many minutes (resume later)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if sorted(set(args.checkpoints)) != args.checkpoints or args.checkpoints[-1] != args.steps:
        parser.error(f"--checkpoints must increase and end at --steps={args.steps}, got {args.checkpoints}")
    return args


def config_of(args: argparse.Namespace) -> dict:
    """What every run shares; a stored file with another config is not resumed."""
    return {"steps": args.steps, "checkpoints": args.checkpoints, "batch_size": args.batch_size, "lr": args.lr,
            "hidden": args.hidden, "window": args.window, "score": "general", "train_size": args.train_size,
            "train_data_seed": 0, "test_size": args.test_size, "test_data_seed": 1,
            "formats": [list(f) for f in DATE_FORMATS]}


def run_one(mode: str, bypass: bool, seed: int, args: argparse.Namespace, train, test, test_examples) -> dict:
    torch.manual_seed(seed)
    attention = LuongAttention(args.hidden, score="general", mode=mode,
                               window=None if mode == "global" else args.window)
    model = AttentionSeq2Seq(len(SOURCE_VOCAB), len(TARGET_VOCAB), args.hidden, attention,
                             init_from_encoder=bypass)

    def evaluate(trained: AttentionSeq2Seq) -> dict:
        scores = score_dates(trained, test)
        return {"exact": scores.exact.float().mean().item(), "characters": scores.characters,
                "alignment": scores.alignment, "exact_by_format": accuracy_by_format(scores.exact, test_examples)}

    start = time.perf_counter()
    curve = train_seq2seq(model, train.source, train.source_mask, train.target, args.steps,
                          batch_size=args.batch_size, lr=args.lr, seed=seed, checkpoints=args.checkpoints,
                          evaluate=evaluate)
    return {"mode": mode, "bypass": "on" if bypass else "off", "seed": seed,
            "seconds": round(time.perf_counter() - start, 1),
            "checkpoints": {str(step): result for step, result in curve.items()}}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    config = config_of(args)
    report = {"config": config, "runs": []}
    if args.out.exists():
        stored = json.loads(args.out.read_text())
        if stored["config"] != config:
            raise SystemExit(f"{args.out} holds runs with another config; move it away or pass the same options.\n"
                             f"stored: {stored['config']}\nasked:  {config}")
        report = stored
    report.update({"torch": torch.__version__, "python": platform.python_version(),
                   "hardware": platform.machine(), "threads": args.threads,
                   "command": "python experiments/dates.py " + " ".join(sys.argv[1:] if argv is None else argv)})
    done = {(run["mode"], run["bypass"], run["seed"]) for run in report["runs"]}
    train_examples = make_dates(args.train_size, seed=0)
    test_examples = make_dates(args.test_size, seed=1)
    train, test = encode_dates(train_examples), encode_dates(test_examples)
    started = time.perf_counter()
    todo = [(mode, bypass, seed) for seed in args.seeds for bypass in args.bypass for mode in args.modes
            if (mode, bypass, seed) not in done]
    for mode, bypass, seed in todo:
        if time.perf_counter() - started > 60 * args.max_minutes:
            print(f"stopping after {args.max_minutes} minutes; run again to resume "
                  f"({len(report['runs'])} runs stored)")
            return 0
        run = run_one(mode, bypass == "on", seed, args, train, test, test_examples)
        report["runs"].append(run)
        report["date"] = datetime.date.today().isoformat()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")
        final = run["checkpoints"][str(args.steps)]
        print(f"{mode:>15} bypass {bypass:>3} seed {seed}: exact {final['exact']:.3f} "
              f"({run['seconds']:.0f} s)", flush=True)
    print(f"complete: {len(report['runs'])} runs in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
