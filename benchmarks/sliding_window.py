"""Benchmark: sliding-window attention, full attention and the band-mask reference, side by side,
forward and training step (forward + backward).

The band is Longformer's local attention |i - j| <= w (Beltagy et al., 2020,
https://arxiv.org/abs/2004.05150); FlexAttention (https://pytorch.org/blog/flexattention/) is
the compiled reference on CUDA.

Methods (self-attention, shapes (batch, heads, N, dim)):
  full_sdpa         torch scaled_dot_product_attention, no mask (global attention, for scale)
  band_sdpa         scaled_dot_product_attention with a dense (N, N) boolean band mask, built per call
  dense             attnbook's dense reference path (band mask, explicit scores)
  blocked           attnbook's blocked path (no N x N tensor), eager
  blocked_compiled  the blocked path under torch.compile(fullgraph=True)
  flex              attnbook's path="flex" (FlexAttention; compiled on CUDA, eager on the CPU)
  flex_raw          torch's flex_attention called directly, compiled (on the CPU too), with
                    attnbook's band block mask (built once per size, outside the timed call)
  auto              attnbook's auto path (flex on CUDA, blocked elsewhere: on the CPU the same
                    function as blocked, so auto vs blocked is a noise check)
  blocked:B         the blocked path with block_size=B; blocked:window with the old rule,
                    block_size = w clamped to 16..512 (for --methods, to choose the block size)

Each is measured twice: forward only (inputs without grad) and as a training step, the
forward and the backward of loss = out.sum() (torch.autograd.grad, so nothing accumulates).

Time: all methods run in one process, in interleaved rounds, for each (N, w): every round
times each method's forward and then its training step once (attnbook.measure.median_time of
one call; CUDA is synchronised around it), the methods in a shuffled order (seeded by the
round), so that drift in the machine's speed hits all methods alike and no method always
follows the same one (a method after one that frees a gigabyte runs on cold memory). After warm-up (compilation, kernel
loading) --rounds rounds run; a method whose samples already add up to --budget seconds
stops after 3 rounds. Each row has the median ("seconds", "train_seconds"), the interquartile
range ("seconds_iqr"), the min-max range ("seconds_range") and the samples. A ratio between
two methods is the median of their per-round ratios (the rounds both took part in), with
its IQR and min-max range: a ratio whose range includes 1 is not resolved by the run.

Memory:
  tensor_bytes   attnbook.measure.count_tensor_memory: the largest total of tensors alive
                 at once, counted op by op (a fused kernel's private workspace is not seen);
                 null, with tensor_note saying why, where the counter cannot see inside
                 (FlexAttention's higher-order op, compiled code). Deterministic.
  peak_bytes     on CUDA the allocator's max_memory_allocated above the inputs
                 (attnbook.measure.measure_peak_memory), in the timing process; on the CPU
                 the growth of peak resident set size (VmHWM) over the inputs, which only
                 grows, so each method (--rss) runs once more in a process of its own, after
                 a small warm-up; compiled methods do not (compilation's own peak would hide
                 theirs).
  train_*        the same for the training step (its peak includes the forward's).
SDPA backend: each method's forward and training step run once under torch.profiler, and
the fused attention ops it called are counted by backend ("sdpa_forward", "sdpa_train":
flash, efficient, cudnn, math, flash (cpu), ... with " backward" for the backward kernels),
so a fall-back to the math backend, which stores the scores, shows.

Usage:
  python benchmarks/sliding_window.py --device cpu            # N 1k..8k, w 64 (minutes on 2 cores)
  python benchmarks/sliding_window.py --device cpu --sizes 8192 --windows 64 512 --heads 8 \\
      --methods blocked:64 blocked:128 blocked:256 blocked:window --out block_size.json
  python benchmarks/sliding_window.py --device cuda --dtype bfloat16 \\
      --sizes 1024 4096 16384 65536 --windows 128 512
Writes sliding_window_<device>.json into the package's stored results
(attnbook.book.results_folder()) and prints the ratios the targets name, with their spread.
"""

from __future__ import annotations

import argparse
import collections
import functools
import json
import math
import random
import resource
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from attnbook.book import results_folder

