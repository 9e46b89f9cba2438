"""The book builds with warnings as errors, shows every chapter with its figures and
fetches no script, stylesheet, font or image from another host."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from book import BUILD_HTML, CHAPTERS


@pytest.fixture(scope="module")
def built(book_build) -> Path:
    log = book_build.stdout + book_build.stderr
    assert book_build.returncode == 0, log[-5000:]
    assert "build succeeded" in log
    return BUILD_HTML


def test_book_builds_with_zero_warnings(built):
    assert (built / "index.html").exists()


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[path.stem for path in CHAPTERS])
def test_chapter_page_shows_its_figures(built, chapter):
    page = (built / "chapters" / f"{chapter.stem}.html").read_text()
    images = re.findall(r'<img[^>]+src="([^"]+)"', page)
    local = [src for src in images if not src.startswith("data:")]
    assert local, f"{chapter.stem} shows no figure"
    for src in local:
        assert (built / "chapters" / src).resolve().exists(), src


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[path.stem for path in CHAPTERS])
def test_each_printed_figure_links_to_its_own_png(built, chapter):
    # _ext/figure_links.py: a phone shows a figure at about half size; the link opens it whole.
    page = (built / "chapters" / f"{chapter.stem}.html").read_text()
    shown = re.findall(r'<img alt="[^"]*" src="(\.\./_images/[^"]+\.png)"', page)
    linked = re.findall(r'<a class="attnbook-figure-link[^"]*" href="([^"]+)"[^>]*><img alt="[^"]*" src="([^"]+)"', page)
    assert shown, f"{chapter.stem} shows no figure"
    assert sorted(src for _, src in linked) == sorted(shown), "a printed figure has no link to its PNG"
    assert all(href == src for href, src in linked), "a figure links to another file than the one it shows"


class ResourceCollector(HTMLParser):
    """Collects the URLs a page loads by itself (not the links a reader may follow)."""

    def __init__(self) -> None:
        super().__init__()
        self.resources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in ("script", "img", "iframe", "audio", "video", "source") and attributes.get("src"):
            self.resources.append(attributes["src"])
        if tag == "link" and attributes.get("href"):
            rel = (attributes.get("rel") or "").lower()
            if any(kind in rel for kind in ("stylesheet", "preload", "icon", "modulepreload", "prefetch")):
                self.resources.append(attributes["href"])


def _external(url: str) -> bool:
    return url.startswith(("http://", "https://", "//"))


def external_resources_of_pages(built: Path) -> list[str]:
    """``page: url`` for every resource an HTML page under ``built`` loads from another host."""
    offenders = []
    for page in built.rglob("*.html"):
        collector = ResourceCollector()
        collector.feed(page.read_text(errors="replace"))
        offenders += [f"{page.relative_to(built)}: {url}" for url in collector.resources if _external(url)]
    return offenders


def test_no_page_loads_anything_from_another_host(built):
    offenders = external_resources_of_pages(built)
    for stylesheet in built.rglob("*.css"):
        for url in re.findall(r"url\(\s*['\"]?([^)'\"]+)", stylesheet.read_text(errors="replace")):
            if _external(url):
                offenders.append(f"{stylesheet.relative_to(built)}: {url}")
    assert offenders == []


def test_widget_manager_is_not_loaded(built):
    for page in built.rglob("*.html"):
        text = page.read_text(errors="replace")
        assert "require.min.js" not in text and "embed-amd.js" not in text, page


def test_launch_button_opens_the_notebook_in_colab(built):
    from book import load_config

    url = load_config()["repository"]["url"].removeprefix("https://github.com/")
    for chapter in CHAPTERS:
        page = (built / "chapters" / f"{chapter.stem}.html").read_text()
        launch = f"https://colab.research.google.com/github/{url}/blob/main/chapters/{chapter.name}"
        assert launch in page
