"""experiments/model_maps.py runs on a tiny budget and writes what the chapter will read (a smoke
test), and its helpers read what they should: the gates by hooks, the glimpse hits by pixel."""

import json

import pytest
import torch

import attnbook as ab

from book import RESULTS, load_script, run_script

script = load_script("experiments/model_maps.py")


def _run(out, *arguments):
    return run_script("experiments/model_maps.py", "--steps", "2", "--batch-size", "4", "--train-size", "16",
                      "--test-size", "8", "--map-images", "4", "--threads", "1", "--output", str(out), *arguments)


def test_the_sweep_runs_resumes_and_stores_every_maps_metrics(tmp_path):
    out = tmp_path / "model_maps.json"
    _run(out, "--seeds", "0", "--variants", "soft", "hard", "cbam", "coord")
    report = json.loads(out.read_text())
    assert [(r["variant"], r["seed"]) for r in report["runs"]] == [(v, 0) for v in ("soft", "hard", "cbam", "coord")]
    assert report["config"]["steps"] == 2 and report["config"]["patch"] == 4
    # 16 x 16 digits: 256 / 1600 of the 40 x 40 canvas, 256 / 784 of the 28 x 28 one
    assert abs(report["chance"]["40"]["mass_in_box"] - 256 / 1600) < 1e-6
    assert abs(report["chance"]["28"]["mass_in_box"] - 256 / 784) < 1e-6
    for run in report["runs"]:
        assert set(run["metrics"]) == {*script.MAPS[run["variant"]], "occlusion", "occlusion_grey", "pixel_mean", "random"}
        for found in run["metrics"].values():
            assert set(script.METRICS) <= set(found)
            assert 0 <= found["mass_in_box"] <= 1 and 0 <= found["pointing_game"] <= 1
        assert abs(run["metrics"]["occlusion"]["spearman_occlusion"] - 1) < 1e-6
        assert abs(run["metrics"]["occlusion_grey"]["spearman_grey_occlusion"] - 1) < 1e-6
        assert 0 <= run["blank_patch_share"] <= 1 and 0 <= run["ink_raising_share"] <= 1
        grid = run["spec"]["settings"]["canvas"] // script.PATCH
        assert all(len(image) == grid for image in run["examples"]["occlusion"])
    hard = report["runs"][1]
    assert len(hard["glimpse_inside_box"]) == 2 and 0 <= hard["any_glimpse_inside_box"] <= 1
    done = _run(out, "--seeds", "0", "1", "--variants", "hard")
    assert done.stdout.count("seed") == 1 and "hard seed 1" in done.stdout


@pytest.mark.parametrize("attention", ["cbam", "coord"])
def test_the_hooks_read_one_gate_per_block_at_its_resolution(attention):
    torch.manual_seed(0)
    kwargs = dict(script.VARIANTS[attention])["attention_kwargs"]
    model = ab.models.small_resnet(attention, widths=(8, 16, 32), attention_kwargs=kwargs).eval()
    images = torch.rand(3, 1, 28, 28)
    gates = script.gate_maps(model, images)
    assert [tuple(gate.shape) for gate in gates] == [(3, 28, 28), (3, 14, 14), (3, 7, 7)]
    assert all(((gate > 0) & (gate < 1)).all() for gate in gates)  # sigmoid gates
    block = model.stages[0][0].attention
    stem = model.stem(images)
    body = model.stages[0][0].body(stem)
    if attention == "cbam":
        expected = block.spatial.gate(block.channel(body))[:, 0]
    else:
        along_h, along_w = block.gates(body)
        expected = (along_h * along_w).mean(1)
    torch.testing.assert_close(gates[0], expected)
    # averaged to the 7 x 7 grid of 4 x 4 patches: each cell the mean of its 16 pixels
    pooled = script.to_grid(gates[0], 28)
    torch.testing.assert_close(pooled[:, 1, 2], gates[0][:, 4:8, 8:12].mean((1, 2)))
    assert script.to_grid(gates[2], 28) is gates[2]


def test_a_glimpse_is_inside_its_box_by_pixel():
    boxes = torch.tensor([[4, 12, 16, 16], [4, 12, 16, 16]])
    # normalised (row, col): pixel = (x + 1) * 40 / 2; rows 4..19, columns 12..27 are inside, and
    # row 20 is the first below the box: pixels (5, 20) and (20, 20)
    locations = torch.tensor([[[-0.75, 0.0]], [[0.0, 0.0]]])
    assert script.inside_boxes(locations, boxes, 40)[:, 0].tolist() == [True, False]


def test_the_stored_sweep_is_of_models_that_learned_their_tasks():
    report = json.loads((RESULTS / "model_maps.json").read_text())
    assert report["config"]["steps"] is None and report["config"]["map_images"] >= 200
    for run in report["runs"]:
        assert run["spec"]["settings"] == dict(script.VARIANTS[run["variant"]])
        # a map of a model that has not learned the task is evidence of nothing
        # (the glimpse model after its chapter's 1000 steps is the weakest; chance is 0.1)
        assert run["accuracy"] > 0.4 and run["largest_class_share"] < 0.25
        random = run["metrics"]["random"]
        chance = report["chance"][str(run["spec"]["settings"]["canvas"])]
        assert abs(random["mass_in_box"] - chance["mass_in_box"]) < 0.03
