"""Soft vs hard attention on cluttered digits: every model, several seeds, equal budgets.

Trains each variant for the same number of steps with the same batch size on the same
data, for every seed, evaluates test accuracy, counts multiply-adds per image, and writes
``experiments/results/soft_hard.json`` (which the chapter "Soft vs hard attention" reads).
Finished (variant, seed) runs are kept in the JSON and skipped on the next call, so the
sweep can run in chunks: ``--variants soft --seeds 0 1 2`` and so on.

Variants:

* ``soft``: soft attention over a CNN feature map, backpropagation (lr 1e-3, gradients clipped).
* ``hard``: the glimpse model, REINFORCE with a learned baseline (lr 3e-3, clipped).
* ``hard_no_reinforce``: the same with the policy frozen at its brightness prior.
* ``hard_no_prior``: the same with REINFORCE but a uniform initial policy.
* ``hard_no_prior_no_reinforce``: the control for it: no prior and the policy frozen, so the
  glimpses stay where the untrained policy puts them and only the classifier side learns.
* ``soft_old``, ``hard_old``: the chapter's earlier recipe (lr 3e-3, no clipping; a moving-
  average baseline for the glimpse model), to show what the fixes change.

Usage::

    python experiments/soft_hard.py --steps 1000 --seeds 0 1 2 3 4
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

import attnbook as ab
from attnbook.models import multiply_adds, train_glimpses, train_soft

VARIANTS = {
    "soft": {"model": "soft", "lr": 1e-3, "clip_norm": 1.0},
    "hard": {"model": "hard", "lr": 3e-3, "clip_norm": 1.0, "baseline": "learned"},
    "hard_no_reinforce": {"model": "hard", "lr": 3e-3, "clip_norm": 1.0, "reinforce": False},
    "hard_no_prior": {"model": "hard", "lr": 3e-3, "clip_norm": 1.0, "baseline": "learned", "saliency_gain": 0.0},
    "hard_no_prior_no_reinforce": {"model": "hard", "lr": 3e-3, "clip_norm": 1.0, "reinforce": False,
                                   "saliency_gain": 0.0},
    "soft_old": {"model": "soft", "lr": 3e-3, "clip_norm": None},
    "hard_old": {"model": "hard", "lr": 3e-3, "clip_norm": None, "baseline": "moving_average"},
}
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "soft_hard.json"


def cpu_name() -> str:
    """The processor's model name where the system tells it, else the machine type."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def build(variant: str) -> torch.nn.Module:
    """The untrained model of a variant (seed torch first)."""
    spec = VARIANTS[variant]
    if spec["model"] == "soft":
        return ab.models.SoftAttentionClassifier()
    return ab.models.RecurrentAttentionModel(glimpses=2, glimpse_size=16, saliency_gain=spec.get("saliency_gain", 20.0))


def run_one(variant: str, seed: int, data: dict, steps: int, batch: int, device: torch.device) -> dict:
    """Train one variant from one seed and evaluate it on the test set."""
    spec = VARIANTS[variant]
    torch.manual_seed(seed)
    model = build(variant).to(device)
    start = time.perf_counter()
    common = dict(steps=steps, batch_size=batch, lr=spec["lr"], clip_norm=spec["clip_norm"], seed=seed)
    if spec["model"] == "soft":
        losses = train_soft(model, data["train_images"], data["train_labels"], **common)
    else:
        losses = train_glimpses(model, data["train_images"], data["train_labels"], **common,
                                baseline=spec.get("baseline", "learned"), reinforce=spec.get("reinforce", True))
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        if spec["model"] == "soft":
            predictions = model(data["test_images"]).logits.argmax(-1)
        else:
            predictions = model(data["test_images"], sample=False).logits.argmax(-1)
    predictions = predictions.cpu()
    accuracy = (predictions == data["test_labels"]).float().mean().item()
    share = torch.bincount(predictions, minlength=10).max().item() / len(predictions)
    tail = losses[-max(1, steps // 10):]
    return {"variant": variant, "seed": seed, "accuracy": accuracy, "largest_class_share": share,
            "final_loss": sum(tail) / len(tail), "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--train-size", type=int, default=4000)
    parser.add_argument("--test-size", type=int, default=1000)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="override a setting of every chosen variant (exploration only), e.g. lr=0.003")
    args = parser.parse_args(argv)
    for item in args.set:
        key, value = item.split("=", 1)
        for variant in args.variants:
            VARIANTS[variant] = {**VARIANTS[variant], key: None if value == "None" else
                                 (value if key == "baseline" else float(value))}
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    config = {"steps": args.steps, "batch": args.batch, "train_size": args.train_size,
              "test_size": args.test_size, "image_size": 40, "train_seed": 0, "test_seed": 1}
    report = {"config": config, "variants": VARIANTS, "runs": []}
    if args.out.exists():
        stored = json.loads(args.out.read_text())
        if stored.get("config") == config:
            report = stored
            report["variants"].update({variant: VARIANTS[variant] for variant in args.variants})
        else:
            print(f"{args.out} holds another configuration; starting afresh", file=sys.stderr)
    train = ab.data.make_cluttered_digits(args.train_size, seed=0, split="train")
    test = ab.data.make_cluttered_digits(args.test_size, seed=1, split="test")
    data = {"train_images": train.images.to(device), "train_labels": train.labels.to(device),
            "test_images": test.images.to(device), "test_labels": test.labels}
    report["multiply_adds"] = {name: multiply_adds(build(name)) for name in ("soft", "hard")}
    report["parameters"] = {name: ab.count_parameters(build(name)) for name in ("soft", "hard")}
    report["values_read"] = {"soft": 40 * 40, "hard_full_resolution": 2 * 16 * 16,
                             "hard_coarse_view": build("hard").grid ** 2}
    done = {(run["variant"], run["seed"]) for run in report["runs"]}
    for variant in args.variants:
        for seed in args.seeds:
            if (variant, seed) in done:
                continue
            run = run_one(variant, seed, data, args.steps, args.batch, device)
            report["runs"].append(run)
            report.update({"torch": torch.__version__, "python": platform.python_version(),
                           "hardware": f"{cpu_name()}, {args.threads} threads, {device}",
                           "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                           "command": "python experiments/soft_hard.py " + " ".join(sys.argv[1:] if argv is None
                                                                                   else argv)})
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(report, indent=1) + "\n")
            print(f"{variant:>18} seed {seed}: accuracy {run['accuracy']:.3f} "
                  f"(largest class share {run['largest_class_share']:.2f}) {run['seconds']:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
