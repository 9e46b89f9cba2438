"""Benchmark: what an attention gate costs, split into a fixed cost per call and a cost per element.

Issue 19 asked whether "memory traffic, not arithmetic, is what an attention gate costs" holds
beyond one eager CPU run of ResNet-50 at batch 2, where a fixed cost per operator call
(Python, the dispatcher, allocating the output) is confounded with the cost of reading and
writing the feature map. Two measurements, in one process, in interleaved rounds (each round
times every case once, so drift in the machine's speed hits all cases alike):

1. **Networks.** ResNet-50 (``attnbook.models.resnet50``, torchvision's layout) plain and with
   SE, ECA, CBAM (every block) and BAM (between stages) at every batch of ``--batches`` and
   every image side of ``--sizes``; and the chapter's small ResNet (widths 8, 16, 32, two
   input channels, 40 x 40 images) at every batch of ``--small-batches``, where a forward pass
   is so short that fixed costs per operator call must show. The overhead of each over plain
   is the ratio of medians over the rounds (the range of the per-round ratio is stored too).
2. **Modules alone.** Each gate on feature maps ``(batch, C, S, S)`` of growing size, and one
   element-wise pass ``x * 1.0`` (read the map once, write it once) on the same maps.
   Each sample repeats the call until about ``--values-per-sample`` values have been touched
   (hundreds of calls on the smallest map, one on the largest) and keeps the time per call.
   ``fixed_seconds`` is the module's median time per call on the smallest map (batch 1, 7 x 7
   by default: a few thousand values, in cache, so the time is what the calls cost, whatever
   the map); ``seconds_per_element`` is the slope between the two largest maps (the part that grows
   with the map), and ``passes_equivalent`` that slope over the one pass's, to compare with the
   passes the module counts for itself (``elementwise_passes``). ``torch.profiler`` counts the
   aten operators one call runs (``aten_calls``), which is what the fixed part pays for.

Usage:
  python benchmarks/gate_overhead.py --device cpu            # eager, one thread, the stored run
  python benchmarks/gate_overhead.py --device cuda           # eager, synchronised
Writes gate_overhead_<device>.json into the package's stored results
(attnbook.book.results_folder()), or to --out.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

import attnbook as ab
from attnbook.book import results_folder
from attnbook.measure import provenance

NETWORK_VARIANTS = (None, "se", "eca", "cbam", "bam")
MODULES = ("se", "eca", "cbam", "bam", "ge")


def _timer(device: torch.device):
    synchronize = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def seconds(fn) -> float:
        synchronize()
        start = time.perf_counter()
        fn()
        synchronize()
        return time.perf_counter() - start

    return seconds


def aten_calls(module: torch.nn.Module, x: torch.Tensor) -> int:
    """How many aten operators (outermost calls only) one ``module(x)`` runs."""
    with torch.no_grad(), profile(activities=[ProfilerActivity.CPU]) as prof:
        module(x)
    events = [event for event in prof.events() if event.name.startswith("aten::")]
    # keep the outermost aten calls: an event is nested when another aten event encloses it
    outer = [event for event in events
             if not any(other is not event and other.time_range.start <= event.time_range.start
                        and event.time_range.end <= other.time_range.end for other in events)]
    return len(outer)


def fixed_and_slope(elements: list[int], seconds: list[float]) -> tuple[float, float]:
    """The time at the fewest elements, and the slope between the two largest maps."""
    order = sorted(range(len(elements)), key=elements.__getitem__)
    low, high = order[-2], order[-1]
    return seconds[order[0]], (seconds[high] - seconds[low]) / (elements[high] - elements[low])


def networks(args, device, seconds, arch: str) -> list[dict]:
    if arch == "resnet50":
        models = {variant: ab.models.resnet50(variant).eval().to(device) for variant in NETWORK_VARIANTS}
        cases = [(batch, size) for batch in args.batches for size in args.sizes]
        channels = 3
    else:
        models = {variant: ab.models.small_resnet(
            variant, in_channels=2, widths=(8, 16, 32),  # 8 hidden units, as experiments/channel_choice.py
            attention_kwargs={"rd_channels": 8} if variant in ("se", "cbam", "bam") else None).eval().to(device)
            for variant in NETWORK_VARIANTS}
        cases = [(batch, 40) for batch in args.small_batches]
        channels = 2
    inputs = {case: torch.randn(case[0], channels, case[1], case[1], device=device) for case in cases}
    samples = {(case, variant): [] for case in cases for variant in NETWORK_VARIANTS}
    with torch.no_grad():
        for case in cases:  # warm-up
            for model in models.values():
                model(inputs[case])
        for _ in range(args.rounds):
            for case in cases:
                for variant, model in models.items():
                    samples[case, variant].append(seconds(lambda: model(inputs[case])))
    rows = []
    for case in cases:
        plain = samples[case, None]
        for variant in NETWORK_VARIANTS[1:]:
            times = samples[case, variant]
            per_round = [t / p for t, p in zip(times, plain)]
            rows.append({"arch": arch, "batch": case[0], "size": case[1], "attention": variant,
                         "median_seconds": statistics.median(times),
                         "plain_median_seconds": statistics.median(plain),
                         "overhead": statistics.median(times) / statistics.median(plain) - 1,
                         "overhead_range": [min(per_round) - 1, max(per_round) - 1]})
        print(f"{arch} batch {case[0]:>3} at {case[1]:>3}: plain {1e3 * statistics.median(plain):8.1f} ms; "
              + ", ".join(f"{row['attention']} {100 * row['overhead']:+.1f}%" for row in rows[-4:]), flush=True)
    return rows


def modules(args, device, seconds) -> list[dict]:
    channels = args.channels
    built = {name: ab.channel.create_attention(name, channels).eval().to(device) for name in MODULES}
    built["one pass"] = None
    shapes = [(batch, side) for batch in args.module_batches for side in args.module_sides]
    inputs = {shape: torch.randn(shape[0], channels, shape[1], shape[1], device=device) for shape in shapes}

    def call(name, x):
        """One timed sample: ``repeats`` calls in a row (so every sample lasts about as long
        whatever the map's size), timed together; the sample is the time per call."""
        repeats = max(1, args.values_per_sample // x.numel())
        once = (lambda: x * 1.0) if built[name] is None else (lambda: built[name](x))

        def sample():
            for _ in range(repeats):
                once()

        return sample, repeats

    samples = {(name, shape): [] for name in built for shape in shapes}
    with torch.no_grad():
        for shape in shapes:
            for name in built:
                call(name, inputs[shape])[0]()
        for _ in range(args.module_rounds):
            for shape in shapes:
                for name in built:
                    sample, repeats = call(name, inputs[shape])
                    samples[name, shape].append(seconds(sample) / repeats)
    elements = [batch * channels * side * side for batch, side in shapes]
    medians = {name: [statistics.median(samples[name, shape]) for shape in shapes] for name in built}
    _, one_pass = fixed_and_slope(elements, medians["one pass"])
    rows = []
    for name, module in built.items():
        fixed, slope = fixed_and_slope(elements, medians[name])
        small = inputs[min(shapes, key=lambda shape: shape[0] * shape[1] ** 2)]
        rows.append({"module": name, "fixed_seconds": fixed, "seconds_per_element": slope,
                     "passes_equivalent": slope / one_pass,
                     "elementwise_passes": None if module is None else ab.measure.elementwise_passes(module),
                     "aten_calls": 1 if module is None else aten_calls(module, small),
                     "shapes": [list(shape) for shape in shapes], "elements": elements,
                     "median_seconds": medians[name]})
        print(f"{name:>9}: fixed {1e6 * fixed:7.1f} us, {slope / one_pass:5.2f} passes per element, "
              f"{rows[-1]['aten_calls']} aten calls", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (1: the stored run)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16], help="ResNet-50 batches")
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 224], help="ResNet-50 image sides")
    parser.add_argument("--small-batches", type=int, nargs="+", default=[1, 256],
                        help="batches of the chapter's small ResNet (40 x 40, two channels)")
    parser.add_argument("--channels", type=int, default=256, help="C of the modules-alone maps")
    parser.add_argument("--module-batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--module-sides", type=int, nargs="+", default=[7, 14, 28, 56])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the network timings")
    parser.add_argument("--module-rounds", type=int, default=15, help="rounds of the modules-alone timings")
    parser.add_argument("--values-per-sample", type=int, default=4_000_000,
                        help="a modules-alone sample repeats the call until it has touched about this many values")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    for name in ("threads", "rounds", "module_rounds", "channels", "values_per_sample"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if len({b * s * s for b in args.module_batches for s in args.module_sides}) < 2:
        parser.error("the modules-alone slope needs at least two map sizes")
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    seconds = _timer(device)
    started = time.perf_counter()
    report = {
        "benchmark": "benchmarks/gate_overhead.py",
        **provenance(device=args.device),
        "threads": args.threads, "mode": "eager", "precision": "float32", "rounds": args.rounds,
        "module_rounds": args.module_rounds, "values_per_sample": args.values_per_sample,
        "network_rows": networks(args, device, seconds, "resnet50") + networks(args, device, seconds, "small"),
        "module_channels": args.channels,
        "module_rows": modules(args, device, seconds),
    }
    report["seconds"] = round(time.perf_counter() - started, 1)
    out = args.out or results_folder() / f"gate_overhead_{args.device}.json"
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {out} ({report['seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
