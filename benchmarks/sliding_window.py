"""Benchmark: sliding-window attention, full attention and the band-mask reference, side by side.

Methods (self-attention, shapes (batch, heads, N, dim), band |i - j| <= w):
  full_sdpa         torch scaled_dot_product_attention, no mask (global attention, for scale)
  band_sdpa         scaled_dot_product_attention with a dense (N, N) boolean band mask
  dense             attnbook's dense reference path (band mask, explicit scores)
  blocked           attnbook's blocked path (no N x N tensor), eager
  blocked_compiled  the blocked path under torch.compile(fullgraph=True)
  flex              attnbook's path="flex" (FlexAttention; compiled on CUDA, eager on the CPU)
  flex_raw          torch's flex_attention called directly, compiled (on the CPU too), with
                    attnbook's band block mask
  auto              attnbook's auto path (flex on CUDA, blocked elsewhere)

Every method runs on every device, through the same measurement code. Each (method, N,
window) runs in its own process so that its peak memory is its own:
  peak_bytes    on CUDA the allocator's max_memory_allocated above the inputs
                (attnbook.measure.measure_peak_memory); on the CPU the growth of the
                process's peak resident set size (ru_maxrss) over the inputs, after a
                warm-up (compiled methods warm up at full size, so compilation's own peak
                can hide theirs: then peak_bytes is a lower bound, see peak_note).
  tensor_bytes  attnbook.measure.count_tensor_memory: the largest total of tensors alive
                at once, counted op by op (a fused kernel's private workspace is not seen);
                null, with tensor_note saying why, where the counter cannot see inside
                (FlexAttention's higher-order op, compiled code).
Times are medians.

Usage:
  python benchmarks/sliding_window.py --device cpu            # N 1k..8k, w 64 (minutes on 2 cores)
  python benchmarks/sliding_window.py --device cuda --dtype bfloat16 \
      --sizes 1024 4096 16384 65536 --windows 128 512
Writes sliding_window_<device>.json into the package's stored results (attnbook.book.results_folder()) and prints the ratios the targets name.
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import subprocess
import sys
from pathlib import Path

from attnbook.book import results_folder

RESULTS = results_folder()
METHODS = ("full_sdpa", "band_sdpa", "dense", "blocked", "blocked_compiled", "flex", "flex_raw", "auto")
COMPILED = ("blocked_compiled", "flex_raw")


def measure_one(method: str, n: int, window: int, device: str, dtype: str, batch: int, heads: int, dim: int,
                repeats: int) -> dict:
    import torch
    import torch.nn.functional as F

    from attnbook.measure import count_tensor_memory, measure_peak_memory, median_time
    from attnbook.local import band_block_mask, sliding_window_attention, sliding_window_mask

    torch.manual_seed(0)
    torch_dtype = getattr(torch, dtype)
    if method == "blocked_compiled":
        compiled = torch.compile(functools.partial(sliding_window_attention, path="blocked"), fullgraph=True)
    elif method == "flex_raw":
        from torch.nn.attention.flex_attention import flex_attention

        compiled = torch.compile(flex_attention, dynamic=False)

    def make_run(length: int):
        q, k, v = (torch.randn(batch, heads, length, dim, device=device, dtype=torch_dtype) for _ in range(3))
        if method == "full_sdpa":
            return lambda: F.scaled_dot_product_attention(q, k, v)
        if method == "band_sdpa":
            return lambda: F.scaled_dot_product_attention(
                q, k, v, attn_mask=sliding_window_mask(length, window, device=device))
        if method == "blocked_compiled":
            return lambda: compiled(q, k, v, window)
        if method == "flex_raw":
            block_mask = band_block_mask(length, window, device=device)
            return lambda: compiled(q, k, v, block_mask=block_mask)
        return lambda: sliding_window_attention(q, k, v, window, path=method)

    run = make_run(n)
    if method in COMPILED:
        run()  # compile at this size first: the compiler's work stays out of the readings
    else:
        make_run(min(n, 256))()  # load kernels, start thread pools: one-off costs stay out of the peak
    row = {"method": method, "n": n, "window": window}
    if device == "cuda":
        run()  # compile and cache before measuring memory
        peak = measure_peak_memory(run, device)
        row.update(peak_bytes=peak.bytes, peak_method=peak.method)
    else:
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        run()
        row.update(peak_bytes=(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * 1024,  # KiB on Linux
                   peak_method="growth of peak RSS (ru_maxrss)")
        if method in COMPILED:
            row["peak_note"] = "lower bound: measured after compilation, whose own peak RSS can hide the run's"
    tensors = count_tensor_memory(run)
    row["tensor_bytes"] = tensors.bytes
    if tensors.reason:
        row["tensor_note"] = tensors.reason
    row["seconds"] = median_time(run, repeats=repeats, warmup=1)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--dtype", default=None, help="float32 on cpu, bfloat16 on cuda by default")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 2048, 4096, 8192])
    parser.add_argument("--windows", type=int, nargs="+", default=[64])
    parser.add_argument("--methods", nargs="+", default=None, choices=METHODS)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--heads", type=int, default=None, help="1 on cpu, 8 on cuda by default")
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (cpu only)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--resume", action="store_true",
                        help="keep the rows already in --out (same settings) and measure only the missing ones")
    parser.add_argument("--one", nargs=2, metavar=("METHOD", "N_WINDOW"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    dtype = args.dtype or ("bfloat16" if args.device == "cuda" else "float32")
    heads = args.heads or (8 if args.device == "cuda" else 1)
    if args.one:
        import torch

        torch.set_num_threads(args.threads)
        n, window = (int(x) for x in args.one[1].split(","))
        print(json.dumps(measure_one(args.one[0], n, window, args.device, dtype, args.batch, heads, args.dim,
                                     args.repeats)))
        return
    methods = args.methods or list(METHODS)
    out = args.out or RESULTS / f"sliding_window_{args.device}.json"
    settings = {"device": args.device, "dtype": dtype, "batch": args.batch, "heads": heads, "dim": args.dim}
    done_rows = {}
    if args.resume and out.exists():
        previous = json.loads(out.read_text())
        if all(previous.get(key) == value for key, value in settings.items()):
            done_rows = {(r["method"], r["n"], r["window"]): r for r in previous["rows"] if "error" not in r}
    rows = []
    for window in args.windows:
        for n in args.sizes:
            for method in methods:
                if method == "full_sdpa" and len(args.windows) > 1 and window != args.windows[0]:
                    continue  # full attention does not depend on the window
                if (method, n, window) in done_rows:
                    rows.append(done_rows.pop((method, n, window)))
                    continue
                command = [sys.executable, __file__, "--device", args.device, "--dtype", dtype, "--batch",
                           str(args.batch), "--heads", str(heads), "--dim", str(args.dim), "--repeats",
                           str(args.repeats), "--threads", str(args.threads), "--one", method, f"{n},{window}"]
                done = subprocess.run(command, capture_output=True, text=True)
                if done.returncode != 0:
                    tail = (done.stderr.strip().splitlines() or ["?"])[-1]
                    print(f"{method:>16} N={n:>6} w={window:>5}: failed ({tail})")
                    rows.append({"method": method, "n": n, "window": window, "error": tail})
                    continue
                row = json.loads(done.stdout.strip().splitlines()[-1])
                rows.append(row)
                write_report(args, out, rows + list(done_rows.values()), dtype, heads)  # resumable if stopped
                print(f"{method:>16} N={n:>6} w={window:>5}: {row['seconds'] * 1e3:9.2f} ms "
                      f"{_mib(row['peak_bytes'])} MiB peak, {_mib(row['tensor_bytes'])} MiB tensors")
    report = write_report(args, out, rows + list(done_rows.values()), dtype, heads)
    print_ratios(report)
    print(f"wrote {out}")


def write_report(args: argparse.Namespace, out: Path, rows: list[dict], dtype: str, heads: int) -> dict:
    """Write the rows measured so far, with the settings and the provenance; return the report."""
    from attnbook.measure import provenance

    report = {
        **provenance(device=args.device),
        "threads": args.threads,  # the measuring processes' (this one measures nothing)
        "dtype": dtype, "batch": args.batch, "heads": heads, "dim": args.dim,
        "memory": "cuda max_memory_allocated" if args.device == "cuda" else "growth of peak RSS (ru_maxrss)",
        "rows": rows,
        "ratios": ratios(rows),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    return report


def _mib(value: int | None) -> str:
    return "        –" if value is None else f"{value / 2**20:9.1f}"


def ratios(rows: list[dict]) -> list[dict]:
    """The speed and memory ratios the targets name: each local path against band_sdpa,
    full_sdpa and compiled FlexAttention (flex_raw), at every (N, window) measured.

    speedup = other's seconds / this method's seconds (> 1: this method is faster);
    memory_saving = other's peak_bytes / this method's (> 1: this method uses less).
    """
    table = {(r["method"], r["n"], r["window"]): r for r in rows if "error" not in r}
    out = []
    for (method, n, window), row in sorted(table.items(), key=lambda item: (item[0][2], item[0][1], item[0][0])):
        if method not in ("blocked", "blocked_compiled", "flex", "auto"):
            continue
        for other in ("band_sdpa", "full_sdpa", "flex_raw"):
            reference = table.get((other, n, window))
            if other == "full_sdpa" and reference is None:  # measured once, at the first window
                reference = next((r for (m, size, _), r in table.items() if m == other and size == n), None)
            if reference is None or reference is row:
                continue
            entry = {"method": method, "versus": other, "n": n, "window": window,
                     "speedup": reference["seconds"] / row["seconds"]}
            if reference.get("peak_bytes") and row.get("peak_bytes"):
                entry["memory_saving"] = reference["peak_bytes"] / row["peak_bytes"]
            if reference.get("tensor_bytes") and row.get("tensor_bytes"):
                entry["tensor_memory_saving"] = reference["tensor_bytes"] / row["tensor_bytes"]
            out.append(entry)
    return out


def print_ratios(report: dict) -> None:
    """Print the ratios of :func:`ratios`."""
    for entry in report["ratios"]:
        line = (f"N={entry['n']} w={entry['window']}: {entry['method']} vs {entry['versus']}: "
                f"{entry['speedup']:.2f}x the speed")
        if "memory_saving" in entry:
            line += f", {entry['memory_saving']:.1f}x less peak memory"
        if "tensor_memory_saving" in entry:
            line += f", {entry['tensor_memory_saving']:.1f}x less tensor memory"
        print(line)


if __name__ == "__main__":
    main()
