"""Benchmark: ResNet-50 inference latency with each attention module, measured side by side.

Plain ResNet-50 and the SE, ECA, CBAM and BAM variants run one after another in one
process, in rounds (each round times every model once, so drift in the machine's speed
hits all of them alike); the median of the rounds is reported with the overhead over
plain ResNet-50. On CUDA the models run in channels_last with autocast (float16 by
default); on the CPU in float32.

Targets (checked by reading this script's output, not by tests), on an H100 at batch 64,
224x224: overhead SE <= 15%, CBAM <= 35%, ECA <= 5%. The ECA-Net paper measured +14.5%,
+52.9% and +2.7% on an RTX 2080 Ti.

Usage:
  python benchmarks/resnet_attention.py --device cpu                  # batch 2 at 112x112
  python benchmarks/resnet_attention.py --device cuda --batch 64 --size 224
Writes benchmarks/results/resnet_attention_<device>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import platform
import statistics
import time
from pathlib import Path

import torch

from attnbook.resnet import resnet50

RESULTS = Path(__file__).resolve().parent / "results"
VARIANTS = (None, "se", "eca", "cbam", "bam")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--batch", type=int, default=None, help="2 on cpu, 64 on cuda by default")
    parser.add_argument("--size", type=int, default=None, help="112 on cpu, 224 on cuda by default")
    parser.add_argument("--rounds", type=int, default=None, help="20 on cpu, 30 on cuda by default")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--amp-dtype", default="float16", choices=["float16", "bfloat16"])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    cuda = args.device == "cuda"
    batch = args.batch or (64 if cuda else 2)
    size = args.size or (224 if cuda else 112)
    rounds = args.rounds or (30 if cuda else 20)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    memory_format = torch.channels_last if cuda else torch.contiguous_format
    models = {str(name): resnet50(name).eval().to(args.device, memory_format=memory_format) for name in VARIANTS}
    images = torch.randn(batch, 3, size, size, device=args.device).to(memory_format=memory_format)

    def autocast():
        if cuda:
            return torch.autocast("cuda", dtype=getattr(torch, args.amp_dtype))
        return contextlib.nullcontext()

    def run(model) -> float:
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        with torch.inference_mode(), autocast():
            model(images)
        if cuda:
            torch.cuda.synchronize()
        return time.perf_counter() - start

    for model in models.values():  # warm-up: kernels, caches, cuDNN autotuning
        for _ in range(3 if cuda else 1):
            run(model)
    times: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            times[name].append(run(model))
    base = statistics.median(times["None"])
    rows = []
    for name in models:
        median = statistics.median(times[name])
        rows.append({"attention": None if name == "None" else name, "median_seconds": median,
                     "overhead": median / base - 1})
        print(f"{name:>5}: {median * 1e3:8.2f} ms  overhead {100 * (median / base - 1):+6.1f}%")
    report = {
        "date": datetime.date.today().isoformat(),
        "device": args.device,
        "hardware": torch.cuda.get_device_name() if cuda else (platform.processor() or platform.machine()),
        "threads": None if cuda else args.threads,
        "torch": torch.__version__,
        "batch": batch, "size": size, "rounds": rounds,
        "precision": f"autocast {args.amp_dtype}, channels_last" if cuda else "float32",
        "rows": rows,
    }
    out = args.out or RESULTS / f"resnet_attention_{args.device}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
