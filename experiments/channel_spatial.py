"""Trained comparison of channel and spatial attention modules on cluttered digits.

The chapter "Channel and spatial attention" reads ``channel_spatial.json`` from the package's stored results (``code/src/attnbook/results/``).
Every variant trains the same small ResNet (three stages of one basic block, 8, 16 and
32 channels) on the same 3,000 cluttered digits for the same number of steps (batch 32,
Adam, one-cycle learning rate), for each seed; every ``eval_every`` steps it records the
accuracy on the 1,000 test images and on a fixed 1,000-image subset of the training set,
and at the end on the whole training set. Variants ending in ``-open`` start their gates
open (:func:`attnbook.channel.gate_init.open_gates`, logit 3, gates near 0.95) instead of near 1/2.

The runs go through the shared sweep store (``experiments/_sweep.py``): finished (variant,
seed) pairs are kept and skipped, ``--budget-minutes`` starts no run after that time so the
sweep can be cut into chunks, and a call with other settings stops and leaves the file as
it is. Example (the stored results)::

    python experiments/channel_spatial.py --steps 800 --eval-every 200 --budget-minutes 6.5
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
import torch.nn.functional as F

import attnbook as ab
from attnbook.channel import open_gates
from attnbook.models import fit

from _sweep import SweepStore, at_least, run_sweep, sweep_parser

SCRIPT = "experiments/channel_spatial.py"
VARIANTS = ("plain", "se", "eca", "cbam", "bam", "se-open", "cbam-open", "gc", "coord", "coord-open")
DEFAULT_VARIANTS = VARIANTS[:-1]
DEFAULT_OUTPUT = ab.book.results_folder() / "channel_spatial.json"
TRAIN_SUBSET = 1000  # the training images whose accuracy the curve records


def settings_of(variant: str) -> dict:
    """A variant's settings: its attention module, that module's arguments, open gates or not."""
    attention = variant.removesuffix("-open")
    attention = None if attention == "plain" else attention
    return {"attention": attention,
            "attention_kwargs": {"rd_ratio": 1 / 4} if attention in ("se", "cbam", "bam", "gc") else None,
            "open_gates": variant.endswith("-open")}


def make_model(settings: dict, config: dict) -> torch.nn.Module:
    """The chapter's small ResNet with the attention of ``settings`` (r = 4 for the MLP modules)."""
    model = ab.models.small_resnet(settings["attention"], widths=tuple(config["widths"]),
                                   attention_kwargs=settings["attention_kwargs"])
    if settings["open_gates"]:
        open_gates(model, config["open_gate_logit"])
    return model


def accuracy(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        correct = sum((model(images[i:i + 500]).argmax(-1) == labels[i:i + 500]).sum().item()
                      for i in range(0, len(labels), 500))
    model.train()
    return correct / len(labels)


def train_run(spec: dict, data: dict) -> dict:
    """Train the run of ``spec`` with :func:`attnbook.models.fit`; return its learning curve and final accuracies."""
    config, seed = spec["config"], spec["seed"]
    torch.manual_seed(seed)
    model = make_model(spec["settings"], config)
    train_images, train_labels = data["train"]
    subset = config["train_subset"]

    def loss_fn(rows: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(model(train_images[rows]), train_labels[rows])

    def evaluate(trained: torch.nn.Module) -> tuple[float, float]:
        return (accuracy(trained, *data["test"]), accuracy(trained, train_images[:subset], train_labels[:subset]))

    steps, every = config["steps"], config["eval_every"]
    checkpoints = sorted({0, steps, *range(every, steps + 1, every)})
    start = time.perf_counter()
    result = fit(model, loss_fn, len(train_labels), steps, config["batch"], lr=config["lr"],
                 schedule=config["schedule"], seed=seed, checkpoints=checkpoints, evaluate=evaluate)
    curve = {"step": checkpoints, "test": [result.evaluations[step][0] for step in checkpoints],
             "train_subset": [result.evaluations[step][1] for step in checkpoints]}
    return {"curve": curve, "test": curve["test"][-1], "train": accuracy(model, train_images, train_labels),
            "parameters": ab.count_parameters(model), "seconds": round(time.perf_counter() - start, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = sweep_parser(__doc__.split("\n")[0], variants=VARIANTS, default_variants=DEFAULT_VARIANTS,
                          steps=800, batch_size=32, output=DEFAULT_OUTPUT)
    parser.add_argument("--eval-every", type=at_least(1), default=200, help="steps between evaluations")
    parser.add_argument("--train-size", type=at_least(1), default=3000)
    parser.add_argument("--test-size", type=at_least(1), default=1000)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    config = {"steps": args.steps, "eval_every": args.eval_every, "batch": args.batch_size, "lr": 3e-3,
              "schedule": "one_cycle", "widths": [8, 16, 32], "train_size": args.train_size,
              "test_size": args.test_size, "train_subset": TRAIN_SUBSET,
              "data": "make_cluttered_digits(canvas=28, clutter=4); train seed 0, test seed 1",
              "open_gate_logit": 3.0}
    store = SweepStore(args.output, script=SCRIPT, config=config,
                       settings={variant: settings_of(variant) for variant in args.variants})

    def prepare() -> dict:
        return {"train": ab.data.make_cluttered_digits(args.train_size, seed=0, split="train", canvas=28, clutter=4)[:2],
                "test": ab.data.make_cluttered_digits(args.test_size, seed=1, split="test", canvas=28, clutter=4)[:2]}

    def describe(run: dict) -> str:
        return (f"{run['variant']:>10} seed {run['seed']}: test {run['test']:.3f} train {run['train']:.3f} "
                f"({run['seconds']} s)")

    return run_sweep(store, args.variants, args.seeds, prepare=prepare, train=train_run, describe=describe,
                     budget_minutes=args.budget_minutes, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
