"""Trained comparison of channel and spatial attention modules on cluttered digits.

The chapter "Channel and spatial attention" reads ``results/channel_spatial.json``.
Every variant trains the same small ResNet (three stages of one basic block, 8, 16 and
32 channels) on the same 3,000 cluttered digits for the same number of steps (batch 32,
Adam, one-cycle learning rate), for each seed; every ``eval_every`` steps it records the
accuracy on the 1,000 test images and on a fixed 1,000-image subset of the training set,
and at the end on the whole training set. Variants ending in ``-open`` start their gates
open (:func:`attnbook.channel.gate_init.open_gates`, logit 3, gates near 0.95) instead of near 1/2.

The run is resumable: finished (variant, seed) pairs are kept in the JSON and skipped,
and ``--max-minutes`` stops after the run that passes that time, so the sweep can be cut
into chunks. Example (the stored results)::

    python experiments/channel_spatial.py --seeds 5 --steps 800 --eval-every 200 --max-minutes 6.5
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
import torch.nn.functional as F

import attnbook as ab
from attnbook.channel import open_gates
from attnbook.models import fit

VARIANTS = ("plain", "se", "eca", "cbam", "bam", "se-open", "cbam-open", "gc", "coord", "coord-open")
DEFAULT_VARIANTS = VARIANTS[:-1]
DEFAULT_OUTPUT = Path(__file__).parent / "results" / "channel_spatial.json"


def make_model(variant: str) -> torch.nn.Module:
    """The chapter's small ResNet with ``variant``'s attention (r = 4 for the MLP modules)."""
    attention = variant.removesuffix("-open")
    attention = None if attention == "plain" else attention
    kwargs = {"rd_ratio": 1 / 4} if attention in ("se", "cbam", "bam", "gc") else None
    model = ab.models.small_resnet(attention, widths=(8, 16, 32), attention_kwargs=kwargs)
    if variant.endswith("-open"):
        open_gates(model, 3.0)
    return model


def accuracy(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        correct = sum((model(images[i:i + 500]).argmax(-1) == labels[i:i + 500]).sum().item()
                      for i in range(0, len(labels), 500))
    model.train()
    return correct / len(labels)


def train_run(variant: str, seed: int, steps: int, eval_every: int, data: dict) -> dict:
    """Train one model with :func:`attnbook.models.fit`; return its learning curve and final accuracies."""
    torch.manual_seed(seed)
    model = make_model(variant)
    train_images, train_labels = data["train"]

    def loss_fn(rows: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(model(train_images[rows]), train_labels[rows])

    def evaluate(trained: torch.nn.Module) -> tuple[float, float]:
        return (accuracy(trained, *data["test"]), accuracy(trained, train_images[:1000], train_labels[:1000]))

    checkpoints = sorted({0, steps, *range(eval_every, steps + 1, eval_every)})
    start = time.perf_counter()
    result = fit(model, loss_fn, len(train_labels), steps, 32, lr=3e-3, schedule="one_cycle", seed=seed,
                 checkpoints=checkpoints, evaluate=evaluate)
    curve = {"step": checkpoints, "test": [result.evaluations[step][0] for step in checkpoints],
             "train_subset": [result.evaluations[step][1] for step in checkpoints]}
    return {"variant": variant, "seed": seed, "curve": curve, "test": curve["test"][-1],
            "train": accuracy(model, train_images, train_labels),
            "parameters": ab.count_parameters(model), "seconds": round(time.perf_counter() - start, 1)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--eval-every", type=int, default=200)
    parser.add_argument("--train-size", type=int, default=3000)
    parser.add_argument("--test-size", type=int, default=1000)
    parser.add_argument("--variants", nargs="+", default=list(DEFAULT_VARIANTS), choices=VARIANTS)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-minutes", type=float, default=float("inf"),
                        help="stop after the run that passes this much time (resume later)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    config = {"steps": args.steps, "eval_every": args.eval_every, "batch": 32,
              "lr": 3e-3, "widths": [8, 16, 32], "train_size": args.train_size, "test_size": args.test_size,
              "data": "make_cluttered_digits(canvas=28, clutter=4); train seed 0, test seed 1",
              "open_gate_logit": 3.0}
    report = {"config": config, "runs": []}
    if args.output.exists():
        stored = json.loads(args.output.read_text())
        if stored.get("config") == config:
            report = stored
        else:
            print(f"{args.output} holds another configuration; starting afresh", file=sys.stderr)
    data = {"train": ab.data.make_cluttered_digits(args.train_size, seed=0, split="train", canvas=28, clutter=4)[:2],
            "test": ab.data.make_cluttered_digits(args.test_size, seed=1, split="test", canvas=28, clutter=4)[:2]}
    done = {(run["variant"], run["seed"]) for run in report["runs"]}
    began = time.perf_counter()
    for seed in range(args.seeds):
        for variant in args.variants:
            if (variant, seed) in done:
                continue
            if (time.perf_counter() - began) / 60 > args.max_minutes:
                print("time budget reached; run again to resume")
                return report
            run = train_run(variant, seed, args.steps, args.eval_every, data)
            run["threads"] = args.threads
            report["runs"].append(run)
            report.update(torch=torch.__version__, python=platform.python_version(), machine=platform.machine(),
                          threads=args.threads, date=datetime.date.today().isoformat(),
                          command="python experiments/channel_spatial.py " + " ".join(argv or sys.argv[1:]))
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(json.dumps(report, indent=1) + "\n")
            print(f"{variant:>10} seed {seed}: test {run['test']:.3f} train {run['train']:.3f} ({run['seconds']} s)",
                  flush=True)
    return report


if __name__ == "__main__":
    main()
