"""Attention maps of a small vision transformer measured against the truth (issue 22).

Trains :class:`attnbook.models.VisionTransformer` on cluttered digits (40x40, patch 8: a 5x5
grid of patches and a class token) with :func:`attnbook.models.fit`, evaluates its test
accuracy, and scores the maps of every method on a fixed set of test images against the true
digit box and against the occlusion map, for seeds 0-4 with one budget. The methods
(:mod:`attnbook.maps`), every map on the 5x5 patch grid and explaining the predicted class:

* ``raw``: the last layer's class-token attention averaged over the heads; ``raw_heads``
  holds the same metrics for each head alone (which head is best is not chosen here);
* ``rollout``: attention rollout (Abnar & Zuidema 2020);
* ``gradient_rollout``: Chefer et al.'s (ICCV 2021) gradient-weighted rollout;
* ``occlusion``: the drop in the predicted class's probability when a patch is set to 0
  (the canvas's background), the behavioural reference;
* ``occlusion_grey``: the same with a grey fill (0.5, as Zeiler & Fergus 2014 used), to show
  how much the reference depends on what a hidden patch holds;
* ``pixel_mean``: the mean pixel value of each patch (:func:`attnbook.maps.patch_means`), a map
  that knows only the image: the floor a model's map must beat to show more than where the
  ink is (blank patches tie at exactly 0 in the occlusion map);
* ``random``: a map of uniform random numbers (seeded), the control every metric's chance
  level can be read from.

For each method and run: the mean over the map images of the share of the map's positive
mass inside the box (``mass_in_box``), the pointing game (``pointing_game``), Spearman's rank
correlation with the occlusion map read four ways (:func:`attnbook.maps.occlusion_readings`):
signed (``spearman_occlusion``), by size ``|drop|`` (``spearman_occlusion_size``), signed and by
size over the ink patches only (``spearman_occlusion_ink``, ``spearman_occlusion_ink_size``),
and with the grey-fill occlusion map,
signed and by size (``spearman_grey_occlusion``, ``spearman_grey_occlusion_size``); images
where a ranking is undefined (a constant map) are left out and counted. Then the areas under
the deletion and insertion curves of the predicted class's probability (Petsiuk et al. 2018,
black fill), with the mean curves. Per run, ``paired`` holds for every rank correlation and each
pair of :data:`PAIRS` the per-image difference's mean, 95 % bootstrap interval over the map
images (:func:`attnbook.maps.paired_bootstrap`) and the share of images the first map wins;
``weight_by_effect`` the mean weight per patch of each non-negative map (normalised to sum 1 per
image) on ink patches whose hiding lowers the class's probability by more than
:data:`NEAR_ZERO`, raises it by more, moves it less, and on blank patches; and the shares of
those patch groups. The chance levels
(the box's share of the image, the share of patches at least half inside the box) depend on
the data alone and are stored once, as derived figures.

Results go to ``attention_maps.json`` in the package's stored results through the shared
sweep store (``experiments/_sweep.py``): finished seeds are kept and skipped, so the sweep
runs in chunks (``--budget-minutes 8``), and a call with other settings stops without
writing. ``--set KEY=VALUE`` changes a model or optimiser setting for exploration (into
another ``--output``)::

    python experiments/attention_maps.py --budget-minutes 8
    python experiments/attention_maps.py --seeds 0 --set depth=4 --output /tmp/vit_depth4.json
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import torch
import torch.nn.functional as F

import attnbook as ab

from _sweep import SweepStore, at_least, parse_overrides, run_sweep, sweep_parser

SCRIPT = "experiments/attention_maps.py"
#: The one variant's settings, read-only (``--set`` changes copies).
VARIANTS: Mapping[str, Mapping[str, Any]] = MappingProxyType({"vit": MappingProxyType({
    "patch_size": 8, "width": 64, "depth": 2, "heads": 4, "mlp_ratio": 2.0, "positions": "learned",
    "lr": 3e-3, "schedule": "one_cycle", "clip_norm": 1.0})})
#: The map methods scored, in the order the chapter shows them.
METHODS = ("raw", "rollout", "gradient_rollout", "occlusion", "occlusion_grey", "pixel_mean", "random")
#: The pairs of maps whose per-image differences get an interval: (first, second).
PAIRS = (("rollout", "raw"), ("gradient_rollout", "raw"), ("gradient_rollout", "rollout"),
         ("raw", "pixel_mean"), ("rollout", "pixel_mean"), ("gradient_rollout", "pixel_mean"))
#: The non-negative maps whose weight is split by what hiding a patch does.
WEIGHTED = ("raw", "rollout", "gradient_rollout", "pixel_mean", "random")
#: A drop of the class's probability within this of 0 counts as no effect.
NEAR_ZERO = 0.01
#: The rank correlations stored for every method: (name, reference fill, reading).
RANKINGS = (("spearman_occlusion", "black", "signed"), ("spearman_occlusion_size", "black", "size"),
            ("spearman_occlusion_ink", "black", "ink"), ("spearman_occlusion_ink_size", "black", "ink_size"),
            ("spearman_grey_occlusion", "grey", "signed"),
            ("spearman_grey_occlusion_size", "grey", "size"))
#: The metrics stored for every method.
METRICS = ("mass_in_box", "pointing_game", *(name for name, _, _ in RANKINGS), "deletion_area",
           "insertion_area")
DEFAULT_OUTPUT = ab.book.results_folder() / "attention_maps.json"
_CANVAS = 40


def build(settings: Mapping[str, Any]) -> ab.models.VisionTransformer:
    """The untrained model of the settings (seed torch first)."""
    return ab.models.VisionTransformer(_CANVAS, settings["patch_size"], width=settings["width"],
                                       depth=settings["depth"], heads=settings["heads"],
                                       mlp_ratio=settings["mlp_ratio"], positions=settings["positions"])


def compute_maps(model: ab.models.VisionTransformer, images: torch.Tensor, fill: float, grey_fill: float,
                 seed: int, chunk: int = 100) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
    """Every method's maps of ``images`` for the predicted class.

    Returns:
        ``(maps, raw_heads, predicted)``: ``{method: (count, grid, grid)}``, the last layer's
        per-head maps ``(count, heads, grid, grid)`` and the predicted classes ``(count,)``.
    """
    maps: dict[str, list[torch.Tensor]] = {method: [] for method in METHODS}
    heads, predicted = [], []

    def predict(x: torch.Tensor) -> torch.Tensor:
        return model(x, need_weights=False).logits

    for start in range(0, len(images), chunk):
        part = images[start:start + chunk]
        found = ab.maps.attention_gradients(model, part)
        raw = ab.maps.cls_attention(found.attentions)
        heads.append(raw)
        predicted.append(found.target)
        maps["raw"].append(raw.mean(1))
        maps["rollout"].append(ab.maps.token_map(ab.maps.attention_rollout(found.attentions)))
        maps["gradient_rollout"].append(ab.maps.token_map(ab.maps.gradient_rollout(found.attentions,
                                                                                   found.gradients)))
        maps["occlusion"].append(ab.maps.occlusion_map(predict, part, model.patch_size, fill=fill,
                                                       target=found.target))
        maps["occlusion_grey"].append(ab.maps.occlusion_map(predict, part, model.patch_size, fill=grey_fill,
                                                            target=found.target))
    grid = model.grid
    generator = torch.Generator().manual_seed(1000 + seed)
    maps["random"] = [torch.rand(len(images), grid, grid, generator=generator)]
    maps["pixel_mean"] = [ab.maps.patch_means(images, model.patch_size)]
    return {method: torch.cat(parts) for method, parts in maps.items()}, torch.cat(heads), torch.cat(predicted)


def per_image_rankings(maps: torch.Tensor, occlusions: Mapping[str, torch.Tensor],
                       ink: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every rank correlation of :data:`RANKINGS`, per image: ``{name: (images,)}`` (NaN where undefined)."""
    readings = {fill: ab.maps.occlusion_readings(maps, occlusion, ink) for fill, occlusion in occlusions.items()}
    return {name: readings[fill][reading] for name, fill, reading in RANKINGS}


