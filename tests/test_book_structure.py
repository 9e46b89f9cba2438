"""The book's invariants that need no build: notebooks listed, executed, launchable, well formed."""

import re
import subprocess

import pytest

from book import CHAPTERS, ROOT, load_config, load_notebook, toc_files

NOTEBOOK_IDS = [path.stem for path in CHAPTERS]


def test_there_are_chapters():
    assert CHAPTERS, "chapters/ holds no notebook"


@pytest.mark.parametrize("path", CHAPTERS, ids=NOTEBOOK_IDS)
def test_notebook_is_in_the_table_of_contents(path):
    assert f"chapters/{path.stem}" in toc_files()


def test_every_toc_entry_exists():
    for entry in toc_files():
        assert any((ROOT / f"{entry}{suffix}").exists() for suffix in (".md", ".ipynb")), entry


def test_repository_is_set_once_with_branch_main():
    repository = load_config()["repository"]
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", repository["url"])
    assert repository["branch"] == "main"
    assert load_config()["execute"]["execute_notebooks"] == "off"


@pytest.mark.parametrize("path", CHAPTERS, ids=NOTEBOOK_IDS)
def test_first_code_cell_installs_the_package_from_the_configured_repository(path):
    notebook = load_notebook(path)
    first_code = next(cell for cell in notebook["cells"] if cell["cell_type"] == "code")
    source = "".join(first_code["source"])
    url = re.escape(load_config()["repository"]["url"])
    assert re.search(rf"attnbook @ git\+{url}@[0-9a-f]{{40}}#subdirectory=code", source)


@pytest.mark.parametrize("path", CHAPTERS, ids=NOTEBOOK_IDS)
def test_first_code_cell_reinstalls_when_another_version_is_installed(path):
    """A stale install (an older attnbook in a reused Colab runtime) is replaced, not kept."""
    source = "".join(next(c for c in load_notebook(path)["cells"] if c["cell_type"] == "code")["source"])
    declared = re.search(r'^version = "([^"]+)"$', (ROOT / "code" / "pyproject.toml").read_text(), re.M).group(1)
    required = re.search(r'^REQUIRED = "([^"]+)"$', source, re.M)
    assert required, "the cell names the version it needs: REQUIRED = \"x.y.z\""
    assert required.group(1) == declared, (
        f"the cell requires attnbook {required.group(1)}, code/pyproject.toml is {declared}: "
        "run tools/pin_colab_ref.py")
    assert 'importlib.metadata.version("attnbook")' in source and "PackageNotFoundError" in source
    assert "if installed != REQUIRED:" in source
    assert "importlib.invalidate_caches()" in source
    assert '"attnbook" in sys.modules' in source and "restart the kernel" in source
    # Colab already has torch and the rest: a forced reinstall would download them again.
    assert "--force-reinstall" not in source


@pytest.mark.integration  # runs git; and fails while code/ is being edited, until the next pin
@pytest.mark.parametrize("path", CHAPTERS, ids=NOTEBOOK_IDS)
def test_colab_installs_the_package_the_outputs_were_computed_with(path):
    source = "".join(next(c for c in load_notebook(path)["cells"] if c["cell_type"] == "code")["source"])
    commit = re.search(r"@([0-9a-f]{40})#subdirectory=code", source).group(1)
    known = subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=ROOT, capture_output=True)
    assert known.returncode == 0, f"the pinned commit {commit} is not in this repository's history"
    changed = subprocess.run(["git", "diff", "--stat", commit, "--", "code"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
    assert changed == "", f"code/ changed since the pinned commit; run tools/pin_colab_ref.py:\n{changed}"


@pytest.mark.parametrize("path", CHAPTERS, ids=NOTEBOOK_IDS)
def test_notebook_runs_on_a_gpu_runtime_in_colab(path):
    metadata = load_notebook(path)["metadata"]
    assert metadata.get("accelerator") == "GPU"
    assert metadata["kernelspec"]["name"] == "python3"
    assert "widgets" not in metadata, "widget state would load the widget manager from a CDN"


@pytest.mark.parametrize("path", CHAPTERS, ids=NOTEBOOK_IDS)
def test_notebook_was_executed_top_to_bottom_without_errors(path):
    counts = []
    for cell in load_notebook(path)["cells"]:
        if cell["cell_type"] != "code":
            continue
        assert cell["execution_count"] is not None, "run `make execute`"
        counts.append(cell["execution_count"])
        assert all(output["output_type"] != "error" for output in cell["outputs"])
        text = str(cell["outputs"])
        assert not re.search(r"/(work|tmp|root|home)/", text), "an output shows a local path"
    assert counts == list(range(1, len(counts) + 1))


@pytest.mark.parametrize("path", CHAPTERS, ids=NOTEBOOK_IDS)
def test_chapter_has_the_book_skeleton(path):
    markdown = "\n".join("".join(c["source"]) for c in load_notebook(path)["cells"] if c["cell_type"] == "markdown")
    assert re.match(r"\(chap-[\w-]+\)=\n# ", markdown), "a label, then the title"
    for heading in ("## Overview", "## Summary", "## Exercises", "## References"):
        assert heading in markdown
    assert "Common misconceptions" in markdown
    assert ":class: dropdown" in markdown, "exercise solutions are hidden in dropdowns"


@pytest.mark.parametrize("path", CHAPTERS, ids=NOTEBOOK_IDS)
def test_chapters_import_the_package_one_way(path):
    """`import attnbook as ab`, then `ab.<name>` or `ab.<room>.<name>`: the code says where it lives."""
    import attnbook as ab

    code = "\n".join("".join(cell["source"]) for cell in load_notebook(path)["cells"][1:]
                     if cell["cell_type"] == "code")
    other_imports = re.findall(r"^\s*(?:from attnbook\b.*|import attnbook(?!\s+as\s+ab\s*$).*)$", code, re.M)
    assert other_imports == [], other_imports
    for room, name in re.findall(r"\bab\.(\w+)\.(\w+)", code):
        if room in ab.__all__ and not name.startswith("_") and hasattr(getattr(ab, room), "__all__"):
            assert name in getattr(ab, room).__all__, f"ab.{room}.{name} is not exported by attnbook.{room}"
    for name in re.findall(r"\bab\.(\w+)\b(?!\.)", code):
        assert name in ab.__all__, f"ab.{name} is not exported by attnbook"
