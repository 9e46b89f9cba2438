"""The sweep store of experiments/_sweep.py keeps the stored runs safe (unit tier: nothing is trained).

A call with other settings leaves the committed results byte-identical, for each script's
real entry point; an interrupted write leaves the file whole, and calls writing one file at
the same time keep each other's runs (or stop, if the other wrote other settings); resuming
runs only what is missing; each run carries its spec and provenance; ``--set`` changes no
module global.
"""

from __future__ import annotations

import copy
import json
import shutil

import pytest
import torch

from book import RESULTS, ROOT, load_script

SCRIPTS = ("soft_hard", "channel_spatial", "dates", "dates_encoder", "soft_hard_curves", "attention_maps",
           "model_maps")
scripts = {name: load_script(f"experiments/{name}.py") for name in SCRIPTS}
import _sweep  # noqa: E402  (on sys.path once load_script has loaded a script of experiments/)

STORED_RUNS = {"soft_hard": 35, "channel_spatial": 45, "dates": 40, "dates_encoder": 40, "soft_hard_curves": 25,
               "attention_maps": 5, "model_maps": 20}
PROVENANCE_KEYS = {"torch", "python", "platform", "device", "hardware", "threads", "cpu_capability", "cpu_env",
                   "date", "command", "git_commit", "git_dirty"}


