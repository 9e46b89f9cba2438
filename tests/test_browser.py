"""Every page of the built book in a real browser (Debian's Chromium, driven by Playwright),
with every request to another host blocked, as a reader with no network would see it.

Checks: no console errors and no failed requests; nothing asked of another host; math typeset;
every figure decoded; each static slider shows another frame when moved; search finds a
word. Screenshots of every page go to test-artifacts/screenshots/ (ignored by git).
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from book import BUILD_HTML, ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def site(book_build):
    assert book_build.returncode == 0, (book_build.stdout + book_build.stderr)[-3000:]
    handler = functools.partial(_QuietHandler, directory=str(BUILD_HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; `make test` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class PageVisit:
    """One page load with every console error, failed request and foreign request recorded."""

    def __init__(self, browser, site: str, path: str) -> None:
        self.site_host = urlparse(site).netloc
        self.console_errors: list[str] = []
        self.failed: list[str] = []
        self.foreign: list[str] = []
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        self.page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        self.page.route("**/*", self._only_this_site)
        self.page.goto(f"{site}/{path}", wait_until="networkidle")

    def _only_this_site(self, route) -> None:
        url = route.request.url
        if url.startswith("data:") or urlparse(url).netloc == self.site_host:
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()

    def close(self) -> None:
        self.page.close()




def _pages() -> list[str]:
    # The list is taken from the sources so that it exists before the build does.
    from book import toc_files

    return [f"{entry}.html" for entry in toc_files()] + ["genindex.html", "search.html"]


@pytest.mark.parametrize("path", _pages())
def test_page_loads_cleanly_offline(browser, site, path):
    visit = PageVisit(browser, site, path)
    try:
        page = visit.page
        if page.locator(".math").count():
            page.wait_for_selector("mjx-container", state="attached", timeout=20000)
            assert page.locator("mjx-merror").count() == 0, "MathJax could not typeset a formula"
            assert page.locator(".math").count() <= page.locator("mjx-container").count()
        broken = page.evaluate(
            "() => Array.from(document.images).filter(i => i.complete && i.naturalWidth === 0).map(i => i.src)"
        )
        assert broken == [], f"images that did not load: {broken}"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / (path.replace("/", "__").removesuffix(".html") + ".png")),
                        full_page=True)
        assert visit.console_errors == []
        assert visit.failed == []
        assert visit.foreign == [], "the page asked another host for a resource"
    finally:
        visit.close()


def test_every_static_slider_moves(browser, site):
    from book import CHAPTERS

    moved = 0
    for chapter in CHAPTERS:
        visit = PageVisit(browser, site, f"chapters/{chapter.stem}.html")
        try:
            page = visit.page
            for slider in page.locator(".attnbook-slider").all():
                for control in slider.locator("input[type=range]").all():
                    before = _visible_frame(slider)
                    label_before = control.locator("xpath=following-sibling::output").inner_text()
                    control.focus()
                    key = "ArrowLeft" if control.input_value() == control.get_attribute("max") else "ArrowRight"
                    page.keyboard.press(key)
                    after = _visible_frame(slider)
                    assert after != before, f"{chapter.stem}: moving {control.get_attribute('aria-label')} changed nothing"
                    assert control.locator("xpath=following-sibling::output").inner_text() != label_before
                    moved += 1
            assert visit.console_errors == []
        finally:
            visit.close()
    assert moved > 0, "no static slider was found"


def test_figures_show_at_their_own_size_in_a_1280_px_window(browser, site):
    # tests/test_figure_widths.py keeps stored figures within attnbook.MAX_FIGURE_PIXELS;
    # this checks that the built book's text column really is that wide, so no figure
    # (and none of its 9-pt text) is shrunk in the HTML.
    import attnbook as ab
    from book import CHAPTERS

    for chapter in CHAPTERS:
        visit = PageVisit(browser, site, f"chapters/{chapter.stem}.html")
        try:
            sizes = visit.page.evaluate(
                "() => Array.from(document.querySelectorAll('article img'))"
                ".filter(i => i.offsetParent !== null && i.naturalWidth > 0)"
                ".map(i => [i.naturalWidth, i.getBoundingClientRect().width])")
            assert sizes, f"{chapter.stem}: no figure shown"
            shrunk = [(natural, round(shown)) for natural, shown in sizes if shown < natural - 1]
            assert not shrunk, f"{chapter.stem}: figures shown narrower than their PNG (px): {shrunk}"
            column = visit.page.evaluate("() => document.querySelector('article section').clientWidth")
            assert column >= ab.book.MAX_FIGURE_PIXELS, f"{chapter.stem}: text column {column} px"
        finally:
            visit.close()


def _visible_frame(slider) -> str:
    frames = slider.locator("img.attnbook-frame")
    visible = [frames.nth(i).get_attribute("alt") for i in range(frames.count()) if frames.nth(i).is_visible()]
    assert len(visible) == 1, f"exactly one frame must be visible, saw {visible}"
    return visible[0]


@pytest.mark.parametrize("javascript", [True, False], ids=["script", "no-script"])
def test_slider_html_in_a_browser(browser, javascript):
    """A slider's own HTML: with its script it moves; without (an untrusted notebook) it shows one frame."""
    import matplotlib.pyplot as plt

    from attnbook import slider

    def plot(slope, offset):
        figure, ax = plt.subplots(figsize=(2, 2))
        ax.plot([0, 1], [offset, offset + slope])
        return figure

    widget = slider(plot, initial={"slope": 1, "offset": 0}, slope=[-1, 0, 1], offset=[0, 1])
    context = browser.new_context(java_script_enabled=javascript)
    try:
        page = context.new_page()
        page.set_content(f"<html><body>{widget.to_html()}</body></html>")
        root = page.locator(".attnbook-slider")
        assert _visible_frame(root) == "slope=1, offset=0"
        readouts = root.locator("output")
        assert [readouts.nth(i).inner_text() for i in range(readouts.count())] == ["1", "0"]
        assert root.locator(".attnbook-hint").count() == (0 if javascript else 1)
        slope, offset = root.locator("input[type=range]").all()
        assert slope.is_enabled() is javascript
        if javascript:
            slope.focus()
            page.keyboard.press("ArrowLeft")
            assert _visible_frame(root) == "slope=0, offset=0"
            offset.focus()
            page.keyboard.press("ArrowRight")
            assert _visible_frame(root) == "slope=0, offset=1"
            assert [readouts.nth(i).inner_text() for i in range(readouts.count())] == ["0", "1"]
            image = root.locator("img.attnbook-frame")
            assert image.evaluate("i => i.complete && i.naturalWidth > 0")
    finally:
        context.close()


def test_search_finds_a_word(browser, site):
    visit = PageVisit(browser, site, "search.html?q=softmax")
    try:
        visit.page.wait_for_selector("#search-results ul.search li", timeout=20000)
        assert visit.page.locator("#search-results ul.search li").count() > 0
        assert visit.foreign == []
    finally:
        visit.close()
