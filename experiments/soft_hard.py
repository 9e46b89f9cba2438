"""Soft vs hard attention on cluttered digits: every model, several seeds, equal budgets.

Trains each variant for the same number of steps with the same batch size on the same
data, for every seed, evaluates test accuracy, counts multiply-adds per image, and writes
``soft_hard.json`` in the package's stored results (``code/src/attnbook/results/``) (which the chapter "Soft vs hard attention" reads)
through the shared sweep store (``experiments/_sweep.py``): finished (variant, seed) runs
are kept and skipped, so the sweep can run in chunks (``--variants soft --seeds 0 1 2``),
and a call with other settings stops and leaves the file as it is.

Variants (every setting is stored with each run, in its ``spec``):

* ``soft``: soft attention over a CNN feature map, backpropagation (lr 1e-3, gradients clipped).
* ``hard``: the glimpse model, REINFORCE with a learned baseline (lr 3e-3, clipped).
* ``hard_no_reinforce``: the same with the policy frozen at its brightness prior.
* ``hard_no_prior``: the same with REINFORCE but a uniform initial policy.
* ``hard_no_prior_no_reinforce``: the control for it: no prior and the policy frozen, so the
  glimpses stay where the untrained policy puts them and only the classifier side learns.
* ``soft_old``, ``hard_old``: the chapter's earlier recipe (lr 3e-3, no clipping; a moving-
  average baseline for the glimpse model), to show what the fixes change.

``--set KEY=VALUE`` changes a setting of every chosen variant for exploration; the change is
part of the configuration, so it goes to a file of its own (``--output``)::

    python experiments/soft_hard.py --steps 1000 --seeds 0 1 2 3 4
    python experiments/soft_hard.py --variants soft --set lr=0.003 --output /tmp/soft_lr.json
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import torch

import attnbook as ab
from attnbook.models import multiply_adds, train_glimpses, train_soft

from _sweep import SweepStore, at_least, parse_overrides, run_sweep, sweep_parser

SCRIPT = "experiments/soft_hard.py"
_HARD = {"model": "hard", "lr": 3e-3, "clip_norm": 1.0, "baseline": "learned", "reinforce": True,
         "saliency_gain": 20.0, "glimpses": 2, "glimpse_size": 16}
#: Every variant's settings, read-only (``--set`` changes copies).
VARIANTS: Mapping[str, Mapping[str, Any]] = MappingProxyType({name: MappingProxyType(settings) for name, settings in {
    "soft": {"model": "soft", "lr": 1e-3, "clip_norm": 1.0},
    "hard": {**_HARD},
    "hard_no_reinforce": {**_HARD, "reinforce": False},
    "hard_no_prior": {**_HARD, "saliency_gain": 0.0},
    "hard_no_prior_no_reinforce": {**_HARD, "reinforce": False, "saliency_gain": 0.0},
    "soft_old": {"model": "soft", "lr": 3e-3, "clip_norm": None},
    "hard_old": {**_HARD, "clip_norm": None, "baseline": "moving_average"},
}.items()})
DEFAULT_OUTPUT = ab.book.results_folder() / "soft_hard.json"


def build(settings: Mapping[str, Any]) -> torch.nn.Module:
    """The untrained model of a variant's settings (seed torch first)."""
    if settings["model"] == "soft":
        return ab.models.SoftAttentionClassifier()
    return ab.models.RecurrentAttentionModel(glimpses=settings["glimpses"], glimpse_size=settings["glimpse_size"],
                                             saliency_gain=settings["saliency_gain"])


def run_one(spec: dict, data: dict) -> dict:
    """Train the run of ``spec`` (from the sweep store) and evaluate it on the test set."""
    settings, config, seed = spec["settings"], spec["config"], spec["seed"]
    torch.manual_seed(seed)
    model = build(settings).to(data["device"])
    start = time.perf_counter()
    common = dict(steps=config["steps"], batch_size=config["batch"], lr=settings["lr"],
                  clip_norm=settings["clip_norm"], seed=seed)
    if settings["model"] == "soft":
        losses = train_soft(model, data["train_images"], data["train_labels"], **common)
    else:
        losses = train_glimpses(model, data["train_images"], data["train_labels"], **common,
                                baseline=settings["baseline"], reinforce=settings["reinforce"])
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        if settings["model"] == "soft":
            predictions = model(data["test_images"]).logits.argmax(-1)
        else:
            predictions = model(data["test_images"], sample=False).logits.argmax(-1)
    predictions = predictions.cpu()
    accuracy = (predictions == data["test_labels"]).float().mean().item()
    share = torch.bincount(predictions, minlength=10).max().item() / len(predictions)
    tail = losses[-max(1, config["steps"] // 10):]
    return {"accuracy": accuracy, "largest_class_share": share, "final_loss": sum(tail) / len(tail),
            "seconds": seconds}


def derived_figures(overrides: Mapping[str, Any]) -> dict:
    """Multiply-adds, parameters and values read per image of the soft and the hard model."""
    models = {name: build({**VARIANTS[name], **{key: value for key, value in overrides.items()
                                                if key in VARIANTS[name]}}) for name in ("soft", "hard")}
    return {"multiply_adds": {name: multiply_adds(model) for name, model in models.items()},
            "parameters": {name: ab.count_parameters(model) for name, model in models.items()},
            "values_read": {"soft": 40 * 40, "hard_full_resolution": models["hard"].glimpses
                            * models["hard"].glimpse_size ** 2, "hard_coarse_view": models["hard"].grid ** 2}}


def main(argv: list[str] | None = None) -> int:
    parser = sweep_parser(__doc__.split("\n")[0], variants=list(VARIANTS), steps=1000, batch_size=64,
                          output=DEFAULT_OUTPUT)
    parser.add_argument("--train-size", type=at_least(1), default=4000)
    parser.add_argument("--test-size", type=at_least(1), default=1000)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE", dest="overrides",
                        help="change a setting of every chosen variant (exploration: it is part of the "
                             "configuration, so use another --output), e.g. lr=0.003 clip_norm=None")
    args = parser.parse_args(argv)
    try:
        overrides = parse_overrides(args.overrides, {variant: VARIANTS[variant] for variant in args.variants},
                                    fixed=("model",))
    except ValueError as error:
        parser.error(str(error))
    torch.set_num_threads(args.threads)
    config = {"steps": args.steps, "batch": args.batch_size, "train_size": args.train_size,
              "test_size": args.test_size, "image_size": 40, "train_seed": 0, "test_seed": 1, "overrides": overrides}
    store = SweepStore(args.output, script=SCRIPT, config=config, derived=derived_figures(overrides),
                       settings={variant: {**VARIANTS[variant], **overrides} for variant in args.variants})

    def prepare() -> dict:
        device = torch.device(args.device)
        train = ab.data.make_cluttered_digits(args.train_size, seed=0, split="train")
        test = ab.data.make_cluttered_digits(args.test_size, seed=1, split="test")
        return {"device": device, "train_images": train.images.to(device), "train_labels": train.labels.to(device),
                "test_images": test.images.to(device), "test_labels": test.labels}

    def describe(run: dict) -> str:
        return (f"{run['variant']:>26} seed {run['seed']}: accuracy {run['accuracy']:.3f} "
                f"(largest class share {run['largest_class_share']:.2f}) {run['seconds']:.0f} s")

    return run_sweep(store, args.variants, args.seeds, prepare=prepare, train=run_one, describe=describe,
                     budget_minutes=args.budget_minutes, argv=argv, device=args.device)


if __name__ == "__main__":
    raise SystemExit(main())
