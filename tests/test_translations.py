"""The Chinese edition: its gettext catalogs, its table of contents, its search dictionary and,
once built (tools/build_book.py, the ``book_build`` fixture), its pages.

Catalogs (``locale/zh_CN/LC_MESSAGES/<page>.po``, one per page of ``_toc.yml``; ``make po``
updates them): no message is fuzzy (an English paragraph changed since it was translated: the
page would show the English until it is translated again); every translation keeps its English
message's markup, the same roles with the same targets (``{cite:p}`key```, ``{ref}`label```),
the same ``$...$`` math, the same code spans and the same link targets; and the pages in
:data:`COMPLETE` have no untranslated message: today every page. A page joins COMPLETE in the
change that translates it, and from then on this test fails whenever an English paragraph of it
changes until the translation catches up. The titles of the chapters' raw-HTML boxes
("Common misconceptions", "Solution 1") are not messages; ``_ext/raw_titles.py`` translates them
and a test checks that it knows every one.

Built edition: ``<html lang="zh-CN">``, the strings that come from configuration in Chinese
(title, table-of-contents captions, search placeholder, code-cell toggles), a language link on
every page of both editions to the same page of the other, the glossary's term anchors the same
in both, and Chinese search: the glossary's terms are words of the search index (jieba with
tools/jieba_userdict.py's dictionary), found on every page that contains them.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from book import BUILD_HTML, BUILD_ROOT, BUILD_ZH, ROOT, load_script, load_toc, toc_files

LOCALE = ROOT / "locale" / "zh_CN" / "LC_MESSAGES"
#: The pages whose catalogs are fully translated; a chapter is added when it is translated.
COMPLETE = ("intro", "how_to_run", "glossary", "bibliography", "chapters/attention_in_one_picture",
            "chapters/soft_vs_hard_attention", "chapters/global_vs_local_attention",
            "chapters/channel_and_spatial_attention", "chapters/where_does_a_model_look")
#: Searches that must find, in the Chinese edition, every page whose text contains the word.
SEARCHES = ("自注意力", "注意力机制", "局部注意力", "软注意力")


def _catalog(page: str):
    from babel.messages.pofile import read_po

    with (LOCALE / f"{page}.po").open("rb") as file:
        return read_po(file)


def _messages(page: str) -> list:
    return [message for message in _catalog(page) if message.id]


# --- the markup a translation must keep -------------------------------------------------------

_RUN = re.compile(r"`+")
_ROLE_NAME = re.compile(r"\{([\w:.-]+)\}$")
_MATH = re.compile(r"(?<![\\$])\$(?!\$)(.+?)(?<![\\$])\$(?!\$)", re.S)
_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|href=\"([^\"]+)\"")


def _code_spans(text: str) -> tuple[list[tuple[str, str]], str]:
    """The code spans of ``text`` as CommonMark reads them, each with the MyST role name just
    before it ("" for plain code), and the text with the spans (and those names) taken out.

    A run of n backticks opens a span that the next run of exactly n backticks closes; a run
    with no such partner is a literal backtick.
    """
    spans, rest, position = [], [], 0
    runs = list(_RUN.finditer(text))
    index = 0
    while index < len(runs):
        opening = runs[index]
        if opening.start() < position:
            index += 1
            continue
        closing = next((run for run in runs[index + 1:] if len(run.group()) == len(opening.group())), None)
        if closing is None:
            index += 1
            continue
        before = text[position:opening.start()]
        role = _ROLE_NAME.search(before)
        rest.append(before[:role.start()] if role else before)
        spans.append((role.group(1) if role else "", text[opening.end():closing.start()].strip()))
        rest.append(" ")
        position = closing.end()
        index = runs.index(closing) + 1
    rest.append(text[position:])
    return spans, "".join(rest)


def markup(text: str) -> dict[str, Counter]:
    """The markup of one message: roles with their targets, code spans, math spans, link targets.

    Code spans are read first, as CommonMark does (a role's target is one, preceded by
    ``{name}``; a ``$`` or a link inside plain code is code), then math and links from the
    rest. Each kind is a multiset, so a dropped, doubled or altered item shows.
    """
    spans, rest = _code_spans(text)
    roles = Counter(f"{{{name}}}{content}" for name, content in spans if name)
    code = Counter(content for name, content in spans if not name)
    math = Counter(content.strip() for content in _MATH.findall(rest))
    links = Counter(markdown or html for markdown, html in _LINK.findall(rest))
    return {"roles": roles, "code": code, "math": math, "links": links}


def markup_differences(msgid: str, msgstr: str) -> list[str]:
    """What ``msgstr`` lost or gained of ``msgid``'s markup (empty when it kept all of it)."""
    source, target = markup(msgid), markup(msgstr)
    problems = []
    for kind in source:
        lost = source[kind] - target[kind]
        gained = target[kind] - source[kind]
        if lost or gained:
            problems.append(f"{kind}: lost {sorted(lost.elements())}, gained {sorted(gained.elements())}")
    return problems


