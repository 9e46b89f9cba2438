"""attnbook.measure.provenance: one record of where a result came from, inside a checkout or not."""

from __future__ import annotations

import datetime
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import attnbook as ab
from book import ROOT

KEYS = ["torch", "python", "platform", "device", "hardware", "threads", "cpu_capability", "cpu_env", "date",
        "command", "git_commit", "git_dirty"]


def test_the_record_names_the_versions_the_machine_the_date_and_the_command(monkeypatch):
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    monkeypatch.delenv("ATEN_CPU_CAPABILITY", raising=False)
    record = ab.measure.provenance(["python", "experiments/x.py", "--seeds", "0 1"], repository=ROOT)
    assert list(record) == KEYS
    assert record["torch"] == torch.__version__ and record["python"] == ".".join(map(str, sys.version_info[:3]))
    assert record["device"] == "cpu" and record["hardware"] and record["threads"] == torch.get_num_threads()
    assert record["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert record["cpu_env"].get("ONEDNN_MAX_CPU_ISA") == "AVX2" and "ATEN_CPU_CAPABILITY" not in record["cpu_env"]
    date = datetime.datetime.fromisoformat(record["date"])
    assert date.utcoffset() == datetime.timedelta(0)
    assert abs(datetime.datetime.now(datetime.timezone.utc) - date) < datetime.timedelta(minutes=1)
    assert record["command"] == "python experiments/x.py --seeds '0 1'"


def test_inside_the_checkout_it_names_the_commit_and_whether_the_tree_is_dirty():
    record = ab.measure.provenance("python x.py", repository=ROOT)
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip("the tests do not run in a git checkout")
    assert record["git_commit"] == head.stdout.strip() and re.fullmatch("[0-9a-f]{40}", record["git_commit"])
    assert isinstance(record["git_dirty"], bool)


def test_outside_a_checkout_the_commit_is_none_and_nothing_fails(tmp_path):
    record = ab.measure.provenance("python x.py", repository=tmp_path)
    assert record["git_commit"] is None and record["git_dirty"] is None


def test_without_git_the_commit_is_none(monkeypatch):
    monkeypatch.setenv("PATH", "")
    record = ab.measure.provenance("python x.py", repository=ROOT)
    assert record["git_commit"] is None and record["git_dirty"] is None


def test_the_command_defaults_to_this_process_and_must_be_words(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["script.py", "--seeds", "0 1"])
    assert ab.measure.provenance()["command"] == f"{Path(sys.executable).name} script.py --seeds '0 1'"
    with pytest.raises(TypeError, match="command must be a string or a sequence of strings"):
        ab.measure.provenance(["python", 3])
