"""experiments/attention_maps.py runs on a tiny budget and writes what the chapter will read (a smoke test)."""

import json

from book import RESULTS, load_script, run_script


def _run(out, *arguments):
    return run_script("experiments/attention_maps.py", "--steps", "2", "--batch-size", "4", "--train-size", "16",
                      "--test-size", "8", "--map-images", "4", "--threads", "1", "--output", str(out), *arguments)


def test_the_sweep_runs_resumes_and_stores_every_methods_metrics(tmp_path):
    script = load_script("experiments/attention_maps.py")
    out = tmp_path / "attention_maps.json"
    _run(out, "--seeds", "0")
    report = json.loads(out.read_text())
    assert [(r["variant"], r["seed"]) for r in report["runs"]] == [("vit", 0)]
    assert report["config"]["steps"] == 2 and report["config"]["fill"] == 0.0 and report["torch"]
    # 16 x 16 digits on a 40 x 40 canvas: the box is 256 / 1600 of the image, and 4 of the 25 patches
    # lie at least half inside it (the box spans three patches a side, the middle one whole)
    assert abs(report["chance"]["8"]["mass_in_box"] - 0.16) < 1e-6
    assert 0 < report["chance"]["8"]["pointing_game"] < 1
    run = report["runs"][0]
    assert 0 <= run["accuracy"] <= 1 and run["seconds"] > 0 and run["map_seconds"] > 0
    assert set(run["metrics"]) == set(script.METHODS)
    for method, found in run["metrics"].items():
        assert set(script.METRICS) <= set(found)
        assert 0 <= found["mass_in_box"] <= 1 and 0 <= found["pointing_game"] <= 1
        assert len(found["deletion_curve"]) == len(found["insertion_curve"]) == 26
        # deleting every patch and inserting none show the same blank image
        assert abs(found["deletion_curve"][-1] - found["insertion_curve"][0]) < 1e-4
    assert abs(run["metrics"]["occlusion"]["spearman_occlusion"] - 1) < 1e-6
    # each occlusion map against itself: 1 by the signed reading, over all patches or the ink ones
    ink = run["metrics"]["occlusion"]["spearman_occlusion_ink"]
    assert ink is None or abs(ink - 1) < 1e-6
    assert abs(run["metrics"]["occlusion_grey"]["spearman_grey_occlusion"] - 1) < 1e-6
    assert 0 <= run["blank_patch_share"] <= 1 and 0 <= run["ink_raising_share"] <= 1
    assert set(run["paired"]) == {name for name, _, _ in script.RANKINGS}
    for pairs in run["paired"].values():
        assert set(pairs) == {f"{first}-{second}" for first, second in script.PAIRS}
        for found in pairs.values():
            assert found["low"] <= found["mean"] <= found["high"] and 0 <= found["wins"] <= 1
    assert set(run["weight_by_effect"]) == set(script.WEIGHTED)
    shares = [run[f"ink_{name}_share"] for name in ("supports", "argues_against", "near_zero")]
    assert abs(sum(shares) - 1) < 1e-6
    assert len(run["raw_heads"]) == 4
    assert all(set(script.METRICS) - {"deletion_area", "insertion_area"} <= set(head) for head in run["raw_heads"])
    # a second call with one more seed trains only what is missing
    done = _run(out, "--seeds", "0", "1")
    assert done.stdout.count("seed") == 1 and "vit seed 1" in done.stdout
    assert len(json.loads(out.read_text())["runs"]) == 2


def test_the_stored_sweep_is_of_models_that_learned_the_task():
    report = json.loads((RESULTS / "attention_maps.json").read_text())
    script = load_script("experiments/attention_maps.py")
    assert report["config"]["steps"] >= 2000 and report["config"]["batch"] >= 32
    assert abs(report["chance"]["8"]["mass_in_box"] - 0.16) < 1e-6
    assert report["runs"] and all(run["variant"] == "vit" for run in report["runs"])
    for run in report["runs"]:
        # a map of a model that has not learned the task is evidence of nothing
        assert run["accuracy"] > 0.7 and run["largest_class_share"] < 0.2
        assert set(run["metrics"]) == set(script.METHODS)
        random = run["metrics"]["random"]
        assert abs(random["mass_in_box"] - report["chance"]["8"]["mass_in_box"]) < 0.03
