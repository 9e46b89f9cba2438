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
    assert re.search(rf'^REPOSITORY = "{url}"$', source, re.M)
    assert re.search(r'^COMMIT = "[0-9a-f]{40}"$', source, re.M)
    assert 'f"attnbook @ git+{REPOSITORY}@{COMMIT}#subdirectory=code"' in source


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
    commit = re.search(r'^COMMIT = "([0-9a-f]{40})"$', source, re.M).group(1)
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


#: A solution, collapsed in every front end: an HTML <details> block (no `open`) whose summary
#: names the exercise, then a blank line, so that plain CommonMark parses the solution as Markdown.
SOLUTION = re.compile(r'^<details(?: class="[\w -]*")?>\n<summary(?: class="[\w -]*")?>Solution (\d+)</summary>\n\n'
                      r'(?:.*\n)*?\n</details>\s*$', re.M)
EXERCISES = re.compile(r"^## Exercises\n(.*?)(?=^#|\Z)", re.M | re.S)
#: A "Common misconceptions" box: the theme's warning admonition as raw HTML (its title bold where the
#: HTML is not styled), its Markdown after a blank line.
MISCONCEPTIONS = re.compile(r'^<div class="admonition warning">\n'
                            r'<p class="admonition-title">(?:<strong>)?Common misconceptions(?:</strong>)?</p>\n\n'
                            r'(?:.*\n)+?\n</div>$', re.M)


def chapter_skeleton(cells: list[dict]) -> list[str]:
    """What is missing from a chapter's skeleton: title, sections, misconceptions, a solution per exercise."""
    markdown = [("".join(cell["source"])) for cell in cells if cell["cell_type"] == "markdown"]
    text = "\n".join(markdown)
    missing = []
    if not re.match(r"# \S", text):
        missing.append("the chapter starts with its title (no label line before it)")
    missing += [heading for heading in ("## Overview", "## Summary", "## Exercises", "## References")
                if not re.search(rf"^{heading}$", text, re.M)]
    if not MISCONCEPTIONS.search(text):
        missing.append("a Common misconceptions box")
    exercises = EXERCISES.search(text)
    numbers = [int(n) for n in re.findall(r"^(\d+)\. ", exercises.group(1), re.M)] if exercises else []
    if numbers != list(range(1, len(numbers) + 1)) or not numbers:
        missing.append(f"exercises numbered 1, 2, ... (found {numbers})")
    solutions = [int(match.group(1)) for cell in markdown for match in SOLUTION.finditer(cell)]
    if solutions != numbers:
        missing.append(f"one collapsed <details> Solution per exercise, in order: exercises {numbers}, "
                       f"solutions {solutions}")
    return missing


@pytest.mark.parametrize("path", CHAPTERS, ids=NOTEBOOK_IDS)
def test_chapter_has_the_book_skeleton(path):
    assert chapter_skeleton(load_notebook(path)["cells"]) == []


def test_the_skeleton_check_fails_without_a_solution():
    cells = load_notebook(CHAPTERS[0])["cells"]
    solutions = [i for i, cell in enumerate(cells) if SOLUTION.search("".join(cell["source"]))]
    assert solutions, "the first chapter has solutions"
    without_one = cells[:solutions[-1]] + cells[solutions[-1] + 1:]
    assert any("Solution per exercise" in problem for problem in chapter_skeleton(without_one))
    opened = [dict(cell, source=["".join(cell["source"]).replace("<details", "<details open", 1)])
              if i == solutions[0] else cell for i, cell in enumerate(cells)]
    assert any("Solution per exercise" in problem for problem in chapter_skeleton(opened)), "an open <details>"
    as_before = [dict(cell, source=["(chap-x)=\n"] + cell["source"]) if i == 0 else cell for i, cell in enumerate(cells)]
    assert any("title" in problem for problem in chapter_skeleton(as_before))


CODE_LINE_LIMIT = 88


@pytest.mark.parametrize("path", CHAPTERS, ids=NOTEBOOK_IDS)
def test_code_lines_fit_the_column(path):
    # 88 characters fit the book's desktop column at its code font size, and a notebook's without
    # scrolling sideways.
    long = [f"cell {index}, line {number + 1} ({len(line)} characters): {line.strip()[:60]}"
            for index, cell in enumerate(load_notebook(path)["cells"]) if cell["cell_type"] == "code"
            for number, line in enumerate("".join(cell["source"]).split("\n"))
            if len(line) > CODE_LINE_LIMIT]
    assert not long, f"{len(long)} code line(s) over {CODE_LINE_LIMIT} characters:\n" + "\n".join(long)


#: A printed line (a code cell's stdout or stderr) fits the same column as the code above it.
PRINTED_LINE_LIMIT = CODE_LINE_LIMIT


def long_printed_lines(cells: list[dict]) -> list[str]:
    """The stored stream-output lines wider than PRINTED_LINE_LIMIT, each with where it is."""
    return [f"cell {index}, {output['name']} line {number + 1} ({len(line)} characters): {line.strip()[:60]}"
            for index, cell in enumerate(cells) if cell["cell_type"] == "code"
            for output in cell.get("outputs", []) if output["output_type"] == "stream"
            for number, line in enumerate("".join(output["text"]).split("\n"))
            if len(line) > PRINTED_LINE_LIMIT]


@pytest.mark.parametrize("path", CHAPTERS, ids=NOTEBOOK_IDS)
def test_printed_lines_fit_the_column(path):
    # Issue 20: a printed table or sentence wider than the column scrolls sideways (or loses its
    # last column) in the book and in a notebook; the stored outputs are what a reader sees.
    long = long_printed_lines(load_notebook(path)["cells"])
    assert not long, (f"{len(long)} printed line(s) over {PRINTED_LINE_LIMIT} characters "
                      "(wrap the print, or narrow or split the table; then `make execute`):\n"
                      + "\n".join(long))


def test_the_printed_line_check_finds_a_long_line():
    wide = "x" * (PRINTED_LINE_LIMIT + 1)
    cells = [{"cell_type": "code", "source": [], "outputs": [
        {"output_type": "stream", "name": "stdout", "text": ["fits\n", wide + "\n"]}]}]
    assert long_printed_lines(cells) == [f"cell 0, stdout line 2 ({len(wide)} characters): {wide[:60]}"]
    cells[0]["outputs"][0]["text"] = ["x" * PRINTED_LINE_LIMIT + "\n"]
    assert long_printed_lines(cells) == []


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
