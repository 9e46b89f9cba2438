"""The resumable JSON store and the command line that the three sweep scripts share.

A sweep (``soft_hard.py``, ``channel_spatial.py``, ``dates.py``) trains some *variants*
for some *seeds* and keeps one *run* per (variant, seed) in one JSON file, which a chapter
reads. The file::

    {"format": "attnbook-sweep/1",
     "script": "experiments/dates.py",
     "config": {...},        # what every run in the file shares: steps, batch size, data,
                             # hyperparameters, --set overrides
     ...,                    # figures derived from the configuration without training
                             # (soft_hard.py: multiply_adds, parameters, values_read)
     "torch": ..., "python": ..., "hardware": ..., "date": ...,   # a summary of the runs'
                             # provenance, for the chapters' captions (see summarize)
     "runs": [{"variant": ..., "seed": ..., <results>,
               "spec": {"variant", "seed", "settings", "config"},   # everything it was trained with
               "provenance": {...}}]}                               # attnbook.measure.provenance

:class:`SweepStore` keeps it safe:

* a call whose configuration, derived figures or variant settings differ from the stored
  ones stops with :class:`SweepMismatch` (exit status 1) before it trains or writes anything,
  so the stored runs are never mixed with, or replaced by, runs of other settings;
* every write goes to a temporary file in the same directory, then ``os.replace``: an
  interrupted write leaves the previous file whole;
* calls may fill one file at the same time (say one per CPU core, with disjoint
  ``--variants`` or ``--seeds``): each write takes a lock, reads the file again if another
  call changed it (checking its settings as on opening), adds its run to the runs found
  there and writes; a run that another call stored meanwhile is not stored twice;
* stored (variant, seed) runs are skipped, so a sweep runs in chunks (``--budget-minutes``).

:func:`sweep_parser` gives every script the same options: ``--variants``, ``--seeds``
(a list: ``--seeds 0 1 2``), ``--steps``, ``--batch-size``, ``--budget-minutes``,
``--threads``, ``--output``; :func:`parse_overrides` reads ``--set KEY=VALUE`` into a dict
that becomes part of the configuration (nothing global changes); :func:`run_sweep` runs
what is missing.
"""

from __future__ import annotations

import argparse
import datetime
import fcntl
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from attnbook.measure import provenance

__all__ = [
    "FORMAT",
    "DEFAULT_SEEDS",
    "SweepMismatch",
    "SweepStore",
    "sweep_parser",
    "at_least",
    "parse_overrides",
    "summarize",
    "run_sweep",
]

#: The value of a sweep file's "format" key; a file without it is refused.
FORMAT = "attnbook-sweep/1"
#: The seeds a sweep runs unless --seeds says otherwise.
DEFAULT_SEEDS = (0, 1, 2, 3, 4)
# The keys of a run that the store sets; a script's results must not use them.
_RUN_KEYS = ("variant", "seed", "spec", "provenance")

Data = TypeVar("Data")


class SweepMismatch(SystemExit):
    """The stored file and the call disagree, and the file is left as it was.

    A :class:`SystemExit` whose code is the message: uncaught, Python prints it and exits
    with status 1.
    """


def _plain(value: Any, name: str) -> Any:
    """``value`` as JSON would store and read it back (tuples become lists), so that it compares
    equal to the stored copy; a TypeError naming ``name`` for what JSON cannot store."""
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be JSON data (dicts, lists, strings, numbers, booleans, None): {error}") from None


def _differences(stored: Any, asked: Any, where: str) -> list[str]:
    """Lines ``where[key]: stored X, asked Y`` for every leaf where ``stored`` and ``asked`` differ."""
    if isinstance(stored, dict) and isinstance(asked, dict):
        lines = []
        for key in [*stored, *(key for key in asked if key not in stored)]:
            if key not in asked:
                lines.append(f"{where}[{key!r}]: stored {stored[key]!r}, not asked")
            elif key not in stored:
                lines.append(f"{where}[{key!r}]: not stored, asked {asked[key]!r}")
            else:
                lines += _differences(stored[key], asked[key], f"{where}[{key!r}]")
        return lines
    return [] if stored == asked else [f"{where}: stored {stored!r}, asked {asked!r}"]


