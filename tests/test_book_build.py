"""The book builds with warnings as errors and shows every chapter with its figures."""

import re
import subprocess
import sys
from pathlib import Path

from book import BUILD_HTML, CHAPTERS, ROOT


def test_book_builds_with_zero_warnings():
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--warningiserror", "--nitpick", "--keep-going"],
        capture_output=True, text=True, timeout=900,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-5000:]
    assert "build succeeded" in log
    index = BUILD_HTML / "index.html"
    assert index.exists()
    for chapter in CHAPTERS:
        page = (BUILD_HTML / "chapters" / f"{chapter.stem}.html").read_text()
        images = re.findall(r'<img[^>]+src="([^"]+)"', page)
        local = [src for src in images if not src.startswith("data:")]
        assert local, f"{chapter.stem} shows no figure"
        for src in local:
            assert (BUILD_HTML / "chapters" / src).resolve().exists(), src
