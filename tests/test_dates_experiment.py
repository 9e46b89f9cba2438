"""CPU smoke test of experiments/dates.py on a tiny budget, so that the script cannot rot."""

import importlib.util
import json
import math
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "dates.py"


def _load():
    spec = importlib.util.spec_from_file_location("dates_experiment", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TINY = ["--steps", "2", "--checkpoints", "1", "2", "--train-size", "40", "--test-size", "48", "--hidden", "8",
        "--batch-size", "8", "--threads", "1"]


def test_tiny_sweep_writes_every_run_and_resumes(tmp_path, capsys):
    script = _load()
    out = tmp_path / "dates.json"
    assert script.main(TINY + ["--seeds", "0", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert {(run["mode"], run["bypass"]) for run in report["runs"]} == {
        (mode, bypass) for mode in script.MODES for bypass in ("on", "off")}
    for run in report["runs"]:
        assert set(run["checkpoints"]) == {"1", "2"}
        by_format = run["checkpoints"]["2"]["exact_by_format"]
        assert len(by_format) == 8 and all(math.isnan(v) or 0 <= v <= 1 for v in by_format)
    assert report["torch"] and report["date"] and report["command"].startswith("python experiments/dates.py")
    # resuming adds only the missing seed
    assert script.main(TINY + ["--seeds", "0", "1", "--modes", "global", "--bypass", "off", "--out", str(out)]) == 0
    runs = json.loads(out.read_text())["runs"]
    assert len(runs) == 9 and runs[-1]["seed"] == 1
    assert "complete: 9 runs" in capsys.readouterr().out


def test_another_config_is_not_mixed_in(tmp_path):
    script = _load()
    out = tmp_path / "dates.json"
    script.main(TINY + ["--seeds", "0", "--modes", "global", "--bypass", "on", "--out", str(out)])
    with pytest.raises(SystemExit, match="holds runs with another config"):
        script.main(TINY[:1] + ["3", "--checkpoints", "3"] + TINY[5:] + ["--out", str(out)])


def test_checkpoints_must_end_at_steps():
    with pytest.raises(SystemExit):
        _load().parse_args(["--steps", "10", "--checkpoints", "5"])
