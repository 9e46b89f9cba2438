"""experiments/channel_spatial.py runs on a tiny budget and writes what the chapter reads (a smoke test)."""

import json

from book import run_script


def _run(out, *arguments):
    return run_script("experiments/channel_spatial.py", "--steps", "4", "--eval-every", "2",
                      "--train-size", "16", "--test-size", "8", "--threads", "1", "--output", str(out), *arguments)


def test_the_sweep_runs_resumes_and_records_its_setting(tmp_path):
    out = tmp_path / "channel_spatial.json"
    _run(out, "--seeds", "0", "--variants", "plain", "se-open")
    report = json.loads(out.read_text())
    assert [(r["variant"], r["seed"]) for r in report["runs"]] == [("plain", 0), ("se-open", 0)]
    for run in report["runs"]:
        assert run["curve"]["step"] == [0, 2, 4]
        assert all(0 <= a <= 1 for a in run["curve"]["test"] + run["curve"]["train_subset"] + [run["train"]])
        assert run["test"] == run["curve"]["test"][-1] and run["seconds"] > 0 and run["parameters"] > 0
    assert report["config"]["steps"] == 4 and report["torch"] and report["date"]
    assert all(r["provenance"]["command"].startswith("python experiments/channel_spatial.py") for r in report["runs"])
    # a second call with one more seed trains only what is missing
    done = _run(out, "--seeds", "0", "1", "--variants", "plain", "se-open")
    assert done.stdout.count("seed") == 2 and "plain seed 1" in done.stdout and "se-open seed 1" in done.stdout
    assert len(json.loads(out.read_text())["runs"]) == 4
