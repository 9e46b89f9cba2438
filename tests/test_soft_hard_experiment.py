"""experiments/soft_hard.py runs on a tiny budget and writes what the chapter reads (a smoke test)."""

import json

from book import RESULTS, ROOT, load_script, run_script


def _run(out, *arguments):
    return run_script("experiments/soft_hard.py", "--steps", "2", "--batch-size", "4",
                      "--train-size", "16", "--test-size", "8", "--threads", "1", "--output", str(out), *arguments)


def test_the_sweep_runs_resumes_and_records_its_setting(tmp_path):
    out = tmp_path / "soft_hard.json"
    _run(out, "--seeds", "0", "--variants", "soft", "hard_no_reinforce")
    report = json.loads(out.read_text())
    assert {(r["variant"], r["seed"]) for r in report["runs"]} == {("soft", 0), ("hard_no_reinforce", 0)}
    assert all(0 <= r["accuracy"] <= 1 and r["seconds"] > 0 for r in report["runs"])
    assert report["config"]["steps"] == 2 and report["torch"] and report["date"]
    assert all(r["provenance"]["command"].startswith("python experiments/soft_hard.py") for r in report["runs"])
    assert report["multiply_adds"]["soft"]["total"] > report["multiply_adds"]["hard"]["total"] > 0
    # a second call with one more seed trains only what is missing
    done = _run(out, "--seeds", "0", "1", "--variants", "soft")
    assert done.stdout.count("seed") == 1 and "soft seed 1" in done.stdout
    assert len(json.loads(out.read_text())["runs"]) == 3


def test_the_stored_sweep_covers_five_seeds_of_every_variant():
    report = json.loads((RESULTS / "soft_hard.json").read_text())
    seeds = {}
    for run in report["runs"]:
        seeds.setdefault(run["variant"], set()).add(run["seed"])
    assert set(seeds) == set(load_script("experiments/soft_hard.py").VARIANTS)
    assert all(found >= {0, 1, 2, 3, 4} for found in seeds.values())
    steps = report["config"]["steps"]
    assert steps >= 100 and report["config"]["batch"] >= 32
