"""experiments/channel_choice.py runs on a tiny budget, resumes, and records its settings (a smoke test)."""

import json
import subprocess
import sys

from book import ROOT, run_script


def _run(out, *arguments):
    return run_script("experiments/channel_choice.py", "--steps", "4", "--eval-every", "2", "--train-size", "16",
                      "--cluttered-train-size", "8", "--test-size", "8", "--threads", "1", "--output", str(out),
                      *arguments)


def test_the_sweep_runs_resumes_and_records_its_settings(tmp_path):
    out = tmp_path / "channel_choice.json"
    variants = ["choice/plain", "control/se-max", "cluttered/ge-theta-plus", "choice/cbam-spatial",
                "control/eca-k1"]
    _run(out, "--seeds", "0", "--variants", *variants)
    report = json.loads(out.read_text())
    assert [(r["variant"], r["seed"]) for r in report["runs"]] == [(v, 0) for v in variants]
    for run in report["runs"]:
        assert run["curve"]["step"] == [0, 2, 4]
        assert all(0 <= a <= 1 for a in run["curve"]["test"] + run["curve"]["train_subset"] + [run["train"]])
        assert run["test"] == run["curve"]["test"][-1] and run["seconds"] > 0 and run["parameters"] > 0
        assert ("test_with_cue" in run) == (not run["variant"].startswith("cluttered"))
    settings = {r["variant"]: r["spec"]["settings"] for r in report["runs"]}
    assert settings["control/se-max"]["attention_kwargs"] == {"rd_channels": 8, "pool": "max"}
    assert settings["choice/cbam-spatial"]["attention_kwargs"] == {"gates": "spatial"}
    assert settings["control/eca-k1"]["attention"] == "eca"
    assert settings["control/eca-k1"]["attention_kwargs"] == {"kernel_size": 1}
    assert [s["feature_size"] for s in settings["cluttered/ge-theta-plus"]["stage_attention_kwargs"]] == [28, 14, 7]
    assert settings["choice/plain"]["in_channels"] == 2 and settings["cluttered/ge-theta-plus"]["in_channels"] == 1
    assert report["config"]["gate_hidden_units"] == 8 and report["torch"] and report["date"]
    assert report["config"]["threads"] == 1    # a float sum's order: part of what a run is
    before = out.read_bytes()
    other_threads = subprocess.run(
        [sys.executable, str(ROOT / "experiments/channel_choice.py"), "--steps", "4", "--eval-every", "2",
         "--train-size", "16", "--cluttered-train-size", "8", "--test-size", "8", "--threads", "2",
         "--output", str(out), "--seeds", "1", "--variants", "choice/plain"], capture_output=True, text=True)
    assert other_threads.returncode == 1 and "['threads']: stored 1, asked 2" in other_threads.stderr
    assert out.read_bytes() == before
    ablation_on_clutter = subprocess.run([sys.executable, str(ROOT / "experiments/channel_choice.py"),
                                          "--variants", "cluttered/eca-k1"], capture_output=True, text=True)
    assert ablation_on_clutter.returncode == 2 and "invalid choice" in ablation_on_clutter.stderr
    done = _run(out, "--seeds", "0", "1", "--variants", "choice/plain")
    assert done.stdout.count("seed") == 1 and "choice/plain seed 1" in done.stdout
    assert len(json.loads(out.read_text())["runs"]) == 6