def rankings(per_image: Mapping[str, torch.Tensor]) -> dict[str, Any]:
    """Every rank correlation of :func:`per_image_rankings`: the mean over the images where it
    is defined, and how many images it is undefined on (``<name>_undefined``)."""
    found: dict[str, Any] = {}
    for name, rank in per_image.items():
        defined = ~rank.isnan()
        found[name] = rank[defined].mean().item() if defined.any() else None
        found[f"{name}_undefined"] = int((~defined).sum())
    return found


def score(model: ab.models.VisionTransformer, images: torch.Tensor, maps: torch.Tensor, coverage: torch.Tensor,
          ranks: Mapping[str, torch.Tensor], target: torch.Tensor, fill: float) -> dict[str, Any]:
    """The metrics of one method's maps (``ranks``: its :func:`per_image_rankings`): means over
    the images, and the mean curves."""
    def predict(x: torch.Tensor) -> torch.Tensor:
        return model(x, need_weights=False).logits

    curves = ab.maps.deletion_insertion(predict, images, maps, model.patch_size, fill=fill, target=target,
                                        batch_size=520)
    return {"mass_in_box": ab.maps.mass_in_box(maps, coverage).mean().item(),
            "pointing_game": ab.maps.pointing_game(maps, coverage).mean().item(),
            **rankings(ranks),
            "deletion_area": curves.deletion_area.mean().item(),
            "insertion_area": curves.insertion_area.mean().item(),
            "deletion_curve": [round(value, 5) for value in curves.deletion.mean(0).tolist()],
            "insertion_curve": [round(value, 5) for value in curves.insertion.mean(0).tolist()]}


