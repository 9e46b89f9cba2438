"""The chapters read well where there is no Jupyter Book: a plain CommonMark renderer.

Colab, classic Notebook, Notebook 7 and JupyterLab without jupyterlab-myst render a markdown
cell as CommonMark (with math), not as MyST. There a directive fence is a grey code block
(```` ```{admonition} ```` with its ``:class:`` line and raw ``**`` and ``$``), a ``(label)=``
line is a stray paragraph, and a role shows as written (``{term}`` followed by a code span).
Each markdown cell of every chapter is rendered here with markdown-it-py's CommonMark preset,
no MyST plugin, and what such a reader would see is checked:

* no directive fence (```` ```{name} ```` or ``:::{name}``) except the ``{bibliography}`` at
  the end of each chapter, which sphinxcontrib-bibtex needs and which has no plain form;
* no bare ``(label)=`` line;
* no role shown as written, except the ``{cite:p}`` citations sphinxcontrib-bibtex needs; and
  each of those is read in the plain text too: the sentence before it names the first author
  of every work it cites, with the year;
* no Markdown swallowed by an HTML block: CommonMark ends an HTML block only at a blank line,
  so a ``<div>`` or ``<details>`` line must be followed by a blank line before its Markdown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from book import CHAPTERS, ROOT, load_config, load_notebook

#: Directives left in place: sphinxcontrib-bibtex has no other way to list a chapter's works.
ALLOWED_DIRECTIVES = {"bibliography"}
#: The one role that stays: sphinxcontrib-bibtex resolves citations only through it.
CITATION_ROLE = re.compile(r"\{(cite(?::[a-z]+)?)\}$")
ROLE = re.compile(r"\{([a-z][\w:-]*)\}$")
LABEL_LINE = re.compile(r"^\([\w.:-]+\)=\s*$", re.M)
COLON_FENCE = re.compile(r"^:{3,}\{[\w:-]+\}", re.M)
MARKDOWN_IN_HTML = re.compile(r"\*\*|\$|`|^\s*(?:[*+-]|\d+\.)\s", re.M)
#: Where a sentence ends: a full stop, question or exclamation mark before a space and a
#: capital (or the end of the text), but not the full stop of "et al." or "e.g." and friends.
SENTENCE_END = re.compile(r"(?<!\bal)(?<!\be\.g)(?<!\bi\.e)(?<!\bcf)(?<!\bvs)[.!?]\s+(?=[A-Z*_(\"“])")

RENDERER = MarkdownIt("commonmark")
NOTEBOOK_IDS = [path.stem for path in CHAPTERS]


@dataclass(frozen=True)
class Cell:
    chapter: str
    index: int
    source: str

    def where(self) -> str:
        return f"{self.chapter}, cell {self.index}"


def markdown_cells(path) -> list[Cell]:
    return [Cell(path.stem, index, "".join(cell["source"]))
            for index, cell in enumerate(load_notebook(path)["cells"]) if cell["cell_type"] == "markdown"]


@cache
def works() -> dict[str, tuple[str, str]]:
    """First author's surname and the year (or "undated") of every work in references.bib."""
    from pybtex.database import parse_file

    found = {}
    for key, entry in parse_file(str(ROOT / "references.bib")).entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor")
        surname = re.sub(r"[{}\\'`^\"~]", "", " ".join(people[0].last_names)) if people else key
        found[key] = (surname, entry.fields.get("year", "undated"))
    return found


def inline_tokens(tokens: list[Token]):
    for token in tokens:
        if token.type == "inline":
            yield token


def plain_text(children: list[Token]) -> str:
    """What a reader sees of a run of inline tokens: text and code spans, line breaks as spaces."""
    parts = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.children:
            parts.append(plain_text(child.children))
    return "".join(parts)


def visible_roles(children: list[Token]):
    """(role, target, text before it) for each ``{role}`code``` left as written."""
    for position, child in enumerate(children):
        if child.type != "code_inline" or position == 0 or children[position - 1].type != "text":
            continue
        role = ROLE.search(children[position - 1].content)
        if role:
            before = plain_text(children[:position])[: -len(role.group(0))]
            yield role.group(1), child.content, before


def sentence_before(text: str) -> str:
    ends = list(SENTENCE_END.finditer(text))
    return text[ends[-1].end():] if ends else text


