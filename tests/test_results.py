"""Stored results travel with the package, so a chapter opened alone (Colab) reads them."""

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

import attnbook as ab
from book import RESULTS, ROOT

CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


def test_every_committed_result_is_readable_through_the_package():
    names = ab.book.stored_result_names()
    assert names == sorted(path.stem for path in RESULTS.glob("*.json"))
    assert {"soft_hard", "dates", "channel_spatial", "sliding_window_cpu", "resnet_attention_cpu"} <= set(names)
    for name in names:
        assert ab.book.stored_results(name) == json.loads((RESULTS / f"{name}.json").read_text())
    assert ab.book.results_folder() == RESULTS


def test_a_missing_result_says_what_there_is_and_what_to_do():
    with pytest.raises(FileNotFoundError, match=r"no stored results named 'nonexistent'.*dates.*first cell"):
        ab.book.stored_results("nonexistent")
    with pytest.raises(TypeError, match="name must be a string"):
        ab.book.stored_results(3)


@pytest.mark.parametrize("path", CHAPTERS, ids=[path.stem for path in CHAPTERS])
def test_chapters_read_no_file_next_to_them(path):
    code = "\n".join("".join(cell["source"]) for cell in json.loads(path.read_text())["cells"]
                     if cell["cell_type"] == "code")
    assert not re.findall(r"\bPath\(|\bopen\(|read_text\(|[\"']\.\./", code)


@pytest.mark.integration
def test_the_wheel_carries_the_results(tmp_path):
    source = tmp_path / "code"
    shutil.copytree(ROOT / "code", source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp_path), str(source)], check=True)
    (wheel,) = tmp_path.glob("attnbook-*.whl")
    inside = set(zipfile.ZipFile(wheel).namelist())
    assert {f"attnbook/results/{path.name}" for path in RESULTS.glob("*.json")} <= inside


def test_nbval_runs_each_chapter_in_an_empty_directory_outside_the_repository():
    import nbval.plugin
    from conftest import _kernel_in_an_empty_directory

    class RecordingKernel:
        def __init__(self, kernel_name, cwd=None, startup_timeout=60):
            self.cwd, self.listing = cwd, os.listdir(cwd)

        def stop(self):
            pass

    assert nbval.plugin.RunningKernel.__name__ == "KernelInAnEmptyDirectory"
    kernel = _kernel_in_an_empty_directory(RecordingKernel)("python3", cwd=str(ROOT / "chapters"))
    assert kernel.listing == [] and not kernel.cwd.startswith(str(ROOT))
    kernel.stop()
    assert not os.path.exists(kernel.cwd)