RESULTS = results_folder()
METHODS = ("full_sdpa", "band_sdpa", "dense", "blocked", "blocked_compiled", "flex", "flex_raw", "auto")
COMPILED = ("blocked_compiled", "flex_raw")
PARTS = ("forward", "train")  # a row's keys: "seconds" for the forward, "train_seconds" for the training step
MIN_ROUNDS = 3
# The fused attention ops of scaled_dot_product_attention, by backend (their "_backward" ops likewise).
SDPA_OPS = {
    "_scaled_dot_product_flash_attention": "flash",
    "_scaled_dot_product_flash_attention_for_cpu": "flash (cpu)",
    "_scaled_dot_product_efficient_attention": "efficient",
    "_scaled_dot_product_cudnn_attention": "cudnn",
    "_scaled_dot_product_fused_attention_overrideable": "overrideable",
    "_scaled_dot_product_attention_math": "math",
    "_scaled_dot_product_attention_math_for_mps": "math",
}


def parse_method(method: str) -> tuple[str, int | str | None]:
    """``"blocked:128"`` -> ``("blocked", 128)``; ``"blocked:window"`` -> ``("blocked", "window")``;
    a plain method name -> ``(name, None)``.

    Raises:
        ValueError: an unknown method, or a block size that is not ``window`` or an integer >= 1.
    """
    name, _, block = method.partition(":")
    if name not in METHODS or (block and name != "blocked"):
        raise ValueError(f"method must be one of {METHODS} or blocked:<block size>, got {method!r}")
    if not block:
        return name, None
    if block == "window":
        return name, block
    if not block.isdigit() or int(block) < 1:
        raise ValueError(f"the block size of {method!r} must be 'window' or an integer >= 1, got {block!r}")
    return name, int(block)


def method_call(method: str, n: int, window: int, device: str, backend: str = "inductor") -> Callable:
    """The function ``(q, k, v) -> context`` that ``method`` times, for length ``n`` and window ``window``;
    ``backend`` is torch.compile's for the compiled methods."""
    import torch
    import torch.nn.functional as F

    from attnbook.local import band_block_mask, sliding_window_attention, sliding_window_mask

    name, block = parse_method(method)
    if name == "full_sdpa":
        return F.scaled_dot_product_attention
    if name == "band_sdpa":
        return lambda q, k, v: F.scaled_dot_product_attention(
            q, k, v, attn_mask=sliding_window_mask(n, window, device=device))
    if name == "blocked_compiled":
        compiled = torch.compile(functools.partial(sliding_window_attention, path="blocked"), fullgraph=True,
                                 dynamic=False, backend=backend)
        return lambda q, k, v: compiled(q, k, v, window)
    if name == "flex_raw":
        from torch.nn.attention.flex_attention import flex_attention

        compiled = torch.compile(flex_attention, dynamic=False, backend=backend)
        block_mask = band_block_mask(n, window, device=device)
        return lambda q, k, v: compiled(q, k, v, block_mask=block_mask)
    if block == "window":
        block = min(max(window, 16), 512)
    return lambda q, k, v: sliding_window_attention(q, k, v, window, path=name, block_size=block)


def training_step(call: Callable, inputs: tuple) -> Callable[[], tuple]:
    """One training step of ``call``: forward, then the gradients of ``out.sum()`` for the inputs."""
    import torch

    def step() -> tuple:
        return torch.autograd.grad(call(*inputs).sum(), inputs)

    return step


def sdpa_backends(fn: Callable[[], Any]) -> dict[str, int]:
    """Run ``fn()`` once under torch.profiler and count the fused attention ops it called, by backend.

    Returns:
        ``{"flash": 3, "flash backward": 3}`` and the like; empty when ``fn`` calls no SDPA kernel
        (FlexAttention, explicit scores).
    """
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as recorded:
        fn()
    counts: collections.Counter[str] = collections.Counter()
    for event in recorded.events():
        name = event.name.removeprefix("aten::")
        backward = name.endswith("_backward")
        backend = SDPA_OPS.get(name.removesuffix("_backward"))
        if backend:
            counts[backend + (" backward" if backward else "")] += 1
    return dict(sorted(counts.items()))


