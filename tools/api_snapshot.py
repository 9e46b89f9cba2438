"""Write, or check, tests/api_snapshot.txt: every public name of attnbook, one a line.

A line is ``attnbook.NAME`` for a name in ``attnbook.__all__`` and ``attnbook.ROOM.NAME`` for a
name in a room's ``__all__`` (a room is a public subpackage: core, hard, local, ...). The lines
are sorted. tests/test_api.py fails when the package and the file differ, so that adding,
removing or renaming a public name is a deliberate change that shows in the diff of a review.
After such a change, regenerate the file and commit it with the change:

    python tools/api_snapshot.py            # rewrite tests/api_snapshot.txt
    python tools/api_snapshot.py --check    # exit 1 and print the difference if they differ
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT / "tests" / "api_snapshot.txt"
HEADER = (
    "# The public names of attnbook: attnbook.__all__ and each room's __all__, one a line, sorted.\n"
    "# Written by tools/api_snapshot.py; tests/test_api.py compares it with the package.\n"
)


def rooms() -> list[str]:
    """The public subpackages of attnbook, sorted."""
    import attnbook

    return sorted(info.name for info in pkgutil.iter_modules(attnbook.__path__)
                  if info.ispkg and not info.name.startswith("_"))


def public_names() -> list[str]:
    """The sorted lines of the snapshot, from the installed package."""
    import attnbook

    names = [f"attnbook.{name}" for name in attnbook.__all__]
    for room in rooms():
        module = importlib.import_module(f"attnbook.{room}")
        names += [f"attnbook.{room}.{name}" for name in module.__all__]
    return sorted(names)


def stored_names(path: Path = SNAPSHOT) -> list[str]:
    """The lines of the committed snapshot, without comments and blank lines."""
    if not path.exists():
        return []
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


def difference(stored: list[str], current: list[str]) -> str:
    """A unified diff from the committed snapshot to the package's names ('' when equal)."""
    return "\n".join(difflib.unified_diff(stored, current, "tests/api_snapshot.txt", "attnbook", lineterm="", n=1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if the file is out of date")
    arguments = parser.parse_args(argv)
    current = public_names()
    if arguments.check:
        diff = difference(stored_names(), current)
        if diff:
            print(f"{SNAPSHOT.relative_to(ROOT)} differs from the package's public names:\n{diff}\n"
                  "If the change is deliberate, run `python tools/api_snapshot.py` and commit the file.")
            return 1
        print(f"{SNAPSHOT.relative_to(ROOT)}: {len(current)} public names, up to date")
        return 0
    SNAPSHOT.write_text(HEADER + "".join(f"{name}\n" for name in current))
    print(f"wrote {len(current)} public names to {SNAPSHOT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
