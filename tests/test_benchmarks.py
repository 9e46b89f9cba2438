"""The benchmark scripts run and write what the chapters read (smoke tests: no timing is checked)."""

import importlib.util
import json
import os
import subprocess
import sys
from types import ModuleType

import pytest
from book import RESULTS, ROOT


def _run_benchmark(script: str, out, *arguments: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--device", "cpu", *arguments, "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def _load_benchmark(script: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(script.removesuffix(".py"), ROOT / "benchmarks" / script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sliding = _load_benchmark("sliding_window.py")


def test_gpu_check_sliding_window_steps_measure_every_path_on_the_cpu(tmp_path):
    # The two sliding-window steps of gpu_check.sh, with the CPU standing in for CUDA: every
    # method, FlexAttention and compiled code included (traced by the eager backend, to be
    # quick), goes through the timing, training-step, memory and backend-recording code a GPU
    # run uses, in one timing process per step and one peak-RSS process (for blocked).
    environment = {**os.environ, "PYTHON": sys.executable, "OUT_DIR": str(tmp_path),
                   "SKIP": "tests notebooks resnet", "SW_DEVICE": "cpu", "SW_DTYPE": "float32", "SW_SIZES": "200",
                   "SW_WINDOWS": "8", "SW_BLOCK_SIZE_N": "300",
                   "SW_EXTRA": "--rounds 2 --compile-backend eager --rss blocked"}
    done = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh")], capture_output=True, text=True,
                          timeout=300, env=environment)
    status = (tmp_path / "status.txt").read_text()
    assert done.returncode == 0, status + done.stdout[-2000:] + (tmp_path / "sliding_window.log").read_text()[-2000:]
    assert "sliding: passed" in status and "sliding_blocks: passed" in status
    assert "sdpa backends enabled: flash" in (tmp_path / "environment.txt").read_text()

    report = json.loads((tmp_path / "sliding_window_cpu.json").read_text())
    rows = {row["method"]: row for row in report["rows"]}
    assert set(rows) == set(sliding.METHODS)
    assert not [row for row in report["rows"] if "error" in row]
    for method, row in rows.items():
        for prefix in ("", "train_"):
            if prefix and method.startswith("flex"):  # FlexAttention has no backward on the CPU: recorded
                assert "does not support backward on CPU" in row["train_error"], method
                continue
            low, high = row[prefix + "seconds_range"]
            assert 0 < low <= row[prefix + "seconds_iqr"][0] <= row[prefix + "seconds"] <= high, (method, prefix)
            assert len(row[prefix + "seconds_samples"]) == 2
    # the profiler's record of the fused kernels; the CPU's flash kernel stands in for CUDA's
    for method in ("full_sdpa", "band_sdpa", "blocked", "blocked_compiled", "auto"):
        assert set(rows[method]["sdpa_forward"]) == {"flash (cpu)"}, method
        assert rows[method]["sdpa_train"]["flash (cpu) backward"] >= 1, method
    assert rows["dense"]["sdpa_forward"] == {} == rows["flex"]["sdpa_forward"]
    for method in ("full_sdpa", "band_sdpa", "dense", "blocked", "auto"):
        assert rows[method]["tensor_bytes"] > 0 and rows[method]["train_tensor_bytes"] > 0, method
    assert rows["flex"]["tensor_bytes"] is None and "flex_attention" in rows["flex"]["tensor_note"]
    assert rows["blocked_compiled"]["tensor_bytes"] is None and "compiled" in rows["blocked_compiled"]["tensor_note"]
    assert rows["blocked"]["peak_bytes"] >= 0 and rows["blocked"]["train_peak_bytes"] >= 0  # its own process
    assert rows["band_sdpa"]["peak_bytes"] is None and "--rss" in rows["band_sdpa"]["peak_note"]
    assert rows["flex_raw"]["peak_bytes"] is None and "compilation" in rows["flex_raw"]["peak_note"]
    assert rows["blocked"]["block_size"] == rows["auto"]["block_size"] == 128
    pairs = {(entry["method"], entry["versus"]) for entry in report["ratios"]}
    assert pairs >= {("blocked", "band_sdpa"), ("blocked", "flex_raw"), ("blocked_compiled", "full_sdpa"),
                     ("auto", "blocked")}
    noise = next(entry for entry in report["ratios"] if (entry["method"], entry["versus"]) == ("auto", "blocked"))
    assert noise["speedup_range"][0] <= noise["speedup"] <= noise["speedup_range"][1] and "train_speedup" in noise
    assert [entry["target"] for entry in report["targets"]] == [
        f"noise check: auto vs blocked (one function) range includes 1, N=200 w=8, {part}" for part in sliding.PARTS]
    log = (tmp_path / "sliding_window.log").read_text()
    assert "auto vs blocked: forward" in log and "SDPA flash (cpu) x" in log

    blocks = json.loads((tmp_path / "sliding_window_block_size_cpu.json").read_text())
    assert [(row["method"], row.get("block_size")) for row in blocks["rows"]] == [
        ("blocked:64", 64), ("blocked:128", 128), ("blocked:256", 256), ("flex_raw", None), ("full_sdpa", None)]
    assert all(row["n"] == 300 and row["seconds"] > 0 for row in blocks["rows"])


def test_sdpa_backends_names_the_kernel_that_ran():
    import torch
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel

    q = torch.randn(1, 2, 64, 16, requires_grad=True)
    step = sliding.training_step(F.scaled_dot_product_attention, (q, q, q))
    assert sliding.sdpa_backends(lambda: F.scaled_dot_product_attention(q, q, q)) == {"flash (cpu)": 1}
    assert sliding.sdpa_backends(step) == {"flash (cpu)": 1, "flash (cpu) backward": 1}
    with sdpa_kernel(SDPBackend.MATH):  # the fall-back that stores the scores
        assert sliding.sdpa_backends(step) == {"math": 1}
    assert sliding.sdpa_backends(lambda: q @ q.transpose(-1, -2)) == {}


def _row(method: str, n: int, window: int, seconds: list[float], **fields) -> dict:
    samples = {str(index): value for index, value in enumerate(seconds)}
    return {"method": method, "n": n, "window": window, "seconds_samples": samples,
            "train_seconds_samples": {key: 3 * value for key, value in samples.items()}, **fields}


def test_cpu_targets_are_judged_on_the_range_of_per_round_ratios():
    rows = [_row("full_sdpa", 8192, 64, [0.1, 0.1, 0.1], tensor_bytes=2_000, train_tensor_bytes=8_000),
            _row("band_sdpa", 8192, 64, [0.5, 0.5, 0.5], tensor_bytes=700_000, peak_bytes=700_000,
                 train_tensor_bytes=700_000),
            _row("blocked", 8192, 64, [0.01, 0.01, 0.2], tensor_bytes=4_000, peak_bytes=80_000,
                 train_tensor_bytes=20_000),  # a slow third round
            _row("auto", 8192, 64, [0.011, 0.009, 0.2])]
    report = {"device": "cpu", "rows": rows, "ratios": sliding.ratios(rows)}
    found = {entry["target"]: entry for entry in sliding.targets(report)}
    speed = found["blocked vs band_sdpa speed >= 5x, forward"]
    assert speed["value"] == pytest.approx(50) and speed["range"] == pytest.approx([2.5, 50])
    assert not speed["met"]  # its median is 50x, but the range reaches below 5x
    peak = found["blocked vs band_sdpa memory saving >= 10x, forward"]
    assert peak["value"] == pytest.approx(8.75) and not peak["met"]
    assert found["blocked vs band_sdpa tensor memory saving >= 10x, forward"]["value"] == pytest.approx(175)
    assert found["blocked tensor memory / full_sdpa's <= 2, forward"]["value"] == pytest.approx(2)
    assert not found["blocked tensor memory / full_sdpa's <= 2, train"]["met"]  # 2.5x
    noise = found["noise check: auto vs blocked (one function) range includes 1, N=8192 w=64, forward"]
    assert noise["met"] and noise["range"][0] < 1 < noise["range"][1]


def test_cuda_targets_compare_with_flex_attention_and_full_attention():
    rows = [_row("full_sdpa", 16384, 128, [1.0, 1.0, 1.0]),
            *[_row("flex_raw", 16384, w, [0.2, 0.2, 0.2]) for w in (128, 512)],
            _row("blocked", 1024, 128, [0.1] * 3, peak_bytes=1_000, train_peak_bytes=3_000),
            _row("blocked", 16384, 128, [0.5] * 3, peak_bytes=16_000, train_peak_bytes=48_000),
            _row("blocked", 16384, 512, [1.0, 1.0, 0.5], peak_bytes=16_000, train_peak_bytes=48_000)]
    report = {"device": "cuda", "rows": rows, "ratios": sliding.ratios(rows)}
    found = {entry["target"]: entry for entry in sliding.targets(report)}
    assert found["blocked vs flex_raw speed >= 0.25x, N=16384 w=128, forward"]["value"] == pytest.approx(0.4)
    assert not found["blocked vs flex_raw speed >= 0.25x, N=16384 w=512, forward"]["met"]  # 0.2-0.4x
    assert found["blocked faster than full_sdpa, N=16384 w=128, train"]["met"]  # full_sdpa from the first window
    assert not found["blocked faster than full_sdpa, N=16384 w=512, forward"]["met"]  # 1-2x: not resolved
    slope = found["blocked peak memory linear in N (log-log slope <= 1.1), w=128, train"]
    assert slope["value"] == pytest.approx(1.0) and slope["met"]


def test_resnet_attention_benchmark_runs_on_the_cpu(tmp_path):
    out = tmp_path / "result.json"
    _run_benchmark("resnet_attention.py", out, "--batch", "1", "--size", "64", "--rounds", "1", "--timm", "off")
    report = json.loads(out.read_text())
    rows = report["rows"]
    assert [row["attention"] for row in rows] == [None, "se", "eca", "cbam", "bam"]
    assert rows[0]["overhead"] == 0 and all(row["median_seconds"] > 0 for row in rows)
    assert report["mode"] == "eager" and "timm_rows" not in report


def test_resnet_attention_benchmark_compiles_on_the_cpu(tmp_path):
    # The compiled path that is the default on CUDA (there with CUDA graphs), on a tiny
    # model; the "eager" backend traces with torch.compile's frontend without code generation.
    out = tmp_path / "result.json"
    _run_benchmark("resnet_attention.py", out, "--arch", "small", "--mode", "compile", "--backend", "eager",
                   "--batch", "1", "--size", "32", "--rounds", "1")
    report = json.loads(out.read_text())
    assert report["mode"].startswith("torch.compile") and report["arch"] == "small"
    assert [row["attention"] for row in report["rows"]] == [None, "se", "eca", "cbam", "bam"]


@pytest.mark.skipif(importlib.util.find_spec("timm") is None, reason="timm is not installed")
def test_resnet_attention_benchmark_measures_timm_side_by_side(tmp_path):
    out = tmp_path / "result.json"
    done = _run_benchmark("resnet_attention.py", out, "--arch", "resnet18", "--mode", "compile", "--backend",
                          "eager", "--batch", "1", "--size", "32", "--rounds", "1")
    report = json.loads(out.read_text())
    assert [row["attention"] for row in report["timm_rows"]] == [None, "se", "eca", "cbam"]
    assert report["timm_rows"][0]["params"] == report["rows"][0]["params"]  # the same plain ResNet-18
    assert "attnbook" in done.stdout and "timm" in done.stdout


def test_stored_results_name_their_hardware_and_date():
    for path in [*RESULTS.glob("sliding_window_*.json"), *RESULTS.glob("resnet_attention_*.json")]:
        report = json.loads(path.read_text())
        assert report["hardware"] and report["date"] and report["torch"], path.name
        assert report["rows"], path.name