def _error_text(error: BaseException) -> str:
    lines = str(error).strip().splitlines() or [""]
    return f"{type(error).__name__}: {lines[0][:200]}"


def _spread(samples: list[float]) -> dict[str, Any]:
    quartiles = statistics.quantiles(samples, n=4, method="inclusive") if len(samples) > 1 else samples * 3
    return {"median": statistics.median(samples), "iqr": [quartiles[0], quartiles[2]],
            "range": [min(samples), max(samples)]}


def _mib_text(value: int | None) -> str:
    if value is None:
        return "-"
    return f"{value / 2**30:.2f} GiB" if value >= 2**30 else f"{value / 2**20:.1f} MiB"


def _prefix(part: str) -> str:
    return "" if part == "forward" else "train_"


def _count_tensors(rows: dict[str, dict], calls: dict[str, dict[str, Callable]]) -> None:
    """tensor_bytes and train_tensor_bytes of a call after one uncounted call (so the blocked
    path's cached masks are not counted); a method that fails here gets its error recorded."""
    from attnbook.measure import count_tensor_memory

    for method, parts in calls.items():
        for part, fn in parts.items():
            prefix = _prefix(part)
            if parse_method(method)[0] in COMPILED:  # the counter cannot trace compiled code; spare a compilation
                rows[method][prefix + "tensor_bytes"] = None
                rows[method][prefix + "tensor_note"] = "not counted: the tensor counter cannot run compiled code"
                continue
            try:
                fn()
                reading = count_tensor_memory(fn)
            except Exception as error:  # noqa: BLE001 - the method itself fails: recorded, left out
                rows[method][prefix + "error"] = _error_text(error)
                continue
            rows[method][prefix + "tensor_bytes"] = reading.bytes
            if reading.reason:
                rows[method][prefix + "tensor_note"] = reading.reason


def _warm_up(rows: dict[str, dict], calls: dict[str, dict[str, Callable]], device: str) -> dict[str, dict]:
    """Run each part twice (compilation, kernels, thread pools), then read its CUDA peak and its
    SDPA backends; return the parts that ran, by method.

    A compilation that fails (FlexAttention's backward on the CPU) leaves torch.compile running
    that function eagerly from then on, the parts that had compiled included; so after a
    failure the caches are cleared and the parts that ran are compiled again.
    """
    import torch

    from attnbook.measure import measure_peak_memory

    ready: dict[str, dict[str, Callable]] = {}
    failed = False
    for method, parts in calls.items():
        row = rows[method]
        for part, fn in parts.items():
            prefix = _prefix(part)
            if "error" in row or prefix + "error" in row:
                continue
            try:
                fn()
                fn()
            except Exception as error:  # noqa: BLE001 - recorded in the row, the other methods still run
                row[prefix + "error"] = _error_text(error)
                failed = True
                continue
            ready.setdefault(method, {})[part] = fn
    if failed:
        torch._dynamo.reset()
        for parts in ready.values():
            for fn in parts.values():
                fn()
                fn()
    ready = {method: parts for method, parts in ready.items() if "forward" in parts and "error" not in rows[method]}
    for method, parts in ready.items():
        for part, fn in parts.items():
            prefix = _prefix(part)
            if device == "cuda":
                peak = measure_peak_memory(fn, device)
                rows[method].update({prefix + "peak_bytes": peak.bytes, "peak_method": peak.method,
                                     prefix + "peak_text": _mib_text(peak.bytes)})
            rows[method]["sdpa_" + part] = sdpa_backends(fn)
    return ready


