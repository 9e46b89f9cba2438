"""Benchmark: ResNet-50 inference latency with each attention module, measured side by side.

Plain ResNet-50 and the SE, ECA, CBAM and BAM variants run one after another in one
process, in rounds (each round times every model once, so drift in the machine's speed
hits all of them alike); the median of the rounds is reported with the overhead over
plain ResNet-50.

Modes:
  compile  torch.compile; on CUDA with CUDA graphs (mode="reduce-overhead"), the default
           there: at batch 64 an eager ResNet-50 is bound by kernel launches on the CPU, so
           eager overheads measure Python and launch cost, not GPU work (2026-11-23 H100 run).
  eager    no compilation; the CPU default. On CUDA it is labelled launch-bound.
On CUDA the models run in channels_last with autocast (bfloat16 by default); on the CPU
in float32.

When timm is importable (and --timm is not "off"), timm's ResNet-50 with its own SE, ECA
and CBAM run in the same rounds, side by side, each plain ResNet-50 plus the module: SE is
timm's registered "seresnet50"; timm registers no plain-stem ECA or CBAM ResNet-50
("ecaresnet50d" and "ecaresnet50t" have the deep "D"/"T" stem and average-pool
downsampling), so those are timm.create_model("resnet50", block_args={"attn_layer": "eca"})
and the same with "cbam" (timm's ResNet takes the block's attention layer by name). Their
overheads are over timm's plain "resnet50", stored under "timm_rows". timm has no BAM.

Targets (checked by reading this script's output, not by tests), on an H100 at batch 64,
224x224: each attnbook module's overhead <= timm's in the same run; stretch: SE <= 15%,
ECA <= 5%, CBAM <= 35% (the ECA-Net paper measured +14.5%, +2.7% and +52.9% on an
RTX 2080 Ti).

Usage:
  python benchmarks/resnet_attention.py --device cpu                  # eager, batch 2 at 112x112
  python benchmarks/resnet_attention.py --device cuda                 # compiled + CUDA graphs, batch 64 at 224
  python benchmarks/resnet_attention.py --device cuda --mode eager    # launch-bound
Writes resnet_attention_<device>.json into the package's stored results (attnbook.book.results_folder()) (resnet_attention_<device>_eager.json for
eager on CUDA).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import statistics
import time
from pathlib import Path

import torch

from attnbook.book import results_folder
from attnbook.measure import provenance
from attnbook.models import resnet18, resnet50, small_resnet

RESULTS = results_folder()
VARIANTS = (None, "se", "eca", "cbam", "bam")
TIMM_VARIANTS = (None, "se", "eca", "cbam")
ARCHS = {"resnet50": resnet50, "resnet18": resnet18,
         "small": lambda attention: small_resnet(attention, num_classes=10, in_channels=3)}


def timm_model(arch: str, attention: str | None) -> torch.nn.Module:
    """timm's ResNet (``arch`` is "resnet50" or "resnet18") with timm's own attention module."""
    import timm

    if attention is None:
        return timm.create_model(arch, pretrained=False)
    if attention == "se":
        return timm.create_model(f"se{arch}", pretrained=False)
    return timm.create_model(arch, pretrained=False, block_args={"attn_layer": attention})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--mode", default=None, choices=["compile", "eager"],
                        help="compile (CUDA graphs on CUDA) by default on cuda, eager on cpu")
    parser.add_argument("--backend", default="inductor", help="torch.compile backend when --mode compile")
    parser.add_argument("--arch", default="resnet50", choices=sorted(ARCHS))
    parser.add_argument("--timm", default="auto", choices=["auto", "off"],
                        help="auto: also measure timm's models when timm is importable")
    parser.add_argument("--batch", type=int, default=None, help="2 on cpu, 64 on cuda by default")
    parser.add_argument("--size", type=int, default=None, help="112 on cpu, 224 on cuda by default")
    parser.add_argument("--rounds", type=int, default=None, help="20 on cpu, 30 on cuda by default")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--amp-dtype", default="bfloat16", choices=["float16", "bfloat16"])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    cuda = args.device == "cuda"
    mode = args.mode or ("compile" if cuda else "eager")
    batch = args.batch or (64 if cuda else 2)
    size = args.size or (224 if cuda else 112)
    rounds = args.rounds or (30 if cuda else 20)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    memory_format = torch.channels_last if cuda else torch.contiguous_format
    with_timm = args.timm == "auto" and args.arch != "small" and importlib.util.find_spec("timm") is not None

    def prepare(model: torch.nn.Module) -> torch.nn.Module:
        return model.eval().to(args.device, memory_format=memory_format)

    models = {("attnbook", name): prepare(ARCHS[args.arch](name)) for name in VARIANTS}
    if with_timm:
        models.update({("timm", name): prepare(timm_model(args.arch, name)) for name in TIMM_VARIANTS})
    params = {key: sum(p.numel() for p in model.parameters()) for key, model in models.items()}
    if mode == "compile":
        compile_mode = "reduce-overhead" if cuda else None  # reduce-overhead = CUDA graphs
        models = {key: torch.compile(model, mode=compile_mode, backend=args.backend) for key, model in models.items()}
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
            if mode == "compile" and cuda:
                torch.compiler.cudagraph_mark_step_begin()
            model(images)
        if cuda:
            torch.cuda.synchronize()
        return time.perf_counter() - start

    for model in models.values():  # warm-up: compilation, CUDA graph capture, kernels, cuDNN autotuning
        for _ in range(3 if (cuda or mode == "compile") else 1):
            run(model)
    times: dict[tuple[str, str | None], list[float]] = {key: [] for key in models}
    for _ in range(rounds):
        for key, model in models.items():
            times[key].append(run(model))
    tables: dict[str, list[dict]] = {"attnbook": [], "timm": []}
    for (library, name), samples in times.items():
        median = statistics.median(samples)
        base = statistics.median(times[(library, None)])
        tables[library].append({"attention": name, "median_seconds": median, "overhead": median / base - 1,
                                "params": params[(library, name)]})
        print(f"{library:>8} {str(name):>5}: {median * 1e3:8.2f} ms  overhead {100 * (median / base - 1):+6.1f}%"
              f"  {params[(library, name)]:,} parameters")
    if with_timm:
        ours = {row["attention"]: row["overhead"] for row in tables["attnbook"]}
        for row in tables["timm"][1:]:
            verdict = "<=" if ours[row["attention"]] <= row["overhead"] else ">"
            print(f"{row['attention']}: attnbook {100 * ours[row['attention']]:+.1f}% {verdict} "
                  f"timm {100 * row['overhead']:+.1f}%")
    elif args.timm == "auto":
        print("timm is not importable (or --arch small): timm's models were not measured")
    precision = f"autocast {args.amp_dtype}, channels_last" if cuda else "float32"
    report = {
        **provenance(device=args.device),
        "arch": args.arch,
        "batch": batch, "size": size, "rounds": rounds,
        "precision": precision,
        "mode": (("torch.compile, CUDA graphs (mode='reduce-overhead')" if cuda else "torch.compile")
                 + f", backend {args.backend}") if mode == "compile"
        else ("eager (launch-bound at this size on a GPU)" if cuda else "eager"),
        "rows": tables["attnbook"],
    }
    if with_timm:
        import timm

        report["timm"] = timm.__version__
        report["timm_models"] = {"plain": args.arch, "se": f"se{args.arch}",
                                 "eca": f"{args.arch} with block_args={{'attn_layer': 'eca'}}",
                                 "cbam": f"{args.arch} with block_args={{'attn_layer': 'cbam'}}"}
        report["timm_rows"] = tables["timm"]
    suffix = "_eager" if cuda and mode == "eager" else ""
    out = args.out or RESULTS / f"resnet_attention_{args.device}{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