def problems_of(cell: Cell) -> dict[str, list[str]]:
    """What a plain-Markdown reader of the cell would see that was meant for Jupyter Book."""
    tokens = RENDERER.parse(cell.source)
    found = {"directive fences": [], "labels": [], "roles": [], "citations without author and year": [],
             "markdown inside HTML": []}
    for token in tokens:
        if token.type == "fence" and token.info.strip().startswith("{"):
            name = token.info.strip()[1:].split("}")[0]
            if name not in ALLOWED_DIRECTIVES:
                found["directive fences"].append(f"```{{{name}}}")
        if token.type == "html_block" and MARKDOWN_IN_HTML.search(token.content):
            found["markdown inside HTML"].append(token.content.strip().splitlines()[0][:60])
    for token in inline_tokens(tokens):
        found["labels"] += LABEL_LINE.findall(token.content)
        found["directive fences"] += COLON_FENCE.findall(token.content)
        for role, target, before in visible_roles(token.children or []):
            if not CITATION_ROLE.fullmatch(f"{{{role}}}"):
                found["roles"].append(f"{{{role}}}`{target}`")
                continue
            sentence = sentence_before(before).lower()
            for key in target.split(","):
                surname, year = works()[key.strip().split("-", 1)[-1]]
                if not (re.search(rf"\b{re.escape(surname.lower())}\b", sentence)
                        and re.search(rf"\b{re.escape(year.lower())}\b", sentence)):
                    found["citations without author and year"].append(
                        f"{{{role}}}`{key.strip()}` (wants {surname!r} and {year!r} in: ...{sentence[-70:]!r})")
    return found


def test_the_renderer_is_plain_commonmark():
    # A MyST-aware renderer would hide exactly what this file looks for.
    tokens = RENDERER.parse("(label)=\n# Title\n\n```{note}\nx\n```\n\nA {term}`word`.\n")
    assert [t.type for t in tokens if t.type == "fence"] == ["fence"]
    assert "(label)=" in tokens[1].content


@pytest.mark.parametrize("path", CHAPTERS, ids=NOTEBOOK_IDS)
def test_markdown_cells_show_no_myst_syntax_in_plain_markdown(path):
    report = []
    for cell in markdown_cells(path):
        for kind, items in problems_of(cell).items():
            report += [f"{cell.where()}: {kind}: {item}" for item in items]
    assert not report, f"{len(report)} thing(s) a plain-Markdown reader would see:\n" + "\n".join(report)


def test_each_check_catches_what_it_names():
    # The checks above pass on the chapters only if they can fail.
    bad = Cell("example", 0, "(chap-x)=\n# Title\n\n```{admonition} Note\n:class: warning\n\nText.\n```\n\n"
                             "See {ref}`chap-x` and {term}`attention`. It was shown {cite:p}`pic-xu2015`.\n\n"
                             ":::{note}\nText\n:::\n\n<div class=\"admonition\">\n**bold** swallowed\n</div>\n")
    found = problems_of(bad)
    assert found["directive fences"] == ["```{admonition}", ":::{note}"]
    assert found["labels"] == ["(chap-x)="]
    assert found["roles"] == ["{ref}`chap-x`", "{term}`attention`"]
    assert len(found["citations without author and year"]) == 1
    assert len(found["markdown inside HTML"]) == 1
    good = Cell("example", 0, "# Title\n\n<div class=\"admonition warning\">\n<p class=\"admonition-title\">Note</p>\n\n"
                              "**Text**, see [the chapter](x.ipynb). As Xu et al. (2015) showed {cite:p}`pic-xu2015`, "
                              "and as others did (Mnih et al., 2014; Bahdanau et al., 2015) "
                              "{cite:p}`pic-mnih2014,pic-bahdanau2015`.\n\n</div>\n\n"
                              "```{bibliography}\n:filter: docname in docnames\n```\n")
    assert not any(problems_of(good).values()), problems_of(good)
    # the author and year must be in the same sentence as the citation
    split = Cell("example", 0, "Xu et al. (2015) wrote it. Then it was shown {cite:p}`pic-xu2015`.\n")
    assert problems_of(split)["citations without author and year"]


def test_the_book_does_not_name_the_authors_twice():
    # The prose names author and year before each citation, so the book shows only a label.
    style = load_config()["sphinx"]["config"]["bibtex_reference_style"]
    assert style in ("label", "super"), f"bibtex_reference_style {style} would print the authors again"
    for path in CHAPTERS:
        for cell in markdown_cells(path):
            assert "{cite:t}" not in cell.source, f"{cell.where()}: {{cite:t}} prints the authors again"