def _time_rounds(rows: dict[str, dict], ready: dict[str, dict[str, Callable]], args: argparse.Namespace) -> None:
    """Interleaved rounds: each round times every method's parts once, in an order of its own."""
    from attnbook.measure import median_time

    samples = {method: {part: {} for part in parts} for method, parts in ready.items()}
    for round_index in range(args.rounds):
        order = list(ready)
        random.Random(round_index).shuffle(order)
        for method in order:
            for part, fn in ready[method].items():
                taken = samples[method][part]
                if len(taken) >= MIN_ROUNDS and sum(taken.values()) >= args.budget:
                    continue
                taken[round_index] = median_time(fn, repeats=1, warmup=0)  # one call, synchronised on CUDA
    for method, parts in samples.items():
        for part, taken in parts.items():
            prefix = _prefix(part)
            spread = _spread(list(taken.values()))
            rows[method].update({prefix + "seconds": spread["median"], prefix + "seconds_iqr": spread["iqr"],
                                 prefix + "seconds_range": spread["range"],
                                 prefix + "seconds_samples": {str(r): s for r, s in taken.items()}})


def measure_setting(methods: list[str], n: int, window: int, args: argparse.Namespace) -> list[dict]:
    """Every method at one (n, window): tensor counts, warm-up, CUDA peaks, SDPA backends, timed rounds."""
    import torch

    from attnbook.local import default_block_size

    torch.manual_seed(0)
    dtype = getattr(torch, args.dtype)
    shape = (args.batch, args.heads, n, args.dim)
    inputs = tuple(torch.randn(shape, device=args.device, dtype=dtype) for _ in range(3))
    leaves = tuple(t.clone().requires_grad_() for t in inputs)
    rows, calls = {}, {}
    for method in methods:
        row = rows[method] = {"method": method, "n": n, "window": window}
        name, block = parse_method(method)
        if name in ("blocked", "blocked_compiled") or (name == "auto" and args.device == "cpu"):
            row["block_size"] = (min(max(window, 16), 512) if block == "window"
                                 else block or default_block_size(window, args.device))
        try:
            call = method_call(method, n, window, args.device, args.compile_backend)
        except Exception as error:  # noqa: BLE001 - recorded in the row, the other methods still run
            row["error"] = _error_text(error)
            continue
        calls[method] = {"forward": functools.partial(call, *inputs), "train": training_step(call, leaves)}
    _count_tensors(rows, calls)  # first: where the counter cannot see inside, it resets torch.compile's caches
    torch._dynamo.reset()
    _time_rounds(rows, _warm_up(rows, calls, args.device), args)
    for method in methods:
        row = rows[method]
        if "error" in row:
            print(f"{method:>16} N={n:>6} w={window:>5}: failed ({row['error']})")
            continue
        train = (f"{row['train_seconds'] * 1e3:9.2f} ms" if "train_seconds" in row
                 else f"failed ({row.get('train_error', '?')[:60]})")
        backends = " / ".join(", ".join(f"{name} x{count}" for name, count in row[key].items()) or "none"
                              for key in ("sdpa_forward", "sdpa_train") if key in row)
        print(f"{method:>16} N={n:>6} w={window:>5}: forward {row['seconds'] * 1e3:9.2f} ms, train {train};"
              f" tensors {_mib_text(row.get('tensor_bytes'))} / {_mib_text(row.get('train_tensor_bytes'))};"
              f" SDPA {backends}")
    return [rows[method] for method in methods]


