"""Learning curves of soft vs hard attention on cluttered digits (issue 17): one long run per
(variant, seed), evaluated at checkpoints, so accuracy and loss can be read against steps
and against training compute.

The hard model is the recurrent attention model of Mnih et al. (2014),
https://arxiv.org/abs/1406.6247, as ``attnbook.models.RecurrentAttentionModel`` builds it;
the soft model is ``attnbook.models.SoftAttentionClassifier`` (soft attention over a CNN
feature map, in the sense of Xu et al., 2015, https://arxiv.org/abs/1502.03044).

Each run trains ``--steps`` (default 4000) steps of ``--batch-size`` (64) images through the
package's one training loop (``attnbook.models.fit_soft`` / ``fit_glimpses`` over ``fit``)
and evaluates, at every checkpoint of that ONE run (default 0, 100, 200, 400, 800, 1000,
1500, 2000, 3000, 4000; never one run per budget), on the same 1000 test images as
``soft_hard.py``: test accuracy (arg-max glimpses for the hard models), the largest class
share, the mean training cross-entropy over the ``loss_window`` (100) steps up to the
checkpoint, the wall seconds of training so far (evaluation excluded) and the training
compute so far, ``steps x batch x 3 x forward multiply-adds per image`` (forward and
backward counted as 3 forwards, a convention: the backward pass costs about two forwards).
The hard variants also record the mean entropy of the first glimpse's policy (nats, of a
maximum ``log(cells)``), test accuracy with sampled glimpses, and the share of test images
whose first glimpse (arg-max and sampled) is centred inside the digit's true box; the soft
model records the attention mass on feature-map cells centred inside the box. The steps'
mean loss per window (``loss_curve``) is stored too.

Variants (5 seeds each, equal budgets; every setting is stored with each run, in its spec):

* ``soft``, ``hard``: the recipes of ``soft_hard.py`` exactly (its ``VARIANTS``), so the
  checkpoint at its budget (1000 steps) repeats its runs where threads and CPU agree.
* ``hard_ceiling``: every glimpse on the coarse cell nearest the centre of the true digit
  box (the best place this model's policy can choose; the cell centre lies inside the box,
  at most 2 pixels from its centre), the policy not used or trained: the upper bound of the
  glimpse classifier with this sensor and budget.
* ``hard_detached``: the policy and the baseline read a detached state, as standard RAM
  implementations do (REINFORCE and the baseline's regression do not train the core).
* ``hard_4glimpses``: 4 glimpses instead of 2.
* ``hard_no_prior``: the policy starts uniform (no brightness prior), as ``soft_hard.py``'s
  ``hard_no_prior``: does learning start with four times its steps? Added after the file of
  the five above was complete, so it is stored in its own file and runs only when asked for
  (``--variants hard_no_prior --output .../soft_hard_curves_no_prior.json``).

The file is ``soft_hard_curves.json`` in the package's stored results, written through the
shared sweep store (``experiments/_sweep.py``): finished runs are kept and skipped, each
write is atomic, so a call can be interrupted (or stopped by ``--budget-minutes``) and
resumed::

    nice -n 10 python experiments/soft_hard_curves.py --threads 1 --budget-minutes 20 \\
        --variants soft hard
    nice -n 10 python experiments/soft_hard_curves.py --threads 1 --budget-minutes 20 \\
        --variants hard_ceiling hard_detached hard_4glimpses hard_no_prior
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import torch

import attnbook as ab
from attnbook.models import fit_glimpses, fit_soft, multiply_adds

from _sweep import SweepStore, at_least, run_sweep, sweep_parser
from soft_hard import VARIANTS as SOFT_HARD_VARIANTS

SCRIPT = "experiments/soft_hard_curves.py"
#: The checkpoints of a 4000-step run (those <= --steps are kept, and --steps is added).
DEFAULT_CHECKPOINTS = (0, 100, 200, 400, 800, 1000, 1500, 2000, 3000, 4000)
#: Training compute per image: forward + backward, counted as this many forward passes.
FORWARD_BACKWARD_FACTOR = 3
_HARD = {**SOFT_HARD_VARIANTS["hard"], "detach_policy_input": False, "locations": "policy"}
#: Every variant's settings, read-only.
VARIANTS: Mapping[str, Mapping[str, Any]] = MappingProxyType({name: MappingProxyType(settings) for name, settings in {
    "soft": {**SOFT_HARD_VARIANTS["soft"]},
    "hard": {**_HARD},
    "hard_ceiling": {**_HARD, "reinforce": False, "locations": "digit_cell"},
    "hard_detached": {**_HARD, "detach_policy_input": True},
    "hard_4glimpses": {**_HARD, "glimpses": 4},
    "hard_no_prior": {**_HARD, "saliency_gain": 0.0},
}.items()})
DEFAULT_OUTPUT = ab.book.results_folder() / "soft_hard_curves.json"


def build(settings: Mapping[str, Any]) -> torch.nn.Module:
    """The untrained model of a variant's settings (seed torch first); the same draws as
    ``soft_hard.build`` for the recipes the two scripts share."""
    if settings["model"] == "soft":
        return ab.models.SoftAttentionClassifier()
    return ab.models.RecurrentAttentionModel(glimpses=settings["glimpses"], glimpse_size=settings["glimpse_size"],
                                             saliency_gain=settings["saliency_gain"],
                                             detach_policy_input=settings["detach_policy_input"])


def inside_boxes(locations: torch.Tensor, boxes: torch.Tensor, image_size: int) -> torch.Tensor:
    """Whether each normalised ``(row, col)`` location lies inside its pixel box.

    Args:
        locations: ``(count, 2)`` normalised centres (-1 and 1 are the image's outer edges).
        boxes: ``(count, 4)`` boxes as (top, left, height, width) in pixels, covering pixels
            ``top .. top + height - 1`` (as ``attnbook.data.make_cluttered_digits`` returns).
        image_size: side of the square image in pixels.

    Returns:
        ``(count,)`` booleans.
    """
    pixels = (locations.float().cpu() + 1) * image_size / 2  # continuous pixel coordinates
    top, left, height, width = boxes.unbind(-1)
    return ((pixels[:, 0] >= top) & (pixels[:, 0] < top + height)
            & (pixels[:, 1] >= left) & (pixels[:, 1] < left + width))


def digit_cells(model: ab.models.RecurrentAttentionModel, boxes: torch.Tensor, image_size: int) -> torch.Tensor:
    """Every glimpse on the coarse cell whose centre is nearest the centre of each box.

    Args:
        model: gives the cells' centres (``model.centres``) and the glimpse count.
        boxes: ``(count, 4)`` pixel boxes (top, left, height, width).
        image_size: side of the square image in pixels.

    Returns:
        ``(count, glimpses, 2)`` normalised locations (ties go to the first cell in row-major order).
    """
    centres = torch.stack([boxes[:, 0] + boxes[:, 2] / 2, boxes[:, 1] + boxes[:, 3] / 2], dim=-1)
    normalised = centres.float() * 2 / image_size - 1
    cells = model.centres.cpu()
    nearest = torch.cdist(normalised, cells).argmin(-1)
    return cells[nearest][:, None, :].expand(-1, model.glimpses, -1).contiguous()


def _entropy(log_policy: torch.Tensor) -> float:
    return torch.distributions.Categorical(logits=log_policy).entropy().mean().item()


def evaluate_run(model: torch.nn.Module, settings: Mapping[str, Any], data: dict, sample_seed: int,
                 test_locations: torch.Tensor | None) -> dict[str, Any]:
    """Test figures of ``model`` (in eval mode, without gradients) at one checkpoint."""
    labels, boxes = data["test_labels"], data["test_boxes"]
    figures: dict[str, Any] = {}
    if settings["model"] == "soft":
        out = model(data["test_images"])
        predictions = out.logits.argmax(-1).cpu()
        rows = out.weights.shape[1]
        cell = torch.arange(rows, dtype=torch.float32) * 2 + 1  # cell centres, in units of half a cell
        centres = cell / rows - 1
        grid = torch.cartesian_prod(centres, centres)  # (rows * cols, 2) normalised
        flat = out.weights.flatten(1).cpu()
        inside = torch.stack([inside_boxes(grid, box.expand(len(grid), 4), data["image_size"]) for box in boxes])
        figures["attention_mass_inside_box"] = (flat * inside).sum(-1).mean().item()
    else:
        locations = None if test_locations is None else test_locations.to(data["device"])
        out = model(data["test_images"], sample=False, locations=locations)
        predictions = out.logits.argmax(-1).cpu()
        generator = torch.Generator(device=data["device"]).manual_seed(sample_seed)
        sampled = model(data["test_images"], sample=True, generator=generator, locations=locations)
        figures["accuracy_sampled"] = (sampled.logits.argmax(-1).cpu() == labels).float().mean().item()
        figures["first_glimpse_inside_box"] = inside_boxes(out.locations[:, 0], boxes,
                                                           data["image_size"]).float().mean().item()
        figures["first_glimpse_inside_box_sampled"] = inside_boxes(sampled.locations[:, 0], boxes,
                                                                   data["image_size"]).float().mean().item()
        figures["policy_entropy"] = _entropy(model.initial_log_policy(data["test_images"]))
    figures["accuracy"] = (predictions == labels).float().mean().item()
    figures["largest_class_share"] = torch.bincount(predictions, minlength=10).max().item() / len(predictions)
    return figures


def run_one(spec: dict, data: dict) -> dict:
    """Train the run of ``spec`` (from the sweep store), evaluating it at its checkpoints."""
    settings, config, seed = spec["settings"], spec["config"], spec["seed"]
    per_image = multiply_adds(build(settings))["total"]  # before seeding: the run's draws stay its own
    torch.manual_seed(seed)
    model = build(settings).to(data["device"])
    train_locations = test_locations = None
    if settings["model"] == "hard" and settings["locations"] == "digit_cell":
        train_locations = digit_cells(model, data["train_boxes"], data["image_size"]).to(data["device"])
        test_locations = digit_cells(model, data["test_boxes"], data["image_size"])
    clock = {"training": 0.0, "evaluation": 0.0, "since": time.perf_counter()}

    def evaluate(trained: torch.nn.Module) -> dict[str, Any]:
        now = time.perf_counter()
        clock["training"] += now - clock["since"]
        figures = evaluate_run(trained, settings, data, config["sample_seed"], test_locations)
        figures["seconds"] = clock["training"]
        clock["since"] = time.perf_counter()
        clock["evaluation"] += clock["since"] - now
        return figures

    common = dict(steps=config["steps"], batch_size=config["batch"], lr=settings["lr"],
                  clip_norm=settings["clip_norm"], seed=seed, checkpoints=config["checkpoints"], evaluate=evaluate)
    clock["since"] = time.perf_counter()
    if settings["model"] == "soft":
        result = fit_soft(model, data["train_images"], data["train_labels"], **common)
    else:
        result = fit_glimpses(model, data["train_images"], data["train_labels"], **common,
                              baseline=settings["baseline"], reinforce=settings["reinforce"],
                              locations=train_locations)
    clock["training"] += time.perf_counter() - clock["since"]
    window, losses = config["loss_window"], result.losses
    checkpoints = []
    for step in sorted(result.evaluations):
        recent = losses[max(0, step - window):step]
        checkpoints.append({"step": step, **result.evaluations[step],
                            "train_loss": sum(recent) / len(recent) if recent else None,
                            "training_multiply_adds": step * config["batch"] * FORWARD_BACKWARD_FACTOR * per_image})
    last = checkpoints[-1]
    results = {"accuracy": last["accuracy"], "final_loss": last["train_loss"], "seconds": clock["training"],
               "evaluation_seconds": clock["evaluation"], "multiply_adds_per_image": per_image,
               "checkpoints": checkpoints,
               "loss_curve": [sum(losses[i:i + window]) / len(losses[i:i + window])
                              for i in range(0, len(losses), window)]}
    if settings["model"] == "hard":
        results["initial_policy_entropy"] = checkpoints[0]["policy_entropy"] if checkpoints[0]["step"] == 0 else None
    return results


def derived_figures(batch: int) -> dict:
    """Multiply-adds and parameters of every variant's model, its training compute per step,
    and the largest possible entropy of the glimpse policy."""
    models = {name: build(settings) for name, settings in VARIANTS.items()}
    counts = {name: multiply_adds(model) for name, model in models.items()}
    cells = models["hard"].grid ** 2
    return {"multiply_adds": counts,
            "parameters": {name: ab.count_parameters(model) for name, model in models.items()},
            "training_compute": {"forward_backward_factor": FORWARD_BACKWARD_FACTOR,
                                 "multiply_adds_per_step": {name: FORWARD_BACKWARD_FACTOR * batch * count["total"]
                                                            for name, count in counts.items()}},
            "policy_cells": cells, "max_policy_entropy": math.log(cells)}


def checkpoint_list(asked: Sequence[int] | None, steps: int) -> list[int]:
    """The checkpoints of a run of ``steps``: ``asked`` (default: :data:`DEFAULT_CHECKPOINTS`
    up to ``steps``) and ``steps`` itself, sorted.

    Raises:
        ValueError: if an asked checkpoint is outside ``0 .. steps``.
    """
    if asked is None:
        asked = [step for step in DEFAULT_CHECKPOINTS if step <= steps]
    outside = [step for step in asked if not 0 <= step <= steps]
    if outside:
        raise ValueError(f"--checkpoints must lie in 0 .. --steps ({steps}), got {outside}")
    return sorted({*asked, steps})


def main(argv: list[str] | None = None) -> int:
    parser = sweep_parser(__doc__.split("\n")[0], variants=list(VARIANTS),
                          default_variants=[v for v in VARIANTS if v != "hard_no_prior"], steps=4000,
                          batch_size=64, output=DEFAULT_OUTPUT)
    parser.add_argument("--train-size", type=at_least(1), default=4000)
    parser.add_argument("--test-size", type=at_least(1), default=1000)
    parser.add_argument("--checkpoints", type=at_least(0), nargs="+", default=None, metavar="STEP",
                        help="steps to evaluate at (default: 0 100 200 400 800 1000 1500 2000 3000 4000 "
                             "up to --steps; --steps is always one)")
    parser.add_argument("--loss-window", type=at_least(1), default=100,
                        help="the training loss at a checkpoint is the mean over this many steps before it")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    try:
        checkpoints = checkpoint_list(args.checkpoints, args.steps)
    except ValueError as error:
        parser.error(str(error))
    torch.set_num_threads(args.threads)
    config = {"steps": args.steps, "batch": args.batch_size, "train_size": args.train_size,
              "test_size": args.test_size, "image_size": 40, "train_seed": 0, "test_seed": 1,
              "checkpoints": checkpoints, "loss_window": args.loss_window, "sample_seed": 0}
    store = SweepStore(args.output, script=SCRIPT, config=config, derived=derived_figures(args.batch_size),
                       settings={variant: dict(VARIANTS[variant]) for variant in args.variants})

    def prepare() -> dict:
        device = torch.device(args.device)
        train = ab.data.make_cluttered_digits(args.train_size, seed=0, split="train")
        test = ab.data.make_cluttered_digits(args.test_size, seed=1, split="test")
        return {"device": device, "image_size": 40, "train_images": train.images.to(device),
                "train_labels": train.labels.to(device), "train_boxes": train.boxes,
                "test_images": test.images.to(device), "test_labels": test.labels, "test_boxes": test.boxes}

    def describe(run: dict) -> str:
        marks = "  ".join(f"{c['step']}: {c['accuracy']:.3f}" for c in run["checkpoints"])
        return (f"{run['variant']:>14} seed {run['seed']}: accuracy at {marks}; "
                f"{run['seconds']:.0f} s training + {run['evaluation_seconds']:.0f} s evaluation")

    return run_sweep(store, args.variants, args.seeds, prepare=prepare, train=run_one, describe=describe,
                     budget_minutes=args.budget_minutes, argv=argv, device=args.device)


if __name__ == "__main__":
    raise SystemExit(main())
