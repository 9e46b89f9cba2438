"""Sphinx extension: a link on every page to the same page of the book's other edition.

The book is built once per language, side by side (tools/build_book.py): ``_build/html/en/``
and ``_build/html/zh_CN/``, from the same sources, the Chinese one through the gettext
catalogs in ``locale/``. Every page of one edition has the same name in the other, so the
link is relative: up to the editions' common folder, into the sibling, then the page's own
path (``../../zh_CN/chapters/x.html`` from ``en/chapters/x.html``). It therefore works from
disk (``file://``, the unpacked zip) as well as from any server, with no script.

The link sits in the article header, before the theme's buttons; ``attnbook_editions``
names the editions (language code to the label shown in that language) and the build's
``language`` says which one this is.
"""

from __future__ import annotations

import os
from typing import Any

#: The editions and the label each is offered under, in its own language.
EDITIONS = {"en": "English", "zh_CN": "简体中文"}
TEMPLATE = "language-links.html"


def _add_template(app, config) -> None:
    config.templates_path = [*config.templates_path, os.path.join(os.path.dirname(__file__), "templates")]
    options = dict(config.html_theme_options or {})
    end = options.get("article_header_end", "article-header-buttons.html")
    items = [item.strip() for item in end.split(",")] if isinstance(end, str) else list(end)
    if TEMPLATE not in items:
        options["article_header_end"] = [TEMPLATE, *[item for item in items if item]]
    config.html_theme_options = options


def language_link(pagename: str, target_uri: str, other: str) -> str:
    """The relative URL of page ``pagename`` (written as ``target_uri``) in edition ``other``."""
    return "../" * (pagename.count("/") + 1) + f"{other}/{target_uri}"


def _add_links(app, pagename: str, templatename: str, context: dict[str, Any], doctree) -> None:
    editions = app.config.attnbook_editions
    language = app.config.language
    if language not in editions:
        context["attnbook_language_links"] = []
        return
    target = app.builder.get_target_uri(pagename)
    context["attnbook_language_links"] = [
        {"href": language_link(pagename, target, other), "label": label, "hreflang": other.replace("_", "-")}
        for other, label in editions.items() if other != language
    ]


def setup(app) -> dict[str, Any]:
    app.add_config_value("attnbook_editions", EDITIONS, "html")
    app.connect("config-inited", _add_template)
    app.connect("html-page-context", _add_links)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
