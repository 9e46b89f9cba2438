"""Benchmark: sliding-window attention, full attention and the band-mask reference, side by side.

Methods (self-attention, shapes (batch, heads, N, dim)):
  full_sdpa    torch scaled_dot_product_attention, no mask (global attention, for scale)
  band_sdpa    scaled_dot_product_attention with a dense (N, N) boolean band mask
  dense        attnbook's dense reference path (band mask, explicit scores)
  blocked      attnbook's blocked path (no N x N tensor)
  flex         FlexAttention with a block mask (CUDA only)
  auto         attnbook's auto path (flex on CUDA, blocked elsewhere)

Each (method, N, window) runs in its own process so that its peak memory is its own:
on CUDA the allocator's max_memory_allocated above the inputs, on the CPU the growth
of the process's peak resident set size (ru_maxrss) over the inputs, after a small
warm-up. tensor_bytes is attnbook.peak_tensor_memory: the largest total of tensors
alive at once, counted op by op (a fused kernel's private workspace is not seen).
Times are medians.

Usage:
  python benchmarks/sliding_window.py --device cpu            # N 1k..8k, w 64 (minutes on 2 cores)
  python benchmarks/sliding_window.py --device cuda --dtype bfloat16 \
      --sizes 1024 4096 16384 65536 --windows 64 128 512 1024
Writes benchmarks/results/sliding_window_<device>.json and prints the ratios the targets name.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import resource
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
METHODS = ("full_sdpa", "band_sdpa", "dense", "blocked", "flex", "auto")


def measure_one(method: str, n: int, window: int, device: str, dtype: str, batch: int, heads: int, dim: int,
                repeats: int) -> dict:
    import torch
    import torch.nn.functional as F

    from attnbook import median_time, peak_tensor_memory, sliding_window_attention, sliding_window_mask

    torch.manual_seed(0)
    torch_dtype = getattr(torch, dtype)

    def make_run(length: int):
        q, k, v = (torch.randn(batch, heads, length, dim, device=device, dtype=torch_dtype) for _ in range(3))
        if method == "full_sdpa":
            return lambda: F.scaled_dot_product_attention(q, k, v)
        if method == "band_sdpa":
            return lambda: F.scaled_dot_product_attention(
                q, k, v, attn_mask=sliding_window_mask(length, window, device=device))
        return lambda: sliding_window_attention(q, k, v, window, path=method)

    make_run(min(n, 256))()  # load kernels, start thread pools: one-off costs stay out of the peak
    run = make_run(n)
    if device == "cuda":
        run()  # compile and cache before measuring memory
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        run()
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - base
    else:
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        run()
        peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * 1024  # KiB on Linux
    tensor_bytes = peak_tensor_memory(run)
    seconds = median_time(run, repeats=repeats, warmup=1)
    return {"method": method, "n": n, "window": window, "seconds": seconds, "peak_bytes": peak,
            "tensor_bytes": tensor_bytes}


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
    methods = args.methods or [m for m in METHODS if args.device == "cuda" or m not in ("flex", "auto")]
    rows = []
    for window in args.windows:
        for n in args.sizes:
            for method in methods:
                if method == "full_sdpa" and len(args.windows) > 1 and window != args.windows[0]:
                    continue  # full attention does not depend on the window
                command = [sys.executable, __file__, "--device", args.device, "--dtype", dtype, "--batch",
                           str(args.batch), "--heads", str(heads), "--dim", str(args.dim), "--repeats",
                           str(args.repeats), "--threads", str(args.threads), "--one", method, f"{n},{window}"]
                done = subprocess.run(command, capture_output=True, text=True)
                if done.returncode != 0:
                    tail = (done.stderr.strip().splitlines() or ["?"])[-1]
                    print(f"{method:>9} N={n:>6} w={window:>5}: failed ({tail})")
                    rows.append({"method": method, "n": n, "window": window, "error": tail})
                    continue
                row = json.loads(done.stdout.strip().splitlines()[-1])
                rows.append(row)
                print(f"{method:>9} N={n:>6} w={window:>5}: {row['seconds'] * 1e3:9.2f} ms "
                      f"{row['peak_bytes'] / 2**20:9.1f} MiB peak, {row['tensor_bytes'] / 2**20:9.1f} MiB tensors")
    import torch

    hardware = torch.cuda.get_device_name() if args.device == "cuda" else platform.processor() or platform.machine()
    report = {
        "date": datetime.date.today().isoformat(),
        "device": args.device,
        "hardware": hardware,
        "threads": args.threads if args.device == "cpu" else None,
        "torch": torch.__version__,
        "dtype": dtype, "batch": args.batch, "heads": heads, "dim": args.dim,
        "memory": "cuda max_memory_allocated" if args.device == "cuda" else "growth of peak RSS (ru_maxrss)",
        "rows": rows,
    }
    print_ratios(report)
    out = args.out or RESULTS / f"sliding_window_{args.device}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {out}")


def print_ratios(report: dict) -> None:
    """Print the speed and memory ratios the issue's targets name, for every size measured."""
    table = {(r["method"], r["n"], r["window"]): r for r in report["rows"] if "error" not in r}
    for (method, n, window), row in sorted(table.items(), key=lambda item: (item[0][2], item[0][1])):
        if method != "blocked":
            continue
        for name in ("band_sdpa", "dense"):
            dense = table.get((name, n, window))
            if dense:
                print(f"N={n} w={window}: blocked vs {name}: {dense['seconds'] / row['seconds']:.1f}x faster, "
                      f"{dense['peak_bytes'] / max(row['peak_bytes'], 1):.1f}x less peak memory, "
                      f"{dense['tensor_bytes'] / max(row['tensor_bytes'], 1):.1f}x less tensor memory")
        flex = table.get(("flex", n, window))
        if flex:
            auto = table.get(("auto", n, window))
            print(f"N={n} w={window}: blocked runs at {flex['seconds'] / row['seconds']:.2f}x FlexAttention's speed"
                  + (f"; auto at {flex['seconds'] / auto['seconds']:.2f}x" if auto else ""))


if __name__ == "__main__":
    main()
