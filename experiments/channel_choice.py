"""What channel and spatial gates buy on a task that needs a global choice, and on two that do not.

Three tasks (issue 19), the same small ResNet (three stages of one basic block, 8, 16 and 32
channels) and the same budget for every module:

* ``choice``: :func:`attnbook.data.make_channel_choice`: two digits on two input channels and a
  cue far from both; the label is channel 1's digit when the cue is there, channel 0's when not;
* ``control``: the same images, labelled with channel 0's digit (no choice);
* ``cluttered``: the chapter's cluttered digits (``make_cluttered_digits(canvas=28, clutter=4)``,
  3,000 training images), the task where no module helped in ``channel_spatial.json``.

The modules: ``plain`` (none), ``se``, ``eca``, ``cbam``, ``bam``, ``gc``, ``coord``, ``ge``
(GE-θ⁻, global extent, no parameters) and ``ge-theta-plus`` (GE-θ⁺, global learned gather
whose depthwise kernel covers each stage's map), and the ablations ``se-max`` (SE squeezing
with the maximum), ``cbam-channel`` and ``cbam-spatial`` (one of CBAM's two gates) and
``eca-k1`` (ECA with a kernel of one: each channel gated by its own mean times one learned
weight, so it sits between GE-θ⁻, no weight, and ECA, three neighbours), which run
on the choice and control tasks only: they take apart an effect, and the cluttered task has
none to take apart (``channel_spatial.json``). Every
gate MLP has 8 hidden units (``rd_channels=8`` for SE, CBAM, BAM, GC and GE-θ⁺; coordinate
attention's own rule gives ``max(8, C // 32) = 8``), at every stage (C = 8, 16, 32); ECA has
no MLP (k = 3 at these widths). Variants are ``<task>/<module>``.

Every run: one CPU thread (``--threads``, part of the configuration: the order of a float
sum depends on the thread count, and on this task that alone can turn a run that fails into
one that succeeds, so runs at other counts are not mixed into one file), batch 32, Adam with
a one-cycle learning rate (peak 3e-3), the same number of steps (``--steps``); every ``--eval-every`` steps the accuracy on the 1,000 test images and on a fixed
1,000-image subset of the training set, so the curve's checkpoints are of one run; at the end the
accuracy on the whole training set, and for ``choice``/``control`` the test accuracy with and
without the cue and how often the prediction is channel 0's or channel 1's digit.

The runs go through the shared sweep store (``experiments/_sweep.py``) into
``channel_choice.json`` (its own file: ``channel_spatial.json`` stays as the chapter reads it).
Example::

    python experiments/channel_choice.py --budget-minutes 8 --threads 1   # repeat until "complete"

Two calls can fill the file at once, one per core, given disjoint ``--variants`` or ``--seeds``.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

import attnbook as ab
from attnbook.models import fit

from _sweep import SweepStore, at_least, run_sweep, sweep_parser

SCRIPT = "experiments/channel_choice.py"
TASKS = ("choice", "control", "cluttered")
MODULES = ("plain", "se", "se-max", "eca", "eca-k1", "cbam", "cbam-channel", "cbam-spatial", "bam", "gc", "coord",
           "ge", "ge-theta-plus")
ABLATIONS = ("se-max", "eca-k1", "cbam-channel", "cbam-spatial")
VARIANTS = tuple(f"{task}/{module}" for task in TASKS for module in MODULES
                 if not (task == "cluttered" and module in ABLATIONS))
DEFAULT_OUTPUT = ab.book.results_folder() / "channel_choice.json"
WIDTHS = (8, 16, 32)
HIDDEN = 8  # every gate MLP's hidden units
CANVAS = {"choice": 40, "control": 40, "cluttered": 28}
TRAIN_SUBSET = 1000  # the training images whose accuracy the curve records


def settings_of(variant: str) -> dict:
    """A variant's task, input channels, attention module and that module's arguments."""
    task, module = variant.split("/")
    attention = {"plain": None, "se-max": "se", "eca-k1": "eca", "cbam-channel": "cbam",
                 "cbam-spatial": "cbam"}.get(module, module)
    kwargs: dict | None = None
    stage_kwargs = None
    if module in ("se", "cbam", "cbam-channel", "bam", "gc", "ge-theta-plus"):
        kwargs = {"rd_channels": HIDDEN}
    if module == "se-max":
        kwargs = {"rd_channels": HIDDEN, "pool": "max"}
    if module == "eca-k1":
        kwargs = {"kernel_size": 1}
    if module in ("cbam-channel", "cbam-spatial"):
        kwargs = {**(kwargs or {}), "gates": module.removeprefix("cbam-")}
    if module == "ge-theta-plus":
        kwargs = {**kwargs, "extent": None}
        stage_kwargs = [{"feature_size": CANVAS[task] // 2 ** stage} for stage in range(len(WIDTHS))]
    return {"task": task, "in_channels": 1 if task == "cluttered" else 2, "attention": attention,
            "attention_kwargs": kwargs, "stage_attention_kwargs": stage_kwargs}


def make_model(settings: dict) -> torch.nn.Module:
    """The small ResNet of ``settings`` (widths 8, 16, 32; 10 classes)."""
    return ab.models.small_resnet(settings["attention"], in_channels=settings["in_channels"], widths=WIDTHS,
                                  attention_kwargs=settings["attention_kwargs"],
                                  stage_attention_kwargs=settings["stage_attention_kwargs"])


def predict(model: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        predictions = torch.cat([model(images[i:i + 500]).argmax(-1) for i in range(0, len(images), 500)])
    model.train()
    return predictions


def accuracy(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    return (predict(model, images) == labels).float().mean().item()


def prepare_data(config: dict) -> dict:
    """Every task's (train images, train labels), (test images, test labels), and the test
    images' digits and cues for the choice tasks."""
    train = ab.data.make_channel_choice(config["train_size"], seed=0, split="train")
    test = ab.data.make_channel_choice(config["test_size"], seed=1, split="test")
    clutter_train = ab.data.make_cluttered_digits(config["cluttered_train_size"], seed=0, split="train", canvas=28,
                                                  clutter=4)
    clutter_test = ab.data.make_cluttered_digits(config["test_size"], seed=1, split="test", canvas=28, clutter=4)
    return {"choice": {"train": (train.images, train.choice), "test": (test.images, test.choice), "meta": test},
            "control": {"train": (train.images, train.control), "test": (test.images, test.control), "meta": test},
            "cluttered": {"train": clutter_train[:2], "test": clutter_test[:2], "meta": None}}


