"""Update the Chinese edition's gettext catalogs from the English text (``make po``).

Usage: python tools/update_catalogs.py [PAGE ...]   (default: every page, e.g. ``glossary chapters/x``)

Reads the message templates that ``python tools/build_book.py gettext`` wrote to
``_build/gettext/`` (one ``.pot`` per page: ``gettext_compact: false`` in _config.yml) and
merges them into ``locale/zh_CN/LC_MESSAGES/<page>.po`` with sphinx-intl, as
``sphinx-intl update -p _build/gettext -l zh_CN`` does: a new English message arrives
untranslated, a changed one keeps its old translation marked fuzzy (the build ignores fuzzy
entries, so the page shows the current English until someone translates it again), a removed
one is kept as obsolete (``#~``). Naming pages updates only their catalogs, so that a
catalog someone is translating at the moment is left alone.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POT = ROOT / "_build" / "gettext"
LOCALE = ROOT / "locale"
LANGUAGES = ("zh_CN",)


def update(pages: list[str] | None = None) -> dict:
    """Merge the templates of ``pages`` (every page when None) into the catalogs; sphinx-intl's counts."""
    from sphinx_intl.basic import update as sphinx_intl_update

    templates = sorted(POT.rglob("*.pot"))
    if not templates:
        raise FileNotFoundError(f"no templates in {POT}; run `python tools/build_book.py gettext` first")
    available = {path.relative_to(POT).with_suffix("").as_posix(): path for path in templates}
    chosen = list(available) if not pages else pages
    unknown = [page for page in chosen if page not in available]
    if unknown:
        raise ValueError(f"pages {unknown} have no template in {POT}; known: {sorted(available)}")
    with tempfile.TemporaryDirectory() as folder:
        for page in chosen:
            target = Path(folder) / f"{page}.pot"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(available[page], target)
        return sphinx_intl_update(str(LOCALE), folder, LANGUAGES, jobs=1)


if __name__ == "__main__":
    print(update(sys.argv[1:] or None))
