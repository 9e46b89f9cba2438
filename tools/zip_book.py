"""Pack the built HTML book into one zip that a reader unpacks and opens from disk.

Usage: python tools/zip_book.py [HTML_DIR] [ZIP]   (default: _build/html, _build/attention-interactively-html.zip)

Every file of the HTML build goes under one folder, ``attention-interactively-html/``, so that
unpacking makes one folder whose ``index.html`` opens the book through ``file://``: both
editions, ``en/`` and ``zh_CN/`` (tools/build_book.py), and the page that offers them. Sphinx's
links, scripts and images are relative, MathJax is in the book, and nothing is fetched from
another host (tests/test_browser.py opens the unpacked copy in Chromium). Entries are sorted
and dated 1980-01-01, so the same build gives the same archive. `make book` runs this; the
archive lives in _build/, so `make clean` removes it.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
ARCHIVE = ROOT / "_build" / "attention-interactively-html.zip"
FOLDER = "attention-interactively-html"
# Sphinx's record of the build configuration: of no use to a reader.
SKIPPED = {".buildinfo"}
# myst-nb's copies of the notebooks' outputs, next to the editions: each edition has its own
# copy of every figure in its _images/.
SKIPPED_FOLDERS = {"jupyter_execute"}


def zip_book(html: Path = HTML, archive: Path = ARCHIVE) -> Path:
    """Write ``archive`` from the HTML build in ``html``; returns the archive's path."""
    if not (html / "index.html").is_file():
        raise FileNotFoundError(f"no built book in {html} (index.html is missing); run `make book` first")
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_name(archive.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as bundle:
        for path in sorted(p for p in html.rglob("*") if p.is_file()):
            relative = path.relative_to(html)
            if relative.name in SKIPPED or relative.parts[0] in SKIPPED_FOLDERS:
                continue
            entry = zipfile.ZipInfo(f"{FOLDER}/{relative.as_posix()}", date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            bundle.writestr(entry, path.read_bytes())
    partial.replace(archive)
    return archive


if __name__ == "__main__":
    arguments = [Path(argument) for argument in sys.argv[1:]]
    if len(arguments) > 2:
        sys.exit(__doc__)
    written = zip_book(*arguments)
    print(f"Wrote {written} ({written.stat().st_size / 1e6:.1f} MB)")
