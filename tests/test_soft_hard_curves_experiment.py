"""experiments/soft_hard_curves.py runs on a tiny budget, resumes, refuses to mix settings,
and its stored file (issue 17's learning curves) is what the script describes."""

import json
import subprocess
import sys

import pytest
import torch

import attnbook as ab
from book import RESULTS, ROOT, load_script, run_script

SCRIPT = "experiments/soft_hard_curves.py"


def _run(out, *arguments):
    return run_script(SCRIPT, "--steps", "3", "--batch-size", "4", "--train-size", "16", "--test-size", "8",
                      "--threads", "1", "--checkpoints", "0", "2", "--output", str(out), *arguments)


def test_the_sweep_runs_checkpoints_resumes_and_refuses_other_settings(tmp_path):
    out = tmp_path / "curves.json"
    _run(out, "--seeds", "0", "--variants", "soft", "hard", "hard_ceiling")
    report = json.loads(out.read_text())
    assert report["config"]["checkpoints"] == [0, 2, 3]  # --steps is always a checkpoint
    assert report["training_compute"]["forward_backward_factor"] == 3
    for run in report["runs"]:
        steps = [c["step"] for c in run["checkpoints"]]
        assert steps == [0, 2, 3]
        per_image = report["multiply_adds"][run["variant"]]["total"]
        assert run["multiply_adds_per_image"] == per_image
        assert [c["training_multiply_adds"] for c in run["checkpoints"]] == [s * 4 * 3 * per_image for s in steps]
        seconds = [c["seconds"] for c in run["checkpoints"]]
        assert seconds == sorted(seconds) and run["seconds"] >= seconds[-1] > 0
        assert run["checkpoints"][0]["train_loss"] is None and run["checkpoints"][-1]["train_loss"] > 0
        assert run["accuracy"] == run["checkpoints"][-1]["accuracy"] and len(run["loss_curve"]) == 1
        assert all(0 <= c["accuracy"] <= 1 for c in run["checkpoints"])
    runs = {run["variant"]: run for run in report["runs"]}
    assert 0 <= runs["soft"]["checkpoints"][0]["attention_mass_inside_box"] <= 1
    hard = runs["hard"]
    assert 0 < hard["initial_policy_entropy"] < report["max_policy_entropy"]
    assert {"accuracy_sampled", "first_glimpse_inside_box", "first_glimpse_inside_box_sampled"} <= set(
        hard["checkpoints"][-1])
    # the ceiling looks at the digit's cell whatever the (untrained) policy says
    assert all(c["first_glimpse_inside_box"] == c["first_glimpse_inside_box_sampled"] == 1.0
               for c in runs["hard_ceiling"]["checkpoints"])
    assert runs["hard_ceiling"]["spec"]["settings"]["reinforce"] is False
    # a second call with one more seed trains only what is missing
    done = _run(out, "--seeds", "0", "1", "--variants", "soft")
    assert done.stdout.count(" seed ") == 1 and "soft seed 1" in done.stdout
    assert len(json.loads(out.read_text())["runs"]) == 4
    # other settings: exit status 1, nothing trained, the file byte for byte as it was
    before = out.read_bytes()
    refused = subprocess.run([sys.executable, str(ROOT / SCRIPT), "--steps", "4", "--batch-size", "4",
                              "--train-size", "16", "--test-size", "8", "--threads", "1", "--output", str(out),
                              "--seeds", "2", "--variants", "soft"], capture_output=True, text=True, timeout=300)
    assert refused.returncode == 1 and "config['steps']: stored 3, asked 4" in refused.stderr
    assert out.read_bytes() == before


def test_checkpoints_outside_the_run_are_refused(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / SCRIPT), "--steps", "3", "--checkpoints", "5",
                           "--output", str(tmp_path / "x.json")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "--checkpoints must lie in 0 .. --steps (3), got [5]" in done.stderr
    assert not (tmp_path / "x.json").exists()


def test_inside_boxes_and_digit_cells():
    script = load_script(SCRIPT)
    # a 16-pixel box at rows/cols 10..25 of a 40-pixel image: pixel edges 10 and 26
    box = torch.tensor([[10, 10, 16, 16]])
    edge = lambda pixel: pixel * 2 / 40 - 1  # noqa: E731 (continuous pixel coordinate -> normalised)
    cases = {(10.0, 10.0): True, (25.99, 25.99): True, (26.0, 18.0): False, (9.99, 18.0): False, (18.0, 30.0): False}
    for (row, col), inside in cases.items():
        assert bool(script.inside_boxes(torch.tensor([[edge(row), edge(col)]]), box, 40)[0]) is inside, (row, col)
    digits = ab.data.make_cluttered_digits(300, seed=0, split="train")
    model = ab.models.RecurrentAttentionModel(glimpses=3)
    cells = script.digit_cells(model, digits.boxes, 40)
    assert cells.shape == (300, 3, 2) and torch.equal(cells[:, 0], cells[:, 2])
    assert script.inside_boxes(cells[:, 0], digits.boxes, 40).all()
    # each is a cell centre of the policy's lattice, at most 2 pixels from the box centre per axis
    assert (torch.cdist(cells[:, 0], model.centres).min(-1).values < 1e-6).all()
    centre = torch.stack([digits.boxes[:, 0] + 8, digits.boxes[:, 1] + 8], -1).float()
    assert ((cells[:, 0] + 1) * 20 - centre).abs().max() <= 2 + 1e-5


def test_the_recipes_are_the_stored_sweeps_own():
    script = load_script(SCRIPT)
    stored = load_script("experiments/soft_hard.py").VARIANTS
    assert dict(script.VARIANTS["soft"]) == dict(stored["soft"])
    hard = dict(script.VARIANTS["hard"])
    assert hard.pop("detach_policy_input") is False and hard.pop("locations") == "policy"
    assert hard == dict(stored["hard"])
    for name, change in {"hard_ceiling": {"reinforce": False, "locations": "digit_cell"},
                         "hard_detached": {"detach_policy_input": True}, "hard_4glimpses": {"glimpses": 4},
                         "hard_no_prior": {"saliency_gain": 0.0}}.items():
        assert dict(script.VARIANTS[name]) == {**script.VARIANTS["hard"], **change}


@pytest.mark.parametrize("name", ["soft_hard_curves.json", "soft_hard_curves_no_prior.json"])
def test_the_stored_curves_are_the_scripts(name):
    # the no-prior variant was added after the first file was complete, so it has its own file
    if not (RESULTS / name).exists():
        pytest.skip(f"no stored {name} yet")
    script = load_script(SCRIPT)
    report = json.loads((RESULTS / name).read_text())
    config = report["config"]
    assert report["script"] == SCRIPT and config["steps"] >= 4000 and config["batch"] == 64
    assert config["checkpoints"] == list(script.DEFAULT_CHECKPOINTS) and config["test_size"] == 1000
    assert report["runs"], "the file holds no run"
    for run in report["runs"]:
        assert run["spec"]["settings"] == dict(script.VARIANTS[run["variant"]]), run["variant"]
        assert [c["step"] for c in run["checkpoints"]] == config["checkpoints"]
        assert len(run["loss_curve"]) == config["steps"] // config["loss_window"]
        assert run["final_loss"] == pytest.approx(run["loss_curve"][-1])
        assert run["multiply_adds_per_image"] == report["multiply_adds"][run["variant"]]["total"]
    assert len({(run["variant"], run["seed"]) for run in report["runs"]}) == len(report["runs"])