def _fingerprint(stat: os.stat_result) -> tuple[int, int, int]:
    """What changes when a file is replaced or rewritten: inode, size and modification time."""
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def _utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def summarize(runs: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The file's summary of its runs' provenance, which the chapters print under their tables.

    ``torch`` and ``python``: the versions the runs record, ``"; "``-joined where they differ;
    ``hardware``: ``"<hardware> (<cpu capability>), <threads> threads, <device>"`` per distinct
    combination (a part the record lacks is left out), ``"; "``-joined; ``date``: the latest
    run's date.
    """
    def distinct(values: Iterable[str]) -> str:
        return "; ".join(dict.fromkeys(values))

    records = [run["provenance"] for run in runs]
    machines = []
    for record in records:
        name = record["hardware"]
        if record.get("cpu_capability") and record["device"] == "cpu":
            name += f" ({record['cpu_capability']})"
        threads = record.get("threads")
        parts = [name] + ([f"{threads} thread{'' if threads == 1 else 's'}"] if threads is not None else [])
        machines.append(", ".join(parts + [record["device"]]))
    return {"torch": distinct(record["torch"] for record in records),
            "python": distinct(record["python"] for record in records),
            "hardware": distinct(machines),
            "date": max(record["date"] for record in records)}


class SweepStore:
    """One sweep file: its configuration, its runs, and the checks that keep them consistent.

    Opening a store reads ``path`` (if it exists) and compares it with the call: the format,
    the script, the configuration, the derived figures and, for every variant in
    ``settings`` that has stored runs, those runs' settings. Any difference raises
    :class:`SweepMismatch` with every difference listed, and nothing is written.

    Args:
        path: the JSON file (created on the first :meth:`add` if missing).
        script: the script's path relative to the repository root, e.g. ``"experiments/dates.py"``.
        config: what every run shares (JSON data).
        settings: ``{variant: its settings as this call would train it}`` for the variants
            the call may run (JSON data).
        derived: top-level figures computed from the configuration without training (JSON
            data), stored and checked like the configuration.
    """

    def __init__(self, path: str | os.PathLike[str], *, script: str, config: Mapping[str, Any],
                 settings: Mapping[str, Mapping[str, Any]], derived: Mapping[str, Any] | None = None) -> None:
        self.path = Path(path)
        self.script = script
        self.config = _plain(dict(config), "config")
        self.settings = _plain({variant: dict(values) for variant, values in settings.items()}, "settings")
        self.derived = _plain(dict(derived or {}), "derived")
        clash = sorted(set(self.derived) & {"format", "script", "config", "runs", "torch", "python", "hardware", "date"})
        if clash:
            raise ValueError(f"derived must not use the file's own keys, got {clash}")
        self.runs: list[dict[str, Any]] = []
        self._seen: tuple[int, int, int] | None = None
        if self.path.exists():
            self._load()

    def _lock_path(self) -> Path:
        """The lock file of this store's path, outside the results folder (one per absolute path)."""
        key = hashlib.sha1(str(self.path.resolve()).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"attnbook-sweep-{key}.lock"

    def _load(self) -> None:
        with self.path.open("rb") as handle:
            self._seen = _fingerprint(os.fstat(handle.fileno()))
            text = handle.read().decode()
        try:
            stored = json.loads(text)
        except ValueError as error:
            raise SweepMismatch(f"{self.path} is not valid JSON ({error}); it is left unchanged: "
                                "repair it or move it away") from None
        if not isinstance(stored, dict) or stored.get("format") != FORMAT:
            found = stored.get("format") if isinstance(stored, dict) else type(stored).__name__
            raise SweepMismatch(f"{self.path} is not a sweep file of format {FORMAT!r} (its format: {found!r}); "
                                "it is left unchanged: move it away or pass another --output")
        lines = _differences(stored.get("script"), self.script, "script")
        lines += _differences(stored.get("config"), self.config, "config")
        # a derived figure the file lacks (a variant added to the script later) is added, not a
        # mismatch: it is computed from the configuration and no stored run depends on it
        lines += [line for line in _differences({key: stored.get(key) for key in self.derived}, self.derived,
                                                "derived")
                  if ": not stored, asked " not in line]
        for run in stored["runs"]:
            if run["variant"] in self.settings:
                lines += _differences(run["spec"]["settings"], self.settings[run["variant"]],
                                      f"variant {run['variant']!r} settings")
        lines = list(dict.fromkeys(lines))  # the runs of one variant share their settings
        if lines:
            raise SweepMismatch(
                f"{self.path} holds runs of other settings than this call asks for, so it would mix them;\n"
                "nothing was trained and the file is unchanged. Differences:\n  " + "\n  ".join(lines)
                + "\nPass the stored settings to resume it, or --output another file to start another sweep.")
        self.runs = stored["runs"]

    def done(self) -> set[tuple[str, int]]:
        """The (variant, seed) pairs stored."""
        return {(run["variant"], run["seed"]) for run in self.runs}

    def pending(self, variants: Sequence[str], seeds: Sequence[int]) -> list[tuple[str, int]]:
        """The (variant, seed) pairs still to run, seed by seed, in the order given, each once."""
        unknown = [variant for variant in variants if variant not in self.settings]
        if unknown:
            raise ValueError(f"variants must be among the store's settings {sorted(self.settings)}, got {unknown}")
        done = self.done()
        pairs = dict.fromkeys((variant, seed) for seed in seeds for variant in variants)
        return [pair for pair in pairs if pair not in done]

    def spec(self, variant: str, seed: int) -> dict[str, Any]:
        """Everything run (variant, seed) is trained with: its settings and the configuration."""
        if variant not in self.settings:
            raise ValueError(f"variant must be among the store's settings {sorted(self.settings)}, got {variant!r}")
        return _plain({"variant": variant, "seed": seed, "settings": self.settings[variant], "config": self.config},
                      "spec")

    def add(self, spec: Mapping[str, Any], results: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
        """Store the run of ``spec`` (from :meth:`spec`) with its ``results`` and provenance
        ``record``, and write the file; return the run.

        Raises:
            SweepMismatch: another call changed the file to other settings, or stored this
                (variant, seed) meanwhile; the file is not overwritten (this run is not stored).
        """
        clash = sorted(set(results) & set(_RUN_KEYS))
        if clash:
            raise ValueError(f"results must not use the keys the store sets {list(_RUN_KEYS)}, got {clash}")
        if (spec["variant"], spec["seed"]) in self.done():
            raise ValueError(f"run ({spec['variant']!r}, {spec['seed']}) is stored already in {self.path}")
        run = {"variant": spec["variant"], "seed": spec["seed"], **_plain(dict(results), "results"),
               "spec": _plain(dict(spec), "spec"), "provenance": _plain(dict(record), "record")}
        with self._lock_path().open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if self.path.exists() and _fingerprint(self.path.stat()) != self._seen:
                    self._load()  # another call wrote it: its runs, checked like on opening
                if (run["variant"], run["seed"]) in self.done():
                    raise SweepMismatch(f"run ({run['variant']!r}, {run['seed']}) was stored in {self.path} by "
                                        "another call meanwhile; this call's copy is not stored")
                runs = [*self.runs, run]
                self._write({"format": FORMAT, "script": self.script, "config": self.config, **self.derived,
                             **summarize(runs), "runs": runs})
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        self.runs = runs
        return run

    def _write(self, report: dict[str, Any]) -> None:
        """Write ``report`` to a temporary file beside the store's and move it over the store's
        (the caller holds the lock and has read the file as it is now)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        mode = self.path.stat().st_mode & 0o777 if self.path.exists() else 0o644
        handle = tempfile.NamedTemporaryFile("w", dir=self.path.parent, prefix=f".{self.path.name}.",
                                             suffix=".tmp", delete=False, encoding="utf-8")
        try:
            with handle:
                json.dump(report, handle, indent=1)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(handle.name, mode)
            os.replace(handle.name, self.path)
        except BaseException:
            Path(handle.name).unlink(missing_ok=True)
            raise
        self._seen = _fingerprint(self.path.stat())


def at_least(minimum: int) -> Callable[[str], int]:
    """An argparse ``type``: an integer >= ``minimum``, else an error naming the value and the bound."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}")
        return value
    return parse


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}")
    return value


def sweep_parser(description: str, *, variants: Sequence[str], default_variants: Sequence[str] | None = None,
                 steps: int, batch_size: int, output: Path) -> argparse.ArgumentParser:
    """The options every sweep script takes; the script adds its own and parses.

    ``--variants NAME ...`` (choices: ``variants``; default ``default_variants`` or all),
    ``--seeds S ...`` (a list of seeds >= 0; default 0 1 2 3 4), ``--steps N``,
    ``--batch-size N``, ``--budget-minutes M`` (start no new run after M minutes of this
    call; default: no limit), ``--threads N`` (torch's CPU threads; default 2) and
    ``--output PATH`` (default ``output``, the file the chapter reads).
    """
    parser = argparse.ArgumentParser(description=description)
    defaults = list(default_variants if default_variants is not None else variants)
    parser.add_argument("--variants", nargs="+", choices=list(variants), metavar="VARIANT", default=defaults,
                        help=f"variants to run, of: {' '.join(variants)} (default: "
                             f"{'all' if defaults == list(variants) else ' '.join(defaults)})")
    parser.add_argument("--seeds", nargs="+", type=at_least(0), default=list(DEFAULT_SEEDS), metavar="SEED",
                        help="seeds to run, a list (default: %(default)s)")
    parser.add_argument("--steps", type=at_least(1), default=steps, help="optimiser steps per run (default: %(default)s)")
    parser.add_argument("--batch-size", type=at_least(1), default=batch_size,
                        help="examples per step (default: %(default)s)")
    parser.add_argument("--budget-minutes", type=_positive_float, default=None, metavar="MINUTES",
                        help="start no new run after this many minutes of this call; run again to resume "
                             "(default: no limit)")
    parser.add_argument("--threads", type=at_least(1), default=2, help="torch CPU threads (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=output, metavar="PATH",
                        help="the sweep file (default: %(default)s, which the chapter reads)")
    return parser


def _value(text: str) -> Any:
    """A --set value: JSON (0.003, null, true, "x"), Python's None/True/False, else the text itself."""
    words = {"None": None, "True": True, "False": False}
    if text in words:
        return words[text]
    try:
        return json.loads(text)
    except ValueError:
        return text


def _same_kind(old: Any, new: Any) -> bool:
    if old is None or new is None:
        return True
    if isinstance(old, bool) or isinstance(new, bool):
        return isinstance(old, bool) and isinstance(new, bool)
    if isinstance(old, (int, float)):
        return isinstance(new, (int, float))
    return type(old) is type(new)


def parse_overrides(items: Sequence[str], settings: Mapping[str, Mapping[str, Any]],
                    fixed: Sequence[str] = ()) -> dict[str, Any]:
    """``--set KEY=VALUE ...`` as a dict, checked against the chosen variants' ``settings``.

    Each KEY must be a setting of every chosen variant and not in ``fixed``; each VALUE
    (read by JSON, or as a bare word) must be of the kind of the value it replaces (a number
    for a number, a boolean for a boolean, a string for a string; None for or by anything).
    The caller applies the result to copies of its settings and puts it in the configuration.

    Raises:
        ValueError: naming the item, the variant and what is allowed.
    """
    overrides: dict[str, Any] = {}
    for item in items:
        key, equals, text = item.partition("=")
        if not equals or not key:
            raise ValueError(f"--set takes KEY=VALUE items, got {item!r}")
        if key in fixed:
            raise ValueError(f"--set {item}: {key!r} cannot be overridden (fixed: {', '.join(fixed)})")
        value = _value(text)
        for variant, values in settings.items():
            if key not in values:
                raise ValueError(f"--set {item}: {key!r} is not a setting of variant {variant!r} (its settings: "
                                 f"{', '.join(values)}); choose --variants that all have it")
            if not _same_kind(values[key], value):
                raise ValueError(f"--set {item}: variant {variant!r} has {key}={values[key]!r}, so the value must "
                                 f"be of that kind, got {value!r}")
        overrides[key] = value
    return overrides


def run_sweep(store: SweepStore, variants: Sequence[str], seeds: Sequence[int], *, prepare: Callable[[], Data],
              train: Callable[[dict[str, Any], Data], Mapping[str, Any]], describe: Callable[[dict[str, Any]], str],
              budget_minutes: float | None, argv: Sequence[str] | None, device: str = "cpu") -> int:
    """Train and store every (variant, seed) the store lacks; return the exit status, 0.

    ``prepare()`` builds the data once, only if a run is missing; ``train(spec, data)``
    trains from the spec alone (:meth:`SweepStore.spec`) and returns the run's results;
    ``describe(run)`` is the line printed for it. Each run's provenance is
    :func:`attnbook.measure.provenance` of this call (command ``python <script> <argv>``,
    ``argv`` defaulting to ``sys.argv[1:]``), dated when the run ends. With
    ``budget_minutes`` no run starts after that many minutes of the call.
    """
    started = time.monotonic()
    pending = store.pending(variants, seeds)
    if pending:
        arguments = list(sys.argv[1:] if argv is None else argv)
        record = provenance(["python", store.script, *arguments], device=device)
        data = prepare()
        for index, (variant, seed) in enumerate(pending):
            if budget_minutes is not None and time.monotonic() - started > 60 * budget_minutes:
                print(f"time budget of {budget_minutes:g} minutes reached with {len(pending) - index} runs still to "
                      f"run; run again to resume ({len(store.runs)} runs in {store.path})")
                return 0
            spec = store.spec(variant, seed)
            run = store.add(spec, train(spec, data), {**record, "date": _utc_now()})
            print(describe(run), flush=True)
    print(f"complete: {len(store.runs)} runs in {store.path}")
    return 0
