"""The maps of the book's other trained models, measured against the truth (issue 22, item 2).

Trains each model the way its chapter's sweep does, then scores its spatial map on a fixed set
of test images against the true digit box and against that model's own occlusion map, as
``experiments/attention_maps.py`` scores the vision transformer's, for seeds 0-4:

* ``soft`` (chapter "Soft vs hard attention", ``soft_hard.py``'s recipe: 1000 steps of 64,
  lr 1e-3, gradients clipped, 4000 training images, 40x40 canvas): the soft-attention weights
  over the 10x10 feature map (cells of 4x4 pixels);
* ``hard``: the glimpse model, same data and budget (lr 3e-3, REINFORCE with a learned
  baseline): where its arg-max glimpses land (a centre inside the box, against the share of
  candidate centres inside it), and its first glimpse's policy over the 10x10 coarse cells;
* ``cbam`` and ``coord`` (chapter "Channel and spatial attention", ``channel_spatial.py``'s
  recipe: the small ResNet of widths 8, 16, 32, 800 steps of 32, lr 3e-3 one-cycle, 3000
  training images of a 28x28 canvas with 4 fragments): CBAM's spatial gate and coordinate
  attention's gate ``g^h g^w`` (averaged over the channels) of each of the three blocks,
  28x28, 14x14 and 7x7, averaged to the 7x7 grid of 4x4-pixel patches.

Every map lives on the grid of 4x4-pixel patches of its canvas (10x10 on 40x40, 7x7 on
28x28), the occlusion map hides one such patch at a time (fill 0, the background) and
tracks the predicted class's probability, ``occlusion_grey`` does the same with a grey fill
(0.5), ``pixel_mean`` (each patch's mean pixel value, a map of the image alone) is the floor a
model's map must beat to show more than where the ink is, and ``random`` (uniform numbers) is
the control. The metrics (:mod:`attnbook.maps`):
``mass_in_box``, ``mass_above_floor`` (the same after subtracting each map's minimum: a
sigmoid gate keeps a share of every position, and this asks where the part above that floor
goes), ``pointing_game``, and the rank correlations with the two occlusion maps that
``experiments/attention_maps.py`` stores (its ``RANKINGS``: signed and by size, over all patches
and over the ink patches; grey fill signed and by size). The
chance levels depend on the canvas alone and are stored once per canvas, as derived figures.
Seed 0 also stores the maps of the first three map images (``examples``) for the chapter.

Results go to ``model_maps.json`` in the package's stored results through the shared sweep
store (``experiments/_sweep.py``); run it in chunks::

    python experiments/model_maps.py --budget-minutes 4
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import torch
import torch.nn.functional as F

import attnbook as ab
from attnbook.channel import CBAMSpatialGate, CoordinateAttention

from _sweep import SweepStore, at_least, run_sweep, sweep_parser
from attention_maps import RANKINGS, per_image_rankings, rankings

SCRIPT = "experiments/model_maps.py"
PATCH = 4  # every map and every occlusion on the grid of 4x4-pixel patches
_DIGITS40 = {"canvas": 40, "clutter": 6, "train_size": 4000}
_DIGITS28 = {"canvas": 28, "clutter": 4, "train_size": 3000}
_RESNET = {**_DIGITS28, "steps": 800, "batch": 32, "lr": 3e-3, "schedule": "one_cycle", "widths": [8, 16, 32]}
#: Every variant's settings, read-only: each model's chapter recipe.
VARIANTS: Mapping[str, Mapping[str, Any]] = MappingProxyType({name: MappingProxyType(settings) for name, settings in {
    "soft": {"model": "soft", **_DIGITS40, "steps": 1000, "batch": 64, "lr": 1e-3, "clip_norm": 1.0},
    "hard": {"model": "hard", **_DIGITS40, "steps": 1000, "batch": 64, "lr": 3e-3, "clip_norm": 1.0,
             "baseline": "learned", "glimpses": 2, "glimpse_size": 16, "saliency_gain": 20.0},
    "cbam": {"model": "resnet", "attention": "cbam", "attention_kwargs": {"rd_ratio": 1 / 4}, **_RESNET},
    "coord": {"model": "resnet", "attention": "coord", "attention_kwargs": None, **_RESNET},
}.items()})
#: The maps each variant scores, in the order the chapter shows them (``occlusion`` and
#: ``random`` are scored for every variant too).
MAPS = MappingProxyType({"soft": ("weights",), "hard": ("first_policy",),
                         "cbam": ("gate_block1", "gate_block2", "gate_block3"),
                         "coord": ("gate_block1", "gate_block2", "gate_block3")})
METRICS = ("mass_in_box", "mass_above_floor", "pointing_game", *(name for name, _, _ in RANKINGS))
DEFAULT_OUTPUT = ab.book.results_folder() / "model_maps.json"
_EXAMPLES = 3


def build(settings: Mapping[str, Any]) -> torch.nn.Module:
    """The untrained model of a variant's settings (seed torch first)."""
    if settings["model"] == "soft":
        return ab.models.SoftAttentionClassifier()
    if settings["model"] == "hard":
        return ab.models.RecurrentAttentionModel(glimpses=settings["glimpses"], glimpse_size=settings["glimpse_size"],
                                                 saliency_gain=settings["saliency_gain"])
    return ab.models.small_resnet(settings["attention"], widths=tuple(settings["widths"]),
                                  attention_kwargs=settings["attention_kwargs"])


