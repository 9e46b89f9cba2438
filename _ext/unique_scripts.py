"""Sphinx extension: put each script on a page once.

sphinx-thebe and sphinx-togglebutton add inline scripts after the builder is
initialised; Sphinx 7 then lists them twice in every page, and the second
``const THEBE_JS_URL = ...`` throws "Identifier has already been declared".
This drops duplicates (same file or same inline body, same attributes) from
each page's script list.
"""

from __future__ import annotations

from typing import Any


def _drop_duplicate_scripts(app, pagename: str, templatename: str, context: dict[str, Any], doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        attributes = getattr(script, "attributes", {})
        # An inline script's filename is None or "", depending on who added it.
        key = (str(getattr(script, "filename", script) or ""), tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app) -> dict[str, Any]:
    app.connect("html-page-context", _drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
