"""Pin the commit and the version of attnbook that each notebook's first cell installs on Colab.

The install cell reads ``REQUIRED = "<version>"``, ``REPOSITORY = "<repository>"`` and
``COMMIT = "<commit>"`` and installs ``attnbook @ git+{REPOSITORY}@{COMMIT}#subdirectory=code``
(three short lines rather than one requirement string, so every code line fits 88 characters)
unless the installed attnbook is already version ``REQUIRED``. The commit is the last one that changed
``code/``, so a reader in Colab gets exactly the package the stored outputs were computed with;
the version is ``code/pyproject.toml``'s, the one place it is written. A reader who installed an
older version (a reused Colab runtime) gets the new one only if the version moved, so bump it in
``code/pyproject.toml`` whenever the chapters need the new code. tests/test_book_structure.py
fails when ``code/`` has changed since the pinned commit or the versions differ. Run after
committing a package change:

    python tools/pin_colab_ref.py && git commit -am "Pin the Colab install to the new package"
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATTERN = re.compile(r'^(COMMIT = ")([0-9a-zA-Z._-]+)(")$', re.M)
REQUIRED = re.compile(r'^(REQUIRED = ")([^"]*)(")$', re.M)


def last_package_commit() -> str:
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "code"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.strip()
    if dirty:
        raise SystemExit(f"code/ has uncommitted changes; commit them first:\n{dirty}")
    return subprocess.run(["git", "log", "-1", "--format=%H", "--", "code"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout.strip()


def package_version() -> str:
    """The version in code/pyproject.toml."""
    match = re.search(r'^version = "([^"]+)"$', (ROOT / "code" / "pyproject.toml").read_text(), re.M)
    if not match:
        raise SystemExit('code/pyproject.toml has no line `version = "..."`')
    return match.group(1)


def main() -> None:
    commit, version = last_package_commit(), package_version()
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        notebook = json.loads(path.read_text())
        cell = next(c for c in notebook["cells"] if c["cell_type"] == "code")
        source = "".join(cell["source"])
        old_commit, old_version = PATTERN.search(source), REQUIRED.search(source)
        if not old_commit or not old_version:
            raise SystemExit(f"{path.name}: the first code cell has no COMMIT line or no REQUIRED line")
        source = PATTERN.sub(lambda m: m.group(1) + commit + m.group(3), source, count=1)
        source = REQUIRED.sub(lambda m: m.group(1) + version + m.group(3), source, count=1)
        cell["source"] = source.splitlines(keepends=True)
        path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")  # the notebooks' format
        print(f"{path.relative_to(ROOT)}: installs attnbook {version} from {commit[:12]}")
        if old_commit.group(2) != commit and old_version.group(2) == version:
            print(f"  note: the commit moved but the version is still {version}; a reader who has {version} "
                  "installed keeps it (bump code/pyproject.toml if the chapters need the new code)")


if __name__ == "__main__":
    main()
