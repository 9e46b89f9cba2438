"""Write the Chinese edition's search dictionary, ``locale/zh_CN/jieba_userdict.txt``, from the glossary.

Usage: python tools/jieba_userdict.py [--check]   (--check: exit 1 if the committed file is stale)

Sphinx indexes Chinese text for search with jieba (``sphinx/search/zh.py``), whose default
dictionary splits the book's terms into pieces: 注意力机制 into 注意 / 注意力 / 机制, 自注意力 into
自 / 注意 / 注意力, so a search for the whole term matches nothing. The Chinese edition's build
(tools/build_book.py) hands jieba this file as a user dictionary (``html_search_options``), one
word per line with no frequency, so jieba keeps each as one word (and its search mode still
indexes the dictionary words inside it, so 注意力 finds the pages with 自注意力 too).

The words are every run of Chinese characters in the terms of ``glossary.md`` (``attention
注意力`` gives 注意力, ``masked softmax 掩码 softmax`` gives 掩码) and in their translations in the
glossary's catalog (``REINFORCE 算法``), plus :data:`EXTRA_WORDS`, the words readers search for
that are not glossary terms; one-character runs are left out (jieba knows them, and Sphinx's
index drops them). tests/test_translations.py checks that the
committed file is what this script writes.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "glossary.md"
CATALOG = ROOT / "locale" / "zh_CN" / "LC_MESSAGES" / "glossary.po"
USERDICT = ROOT / "locale" / "zh_CN" / "jieba_userdict.txt"
#: Searched-for words that are not (the Chinese part of) a glossary term.
EXTRA_WORDS = ("注意力机制", "得分函数估计量")
CHINESE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")


def glossary_terms(text: str) -> list[str]:
    """The terms of the ``{glossary}`` blocks in ``text`` (the lines that are not indented)."""
    terms = []
    inside = False
    for line in text.splitlines():
        if line.startswith("```{glossary}"):
            inside = True
        elif inside and line.startswith("```"):
            inside = False
        elif inside and line.strip() and not line[0].isspace() and not line.startswith(":"):
            terms.append(line.strip())
    return terms


def translated_terms(terms: list[str], catalog: Path = CATALOG) -> list[str]:
    """The catalog's translations of ``terms`` (none for a term not yet translated)."""
    from babel.messages.pofile import read_po

    if not catalog.exists():
        return []
    with catalog.open("rb") as file:
        messages = read_po(file)
    wanted = set(terms)
    return [message.string for message in messages
            if message.id in wanted and message.string and not message.fuzzy]


def words(glossary_text: str, catalog: Path = CATALOG) -> list[str]:
    """The dictionary's words, sorted and without repeats."""
    terms = glossary_terms(glossary_text)
    found = {run for term in terms + translated_terms(terms, catalog) for run in CHINESE.findall(term)}
    found |= set(EXTRA_WORDS)
    return sorted(word for word in found if len(word) >= 2)


def render(glossary_text: str, catalog: Path = CATALOG) -> str:
    """The file's text: one word a line."""
    return "".join(f"{word}\n" for word in words(glossary_text, catalog))


def main(argv: list[str]) -> int:
    expected = render(GLOSSARY.read_text(encoding="utf-8"))
    if argv == ["--check"]:
        current = USERDICT.read_text(encoding="utf-8") if USERDICT.exists() else ""
        if current != expected:
            print(f"{USERDICT} is stale: run python tools/jieba_userdict.py", file=sys.stderr)
            return 1
        return 0
    if argv:
        sys.exit(__doc__)
    USERDICT.write_text(expected, encoding="utf-8")
    print(f"Wrote {USERDICT.relative_to(ROOT)} ({expected.count(chr(10))} words)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