@pytest.fixture(autouse=True)
def _keep_torch_threads():
    """The scripts set torch's thread count; give the test process its own back."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture(params=SCRIPTS)
def stored_copy(request, tmp_path):
    """(script name, a copy of its committed results file in tmp_path)."""
    path = tmp_path / f"{request.param}.json"
    shutil.copyfile(RESULTS / f"{request.param}.json", path)
    return request.param, path


def test_a_call_with_other_settings_leaves_the_stored_file_byte_identical(stored_copy):
    name, path = stored_copy
    before = path.read_bytes()
    steps = ["--steps", "2"] + (["--checkpoints", "2"] if name.startswith("dates") or name == "soft_hard_curves"
                                 else [])
    with pytest.raises(_sweep.SweepMismatch, match=r"config\['steps'\]: stored [^,]+, asked 2") as refused:
        scripts[name].main(steps + ["--seeds", "7", "--threads", "1", "--output", str(path)])
    assert refused.value.code != 0 and "the file is unchanged" in str(refused.value.code)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_the_default_call_accepts_the_stored_file_and_finds_nothing_to_run(stored_copy, capsys):
    # the committed runs were converted to the settings the scripts train today
    name, path = stored_copy
    before = path.read_bytes()
    assert scripts[name].main(["--threads", str(torch.get_num_threads()), "--output", str(path)]) == 0
    assert capsys.readouterr().out.strip() == f"complete: {STORED_RUNS[name]} runs in {path}"
    assert path.read_bytes() == before


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_stored_run_carries_its_spec_and_provenance(name):
    report = json.loads((RESULTS / f"{name}.json").read_text())
    assert report["format"] == _sweep.FORMAT and report["script"] == f"experiments/{name}.py"
    assert len(report["runs"]) == len({(run["variant"], run["seed"]) for run in report["runs"]}) == STORED_RUNS[name]
    for run in report["runs"]:
        assert run["spec"]["config"] == report["config"]
        assert (run["spec"]["variant"], run["spec"]["seed"]) == (run["variant"], run["seed"])
        assert run["spec"]["settings"] and PROVENANCE_KEYS <= set(run["provenance"])
    assert {key: report[key] for key in ("torch", "python", "hardware", "date")} == _sweep.summarize(report["runs"])


def _store(path, variants=("a", "b")):
    return _sweep.SweepStore(path, script="experiments/toy.py", config={"steps": 3, "widths": (1, 2)},
                             settings={variant: {"lr": 0.1, "name": variant} for variant in variants})


RECORD = {"torch": "t", "python": "p", "device": "cpu", "hardware": "h", "threads": 1, "date": "2026-12-01"}


def test_resuming_trains_only_the_missing_runs_each_with_its_spec_and_provenance(tmp_path, capsys):
    path = tmp_path / "toy.json"
    store = _store(path)
    store.add(store.spec("a", 0), {"loss": 0.5}, RECORD)
    trained, prepared = [], []

    def train(spec, data):
        trained.append((spec["variant"], spec["seed"]))
        return {"loss": data + spec["seed"]}

    def prepare():
        prepared.append(True)
        return 1.0

    options = {"prepare": prepare, "train": train, "describe": lambda run: f"{run['variant']} {run['seed']}",
               "budget_minutes": None, "argv": ["--seeds", "0", "1"]}
    assert _sweep.run_sweep(_store(path), ["a", "b"], [0, 1], **options) == 0
    assert trained == [("b", 0), ("a", 1), ("b", 1)] and prepared == [True]
    runs = json.loads(path.read_text())["runs"]
    assert [(run["variant"], run["seed"], run["loss"]) for run in runs] == [("a", 0, 0.5), ("b", 0, 1.0),
                                                                             ("a", 1, 2.0), ("b", 1, 2.0)]
    for run in runs[1:]:
        assert run["spec"] == {"variant": run["variant"], "seed": run["seed"],
                               "settings": {"lr": 0.1, "name": run["variant"]}, "config": {"steps": 3, "widths": [1, 2]}}
        assert PROVENANCE_KEYS <= set(run["provenance"])
        assert run["provenance"]["command"] == "python experiments/toy.py --seeds 0 1"
    # a second call finds everything stored: no data, no training, no write
    before = path.read_bytes()
    trained.clear()
    assert _sweep.run_sweep(_store(path), ["a", "b"], [0, 1], **options) == 0
    assert trained == [] and prepared == [True] and path.read_bytes() == before
    assert capsys.readouterr().out.splitlines()[-1] == f"complete: 4 runs in {path}"


def test_other_settings_of_a_stored_variant_are_refused(tmp_path):
    path = tmp_path / "toy.json"
    store = _store(path)
    store.add(store.spec("a", 0), {"loss": 0.5}, RECORD)
    before = path.read_bytes()
    with pytest.raises(_sweep.SweepMismatch, match=r"variant 'a' settings\['lr'\]: stored 0.1, asked 0.2"):
        _sweep.SweepStore(path, script="experiments/toy.py", config={"steps": 3, "widths": [1, 2]},
                          settings={"a": {"lr": 0.2, "name": "a"}})
    assert path.read_bytes() == before


def test_a_derived_figure_of_a_new_variant_is_added_but_a_changed_one_is_refused(tmp_path):
    path = tmp_path / "toy.json"
    config = {"steps": 3, "widths": [1, 2]}
    settings = {"a": {"lr": 0.1, "name": "a"}, "b": {"lr": 0.2, "name": "b"}}
    store = _sweep.SweepStore(path, script="experiments/toy.py", config=config, settings=settings,
                              derived={"cost": {"a": 1}})
    store.add(store.spec("a", 0), {"loss": 0.5}, RECORD)
    grown = _sweep.SweepStore(path, script="experiments/toy.py", config=config, settings=settings,
                              derived={"cost": {"a": 1, "b": 2}})  # variant b's figure: added
    grown.add(grown.spec("b", 0), {"loss": 0.4}, RECORD)
    assert json.loads(path.read_text())["cost"] == {"a": 1, "b": 2}
    before = path.read_bytes()
    with pytest.raises(_sweep.SweepMismatch, match=r"derived\['cost'\]\['a'\]: stored 1, asked 5"):
        _sweep.SweepStore(path, script="experiments/toy.py", config=config, settings=settings,
                          derived={"cost": {"a": 5, "b": 2}})
    with pytest.raises(_sweep.SweepMismatch, match=r"derived\['cost'\]\['b'\]: stored 2, not asked"):
        _sweep.SweepStore(path, script="experiments/toy.py", config=config, settings=settings,
                          derived={"cost": {"a": 1}})
    assert path.read_bytes() == before


def test_a_file_of_another_format_is_refused_untouched(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"config": {"steps": 3}, "runs": []}))
    before = path.read_bytes()
    with pytest.raises(_sweep.SweepMismatch, match="not a sweep file of format"):
        _store(path)
    assert path.read_bytes() == before


def test_an_interrupted_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "toy.json"
    store = _store(path)
    store.add(store.spec("a", 0), {"loss": 0.5}, RECORD)
    before = path.read_bytes()

    def dump_then_fail(obj, handle, **options):
        handle.write(json.dumps(obj, **options)[:100])
        raise KeyboardInterrupt

    monkeypatch.setattr(_sweep.json, "dump", dump_then_fail)
    with pytest.raises(KeyboardInterrupt):
        store.add(store.spec("b", 0), {"loss": 0.25}, RECORD)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["toy.json"]
    assert store.done() == {("a", 0)}


def test_two_calls_filling_one_file_keep_each_others_runs(tmp_path):
    path = tmp_path / "toy.json"
    first, second = _store(path), _store(path)
    first.add(first.spec("a", 0), {"loss": 0.5}, RECORD)
    second.add(second.spec("b", 0), {"loss": 0.25}, RECORD)     # reads the first call's run, then adds
    first.add(first.spec("a", 1), {"loss": 0.125}, RECORD)
    stored = json.loads(path.read_text())
    assert [(run["variant"], run["seed"]) for run in stored["runs"]] == [("a", 0), ("b", 0), ("a", 1)]
    assert first.done() == second.done() | {("a", 1)}
    assert [p.name for p in tmp_path.iterdir()] == ["toy.json"]


def test_a_run_stored_by_another_call_meanwhile_is_not_stored_twice(tmp_path):
    path = tmp_path / "toy.json"
    first, second = _store(path), _store(path)
    first.add(first.spec("a", 0), {"loss": 0.5}, RECORD)
    written = path.read_bytes()
    with pytest.raises(_sweep.SweepMismatch, match="by another call meanwhile"):
        second.add(second.spec("a", 0), {"loss": 0.25}, RECORD)
    assert path.read_bytes() == written


def test_a_file_rewritten_with_other_settings_by_another_call_is_not_overwritten(tmp_path):
    path = tmp_path / "toy.json"
    mine = _store(path)
    other = _sweep.SweepStore(path, script="experiments/toy.py", config={"steps": 4, "widths": (1, 2)},
                              settings={"a": {"lr": 0.1, "name": "a"}})
    other.add(other.spec("a", 0), {"loss": 0.5}, RECORD)
    written = path.read_bytes()
    with pytest.raises(_sweep.SweepMismatch, match="holds runs of other settings"):
        mine.add(mine.spec("b", 0), {"loss": 0.25}, RECORD)
    assert path.read_bytes() == written


def test_the_budget_stops_starting_runs(tmp_path, monkeypatch, capsys):
    clock = [0.0]
    monkeypatch.setattr(_sweep.time, "monotonic", lambda: clock[0])

    def train(spec, data):
        clock[0] += 61.0
        return {"loss": 1.0}

    _sweep.run_sweep(_store(tmp_path / "toy.json"), ["a", "b"], [0], prepare=lambda: None, train=train,
                     describe=str, budget_minutes=1.0, argv=[])
    assert len(json.loads((tmp_path / "toy.json").read_text())["runs"]) == 1
    assert "time budget of 1 minutes reached with 1 runs still to run" in capsys.readouterr().out


def test_set_goes_into_the_configuration_and_the_spec_not_into_module_globals(tmp_path, monkeypatch):
    soft_hard = scripts["soft_hard"]
    variants = copy.deepcopy({name: dict(settings) for name, settings in soft_hard.VARIANTS.items()})
    stores = []
    monkeypatch.setattr(soft_hard, "run_sweep", lambda store, *args, **options: stores.append(store) or 0)
    assert soft_hard.main(["--variants", "hard", "hard_old", "--set", "lr=0.5", "clip_norm=None",
                           "--output", str(tmp_path / "explore.json")]) == 0
    (store,) = stores
    assert store.config["overrides"] == {"lr": 0.5, "clip_norm": None}
    assert store.spec("hard", 0)["settings"] == {**variants["hard"], "lr": 0.5, "clip_norm": None}
    assert {name: dict(settings) for name, settings in soft_hard.VARIANTS.items()} == variants
    with pytest.raises(TypeError):
        soft_hard.VARIANTS["hard"]["lr"] = 0.5


@pytest.mark.parametrize(("variants", "item", "message"), [
    (("soft", "hard"), "saliency_gain=0", "'saliency_gain' is not a setting of variant 'soft'"),
    (("hard",), "reinforce=1", "variant 'hard' has reinforce=True, so the value must be of that kind, got 1"),
    (("hard",), "model=soft", "'model' cannot be overridden"),
    (("hard",), "lr", "takes KEY=VALUE items, got 'lr'"),
])
def test_set_names_the_item_and_what_is_allowed(variants, item, message):
    settings = {name: scripts["soft_hard"].VARIANTS[name] for name in variants}
    with pytest.raises(ValueError, match=message):
        _sweep.parse_overrides([item], settings, fixed=("model",))


def test_set_reads_json_values_and_bare_words():
    settings = {"hard": scripts["soft_hard"].VARIANTS["hard"]}
    assert _sweep.parse_overrides(["lr=3e-3", "clip_norm=None", "reinforce=false", "baseline=moving_average"],
                                  settings) == {"lr": 3e-3, "clip_norm": None, "reinforce": False,
                                                "baseline": "moving_average"}



def test_the_encoder_sweep_has_the_dates_budget_and_its_uni_runs_are_the_dates_bypass_off_runs():
    """dates_encoder.py trains with dates.json's configuration, and its left-to-right runs reproduce
    dates.json's bypass-off runs number for number (the default AttentionSeq2Seq is unchanged)."""
    report, dates = (json.loads((RESULTS / f"{name}.json").read_text()) for name in ("dates_encoder", "dates"))
    assert report["config"] == dates["config"]
    assert {(run["variant"], run["seed"]) for run in report["runs"]} == {
        (variant, seed) for variant in scripts["dates_encoder"].VARIANTS for seed in _sweep.DEFAULT_SEEDS}
    bypass_off = {(run["mode"], run["seed"]): run for run in dates["runs"] if run["bypass"] == "off"}
    for run in report["runs"]:
        assert run["spec"]["settings"] == {"mode": run["mode"], "bypass": "off", "encoder": run["encoder"]}
        assert set(run["checkpoints"]) == {str(step) for step in report["config"]["checkpoints"]}
        if run["encoder"] == "uni":
            assert run["checkpoints"] == bypass_off[(run["mode"], run["seed"])]["checkpoints"]