def peak_rss_bytes() -> int:
    """This process's peak resident set size: VmHWM of /proc/self/status, which starts afresh
    with the process (ru_maxrss, the fallback, keeps the peak of the process that started it)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def measure_rss(method: str, n: int, window: int, args: argparse.Namespace) -> dict:
    """In a fresh process: the growth of peak RSS over the inputs for one forward, then one training step."""
    import torch

    torch.manual_seed(0)
    dtype = getattr(torch, args.dtype)

    def parts(length: int) -> tuple[Callable, Callable]:
        inputs = tuple(torch.randn(args.batch, args.heads, length, args.dim, dtype=dtype) for _ in range(3))
        leaves = tuple(t.clone().requires_grad_() for t in inputs)
        call = method_call(method, length, window, "cpu")
        return functools.partial(call, *inputs), training_step(call, leaves)

    small_forward, small_train = parts(min(n, 256))
    forward, train = parts(n)
    small_forward()  # load kernels, start thread pools: one-off costs stay out of the peak
    try:
        small_train()
    except Exception:  # noqa: BLE001 - a method without a backward on the CPU: no train peak
        train = None
    base = peak_rss_bytes()
    forward()
    out = {"peak_bytes": peak_rss_bytes() - base}
    if train is not None:
        train()
        out["train_peak_bytes"] = peak_rss_bytes() - base
    return out


def add_rss(rows: list[dict], rss_methods: list[str], args: argparse.Namespace) -> None:
    """Fill peak_bytes (and train_peak_bytes) on the CPU, one process per method and setting."""
    for row in rows:
        if "error" in row:
            continue
        row["peak_method"] = "growth of peak RSS (VmHWM), own process"
        if row["method"] not in rss_methods:
            row["peak_bytes"] = None
            row["peak_note"] = ("not measured: compilation's own peak RSS would hide the run's"
                                if parse_method(row["method"])[0] in COMPILED else "not measured (--rss)")
            continue
        command = [sys.executable, __file__, "--device", "cpu", "--dtype", args.dtype, "--batch", str(args.batch),
                   "--heads", str(args.heads), "--dim", str(args.dim), "--threads", str(args.threads),
                   "--one", row["method"], f"{row['n']},{row['window']}"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            row["peak_bytes"] = None
            row["peak_note"] = "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1][:200]
            continue
        reading = json.loads(done.stdout.strip().splitlines()[-1])
        row.update(reading, peak_text=_mib_text(reading["peak_bytes"]))


def _ratio(row: dict, other: dict, part: str) -> dict | None:
    """other's time / row's time, per round (the rounds both took part in): median, IQR, range."""
    mine, theirs = row.get(_prefix(part) + "seconds_samples"), other.get(_prefix(part) + "seconds_samples")
    if not mine or not theirs:
        return None
    common = sorted(set(mine) & set(theirs), key=int)
    if not common:
        return None
    return _spread([theirs[r] / mine[r] for r in common])


def ratios(rows: list[dict]) -> list[dict]:
    """The speed and memory ratios the targets name: each local path against band_sdpa,
    full_sdpa and compiled FlexAttention (flex_raw), and auto against blocked, at every (N, window).

    speedup = other's seconds / this method's, the median of per-round ratios, with
    speedup_iqr and speedup_range (> 1: this method is faster); train_speedup likewise for the
    training step; memory_saving = other's peak_bytes / this method's (> 1: this method uses
    less), tensor_memory_saving the same for tensor_bytes, train_ the same for the training step.
    """
    table = {(r["method"], r["n"], r["window"]): r for r in rows if "error" not in r}
    out = []
    for (method, n, window), row in sorted(table.items(), key=lambda item: (item[0][2], item[0][1], item[0][0])):
        if method not in ("blocked", "blocked_compiled", "flex", "auto"):
            continue
        for other in ("band_sdpa", "full_sdpa", "flex_raw", "blocked"):
            if (other == "blocked") != (method == "auto"):
                continue
            reference = table.get((other, n, window))
            if other == "full_sdpa" and reference is None:  # measured once, at the first window
                reference = next((r for (m, size, _), r in table.items() if m == other and size == n), None)
            if reference is None:
                continue
            entry = {"method": method, "versus": other, "n": n, "window": window}
            for part in PARTS:
                prefix = _prefix(part)
                spread = _ratio(row, reference, part)
                if spread:
                    entry.update({prefix + "speedup": spread["median"], prefix + "speedup_iqr": spread["iqr"],
                                  prefix + "speedup_range": spread["range"]})
                for kind in ("peak_bytes", "tensor_bytes"):
                    mine, theirs = row.get(prefix + kind), reference.get(prefix + kind)
                    if mine and theirs:
                        label = "memory_saving" if kind == "peak_bytes" else "tensor_memory_saving"
                        entry[prefix + label] = theirs / mine
            out.append(entry)
    return out


def targets(report: dict) -> list[dict]:
    """The issue's targets, each as a measured value (with its range for times) and whether it holds.

    CPU, N = 8192, w = 64: blocked >= 5x faster and >= 10x less peak memory than band_sdpa, peak
    tensor memory <= 2x full_sdpa's; auto vs blocked (the same function) must have a range that
    includes 1. CUDA, N = 16384: blocked >= 0.25x the speed of flex_raw at w = 128 and 512, faster
    than full_sdpa for N >= 16384 and w <= 512, peak memory linear in N (log-log slope <= 1.1).
    Forward and training step alike. ``met`` is judged on the whole range for times.
    """
    found = {(r["method"], r["n"], r["window"], r["versus"]): r for r in report["ratios"]}
    rows = {(r["method"], r["n"], r["window"]): r for r in report["rows"] if "error" not in r}
    out = []

    def time_target(text: str, key: tuple, part: str, holds: Callable[[float, float], bool]) -> None:
        # holds(low, high): whether the target holds over the whole min-max range
        entry = found.get(key)
        prefix = _prefix(part)
        if not entry or prefix + "speedup" not in entry:
            return
        low, high = entry[prefix + "speedup_range"]
        out.append({"target": f"{text}, {part}", "value": entry[prefix + "speedup"], "range": [low, high],
                    "iqr": entry[prefix + "speedup_iqr"], "met": holds(low, high)})

    def value_target(text: str, value: float | None, met: bool) -> None:
        if value is not None:
            out.append({"target": text, "value": value, "met": met})

    if report["device"] == "cpu":
        n, w = 8192, 64
        for part in PARTS:
            prefix = _prefix(part)
            time_target("blocked vs band_sdpa speed >= 5x", ("blocked", n, w, "band_sdpa"), part,
                        lambda low, high: low >= 5)
            entry = found.get(("blocked", n, w, "band_sdpa"), {})
            for kind in ("memory_saving", "tensor_memory_saving"):
                value = entry.get(prefix + kind)
                value_target(f"blocked vs band_sdpa {kind.replace('_', ' ')} >= 10x, {part}", value,
                             value is not None and value >= 10)
            blocked, full = rows.get(("blocked", n, w)), rows.get(("full_sdpa", n, w))
            if blocked and full and blocked.get(prefix + "tensor_bytes") and full.get(prefix + "tensor_bytes"):
                value = blocked[prefix + "tensor_bytes"] / full[prefix + "tensor_bytes"]
                value_target(f"blocked tensor memory / full_sdpa's <= 2, {part}", value, value <= 2)
        for (method, size, window, versus) in found:
            if method == "auto" and versus == "blocked":
                for part in PARTS:
                    time_target(f"noise check: auto vs blocked (one function) range includes 1, N={size} w={window}",
                                (method, size, window, versus), part, lambda low, high: low <= 1 <= high)
        return out
    for part in PARTS:
        prefix = _prefix(part)
        for w in (128, 512):
            time_target(f"blocked vs flex_raw speed >= 0.25x, N=16384 w={w}", ("blocked", 16384, w, "flex_raw"),
                        part, lambda low, high: low >= 0.25)
        for (method, size, window, versus) in sorted(found):
            if method == "blocked" and versus == "full_sdpa" and size >= 16384 and window <= 512:
                time_target(f"blocked faster than full_sdpa, N={size} w={window}", (method, size, window, versus),
                            part, lambda low, high: low > 1)
        for w in sorted({r["window"] for r in rows.values()}):
            points = sorted((r["n"], r[prefix + "peak_bytes"]) for (m, _, window), r in rows.items()
                            if m == "blocked" and window == w and r.get(prefix + "peak_bytes"))
            if len(points) >= 2:
                (n0, p0), (n1, p1) = points[0], points[-1]
                slope = math.log(p1 / p0) / math.log(n1 / n0)
                value_target(f"blocked peak memory linear in N (log-log slope <= 1.1), w={w}, {part}", slope,
                             slope <= 1.1)
    return out


def _range_text(entry: dict, prefix: str) -> str:
    lo, hi = entry[prefix + "speedup_range"]
    return f"{entry[prefix + 'speedup']:.2f}x ({lo:.2f}-{hi:.2f})"


def print_ratios(report: dict) -> None:
    """Print the ratios of :func:`ratios` (time: median and min-max range of per-round ratios) and the targets."""
    for entry in report["ratios"]:
        line = f"N={entry['n']} w={entry['window']}: {entry['method']} vs {entry['versus']}:"
        for part in PARTS:
            prefix = _prefix(part)
            if prefix + "speedup" in entry:
                line += f" {part} {_range_text(entry, prefix)} the speed"
            if prefix + "memory_saving" in entry:
                line += f", {entry[prefix + 'memory_saving']:.1f}x less peak"
            if prefix + "tensor_memory_saving" in entry:
                line += f", {entry[prefix + 'tensor_memory_saving']:.1f}x less tensor memory"
            line += ";"
        print(line.rstrip(";").replace(";;", ";"))
    if report["targets"]:
        print("targets (time: median, min-max range of per-round ratios; met only if the whole range is):")
    for entry in report["targets"]:
        value = entry["value"]
        shown = f"{value:.2f}" + (f" ({entry['range'][0]:.2f}-{entry['range'][1]:.2f})" if "range" in entry else "")
        print(f"  [{'met' if entry['met'] else 'NOT MET'}] {entry['target']}: {shown}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--dtype", default=None, help="float32 on cpu, bfloat16 on cuda by default")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 2048, 4096, 8192])
    parser.add_argument("--windows", type=int, nargs="+", default=[64])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), help=f"of {METHODS} and blocked:<block size>")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--heads", type=int, default=None, help="1 on cpu, 8 on cuda by default")
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=None, help="7 on cpu, 15 on cuda by default")
    parser.add_argument("--budget", type=float, default=20.0,
                        help="seconds of samples after which a method stops (after 3 rounds), per part and setting")
    parser.add_argument("--rss", nargs="*", default=None,
                        help="cpu: methods whose peak RSS is measured, each in a process of its own "
                             "(default: all but the compiled ones; none with an empty list)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (cpu only)")
    parser.add_argument("--compile-backend", default="inductor",
                        help="torch.compile backend of the compiled methods (eager: trace only, for a quick check)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--one", nargs=2, metavar=("METHOD", "N_WINDOW"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    for method in args.methods:
        try:
            parse_method(method)
        except ValueError as error:
            parser.error(str(error))
    args.dtype = args.dtype or ("bfloat16" if args.device == "cuda" else "float32")
    args.heads = args.heads or (8 if args.device == "cuda" else 1)
    args.rounds = args.rounds or (15 if args.device == "cuda" else 7)
    import torch

    if args.device == "cpu":
        torch.set_num_threads(args.threads)
    if args.one:
        n, window = (int(x) for x in args.one[1].split(","))
        print(json.dumps(measure_rss(args.one[0], n, window, args)))
        return
    rss = ([] if args.device == "cuda" else [m for m in args.methods if parse_method(m)[0] not in COMPILED]
           ) if args.rss is None else args.rss
    out = args.out or RESULTS / f"sliding_window_{args.device}.json"
    rows = []
    for window in args.windows:
        for n in args.sizes:
            # full attention does not depend on the window: measured at the first only
            methods = [m for m in args.methods if not (m == "full_sdpa" and window != args.windows[0])]
            rows += measure_setting(methods, n, window, args)
            write_report(args, out, rows)  # what is measured so far survives a stop
    if args.device == "cpu" and rss:
        add_rss(rows, rss, args)
    report = write_report(args, out, rows)
    print_ratios(report)
    print(f"wrote {out}")


def write_report(args: argparse.Namespace, out: Path, rows: list[dict]) -> dict:
    """Write the rows measured so far, with the settings, the provenance, the ratios and the targets."""
    from attnbook.measure import provenance

    report = {
        **provenance(device=args.device),
        "dtype": args.dtype, "batch": args.batch, "heads": args.heads, "dim": args.dim,
        "rounds": args.rounds, "budget_seconds": args.budget, "compile_backend": args.compile_backend,
        "timing": "one process, interleaved rounds; seconds = median, seconds_iqr, seconds_range = min-max",
        "memory": ("cuda max_memory_allocated" if args.device == "cuda"
                   else "growth of peak RSS (VmHWM), one process per method"),
        "rows": rows,
    }
    report["ratios"] = ratios(rows)
    report["targets"] = targets(report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    return report


if __name__ == "__main__":
    main()