@pytest.mark.parametrize(("msgid", "msgstr"), [
    ("See {ref}`glossary`.", "见{ref}`bibliography`。"),                  # another target
    ("Vaswani et al. (2017) {cite:p}`pic-vaswani2017`", "Vaswani 等人（2017）"),  # a role dropped
    ("the scores $q^\\top k$ and $T$", "评分 $q^\\top k$"),                # a math span dropped
    ("the scores $q^\\top k$", "评分 $q k$"),                              # math altered
    ("run `make book`", "运行 make book"),                                 # a code span dropped
    ("the [glossary](glossary.md)", "[术语表](bibliography.md)"),           # a link retargeted
    ("a `{cite:p}` key", "一个 {cite:p}`key`"),                            # code turned into a role
])
def test_the_markup_check_catches_a_broken_translation(msgid, msgstr):
    assert markup_differences(msgid, msgstr)


def test_the_markup_check_accepts_moved_markup():
    msgid = "Set `ATTNBOOK_DEVICE=cpu`; see {ref}`how-to-run` and [the list](bibliography.md) for $p_t$."
    msgstr = "关于 $p_t$，见 {ref}`how-to-run` 和[列表](bibliography.md)；设置 `ATTNBOOK_DEVICE=cpu`。"
    assert markup_differences(msgid, msgstr) == []


# --- the catalogs ------------------------------------------------------------------------------

def test_every_page_has_a_catalog_and_every_catalog_a_page():
    pages = set(toc_files())
    catalogs = {path.relative_to(LOCALE).with_suffix("").as_posix() for path in LOCALE.rglob("*.po")}
    assert pages - catalogs == set(), "pages without a catalog: run `make po`"
    assert catalogs - pages == set(), "catalogs of pages that are not in _toc.yml"
    assert set(COMPLETE) <= pages


@pytest.mark.parametrize("page", toc_files())
def test_no_message_is_fuzzy(page):
    fuzzy = [message.id[:80] for message in _messages(page) if message.fuzzy]
    assert fuzzy == [], f"{page}: {len(fuzzy)} message(s) changed in English since translated: {fuzzy}"


@pytest.mark.parametrize("page", toc_files())
def test_each_translation_keeps_the_markup_of_its_message(page):
    problems = [f"{message.id[:70]!r}: " + "; ".join(markup_differences(message.id, message.string))
                for message in _messages(page)
                if message.string and markup_differences(message.id, message.string)]
    assert problems == [], f"{page}:\n" + "\n".join(problems)


@pytest.mark.parametrize("page", COMPLETE)
def test_complete_pages_have_every_message_translated(page):
    messages = _messages(page)
    untranslated = [message.id[:80] for message in messages if not message.string]
    assert messages, f"{page}: an empty catalog"
    assert untranslated == [], f"{page}: {len(untranslated)} of {len(messages)} untranslated: {untranslated}"


def _is_display_math(text: str) -> bool:
    """Whether a message is a display equation: LaTeX commands and no ``$``."""
    return "$" not in text and re.search(r"\\[A-Za-z]+", text) is not None


def _without_markup(text: str) -> str:
    """``text`` without its math (``$$...$$``, ``$...$``), code spans and roles' names."""
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"\$[^$]*\$", " ", text)
    text = re.sub(r"`[^`]*`", " ", text)
    return re.sub(r"\{[a-z:]+\}", " ", text)


def test_only_a_display_equation_counts_as_math_alone():
    assert _is_display_math("\\begin{aligned} e &= a(q, k) && \\text{1. score} \\end{aligned}")
    assert not _is_display_math("The score $a(q, k_i)$ compares the query with every key.")
    assert not _is_display_math("Attention computes weights over locations.")
    words = set(re.findall(r"[A-Za-z]{2,}", _without_markup("Scores {cite:p}`x` `ab.y` $\\exp z$ here")))
    assert words == {"Scores", "here"}


@pytest.mark.parametrize("page", COMPLETE)
def test_complete_pages_are_in_chinese(page):
    # A translation is Chinese text, not the English copied over: every message with three
    # or more different English words outside its math, code spans and roles gets Chinese
    # characters. A display equation (LaTeX with no $: prose always writes its math in $) is
    # left as it is: Sphinx does not apply a translation to a math block.
    copied = [message.id[:80] for message in _messages(page)
              if not _is_display_math(message.id)
              and len(set(re.findall(r"[A-Za-z]{2,}", _without_markup(message.id)))) >= 3
              and not re.search(r"[\u4e00-\u9fff]", message.string)]
    assert copied == []