LONGER_SWEEPS = {  # file: (the shorter sweep it extends, its variants, its steps)
    "dates_encoder_long": ("dates_encoder", {f"{mode}/bypass-off/encoder-bi" for mode in
                                             ("global", "local-m", "local-m-scaled", "local-p")}, 1200),
    "transliteration_long": ("transliteration", {"global/encoder-bi", "local-m/encoder-bi"}, 500),
    "transliteration_window1": ("transliteration", {"local-m/encoder-bi"}, 500),
}


@pytest.mark.parametrize("name", sorted(LONGER_SWEEPS))
def test_a_longer_sweep_repeats_the_shorter_one_at_every_checkpoint_they_share(name):
    """The longer runs chapter 3 reads differ from the stored shorter runs only in their budget
    (and, for transliteration_window1, in the window): with no learning-rate schedule they pass
    through the same states, so every checkpoint both store is equal, value for value."""
    shorter_name, variants, steps = LONGER_SWEEPS[name]
    longer, shorter = (json.loads((RESULTS / f"{n}.json").read_text()) for n in (name, shorter_name))
    assert longer["config"]["steps"] == steps
    assert {(run["variant"], run["seed"]) for run in longer["runs"]} == {
        (variant, seed) for variant in variants for seed in _sweep.DEFAULT_SEEDS}
    differing = {key for key in set(longer["config"]) | set(shorter["config"])
                 if longer["config"].get(key) != shorter["config"].get(key)}
    allowed = {"steps", "checkpoints"} | ({"window"} if name.endswith("window1") else set())
    assert differing <= allowed, differing
    if "window" in differing:
        return  # another model: nothing to compare step for step
    short_runs = {(run["variant"], run["seed"]): run for run in shorter["runs"]}
    for run in longer["runs"]:
        short = short_runs[(run["variant"], run["seed"])]
        shared = set(run["checkpoints"]) & set(short["checkpoints"])
        assert shared
        assert all(run["checkpoints"][step] == short["checkpoints"][step] for step in shared)
