"""The benchmark scripts run and write what the chapters read (smoke tests: no timing is checked)."""

import json
import subprocess
import sys

from book import ROOT


def _run_benchmark(script: str, out, *arguments: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--device", "cpu", *arguments, "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def test_sliding_window_benchmark_runs_on_the_cpu(tmp_path):
    out = tmp_path / "result.json"
    done = _run_benchmark("sliding_window.py", out, "--sizes", "128", "--windows", "8", "--repeats", "1")
    report = json.loads(out.read_text())
    assert {row["method"] for row in report["rows"]} == {"full_sdpa", "band_sdpa", "dense", "blocked"}
    assert all(row["seconds"] > 0 and row["tensor_bytes"] > 0 for row in report["rows"])
    assert "blocked vs band_sdpa" in done.stdout


def test_resnet_attention_benchmark_runs_on_the_cpu(tmp_path):
    out = tmp_path / "result.json"
    _run_benchmark("resnet_attention.py", out, "--batch", "1", "--size", "64", "--rounds", "1")
    rows = json.loads(out.read_text())["rows"]
    assert [row["attention"] for row in rows] == [None, "se", "eca", "cbam", "bam"]
    assert rows[0]["overhead"] == 0 and all(row["median_seconds"] > 0 for row in rows)


def test_stored_results_name_their_hardware_and_date():
    for path in (ROOT / "benchmarks" / "results").glob("*.json"):
        report = json.loads(path.read_text())
        assert report["hardware"] and report["date"] and report["torch"], path.name
        assert report["rows"], path.name
