"""The benchmark scripts run and write what the chapters read (smoke tests: no timing is checked)."""

import importlib.util
import json
import subprocess
import sys

import pytest
from book import RESULTS, ROOT


def _run_benchmark(script: str, out, *arguments: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--device", "cpu", *arguments, "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def test_sliding_window_benchmark_measures_every_path_on_the_cpu(tmp_path):
    # Every method, FlexAttention and compiled code included, goes through the measurement
    # code a GPU run uses; a crash in it (as peak_tensor_memory's on flex_attention on the
    # 2026-11-23 H100 run) leaves an error row and fails this test.
    out = tmp_path / "result.json"
    done = _run_benchmark("sliding_window.py", out, "--sizes", "200", "--windows", "8", "--repeats", "1")
    report = json.loads(out.read_text())
    rows = {row["method"]: row for row in report["rows"]}
    assert set(rows) == {"full_sdpa", "band_sdpa", "dense", "blocked", "blocked_compiled", "flex", "flex_raw", "auto"}
    assert not [row for row in report["rows"] if "error" in row], done.stdout
    assert all(row["seconds"] > 0 and row["peak_bytes"] is not None for row in rows.values())
    for method in ("full_sdpa", "band_sdpa", "dense", "blocked", "auto"):
        assert rows[method]["tensor_bytes"] > 0, method
    assert rows["flex"]["tensor_bytes"] is None and "flex_attention" in rows["flex"]["tensor_note"]
    assert {(entry["method"], entry["versus"]) for entry in report["ratios"]} >= {
        ("blocked", "band_sdpa"), ("blocked", "flex_raw"), ("blocked_compiled", "full_sdpa"), ("auto", "flex_raw")}
    assert "blocked vs band_sdpa" in done.stdout


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