def run_one(spec: dict, data: dict) -> dict:
    """Train the run of ``spec`` (from the sweep store), evaluate it and score its maps."""
    settings, config, seed = spec["settings"], spec["config"], spec["seed"]
    torch.manual_seed(seed)
    model = build(settings)
    images, labels = data["train_images"], data["train_labels"]

    def loss_fn(rows: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(model(images[rows], need_weights=False).logits, labels[rows])

    start = time.perf_counter()
    result = ab.models.fit(model, loss_fn, len(labels), config["steps"], config["batch"], lr=settings["lr"],
                           schedule=settings["schedule"], clip_norm=settings["clip_norm"], seed=seed)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        predictions = torch.cat([model(part, need_weights=False).logits.argmax(-1)
                                 for part in data["test_images"].split(500)])
    accuracy = (predictions == data["test_labels"]).float().mean().item()
    start = time.perf_counter()
    count = config["map_images"]
    map_images, boxes = data["test_images"][:count], data["test_boxes"][:count]
    maps, heads, predicted = compute_maps(model, map_images, config["fill"], config["grey_fill"], seed)
    coverage = ab.maps.box_coverage(boxes, _CANVAS, model.patch_size)
    occlusions = {"black": maps["occlusion"], "grey": maps["occlusion_grey"]}
    ink = ab.maps.ink_patches(map_images, model.patch_size, background=config["fill"])
    per_image = {method: per_image_rankings(maps[method], occlusions, ink) for method in METHODS}
    metrics = {method: score(model, map_images, maps[method], coverage, per_image[method], predicted,
                             config["fill"]) for method in METHODS}
    raw_heads = [{"mass_in_box": ab.maps.mass_in_box(heads[:, head], coverage).mean().item(),
                  "pointing_game": ab.maps.pointing_game(heads[:, head], coverage).mean().item(),
                  **rankings(per_image_rankings(heads[:, head], occlusions, ink))}
                 for head in range(heads.shape[1])]
    paired = {name: {f"{first}-{second}": ab.maps.paired_bootstrap(per_image[first][name], per_image[second][name])
                     for first, second in PAIRS} for name, _, _ in RANKINGS}
    tail = result.losses[-max(1, config["steps"] // 10):]
    return {"accuracy": accuracy,
            "map_images_accuracy": (predicted == data["test_labels"][:count]).float().mean().item(),
            "largest_class_share": torch.bincount(predictions, minlength=10).max().item() / len(predictions),
            "final_loss": sum(tail) / len(tail), "seconds": seconds, "map_seconds": time.perf_counter() - start,
            "metrics": metrics, "raw_heads": raw_heads, "paired": paired,
            "weight_by_effect": {method: weight_by_effect(maps[method], maps["occlusion"], ink) for method in WEIGHTED},
            **effect_shares(maps["occlusion"], ink)}


def effect_groups(occlusion: torch.Tensor, ink: torch.Tensor) -> dict[str, torch.Tensor]:
    """The patches by what hiding them does: ``(images, grid, grid)`` booleans for ink patches
    whose drop is above :data:`NEAR_ZERO` (``supports``), below ``-NEAR_ZERO``
    (``argues_against``), within it (``near_zero``), and the ``blank`` patches."""
    return {"supports": ink & (occlusion > NEAR_ZERO), "argues_against": ink & (occlusion < -NEAR_ZERO),
            "near_zero": ink & (occlusion.abs() <= NEAR_ZERO), "blank": ~ink}


def effect_shares(occlusion: torch.Tensor, ink: torch.Tensor) -> dict[str, float]:
    """The share of all patches that are blank, and of the ink patches in each group of
    :func:`effect_groups` (``ink_raising_share``: any drop below 0)."""
    groups = effect_groups(occlusion, ink)
    shares = {f"ink_{name}_share": (groups[name].sum() / ink.sum()).item()
              for name in ("supports", "argues_against", "near_zero")}
    return {"blank_patch_share": (~ink).float().mean().item(),
            "ink_raising_share": (occlusion[ink] < 0).float().mean().item(), **shares}


def weight_by_effect(maps: torch.Tensor, occlusion: torch.Tensor, ink: torch.Tensor) -> dict[str, float]:
    """The mean weight per patch of a non-negative map, normalised to sum 1 per image, in each
    group of :func:`effect_groups` (pooled over the images)."""
    weights = maps / maps.flatten(1).sum(1).clamp(min=1e-12)[:, None, None]
    return {name: weights[group].mean().item() if group.any() else None
            for name, group in effect_groups(occlusion, ink).items()}


def chance_levels(test_size: int, map_images: int, patch_size: int) -> dict[str, float]:
    """The metrics' chance levels on the map images: the box's mean share of the image, and
    the mean share of patches at least half inside the box."""
    boxes = ab.data.make_cluttered_digits(test_size, seed=1, split="test", canvas=_CANVAS).boxes[:map_images]
    coverage = ab.maps.box_coverage(boxes, _CANVAS, patch_size)
    return {"mass_in_box": ab.maps.box_share(coverage).mean().item(),
            "pointing_game": ab.maps.pointing_chance(coverage).mean().item()}


def main(argv: list[str] | None = None) -> int:
    parser = sweep_parser(__doc__.split("\n")[0], variants=list(VARIANTS), steps=6000, batch_size=64,
                          output=DEFAULT_OUTPUT)
    parser.add_argument("--train-size", type=at_least(1), default=20000)
    parser.add_argument("--test-size", type=at_least(1), default=1000)
    parser.add_argument("--map-images", type=at_least(1), default=500,
                        help="test images whose maps are scored (the first ones; default: %(default)s)")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE", dest="overrides",
                        help="change a setting (exploration: use another --output), e.g. depth=4 lr=0.001")
    args = parser.parse_args(argv)
    try:
        overrides = parse_overrides(args.overrides, {variant: VARIANTS[variant] for variant in args.variants})
    except ValueError as error:
        parser.error(str(error))
    if args.map_images > args.test_size:
        parser.error(f"--map-images must be at most --test-size={args.test_size}, got {args.map_images}")
    torch.set_num_threads(args.threads)
    settings = {variant: {**VARIANTS[variant], **overrides} for variant in args.variants}
    config = {"steps": args.steps, "batch": args.batch_size, "train_size": args.train_size,
              "test_size": args.test_size, "map_images": args.map_images, "image_size": _CANVAS,
              "train_seed": 0, "test_seed": 1, "fill": 0.0, "grey_fill": 0.5, "target": "predicted",
              "score": "probability", "overrides": overrides}
    patch_sizes = {values["patch_size"] for values in settings.values()}
    # keyed by the patch size (a JSON key is a string): the chance levels depend on the grid
    derived = {"chance": {str(patch): chance_levels(args.test_size, args.map_images, patch)
                          for patch in sorted(patch_sizes)}}
    store = SweepStore(args.output, script=SCRIPT, config=config, derived=derived, settings=settings)

    def prepare() -> dict:
        train = ab.data.make_cluttered_digits(args.train_size, seed=0, split="train", canvas=_CANVAS)
        test = ab.data.make_cluttered_digits(args.test_size, seed=1, split="test", canvas=_CANVAS)
        return {"train_images": train.images, "train_labels": train.labels, "test_images": test.images,
                "test_labels": test.labels, "test_boxes": test.boxes}

    def describe(run: dict) -> str:
        found = run["metrics"]
        parts = [f"{method} mass {found[method]['mass_in_box']:.2f} point {found[method]['pointing_game']:.2f}"
                 for method in METHODS]
        return (f"{run['variant']} seed {run['seed']}: accuracy {run['accuracy']:.3f} in {run['seconds']:.0f} s "
                f"(maps {run['map_seconds']:.0f} s); " + "; ".join(parts))

    return run_sweep(store, args.variants, args.seeds, prepare=prepare, train=run_one, describe=describe,
                     budget_minutes=args.budget_minutes, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
