"""Sphinx extension: the titles of the chapters' raw-HTML admonitions, in the edition's language.

The notebooks write their boxes in plain HTML, which reads the same in Jupyter, Colab and the
book: ``<p class="admonition-title"><strong>Common misconceptions</strong></p>`` and
``<summary class="admonition-title">Solution 1</summary>``. Sphinx keeps raw HTML as it is, so
gettext never extracts these titles and the catalogs cannot translate them. This extension
translates them in the written page instead, from :data:`TITLES` (the fixed titles) and
:data:`NUMBERED` (a title with a number); an edition whose language has no table keeps the
English. tests/test_translations.py checks that every title the chapters use has a translation.
"""

from __future__ import annotations

import re
from typing import Any

#: Fixed titles, by language.
TITLES = {"zh_CN": {"Common misconceptions": "常见误解",
                    "Attention weights are not explanations": "注意力权重并不是解释"}}
#: Numbered titles ("Solution 3"), by language: the English word and its translation.
NUMBERED = {"zh_CN": {"Solution": "解答"}}
#: A title in a raw admonition: the element's opening tag, an optional <strong>, the text.
TITLE = re.compile(r'(class="admonition-title">(?:<strong>)?)([^<]+)(<)')


def translate_titles(body: str, language: str) -> str:
    """``body`` with every admonition title that ``language`` has a translation for translated."""
    fixed, numbered = TITLES.get(language, {}), NUMBERED.get(language, {})

    def translated(match: re.Match) -> str:
        text = match.group(2).strip()
        word, _, number = text.rpartition(" ")
        if text in fixed:
            text = fixed[text]
        elif number.isdigit() and word in numbered:
            text = f"{numbered[word]} {number}"
        return match.group(1) + text + match.group(3)

    return TITLE.sub(translated, body)


def _translate(app, pagename: str, templatename: str, context: dict[str, Any], doctree) -> None:
    if "body" in context and app.config.language in TITLES:
        context["body"] = translate_titles(context["body"], app.config.language)


def setup(app) -> dict[str, Any]:
    app.connect("html-page-context", _translate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
