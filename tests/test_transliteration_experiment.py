"""CPU smoke test of experiments/transliteration.py on a tiny budget, so that the script cannot rot."""

import json

import pytest

from book import load_script

TINY = ["--steps", "2", "--checkpoints", "1", "2", "--train-size", "12", "--test-size", "6", "--length", "20",
        "--hidden", "8", "--batch-size", "4", "--window", "2", "--cost-repeats", "2", "--cost-calls", "2",
        "--threads", "1"]


def _load():
    return load_script("experiments/transliteration.py")


def test_tiny_sweep_writes_the_runs_and_the_cost_and_resumes(tmp_path, capsys):
    script = _load()
    out = tmp_path / "transliteration.json"
    assert script.main(TINY + ["--seeds", "0", "--output", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["script"] == "experiments/transliteration.py" and report["torch"] and report["date"]
    assert [run["variant"] for run in report["runs"]] == ["cost", "global/encoder-bi", "local-m/encoder-bi",
                                                          "local-p/encoder-bi"]
    cost, *trained = report["runs"]
    assert cost["attended_positions"] == {"global": 20, "local-m": 5, "local-p": 5}
    for batch in ("1", "4"):
        timing = cost["batches"][batch]
        assert timing["local-m-window_max_abs_difference"] < 1e-5
        assert {"attention/global", "attention/local-m", "attention/local-m-window", "attention/local-p",
                "decoder-step/global", "decoder-step/local-m-window"} <= set(timing["microseconds_per_call"])
        for values in timing["microseconds_per_call"].values():
            assert 0 < values["min_us"] <= values["median_us"] <= values["max_us"]
    for run in trained:
        assert run["encoder"] == "bi" and run["diverged_at"] is None
        assert set(run["checkpoints"]) == {"1", "2"} and len(run["losses"]) == 1
        final = run["checkpoints"]["2"]
        assert {"symbols", "exact", "alignment", "alignment_within_1", "attended_positions"} == set(final)
        assert all(0 <= final[key] <= 1 for key in ("symbols", "exact", "alignment", "alignment_within_1"))
        if run["mode"] == "global":
            assert final["attended_positions"] == 20
        else:
            assert 1 <= final["attended_positions"] <= 5
    assert all(run["provenance"]["command"].startswith("python experiments/transliteration.py")
               for run in report["runs"])
    # resuming adds only what is missing
    assert script.main(TINY + ["--seeds", "0", "1", "--variants", "local-m/encoder-bi", "--output", str(out)]) == 0
    runs = json.loads(out.read_text())["runs"]
    assert len(runs) == 5 and (runs[-1]["variant"], runs[-1]["seed"]) == ("local-m/encoder-bi", 1)
    assert "complete: 5 runs" in capsys.readouterr().out


def test_same_seed_same_run(tmp_path):
    script = _load()
    for name in ("a.json", "b.json"):
        script.main(TINY + ["--seeds", "0", "--variants", "local-p/encoder-uni", "--output", str(tmp_path / name)])
    first, second = (json.loads((tmp_path / name).read_text())["runs"][0] for name in ("a.json", "b.json"))
    assert first["checkpoints"] == second["checkpoints"] and first["losses"] == second["losses"]


def test_a_diverging_run_is_stored_with_the_step_and_the_checkpoints_before_it(tmp_path, monkeypatch):
    script = _load()
    real = script.F.cross_entropy
    calls = []

    def blows_up_at_the_second_step(*args, **kwargs):
        calls.append(1)
        loss = real(*args, **kwargs)
        return loss if len(calls) < 2 else loss * float("nan")

    monkeypatch.setattr(script.F, "cross_entropy", blows_up_at_the_second_step)
    out = tmp_path / "t.json"
    assert script.main(TINY + ["--seeds", "0", "--variants", "local-p/encoder-bi", "--output", str(out)]) == 0
    (run,) = json.loads(out.read_text())["runs"]
    assert run["diverged_at"] == 2 and set(run["checkpoints"]) == {"1"} and len(run["losses"]) == 1


def test_another_config_is_not_mixed_in(tmp_path):
    script = _load()
    out = tmp_path / "transliteration.json"
    script.main(TINY + ["--seeds", "0", "--variants", "global/encoder-bi", "--output", str(out)])
    before = out.read_bytes()
    with pytest.raises(SystemExit, match=r"holds runs of other settings(.|\n)*config\['length'\]: stored 20, asked 21"):
        script.main(TINY[:10] + ["21"] + TINY[11:] + ["--output", str(out)])
    assert out.read_bytes() == before


def test_checkpoints_must_end_at_steps(tmp_path, capsys):
    with pytest.raises(SystemExit):
        _load().main(["--steps", "10", "--checkpoints", "5", "--output", str(tmp_path / "t.json")])
    assert "--checkpoints must increase and end at --steps=10, got [5]" in capsys.readouterr().err