def test_the_glossary_renders_the_flagged_terms_as_a_native_reader_would():
    strings = {message.id: message.string for message in _messages("glossary")}
    reinforce = next(string for msgid, string in strings.items() if msgid.startswith("REINFORCE "))
    assert reinforce.startswith("REINFORCE 算法")
    assert any("得分函数估计量" in string for string in strings.values())
    assert not any("得分函数估计器" in string for string in strings.values())
    for name in ("sparsemax", "glimpse"):
        term = next(string for msgid, string in strings.items() if msgid.split()[0] == name)
        assert term.startswith(name) and re.search(r"[\u4e00-\u9fff]", term), term


def _admonition_titles() -> set[str]:
    """Every title of a raw-HTML admonition in the chapters' and pages' Markdown."""
    sources = [ROOT / f"{page}.md" for page in toc_files() if (ROOT / f"{page}.md").is_file()]
    texts = [path.read_text(encoding="utf-8") for path in sources]
    for notebook in sorted((ROOT / "chapters").glob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        texts += ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown"]
    found = set()
    for text in texts:
        found |= {match.group(2).strip() for match in _raw_titles.TITLE.finditer(text)}
    return found


_raw_titles = load_script("_ext/raw_titles.py")


def test_every_raw_admonition_title_has_a_chinese_translation():
    titles = _admonition_titles()
    assert {"Common misconceptions", "Solution 1"} <= titles, titles
    for title in titles:
        tag = f'<p class="admonition-title"><strong>{title}</strong></p>'
        translated = _raw_titles.translate_titles(tag, "zh_CN")
        assert re.search(r"[\u4e00-\u9fff]", translated), f"no Chinese title for {title!r}"
        assert translated.startswith('<p class="admonition-title"><strong>') and translated.endswith("</strong></p>")
        assert _raw_titles.translate_titles(tag, "en") == tag
    summary = '<summary class="admonition-title">Solution 12</summary>'
    assert _raw_titles.translate_titles(summary, "zh_CN") == '<summary class="admonition-title">解答 12</summary>'


# --- the table of contents and the search dictionary --------------------------------------------

def test_the_chinese_toc_lists_the_same_files_as_the_english_one():
    import yaml

    english, chinese = load_toc(), yaml.safe_load((ROOT / "_toc.zh_CN.yml").read_text(encoding="utf-8"))

    def files(toc):
        return [toc["root"]] + [[chapter["file"] for chapter in part["chapters"]] for part in toc["parts"]]

    assert files(chinese) == files(english)
    assert {key: value for key, value in chinese.items() if key != "parts"} == \
        {key: value for key, value in english.items() if key != "parts"}
    for part in chinese["parts"]:
        assert re.search(r"[\u4e00-\u9fff]", part["caption"]), part["caption"]


def test_the_search_dictionary_is_up_to_date():
    tool = load_script("tools/jieba_userdict.py")
    committed = tool.USERDICT.read_text(encoding="utf-8")
    assert committed == tool.render(tool.GLOSSARY.read_text(encoding="utf-8")), \
        "locale/zh_CN/jieba_userdict.txt is stale: run python tools/jieba_userdict.py"


def test_the_search_dictionary_keeps_each_glossary_term_whole():
    import jieba

    dictionary = (ROOT / "locale" / "zh_CN" / "jieba_userdict.txt").read_text(encoding="utf-8").split()
    assert set(SEARCHES) <= set(dictionary)
    tokenizer = jieba.Tokenizer()
    with (ROOT / "locale" / "zh_CN" / "jieba_userdict.txt").open("rb") as file:
        tokenizer.load_userdict(file)
    for word in SEARCHES:
        assert word in tokenizer.cut_for_search(f"本章讲解{word}的原理。"), word


# --- the built editions (integration: the book_build fixture) ---------------------------------

@pytest.fixture(scope="module")
def built(book_build) -> Path:
    log = book_build.stdout + book_build.stderr
    assert book_build.returncode == 0, log[-5000:]
    assert log.count("build succeeded") == 2, "both editions, each without a warning"
    return BUILD_ZH


def _pages(edition: Path) -> list[Path]:
    """Every page of an edition: the table of contents', the index and the search page (not the
    edition's index.html, a redirect to its first page)."""
    return [edition / f"{name}.html" for name in (*toc_files(), "genindex", "search")]


def test_the_root_page_offers_both_editions(built):
    page = (BUILD_ROOT / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'<a href="([^"]+)"', page.split("<body>", 1)[1])
    assert links == ["en/intro.html", "zh_CN/intro.html"], "both links, shown without a script"
    assert all((BUILD_ROOT / link).is_file() for link in links)
    assert "navigator.languages" in page


def test_the_chinese_pages_are_marked_chinese(built):
    for page in _pages(built):
        assert '<html lang="zh-CN"' in page.read_text(encoding="utf-8"), page.relative_to(built)
    for page in _pages(BUILD_HTML):
        assert '<html lang="en"' in page.read_text(encoding="utf-8"), page.relative_to(BUILD_HTML)


class _LanguageLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "a" and "attnbook-language-link" in (attributes.get("class") or ""):
            self.links.append(attributes["href"])


@pytest.mark.parametrize("edition", ["en", "zh_CN"])
def test_every_page_links_to_the_same_page_of_the_other_edition(built, edition):
    here = BUILD_ROOT / edition
    other = "zh_CN" if edition == "en" else "en"
    for page in _pages(here):
        parser = _LanguageLinks()
        parser.feed(page.read_text(encoding="utf-8"))
        assert len(parser.links) == 1, f"{page.relative_to(BUILD_ROOT)}: {parser.links}"
        target = (page.parent / parser.links[0]).resolve()
        assert target == (BUILD_ROOT / other / page.relative_to(here)).resolve(), parser.links[0]
        assert target.is_file(), f"{page.relative_to(BUILD_ROOT)} links to a missing {target}"


def test_configuration_strings_are_in_chinese(built):
    intro = (built / "intro.html").read_text(encoding="utf-8")
    assert "注意力机制：交互式教程" in intro.split("</title>")[0]
    assert "搜索本书" in intro and "Search this book" not in intro
    assert ">章节<" in intro and ">参考<" in intro
    for chapter in (built / "chapters").glob("*.html"):
        text = chapter.read_text(encoding="utf-8")
        assert "Show code cell" not in text and "Hide code cell" not in text, chapter.name
    toggles = sum(chapter.read_text(encoding="utf-8").count("显示代码单元") for chapter in (built / "chapters").glob("*.html"))
    assert toggles > 0, "no code-cell toggle found to check"


def test_the_complete_pages_show_their_translations(built):
    # Every translated paragraph of a complete page shows on the Chinese page (a fuzzy or
    # broken entry would show the English instead); a sample of their text, per page.
    for page in COMPLETE:
        text = re.sub(r"\s+", "", (built / f"{page}.html").read_text(encoding="utf-8"))
        for message in _messages(page):
            plain = re.sub(r"\s+", "", re.sub(r"[*`$\[\]()]|\{[\w:]+\}", "", message.string))
            fragment = re.sub(r"[^\u4e00-\u9fff]", "", plain)[:6]
            if len(fragment) >= 4:
                assert fragment in re.sub(r"[^\u4e00-\u9fff]", "", text), (page, message.string[:60])


def test_the_chapters_admonition_titles_are_in_chinese(built):
    seen = 0
    for chapter in (built / "chapters").glob("*.html"):
        text = chapter.read_text(encoding="utf-8")
        titles = [match.group(2).strip() for match in _raw_titles.TITLE.finditer(text)]
        english = [title for title in titles if not re.search(r"[\u4e00-\u9fff]", title)]
        assert english == [], (chapter.name, english)
        seen += text.count("常见误解")
    assert seen >= 5, "every chapter has a misconceptions box"


def test_the_glossary_anchors_are_the_same_in_both_editions(built):
    def anchors(path: Path) -> set[str]:
        return set(re.findall(r'id="(term-[^"]+)"', path.read_text(encoding="utf-8")))

    english = anchors(BUILD_HTML / "glossary.html")
    assert english and anchors(built / "glossary.html") == english


def _search_index(edition: Path) -> dict:
    text = (edition / "searchindex.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("(") + 1:text.rindex(")")])


def _article_text(path: Path) -> str:
    page = path.read_text(encoding="utf-8")
    match = re.search(r'<article class="bd-article">(.*?)</article>', page, re.S)
    return re.sub(r"<[^>]+>", "", match.group(1) if match else "")


@pytest.mark.parametrize("word", SEARCHES)
def test_searching_a_chinese_term_finds_every_page_that_has_it(built, word):
    index = _search_index(built)
    docnames = index["docnames"]

    def found(table: str) -> set[str]:
        hits = index[table].get(word, [])
        return {docnames[i] for i in ([hits] if isinstance(hits, int) else hits)}

    having = {docname for docname in docnames
              if word in _article_text(built / f"{docname}.html")}
    assert having, f"no page of the Chinese edition contains {word}"
    assert having <= found("terms") | found("titleterms"), \
        f"{word}: on {sorted(having)}, found on {sorted(found('terms') | found('titleterms'))}"


def test_no_chinese_page_loads_anything_from_another_host(built):
    from test_book_build import external_resources_of_pages

    assert external_resources_of_pages(built) == []
