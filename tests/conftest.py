"""Shared test settings: a headless matplotlib backend, devices, the built book, test tiers
and the Hypothesis profiles.

Tiers (``pytest -m unit``, ``-m integration``, ``-m notebooks``; ``make test-unit`` and
friends): every collected test gets exactly one, here, from where it lives.

* ``notebooks``: the chapters' cells under nbval.
* ``integration``: tests that start other processes (the book build, Chromium, benchmark
  scripts, pytest itself, pip), run the experiment scripts, or measure the machine:
  the files in :data:`INTEGRATION_FILES`, every ``test_*_experiment.py``, every test that
  uses the ``book_build`` fixture, and single tests marked ``@pytest.mark.integration``
  in a file that is otherwise ``unit``.
* ``unit``: everything else: in-process checks of the package and of the committed
  notebooks' JSON, together well under a minute on two cores.

Hypothesis runs under the ``ci`` profile unless ``HYPOTHESIS_PROFILE`` names another:
``ci`` is derandomized (the same examples on every run, no example database), so a
failure in CI reproduces; ``HYPOTHESIS_PROFILE=dev`` searches at random and keeps the
database. A test's own ``@settings(...)`` inherits the profile loaded here, at import
time, for every setting it does not name.
"""

import fnmatch
import os
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])



def _kernel_in_an_empty_directory(kernel_class):
    """nbval's kernel, started in a new empty directory instead of the notebook's own.

    A reader in Colab opens one notebook file with the package installed and nothing of
    the repository around it; running every chapter that way under nbval proves that no
    chapter reads a file next to it (stored results come with the package).
    """
    import tempfile

    class KernelInAnEmptyDirectory(kernel_class):
        def __init__(self, kernel_name, cwd=None, startup_timeout=60):
            self.empty_directory = tempfile.TemporaryDirectory(prefix="attnbook-chapter-")
            super().__init__(kernel_name, cwd=self.empty_directory.name, startup_timeout=startup_timeout)

        def stop(self):
            try:
                super().stop()
            finally:
                self.empty_directory.cleanup()

    return KernelInAnEmptyDirectory


try:
    import nbval.plugin
except ImportError:  # nbval absent: no notebook tests to run
    pass
else:
    nbval.plugin.RunningKernel = _kernel_in_an_empty_directory(nbval.plugin.RunningKernel)

settings.register_profile("ci", derandomize=True, deadline=None, database=None, print_blob=True)
settings.register_profile("dev", derandomize=False, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

TIERS = ("unit", "integration", "notebooks")
INTEGRATION_FILES = (
    "test_benchmarks.py",           # runs the benchmark scripts in subprocesses
    "test_book_build.py",           # builds the book with jupyter-book
    "test_browser.py",              # the built book in Chromium
    "test_ipywidgets_versions.py",  # pip-installs ipywidgets 7 and displays in a subprocess
    "test_warnings_policy.py",      # runs pytest in subprocesses
    "test_*_experiment.py",         # smoke tests of experiments/*.py
)
# Every tier's test ids, recorded before `-m` deselects any: tests/test_tiers.py reads them.
TIER_MARKS = pytest.StashKey[dict]()


def tier_of(path: Path, fixtures=()) -> str:
    """The tier of a test without a tier mark of its own, in file ``path``, using ``fixtures``."""
    if path.suffix == ".ipynb":
        return "notebooks"
    if "book_build" in fixtures or any(fnmatch.fnmatch(path.name, pattern) for pattern in INTEGRATION_FILES):
        return "integration"
    return "unit"


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by the tiers given here
def pytest_collection_modifyitems(config, items):
    for item in items:
        if not any(item.get_closest_marker(name) for name in TIERS):
            item.add_marker(tier_of(item.path, getattr(item, "fixturenames", ())))
    config.stash[TIER_MARKS] = {item.nodeid: [mark.name for mark in item.iter_markers() if mark.name in TIERS]
                                for item in items}


@pytest.fixture(params=DEVICES)
def device(request) -> torch.device:
    return torch.device(request.param)


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(0)


@pytest.fixture(scope="session")
def book_build() -> subprocess.CompletedProcess:
    """Build the book once per test session, as `make book` does: both editions, English into
    _build/html/en and Chinese into _build/html/zh_CN (tools/build_book.py), warnings as errors."""
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_book.py")],
        capture_output=True, text=True, timeout=1500, cwd=ROOT,
    )
