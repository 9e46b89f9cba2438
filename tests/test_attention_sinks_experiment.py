"""experiments/attention_sinks.py runs on a tiny budget and writes what the chapter reads (a smoke test)."""

import json

from book import run_script


def _run(out, *arguments):
    return run_script("experiments/attention_sinks.py", "--steps", "3", "--batch-size", "4", "--train-size", "16",
                      "--test-size", "4", "--length", "16", "--window", "4", "--threads", "1",
                      "--output", str(out), *arguments)


def test_the_sweep_runs_resumes_and_stores_every_decoding_mode(tmp_path):
    out = tmp_path / "attention_sinks.json"
    _run(out, "--seeds", "0", "--variants", "bos", "null_logit")
    report = json.loads(out.read_text())
    assert [(r["variant"], r["seed"]) for r in report["runs"]] == [("bos", 0), ("null_logit", 0)]
    assert report["config"]["steps"] == 3 and report["config"]["window"] == 4
    modes = ["full", "window", "sinks=1", "sinks=4", "recompute"]
    for run in report["runs"]:
        assert list(run["loss_after_eviction"]) == modes and list(run["loss_before_eviction"]) == modes
        assert all(len(run["loss_per_position"][mode]) == 15 for mode in modes)
        # before the first eviction every mode sees the whole prefix
        before = run["loss_before_eviction"]
        assert max(before.values()) - min(before.values()) < 1e-5
        assert run["cache_error"] < 1e-4 and run["seconds"] > 0
        assert len(run["first_token_share"]) == 2 and len(run["first_token_share"][0]) == 4
    done = _run(out, "--seeds", "0", "1", "--variants", "bos")
    assert done.stdout.count("seed") == 1 and "bos seed 1" in done.stdout
    assert len(json.loads(out.read_text())["runs"]) == 3