def predictor(model: torch.nn.Module, settings: Mapping[str, Any]) -> Callable[[torch.Tensor], torch.Tensor]:
    """``images -> logits`` of a trained model in eval mode (the glimpse model looks where its
    policy's arg-max says)."""
    if settings["model"] == "soft":
        return lambda images: model(images).logits
    if settings["model"] == "hard":
        return lambda images: model(images, sample=False).logits
    return model


def gate_maps(model: torch.nn.Module, images: torch.Tensor) -> list[torch.Tensor]:
    """The spatial gate of every CBAM or coordinate-attention module of ``model`` on ``images``,
    read by forward hooks, each ``(batch, height, width)`` at its block's resolution (coordinate
    attention's ``g^h g^w`` averaged over the channels)."""
    found: list[torch.Tensor] = []

    def read(module: torch.nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        if isinstance(module, CBAMSpatialGate):
            found.append(module.gate(inputs[0])[:, 0])
        else:
            along_h, along_w = module.gates(inputs[0])
            found.append((along_h * along_w).mean(1))

    hooks = [module.register_forward_hook(read) for module in model.modules()
             if isinstance(module, (CBAMSpatialGate, CoordinateAttention))]
    try:
        with torch.no_grad():
            model(images)
    finally:
        for hook in hooks:
            hook.remove()
    return found


def to_grid(maps: torch.Tensor, canvas: int) -> torch.Tensor:
    """``(batch, h, w)`` maps averaged to the ``canvas // PATCH`` grid (each cell the mean over its
    patch's pixels; a map already on the grid is returned as it is)."""
    factor = maps.shape[-1] * PATCH // canvas
    return maps if factor == 1 else F.avg_pool2d(maps[:, None], factor)[:, 0]


def inside_boxes(locations: torch.Tensor, boxes: torch.Tensor, canvas: int) -> torch.Tensor:
    """Whether normalised ``(row, col)`` locations ``(batch, ..., 2)`` lie inside their image's
    pixel box ``(batch, 4)`` (top, left, height, width): ``(batch, ...)`` booleans."""
    pixels = (locations.float() + 1) * canvas / 2
    shape = (-1,) + (1,) * (locations.ndim - 2)
    top, left, height, width = (part.reshape(shape) for part in boxes.unbind(-1))
    return ((pixels[..., 0] >= top) & (pixels[..., 0] < top + height)
            & (pixels[..., 1] >= left) & (pixels[..., 1] < left + width))


def model_maps(model: torch.nn.Module, settings: Mapping[str, Any], images: torch.Tensor) -> dict[str, torch.Tensor]:
    """The variant's own maps of ``images``, each ``(batch, grid, grid)`` on the patch grid."""
    with torch.no_grad():
        if settings["model"] == "soft":
            return {"weights": model(images).weights}
        if settings["model"] == "hard":
            policy = model.initial_log_policy(images).exp()
            return {"first_policy": policy.view(len(images), model.grid, model.grid)}
    return {f"gate_block{index + 1}": to_grid(gate, settings["canvas"])
            for index, gate in enumerate(gate_maps(model, images))}


def score(maps: torch.Tensor, coverage: torch.Tensor, occlusions: Mapping[str, torch.Tensor],
          ink: torch.Tensor) -> dict[str, Any]:
    """The metrics of one kind of map, means over the images (``occlusions``: the black- and
    grey-fill occlusion maps; ``ink``: the patches that hold ink)."""
    floor = maps.flatten(1).min(1).values[:, None, None]
    return {"mass_in_box": ab.maps.mass_in_box(maps, coverage).mean().item(),
            "mass_above_floor": ab.maps.mass_in_box(maps - floor, coverage).mean().item(),
            "pointing_game": ab.maps.pointing_game(maps, coverage).mean().item(),
            **rankings(per_image_rankings(maps, occlusions, ink))}


def train(model: torch.nn.Module, settings: Mapping[str, Any], steps: int, batch: int, seed: int,
          images: torch.Tensor, labels: torch.Tensor) -> list[float]:
    """Train ``model`` with its chapter's loop (all through :func:`attnbook.models.fit`)."""
    if settings["model"] == "soft":
        return ab.models.fit_soft(model, images, labels, steps, batch, lr=settings["lr"],
                                  clip_norm=settings["clip_norm"], seed=seed).losses
    if settings["model"] == "hard":
        return ab.models.fit_glimpses(model, images, labels, steps, batch, lr=settings["lr"],
                                      clip_norm=settings["clip_norm"], seed=seed,
                                      baseline=settings["baseline"]).losses

    def loss_fn(rows: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(model(images[rows]), labels[rows])

    return ab.models.fit(model, loss_fn, len(labels), steps, batch, lr=settings["lr"],
                         schedule=settings["schedule"], seed=seed).losses


def run_one(spec: dict, data: dict) -> dict:
    """Train the run of ``spec`` (from the sweep store), evaluate it and score its maps."""
    settings, config, seed = spec["settings"], spec["config"], spec["seed"]
    steps = config["steps"] or settings["steps"]
    batch = config["batch"] or settings["batch"]
    split = data[settings["canvas"]]
    torch.manual_seed(seed)
    model = build(settings)
    start = time.perf_counter()
    losses = train(model, settings, steps, batch, seed, split["train_images"], split["train_labels"])
    seconds = time.perf_counter() - start
    model.eval()
    predict = predictor(model, settings)
    with torch.no_grad():
        predictions = torch.cat([predict(part).argmax(-1) for part in split["test_images"].split(500)])
    accuracy = (predictions == split["test_labels"]).float().mean().item()
    start = time.perf_counter()
    count = config["map_images"]
    images, boxes = split["test_images"][:count], split["test_boxes"][:count]
    coverage = ab.maps.box_coverage(boxes, settings["canvas"], PATCH)
    maps = model_maps(model, settings, images)
    for name, fill in (("occlusion", config["fill"]), ("occlusion_grey", config["grey_fill"])):
        maps[name] = ab.maps.occlusion_map(predict, images, PATCH, fill=fill, target=predictions[:count])
    grid = settings["canvas"] // PATCH
    maps["random"] = torch.rand(count, grid, grid, generator=torch.Generator().manual_seed(1000 + seed))
    maps["pixel_mean"] = ab.maps.patch_means(images, PATCH)
    occlusions = {"black": maps["occlusion"], "grey": maps["occlusion_grey"]}
    ink = ab.maps.ink_patches(images, PATCH, background=config["fill"])
    metrics = {name: score(found, coverage, occlusions, ink) for name, found in maps.items()}
    results: dict[str, Any] = {"blank_patch_share": (~ink).float().mean().item(),
                               "ink_raising_share": (maps["occlusion"][ink] < 0).float().mean().item()}
    if settings["model"] == "hard":
        with torch.no_grad():
            locations = model(images, sample=False).locations            # (count, glimpses, 2)
        inside = inside_boxes(locations, boxes, settings["canvas"])
        results["glimpse_inside_box"] = inside.float().mean(0).tolist()   # per glimpse
        results["any_glimpse_inside_box"] = inside.any(1).float().mean().item()
    tail = losses[-max(1, steps // 10):]
    results.update({"accuracy": accuracy,
                    "largest_class_share": torch.bincount(predictions, minlength=10).max().item() / len(predictions),
                    "final_loss": sum(tail) / len(tail), "seconds": seconds,
                    "map_seconds": time.perf_counter() - start, "metrics": metrics})
    if seed == 0:
        results["examples"] = {name: [[[round(value, 4) for value in row] for row in image]
                                      for image in found[:_EXAMPLES].tolist()] for name, found in maps.items()}
    return results


def chance_levels(canvas: int, clutter: int, test_size: int, map_images: int) -> dict[str, float]:
    """The chance levels on a canvas's map images: the box's mean share of the image, the mean
    share of patches at least half inside the box, and (for glimpses) the mean share of the
    glimpse model's candidate centres (one per patch) inside the box."""
    boxes = ab.data.make_cluttered_digits(test_size, seed=1, split="test", canvas=canvas,
                                          clutter=clutter).boxes[:map_images]
    coverage = ab.maps.box_coverage(boxes, canvas, PATCH)
    grid = canvas // PATCH
    cells = (torch.arange(grid) * 2 + 1) / grid - 1
    centres = torch.cartesian_prod(cells, cells).expand(len(boxes), -1, -1)
    return {"mass_in_box": ab.maps.box_share(coverage).mean().item(),
            "pointing_game": ab.maps.pointing_chance(coverage).mean().item(),
            "centre_inside_box": inside_boxes(centres, boxes, canvas).float().mean().item()}


def main(argv: list[str] | None = None) -> int:
    parser = sweep_parser(__doc__.split("\n")[0], variants=list(VARIANTS), steps=None, batch_size=None,
                          output=DEFAULT_OUTPUT)
    parser.set_defaults(steps=None, batch_size=None)
    parser.description += (" --steps and --batch-size override every variant's recipe (for smoke tests: "
                           "use another --output)")
    parser.add_argument("--train-size", type=at_least(1), default=None,
                        help="training images (default: each canvas's recipe, 4000 on 40x40, 3000 on 28x28)")
    parser.add_argument("--test-size", type=at_least(1), default=1000)
    parser.add_argument("--map-images", type=at_least(1), default=200,
                        help="test images whose maps are scored (the first ones; default: %(default)s)")
    args = parser.parse_args(argv)
    if args.map_images > args.test_size:
        parser.error(f"--map-images must be at most --test-size={args.test_size}, got {args.map_images}")
    torch.set_num_threads(args.threads)
    config = {"steps": args.steps, "batch": args.batch_size, "train_size": args.train_size,
              "test_size": args.test_size, "map_images": args.map_images, "patch": PATCH, "fill": 0.0, "grey_fill": 0.5,
              "target": "predicted", "score": "probability", "train_seed": 0, "test_seed": 1}
    canvases = {40: _DIGITS40, 28: _DIGITS28}
    derived = {"chance": {str(canvas): chance_levels(canvas, found["clutter"], args.test_size, args.map_images)
                          for canvas, found in canvases.items()}}
    store = SweepStore(args.output, script=SCRIPT, config=config, derived=derived,
                       settings={variant: dict(VARIANTS[variant]) for variant in args.variants})

    def prepare() -> dict:
        data = {}
        for canvas, found in canvases.items():
            size = args.train_size or found["train_size"]
            train_set = ab.data.make_cluttered_digits(size, seed=0, split="train", canvas=canvas,
                                                      clutter=found["clutter"])
            test_set = ab.data.make_cluttered_digits(args.test_size, seed=1, split="test", canvas=canvas,
                                                     clutter=found["clutter"])
            data[canvas] = {"train_images": train_set.images, "train_labels": train_set.labels,
                            "test_images": test_set.images, "test_labels": test_set.labels,
                            "test_boxes": test_set.boxes}
        return data

    def describe(run: dict) -> str:
        found = run["metrics"]
        parts = [f"{name} mass {found[name]['mass_in_box']:.2f} point {found[name]['pointing_game']:.2f} "
                 f"rho {found[name]['spearman_occlusion'] or 0:.2f}" for name in (*MAPS[run['variant']], "occlusion")]
        return (f"{run['variant']} seed {run['seed']}: accuracy {run['accuracy']:.3f} in {run['seconds']:.0f} s "
                f"(maps {run['map_seconds']:.0f} s); " + "; ".join(parts))

    return run_sweep(store, args.variants, args.seeds, prepare=prepare, train=run_one, describe=describe,
                     budget_minutes=args.budget_minutes, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