def train_run(spec: dict, data: dict) -> dict:
    """Train the run of ``spec`` with :func:`attnbook.models.fit`; return its curve and final figures."""
    config, seed, settings = spec["config"], spec["seed"], spec["settings"]
    task = data[settings["task"]]
    torch.manual_seed(seed)
    model = make_model(settings)
    train_images, train_labels = task["train"]
    subset = config["train_subset"]

    def loss_fn(rows: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(model(train_images[rows]), train_labels[rows])

    def evaluate(trained: torch.nn.Module) -> tuple[float, float]:
        return (accuracy(trained, *task["test"]), accuracy(trained, train_images[:subset], train_labels[:subset]))

    steps, every = config["steps"], config["eval_every"]
    checkpoints = sorted({0, steps, *range(every, steps + 1, every)})
    start = time.perf_counter()
    result = fit(model, loss_fn, len(train_labels), steps, config["batch"], lr=config["lr"],
                 schedule=config["schedule"], seed=seed, checkpoints=checkpoints, evaluate=evaluate)
    seconds = round(time.perf_counter() - start, 1)
    curve = {"step": checkpoints, "test": [result.evaluations[step][0] for step in checkpoints],
             "train_subset": [result.evaluations[step][1] for step in checkpoints]}
    run = {"curve": curve, "test": curve["test"][-1], "train": accuracy(model, train_images, train_labels),
           "final_loss": round(sum(result.losses[-50:]) / len(result.losses[-50:]), 4),
           "parameters": ab.count_parameters(model), "seconds": seconds}
    meta = task["meta"]
    if meta is not None:
        predictions = predict(model, meta.images)
        correct = predictions == task["test"][1]
        run.update({"test_with_cue": correct[meta.cue].float().mean().item(),
                    "test_without_cue": correct[~meta.cue].float().mean().item(),
                    "says_channel_0": (predictions == meta.digits[:, 0]).float().mean().item(),
                    "says_channel_1": (predictions == meta.digits[:, 1]).float().mean().item()})
    return run


def main(argv: list[str] | None = None) -> int:
    parser = sweep_parser(__doc__.split("\n")[0], variants=VARIANTS, steps=1500, batch_size=32,
                          output=DEFAULT_OUTPUT)
    parser.set_defaults(threads=1)  # the stored runs' count (a part of the configuration)
    parser.add_argument("--eval-every", type=at_least(1), default=250, help="steps between evaluations")
    parser.add_argument("--train-size", type=at_least(1), default=6000, help="choice/control training images")
    parser.add_argument("--cluttered-train-size", type=at_least(1), default=3000)
    parser.add_argument("--test-size", type=at_least(1), default=1000)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    config = {"steps": args.steps, "eval_every": args.eval_every, "batch": args.batch_size, "threads": args.threads,
              "lr": 3e-3,
              "schedule": "one_cycle", "widths": list(WIDTHS), "gate_hidden_units": HIDDEN,
              "train_size": args.train_size, "cluttered_train_size": args.cluttered_train_size,
              "test_size": args.test_size, "train_subset": TRAIN_SUBSET,
              "data": {"choice": "make_channel_choice(canvas=40, scale=2, cue_size=4, gap=16); train seed 0, "
                                 "test seed 1; label: channel 1's digit with the cue, channel 0's without",
                       "control": "the same images; label: channel 0's digit",
                       "cluttered": "make_cluttered_digits(canvas=28, clutter=4); train seed 0, test seed 1"}}
    store = SweepStore(args.output, script=SCRIPT, config=config,
                       settings={variant: settings_of(variant) for variant in args.variants})

    def describe(run: dict) -> str:
        extra = (f" cue {run['test_with_cue']:.3f}/no cue {run['test_without_cue']:.3f}"
                 if "test_with_cue" in run else "")
        return (f"{run['variant']:>24} seed {run['seed']}: test {run['test']:.3f} train {run['train']:.3f}"
                f"{extra} ({run['seconds']} s)")

    return run_sweep(store, args.variants, args.seeds, prepare=lambda: prepare_data(config), train=train_run,
                     describe=describe, budget_minutes=args.budget_minutes, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
