"""CPU smoke test of experiments/dates.py on a tiny budget, so that the script cannot rot."""

import json
import math

import pytest

from book import load_script


def _load():
    return load_script("experiments/dates.py")


TINY = ["--steps", "2", "--checkpoints", "1", "2", "--train-size", "40", "--test-size", "48", "--hidden", "8",
        "--batch-size", "8", "--threads", "1"]


def test_tiny_sweep_writes_every_run_and_resumes(tmp_path, capsys):
    script = _load()
    out = tmp_path / "dates.json"
    assert script.main(TINY + ["--seeds", "0", "--output", str(out)]) == 0
    report = json.loads(out.read_text())
    assert {(run["mode"], run["bypass"]) for run in report["runs"]} == {
        (mode, bypass) for mode in script.MODES for bypass in ("on", "off")}
    for run in report["runs"]:
        assert set(run["checkpoints"]) == {"1", "2"}
        by_format = run["checkpoints"]["2"]["exact_by_format"]
        assert len(by_format) == 8 and all(math.isnan(v) or 0 <= v <= 1 for v in by_format)
    assert report["torch"] and report["date"]
    assert all(run["provenance"]["command"].startswith("python experiments/dates.py") for run in report["runs"])
    # resuming adds only the missing seed
    assert script.main(TINY + ["--seeds", "0", "1", "--variants", "global/bypass-off", "--output", str(out)]) == 0
    runs = json.loads(out.read_text())["runs"]
    assert len(runs) == 9 and runs[-1]["seed"] == 1
    assert "complete: 9 runs" in capsys.readouterr().out


def test_another_config_is_not_mixed_in(tmp_path):
    script = _load()
    out = tmp_path / "dates.json"
    script.main(TINY + ["--seeds", "0", "--variants", "global/bypass-on", "--output", str(out)])
    before = out.read_bytes()
    with pytest.raises(SystemExit, match=r"holds runs of other settings(.|\n)*config\['steps'\]: stored 2, asked 3"):
        script.main(TINY[:1] + ["3", "--checkpoints", "3"] + TINY[5:] + ["--output", str(out)])
    assert out.read_bytes() == before


def test_checkpoints_must_end_at_steps(tmp_path, capsys):
    with pytest.raises(SystemExit):
        _load().main(["--steps", "10", "--checkpoints", "5", "--output", str(tmp_path / "dates.json")])
    assert "--checkpoints must increase and end at --steps=10, got [5]" in capsys.readouterr().err


def _load_encoder():
    return load_script("experiments/dates_encoder.py")


def test_encoder_sweep_runs_both_encoders_bypass_off_and_resumes(tmp_path, capsys):
    script = _load_encoder()
    out = tmp_path / "dates_encoder.json"
    assert script.main(TINY + ["--seeds", "0", "--output", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["script"] == "experiments/dates_encoder.py"
    assert [(run["mode"], run["bypass"], run["encoder"]) for run in report["runs"]] == [
        (mode, "off", encoder) for mode in script.MODES for encoder in ("bi", "uni")]
    for run in report["runs"]:
        assert run["variant"] == f"{run['mode']}/bypass-off/encoder-{run['encoder']}"
        assert run["spec"]["settings"] == {"mode": run["mode"], "bypass": "off", "encoder": run["encoder"]}
        assert set(run["checkpoints"]) == {"1", "2"}
        checkpoint = run["checkpoints"]["2"]
        assert {"exact", "characters", "alignment", "exact_by_format"} <= set(checkpoint)
        assert len(checkpoint["exact_by_format"]) == 8
    assert script.main(TINY + ["--seeds", "0", "1", "--variants", "local-m/bypass-off/encoder-bi",
                               "--output", str(out)]) == 0
    runs = json.loads(out.read_text())["runs"]
    assert len(runs) == 9 and runs[-1]["seed"] == 1
    assert "complete: 9 runs" in capsys.readouterr().out


def test_encoder_sweep_shares_the_dates_config_and_its_unidirectional_runs(tmp_path):
    """Same options give the same config as dates.py, and an encoder-uni run is dates.py's bypass-off run."""
    dates, encoder = _load(), _load_encoder()
    dates.main(TINY + ["--seeds", "0", "--variants", "local-m/bypass-off", "--output", str(tmp_path / "d.json")])
    encoder.main(TINY + ["--seeds", "0", "--variants", "local-m/bypass-off/encoder-uni", "local-m/bypass-off/encoder-bi",
                         "--output", str(tmp_path / "e.json")])
    old, new = (json.loads((tmp_path / name).read_text()) for name in ("d.json", "e.json"))
    assert old["config"] == new["config"]
    assert new["runs"][0]["encoder"] == "uni" and old["runs"][0]["checkpoints"] == new["runs"][0]["checkpoints"]
    assert new["runs"][0]["checkpoints"] != new["runs"][1]["checkpoints"]


def test_encoder_sweep_needs_an_even_hidden_size(tmp_path, capsys):
    with pytest.raises(SystemExit):
        _load_encoder().main(TINY[:10] + ["7"] + TINY[11:] + ["--output", str(tmp_path / "e.json")])
    assert "--hidden must be even for the bidirectional encoder" in capsys.readouterr().err
    assert not (tmp_path / "e.json").exists()
