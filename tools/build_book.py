"""Build the book's editions side by side: ``_build/html/en/`` and ``_build/html/zh_CN/``.

Usage: python tools/build_book.py [html|gettext] [LANGUAGE ...]
    (default: html, every edition; ``gettext`` writes the message templates to _build/gettext)

Jupyter Book 1 has no language option (jupyter-book#1791): its documented workaround is
``jupyter-book config sphinx`` (write a ``conf.py``) and then ``sphinx -b html -D language=...``.
This does the same without leaving a ``conf.py`` to fall out of step with ``_config.yml``: it
calls the function ``jupyter-book build`` itself calls, ``jupyter_book.sphinx.build_sphinx``,
with the options ``jupyter-book build . --warningiserror --nitpick --keep-going`` gives it, so
the configuration is computed from ``_config.yml`` and ``_toc.yml`` at every build, plus the
settings of each edition in :data:`EDITIONS` (language, title, table of contents, the strings
that come from configuration rather than from a page). The Chinese pages come from the English
sources through the catalogs in ``locale/zh_CN/LC_MESSAGES/`` (``make po`` updates them); a
message without a translation, or whose English changed since (fuzzy), shows in English.

``_build/html/index.html`` offers both editions: two plain links, and a script that opens the
one matching the browser's language (``navigator.languages``); anything else at that level
(what a single-edition ``jupyter-book build .`` left there) is removed. Each edition keeps its own
doctrees (``_build/doctrees/<language>``), so rebuilding one does not invalidate the other.
"""

from __future__ import annotations

import html
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
HTML = BUILD / "html"
GETTEXT = BUILD / "gettext"
USERDICT = ROOT / "locale" / "zh_CN" / "jieba_userdict.txt"

#: Each edition's settings on top of _config.yml's (merged as ``jupyter-book build`` merges its
#: command-line options), its table of contents and how the root page offers it.
EDITIONS: dict[str, dict] = {
    "en": {
        "label": "English",
        "title": "Attention, Interactively",
        "toc": ROOT / "_toc.yml",
        "config": {},
    },
    "zh_CN": {
        "label": "简体中文",
        "title": "注意力机制：交互式教程",
        "toc": ROOT / "_toc.zh_CN.yml",
        "config": {
            "language": "zh_CN",
            "html_title": "注意力机制：交互式教程",
            "html_theme_options": {"search_bar_text": "搜索本书……"},
            # myst-nb's toggles of the hidden code cells ({type}: source, outputs or content).
            "nb_code_prompt_show": "显示代码单元",
            "nb_code_prompt_hide": "隐藏代码单元",
            # Sphinx indexes Chinese through jieba; the glossary's terms are words to it
            # (tools/jieba_userdict.py writes this file).
            "html_search_options": {"dict": str(USERDICT)},
        },
    },
}
FIRST_PAGE = "intro.html"
#: What _build/html holds besides the editions: the root page and myst-nb's copies of the
#: notebooks' outputs (written next to the output folder; tools/zip_book.py leaves them out).
KEPT_AT_ROOT = ("index.html", "jupyter_execute")


def build(language: str, builder: str = "html") -> int:
    """Build one edition with Sphinx (``builder`` html or gettext); returns Sphinx's status (0: no warning)."""
    from jupyter_book.sphinx import build_sphinx

    if language not in EDITIONS:
        raise ValueError(f"language must be one of {sorted(EDITIONS)}, got {language!r}")
    if builder not in ("html", "gettext"):
        raise ValueError(f"builder must be 'html' or 'gettext', got {builder!r}")
    edition = EDITIONS[language]
    overrides = {
        # What `jupyter-book build . --nitpick` passes (jupyter_book/cli/main.py).
        "external_toc_path": edition["toc"].as_posix(),
        "latex_individualpages": False,
        "nitpicky": True,
        **edition["config"],
    }
    outdir = (HTML / language) if builder == "html" else GETTEXT
    result = build_sphinx(
        ROOT, outdir,
        use_external_toc=True, noconfig=True, path_config=str(ROOT / "_config.yml"),
        confoverrides=overrides, doctreedir=BUILD / "doctrees" / (language if builder == "html" else builder),
        builder=builder, warningiserror=True, keep_going=True,
    )
    if isinstance(result, Exception):
        print(f"The {language} build failed: {result!r}", file=sys.stderr)
        return 1
    return result


def root_page() -> str:
    """The page at ``_build/html/index.html``: both editions as links; a script picks by language."""
    links = "\n".join(
        f'    <li><a href="{code}/{FIRST_PAGE}" hreflang="{code.replace("_", "-")}" lang="{code.replace("_", "-")}">'
        f'{html.escape(edition["title"])}</a> ({html.escape(edition["label"])})</li>'
        for code, edition in EDITIONS.items())
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{html.escape(EDITIONS["en"]["title"])} · {html.escape(EDITIONS["zh_CN"]["title"])}</title>
  <script>
    // A browser that prefers Chinese opens the Chinese edition, any other the English one.
    (function () {{
      var languages = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ""];
      var chinese = String(languages[0] || "").toLowerCase().indexOf("zh") === 0;
      window.location.replace((chinese ? "zh_CN/" : "en/") + "{FIRST_PAGE}");
    }})();
  </script>
</head>
<body>
  <ul>
{links}
  </ul>
</body>
</html>
"""


def main(argv: list[str]) -> int:
    builder = argv[0] if argv and argv[0] in ("html", "gettext") else "html"
    languages = [argument for argument in argv if argument not in ("html", "gettext")] or list(EDITIONS)
    if builder == "gettext":
        return build("en", "gettext")
    status = 0
    for language in languages:
        start = time.perf_counter()
        status = build(language) or status
        print(f"tools/build_book.py: the {language} edition took {time.perf_counter() - start:.0f} s")
    HTML.mkdir(parents=True, exist_ok=True)
    # What a single-edition build (`jupyter-book build .`) left at the root would be zipped too.
    for stale in sorted(set(HTML.iterdir()) - {HTML / name for name in (*EDITIONS, *KEPT_AT_ROOT)}):
        shutil.rmtree(stale) if stale.is_dir() and not stale.is_symlink() else stale.unlink()
    (HTML / "index.html").write_text(root_page(), encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
