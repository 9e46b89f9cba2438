"""Pin the commit from which each notebook's first cell installs attnbook on Colab.

The install cell reads ``attnbook @ git+<repository>@<commit>#subdirectory=code``. The
commit is the last one that changed ``code/``, so a reader in Colab gets exactly the
package the stored outputs were computed with; tests/test_book_structure.py fails when
``code/`` has changed since the pinned commit. Run after committing a package change:

    python tools/pin_colab_ref.py && git commit -am "Pin the Colab install to the new package"
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
PATTERN = re.compile(r"(attnbook @ git\+https://[^@\s\"]+@)([0-9a-zA-Z._-]+)(#subdirectory=code)")


def last_package_commit() -> str:
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "code"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.strip()
    if dirty:
        raise SystemExit(f"code/ has uncommitted changes; commit them first:\n{dirty}")
    return subprocess.run(["git", "log", "-1", "--format=%H", "--", "code"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout.strip()


def main() -> None:
    commit = last_package_commit()
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        cell = next(c for c in notebook.cells if c.cell_type == "code")
        source = cell.source
        pinned, count = PATTERN.subn(lambda m: m.group(1) + commit + m.group(3), source)
        if count != 1:
            raise SystemExit(f"{path.name}: the first code cell has no attnbook install line to pin")
        cell.source = pinned
        nbformat.write(notebook, path)
        print(f"{path.relative_to(ROOT)}: installs attnbook from {commit[:12]}")


if __name__ == "__main__":
    main()
