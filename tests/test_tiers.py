"""How the suite is organised: one tier marker per test, and derandomized Hypothesis in CI."""

from __future__ import annotations

import fnmatch
import importlib
import os
from pathlib import Path

import pytest
from hypothesis import given, is_hypothesis_test, settings
from hypothesis import strategies as st

from conftest import INTEGRATION_FILES, TIER_MARKS, TIERS, tier_of

TESTS = Path(__file__).resolve().parent
PROPERTY_TEST_MODULES = ("test_kv_cache", "test_masks", "test_sliding_window")
ci_profile = pytest.mark.skipif(os.environ.get("HYPOTHESIS_PROFILE", "ci") != "ci",
                                reason="HYPOTHESIS_PROFILE chooses another profile than ci")


def test_every_collected_test_has_exactly_one_tier(request):
    marks = request.config.stash[TIER_MARKS]  # every test collected, before `-m` deselected any
    assert marks[request.node.nodeid] == ["unit"]
    wrong = {test: tiers for test, tiers in marks.items() if len(tiers) != 1 or tiers[0] not in TIERS}
    assert not wrong, f"tests without exactly one tier marker of {TIERS}: {wrong}"


@pytest.mark.parametrize(
    ("path", "fixtures", "tier"),
    [
        ("chapters/attention_basics.ipynb", (), "notebooks"),
        ("tests/test_browser.py", (), "integration"),
        ("tests/test_book_build.py", (), "integration"),
        ("tests/test_benchmarks.py", (), "integration"),
        ("tests/test_ipywidgets_versions.py", (), "integration"),
        ("tests/test_warnings_policy.py", (), "integration"),
        ("tests/test_dates_experiment.py", (), "integration"),
        ("tests/test_soft_hard_experiment.py", (), "integration"),
        ("tests/test_new.py", ("tmp_path", "book_build"), "integration"),
        # these two read the committed notebooks' JSON, not the built book: in-process and fast
        ("tests/test_figure_widths.py", (), "unit"),
        ("tests/test_stored_sliders.py", (), "unit"),
        ("tests/test_masks.py", ("device",), "unit"),
        ("tests/test_experiments_listed.py", (), "unit"),  # not an *_experiment.py smoke test
    ],
)
def test_tier_rules(path, fixtures, tier):
    assert tier_of(Path(path), fixtures) == tier


@pytest.mark.parametrize("pattern", INTEGRATION_FILES)
def test_every_integration_file_rule_names_a_test_file(pattern):
    assert [path for path in TESTS.glob("test_*.py") if fnmatch.fnmatch(path.name, pattern)], pattern


@ci_profile
def test_the_ci_profile_is_loaded_by_default():
    assert settings.default.derandomize is True
    assert settings.default.deadline is None and settings.default.database is None


@ci_profile
@pytest.mark.parametrize("module", PROPERTY_TEST_MODULES)
def test_property_tests_keep_the_profiles_derandomize(module):
    # A test's own @settings(...) inherits what it does not name from the profile loaded
    # in conftest.py; naming derandomize (or a database) there would undo the ci profile.
    tests = [value for value in vars(importlib.import_module(module)).values() if is_hypothesis_test(value)]
    assert tests, f"{module} has no Hypothesis test"
    for test in tests:
        chosen = test._hypothesis_internal_use_settings
        assert chosen.derandomize is True and chosen.database is None, (module, test.__name__)


@ci_profile
def test_derandomized_runs_draw_the_same_examples():
    def draws() -> list[tuple[int, list[float]]]:
        seen = []

        @settings(max_examples=20)
        @given(st.integers(0, 10**9), st.lists(st.floats(allow_nan=False), max_size=4))
        def record(number, floats):
            seen.append((number, floats))

        record()
        return seen

    first, second = draws(), draws()
    assert len({number for number, _ in first}) > 5 and first == second
