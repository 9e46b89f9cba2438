"""setup_notebook's thread count: the requested threads on an idle machine, fewer on a busy one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

import attnbook.book.setup as notebook
from attnbook.book import busy_cores, setup_notebook, threads_to_use


@pytest.mark.parametrize(
    ("threads", "busy", "cores", "expected"),
    [(2, 0.0, 2, 2), (2, 0.4, 2, 2), (2, 0.6, 2, 1), (2, 1.0, 2, 1), (2, 3.0, 2, 1), (4, 0.3, 8, 4),
     (8, 2.0, 8, 6), (1, 0.0, 2, 1)],
)
def test_threads_leave_busy_cores_alone(threads, busy, cores, expected):
    assert threads_to_use(threads, busy, cores) == expected


def test_threads_must_be_positive():
    with pytest.raises(ValueError, match="threads"):
        threads_to_use(0, 0.0, 2)


@pytest.mark.parametrize(("setting", "busy", "expected"),
                         [("", 5.0, 2), ("auto", 0.0, None), ("auto", 1.0, 1), ("auto", 5.0, 1), ("1", 0.0, 1)])
def test_setup_notebook_threads(monkeypatch, setting, busy, expected):
    monkeypatch.setenv("ATTNBOOK_THREADS", setting)
    monkeypatch.setattr(notebook, "busy_cores", lambda: busy)
    before = torch.get_num_threads()
    try:
        setup_notebook(threads=2)
        assert torch.get_num_threads() == (expected or threads_to_use(2, 0.0))
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("setting", ["0", "two", "-1"])
def test_bad_thread_setting_is_named(monkeypatch, setting):
    monkeypatch.setenv("ATTNBOOK_THREADS", setting)
    with pytest.raises(ValueError, match=f"ATTNBOOK_THREADS must be 'auto' or a positive integer, got '{setting}'"):
        setup_notebook()


@pytest.mark.integration  # another process, and the machine's own load
@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="busy_cores reads Linux's /proc/stat")
def test_busy_cores_sees_a_process_spinning():
    # The child says when its loop starts, so that the window holds no interpreter start-up
    # (on a loaded machine, mostly waiting for the disk, which is not busy time).
    hog = subprocess.Popen([sys.executable, "-c", "print('spinning', flush=True)\nwhile True: pass"],
                           stdout=subprocess.PIPE, text=True)
    try:
        assert hog.stdout.readline() == "spinning\n", "the spinning child did not start"
        busy = busy_cores(1.0)
        assert hog.poll() is None, "the child stopped spinning during the measurement"
        assert busy >= 0.6
    finally:
        hog.kill()
        hog.wait()
        hog.stdout.close()
