"""Every page of the built book in a real browser (Debian's Chromium, driven by Playwright),
with every request to another host blocked, as a reader with no network would see it.

Each page is opened in a 390-px window (a phone) and a 1280-px one (a laptop). Checks: no
console errors and no failed requests; nothing asked of another host; math typeset; every
figure decoded; each static slider shows another frame when moved, and its track is 22rem
wide or the column; search finds a word; the zip of the book (both editions) opens from disk.
The Chinese edition (_build/html/zh_CN/, one load per page at 1280 px): no console errors, no
failed or foreign requests, math typeset; search finds a Chinese word; the language link opens
the same page of the other edition from a server and from disk; the root page opens the
edition of the browser's language. Layout: the
page never scrolls sideways; a display equation, printed output or code block wider than its
box scrolls inside it with a scrollbar that shows; at 1280 px none is wider than the column.

The browser draws overlay scrollbars (Chromium's, as on macOS, phones and GNOME): they take no
room and show only while scrolling, so a block whose scrollbar takes room is one the book's CSS
gives a visible scrollbar. Screenshots of every page at both widths go to
test-artifacts/screenshots/ (ignored by git).
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
import zipfile
from pathlib import Path
from urllib.parse import urlparse

import pytest

from book import BUILD_HTML, BUILD_ROOT, ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--enable-features=OverlayScrollbar",
]
# Playwright hides scrollbars in headless mode; overlay scrollbars are drawn as a reader sees them.
CHROMIUM_DEFAULTS_DROPPED = ["--hide-scrollbars"]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PHONE, DESKTOP = 390, 1280
WIDTHS = [PHONE, DESKTOP]
SLIDER_TRACK_REM = 22
BLOCK_KINDS = ["equation", "output", "code"]


def _serve(book_build, directory):
    """Serve ``directory`` of the built book on a free local port; yield its URL."""
    assert book_build.returncode == 0, (book_build.stdout + book_build.stderr)[-3000:]
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def site(book_build):
    """A server over the English edition."""
    yield from _serve(book_build, BUILD_HTML)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; `make test` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             ignore_default_args=CHROMIUM_DEFAULTS_DROPPED)
        yield browser
        browser.close()


class PageVisit:
    """One page load with every console error, failed request and foreign request recorded.

    ``url`` is a path on ``site`` or, with ``site=None``, a full URL (``file://`` for the
    unpacked zip, where every request that is not to a file counts as foreign).
    """

    def __init__(self, browser, site: str | None, path: str, width: int = DESKTOP) -> None:
        url = f"{site}/{path}" if site else path
        self.site_host = urlparse(site).netloc if site else None
        self.console_errors: list[str] = []
        self.failed: list[str] = []
        self.foreign: list[str] = []
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        self.page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        self.page.route("**/*", self._only_this_site)
        self.page.goto(url, wait_until="networkidle")

    def _only_this_site(self, route) -> None:
        url = route.request.url
        parts = urlparse(url)
        if url.startswith("data:") or (self.site_host is None and parts.scheme == "file") \
                or (self.site_host is not None and parts.netloc == self.site_host):
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()

    def wait_for_math(self) -> None:
        if self.page.locator(".math").count():
            self.page.wait_for_selector("mjx-container", state="attached", timeout=20000)
            # Typesetting ends with the promise MathJax keeps; the layout is final after it.
            self.page.evaluate("() => window.MathJax && MathJax.startup && MathJax.startup.promise")

    def close(self) -> None:
        self.page.close()


def _pages() -> list[str]:
    # The list is taken from the sources so that it exists before the build does.
    from book import toc_files

    return [f"{entry}.html" for entry in toc_files()] + ["genindex.html", "search.html"]


def _chapter_pages() -> list[str]:
    from book import CHAPTERS

    return [f"chapters/{chapter.stem}.html" for chapter in CHAPTERS]


# Measures one page as laid out: its width, the article's column, every display equation,
# code block and printed output (its content width against its box and the column, whether
# it scrolls, how much room its scrollbar takes), the static sliders' tracks, and what
# sticks out of the window where the page is wider than it.
_LAYOUT_JS = """() => {
  // search.html has no article; its form and results sit in the search container.
  const article = document.querySelector("article.bd-article") || document.querySelector(".bd-search-container");
  const style = getComputedStyle(article);
  const box = article.getBoundingClientRect();
  const px = (value) => parseFloat(value) || 0;
  const left = box.left + px(style.borderLeftWidth) + px(style.paddingLeft);
  const right = box.right - px(style.borderRightWidth) - px(style.paddingRight);
  const heading = (el) => {
    const section = el.closest("section");
    const title = section && section.querySelector("h1, h2, h3, h4");
    return title ? title.textContent.replace(/[#¶]/g, "").trim() : "";
  };
  const tex = (el) => {
    try { return MathJax.startup.document.getMathItemsWithin(el)[0].math; } catch (e) { return ""; }
  };
  const firstLine = (text) => (text.trim().split("\\n")[0] || "").slice(0, 70);
  const longestLine = (text) => Math.max(0, ...text.replace(/\\n$/, "").split("\\n").map((line) => line.length));
  const blocks = [];
  const add = (kind, el, label, contentWidth) => {
    const s = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    blocks.push({
      kind, label, section: heading(el), chars: kind === "equation" ? null : longestLine(el.textContent),
      content: Math.round(Math.max(el.scrollWidth, contentWidth || 0)),
      box: el.clientWidth,
      overflowing: el.scrollWidth > el.clientWidth + 1,
      scrolls: s.overflowX === "auto" || s.overflowX === "scroll",
      scrollbar: el.offsetHeight - el.clientHeight - px(s.borderTopWidth) - px(s.borderBottomWidth),
      inColumn: r.left >= left - 1 && r.right <= right + 1,
      visible: el.offsetParent !== null,
    });
  };
  article.querySelectorAll("mjx-container[display='true']").forEach((el) => {
    const math = el.querySelector("mjx-math");
    add("equation", el, firstLine(tex(el)), math ? math.getBoundingClientRect().width : 0);
  });
  article.querySelectorAll("pre").forEach((el) => {
    if (!el.closest(".cell_output")) add("code", el, firstLine(el.textContent));
  });
  article.querySelectorAll(".cell_output .output pre, .cell_output .output.text_html").forEach((el) => {
    add("output", el, firstLine(el.textContent));
  });
  const clipped = (el) => {
    for (let node = el.parentElement; node && node !== document.body; node = node.parentElement) {
      if (getComputedStyle(node).overflowX !== "visible") return true;
    }
    return false;
  };
  const sticking = Array.from(document.body.querySelectorAll("*"))
    .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1 && !clipped(el))
    .slice(0, 8)
    .map((el) => `${el.tagName.toLowerCase()}.${el.className} "${firstLine(el.textContent).slice(0, 50)}"`
                 + ` to ${Math.round(el.getBoundingClientRect().right)} px`);
  const rem = px(getComputedStyle(document.documentElement).fontSize);
  return {
    pageWidth: document.documentElement.scrollWidth, window: window.innerWidth,
    column: Math.round(right - left), padding: [px(style.paddingLeft), px(style.paddingRight)],
    margins: [Math.round(left), Math.round(window.innerWidth - right)],
    rem, blocks, sticking,
    sliders: Array.from(article.querySelectorAll(".attnbook-slider input[type=range]"))
      .map((input) => [input.getAttribute("aria-label"), Math.round(input.getBoundingClientRect().width)]),
  };
}"""


class _Layouts:
    """One visit per (page, width), shared by the tests below: a load with its console,
    requests, screenshot and layout measured, made by whichever test needs it first."""

    def __init__(self) -> None:
        self._done: dict[tuple[str, int], dict] = {}

    def get(self, browser, site: str, path: str, width: int) -> dict:
        key = (path, width)
        if key not in self._done:
            visit = PageVisit(browser, site, path, width)
            try:
                page = visit.page
                visit.wait_for_math()
                result = {
                    "math": page.locator(".math").count(),
                    "typeset": page.locator("mjx-container").count(),
                    "merror": page.locator("mjx-merror").count(),
                    "broken": page.evaluate("() => Array.from(document.images)"
                                            ".filter(i => i.complete && i.naturalWidth === 0).map(i => i.src)"),
                    "layout": page.evaluate(_LAYOUT_JS),
                }
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                name = path.replace("/", "__").removesuffix(".html")
                page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
                result.update(console_errors=visit.console_errors, failed=visit.failed, foreign=visit.foreign)
            finally:
                visit.close()
            self._done[key] = result
        return self._done[key]


@pytest.fixture(scope="module")
def layouts(browser, site):
    store = _Layouts()
    return lambda path, width: store.get(browser, site, path, width)


def _describe(block: dict) -> str:
    chars = f", longest line {block['chars']} characters" if block["chars"] is not None else ""
    return (f"{block['kind']} in '{block['section']}' ({block['label']!r}): {block['content']} px"
            f" in a {block['box']} px box{chars}")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", _pages())
def test_page_loads_cleanly_offline(layouts, path, width):
    visit = layouts(path, width)
    if visit["math"]:
        assert visit["merror"] == 0, "MathJax could not typeset a formula"
        assert visit["math"] <= visit["typeset"]
    assert visit["broken"] == [], f"images that did not load: {visit['broken']}"
    assert visit["console_errors"] == []
    assert visit["failed"] == []
    assert visit["foreign"] == [], "the page asked another host for a resource"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", _pages())
def test_page_does_not_scroll_sideways(layouts, path, width):
    layout = layouts(path, width)["layout"]
    assert layout["pageWidth"] <= layout["window"], (
        f"{path} is {layout['pageWidth']} px wide in a {layout['window']} px window; sticking out: "
        + "; ".join(layout["sticking"]))


@pytest.mark.parametrize("path", _pages())
def test_text_keeps_off_the_edges_of_a_phone(layouts, path):
    # Below the theme's wide breakpoint (1200 px) only the article's padding separates the
    # text from the edges of the screen.
    layout = layouts(path, PHONE)["layout"]
    assert min(layout["margins"]) >= layout["rem"] - 0.5, (
        f"the text column starts {layout['margins'][0]} px from the left edge and ends {layout['margins'][1]} px"
        f" from the right one (article padding {layout['padding']} px)")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", _pages())
def test_wide_blocks_scroll_inside_the_column_with_a_visible_scrollbar(layouts, path, width):
    # The fallback for what is wider than the column (everything on a phone): the equation,
    # output or code block scrolls in a box that stays inside the column, and shows that it does.
    layout = layouts(path, width)["layout"]
    problems = []
    for block in layout["blocks"]:
        if not block["visible"]:
            continue
        if not block["inColumn"]:
            problems.append(f"{_describe(block)}: the box itself is wider than the {layout['column']} px column")
        elif block["overflowing"] and not block["scrolls"]:
            problems.append(f"{_describe(block)}: clipped, and not a scroll container")
        elif block["overflowing"] and block["scrollbar"] <= 0:
            problems.append(f"{_describe(block)}: scrolls, but its scrollbar does not show")
    assert not problems, f"{path} at {width} px:\n" + "\n".join(problems)


@pytest.mark.parametrize("kind", BLOCK_KINDS)
@pytest.mark.parametrize("path", _pages())
def test_blocks_fit_the_desktop_column(layouts, path, kind):
    # At 1280 px nothing should need the scrollbar: equations broken over aligned lines,
    # printed tables and code lines of at most 88 characters.
    layout = layouts(path, DESKTOP)["layout"]
    wide = [block for block in layout["blocks"]
            if block["kind"] == kind and block["visible"]
            and (block["overflowing"] or block["content"] > layout["column"] + 1)]
    assert not wide, (f"{path}: {len(wide)} {kind} block(s) wider than the {layout['column']} px column"
                      f" at {DESKTOP} px:\n" + "\n".join(_describe(block) for block in wide))


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", _chapter_pages())
def test_static_slider_tracks_are_22rem_or_the_column(layouts, path, width):
    layout = layouts(path, width)["layout"]
    least = min(SLIDER_TRACK_REM * layout["rem"], layout["column"]) - 1
    narrow = [(name, track) for name, track in layout["sliders"] if track < least]
    assert not narrow, f"{path} at {width} px: tracks narrower than {least + 1:.0f} px: {narrow}"


def test_the_chapters_have_sliders_and_blocks_to_check(layouts):
    # The layout checks above find what they check; a selector that stopped matching would
    # make every one of them pass.
    found = {kind: 0 for kind in BLOCK_KINDS}
    sliders = 0
    for path in _chapter_pages():
        layout = layouts(path, DESKTOP)["layout"]
        sliders += len(layout["sliders"])
        for block in layout["blocks"]:
            found[block["kind"]] += 1
    assert sliders > 0 and all(found.values()), f"sliders {sliders}, blocks {found}"


def test_every_static_slider_moves(browser, site):
    moved = 0
    for path in _chapter_pages():
        visit = PageVisit(browser, site, path)
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
                    assert after != before, f"{path}: moving {control.get_attribute('aria-label')} changed nothing"
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

    for path in _chapter_pages():
        visit = PageVisit(browser, site, path)
        try:
            sizes = visit.page.evaluate(
                "() => Array.from(document.querySelectorAll('article img'))"
                ".filter(i => i.offsetParent !== null && i.naturalWidth > 0)"
                ".map(i => [i.naturalWidth, i.getBoundingClientRect().width])")
            assert sizes, f"{path}: no figure shown"
            shrunk = [(natural, round(shown)) for natural, shown in sizes if shown < natural - 1]
            assert not shrunk, f"{path}: figures shown narrower than their PNG (px): {shrunk}"
            column = visit.page.evaluate("() => document.querySelector('article section').clientWidth")
            assert column >= ab.book.MAX_FIGURE_PIXELS, f"{path}: text column {column} px"
        finally:
            visit.close()


def test_a_figure_opens_at_full_size_from_a_phone(browser, site):
    # On a phone a figure shows at about half its size; tapping it opens its PNG.
    visit = PageVisit(browser, site, _chapter_pages()[0], PHONE)
    try:
        page = visit.page
        link = page.locator(".cell_output a.attnbook-figure-link").first
        shown = link.locator("img").evaluate("i => [i.naturalWidth, i.getBoundingClientRect().width]")
        assert shown[1] < shown[0], f"the first figure is not shrunk on a phone ({shown}); pick another check"
        link.click()
        page.wait_for_load_state()
        assert page.url.endswith(".png"), page.url
        assert page.evaluate("() => document.images.length === 1 && document.images[0].naturalWidth") == shown[0]
        assert visit.failed == [] and visit.foreign == []
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


def test_the_zip_of_the_book_opens_from_disk(browser, site, tmp_path):
    # `make book` packs the HTML with tools/zip_book.py; this packs the build under test the
    # same way, unpacks it elsewhere and reads it through file://, as a reader who downloaded it.
    import sys

    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from zip_book import FOLDER, zip_book
    finally:
        sys.path.remove(str(ROOT / "tools"))

    archive = zip_book(BUILD_ROOT, tmp_path / "book.zip")
    with zipfile.ZipFile(archive) as bundle:
        names = bundle.namelist()
        assert all(name.startswith(f"{FOLDER}/") for name in names), "one folder holds the whole book"
        bundle.extractall(tmp_path / "unpacked")
    book = tmp_path / "unpacked" / FOLDER
    assert (book / "index.html").is_file()
    assert (book / "en" / "_images").is_dir() and (book / "zh_CN" / "_images").is_dir(), "both editions"

    visit = PageVisit(browser, None, (book / "index.html").as_uri())
    try:
        page = visit.page
        # index.html sends the reader to the first page of the edition of the browser's language.
        page.wait_for_url("**/en/intro.html")
        assert "Attention, Interactively" in page.title()
        assert page.evaluate("() => getComputedStyle(document.documentElement)"
                             ".getPropertyValue('--attnbook-cjk-sans').trim() !== ''"), "book.css did not load"
        chapter = page.locator("nav.bd-links a[href*='chapters/']").first
        chapter.click()
        page.wait_for_load_state("networkidle")
        assert page.url.startswith("file://") and "/chapters/" in page.url
        visit.wait_for_math()
        assert page.locator("mjx-container").count() > 0 and page.locator("mjx-merror").count() == 0
        assert page.evaluate("() => Array.from(document.images)"
                             ".filter(i => i.complete && i.naturalWidth === 0).length") == 0
        assert page.locator(".attnbook-slider").count() > 0
        assert visit.console_errors == []
        assert visit.failed == []
        assert visit.foreign == [], "the unpacked book asked another host for a resource"
    finally:
        visit.close()


# --- the Chinese edition ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def editions(book_build):
    """A server over _build/html: the root page and both editions under it."""
    yield from _serve(book_build, BUILD_ROOT)


@pytest.mark.parametrize("path", _pages())
def test_chinese_page_loads_cleanly_offline(browser, editions, path):
    visit = PageVisit(browser, editions, f"zh_CN/{path}")
    try:
        page = visit.page
        visit.wait_for_math()
        assert page.evaluate("() => document.documentElement.lang") == "zh-CN"
        math, typeset = page.locator(".math").count(), page.locator("mjx-container").count()
        assert page.locator("mjx-merror").count() == 0, "MathJax could not typeset a formula"
        assert math <= typeset
        assert page.evaluate("() => Array.from(document.images)"
                             ".filter(i => i.complete && i.naturalWidth === 0).map(i => i.src)") == []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = "zh_CN__" + path.replace("/", "__").removesuffix(".html")
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{DESKTOP}.png"), full_page=True)
        assert visit.console_errors == []
        assert visit.failed == []
        assert visit.foreign == [], "the page asked another host for a resource"
    finally:
        visit.close()


def test_chinese_search_finds_a_chinese_word(browser, editions):
    visit = PageVisit(browser, editions, "zh_CN/search.html?q=注意力")
    try:
        visit.page.wait_for_selector("#search-results ul.search li", timeout=20000)
        found = visit.page.locator("#search-results ul.search li a").all_inner_texts()
        assert found, "searching 注意力 found nothing"
        assert any("术语表" in title for title in found), found
        assert visit.foreign == [] and visit.console_errors == []
    finally:
        visit.close()


def _follow_language_link(page) -> None:
    link = page.locator("a.attnbook-language-link")
    assert link.count() == 1
    link.click()
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("where", ["server", "disk"])
def test_the_language_link_opens_the_same_page_of_the_other_edition(browser, editions, where):
    chapter = _chapter_pages()[0]
    if where == "server":
        start = f"{editions}/en/{chapter}"
        visit = PageVisit(browser, editions, f"en/{chapter}")
    else:
        start = (BUILD_ROOT / "en" / chapter).as_uri()
        visit = PageVisit(browser, None, start)
    try:
        page = visit.page
        assert page.url == start
        _follow_language_link(page)
        assert page.url == start.replace("/en/", "/zh_CN/"), page.url
        assert page.evaluate("() => document.documentElement.lang") == "zh-CN"
        _follow_language_link(page)
        assert page.url == start, page.url
        assert page.evaluate("() => document.documentElement.lang") == "en"
        assert visit.console_errors == [] and visit.failed == [] and visit.foreign == []
    finally:
        visit.close()


@pytest.mark.parametrize(("locale", "edition"), [("zh-CN", "zh_CN"), ("zh-TW", "zh_CN"), ("en-US", "en"), ("de-DE", "en")])
def test_the_root_page_opens_the_edition_of_the_browser_language(browser, editions, locale, edition):
    context = browser.new_context(locale=locale)
    try:
        page = context.new_page()
        page.goto(f"{editions}/index.html")
        page.wait_for_url(f"**/{edition}/intro.html")
    finally:
        context.close()


def test_the_root_page_offers_both_editions_without_a_script(browser, editions):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{editions}/index.html")
        assert page.url.endswith("/index.html"), "without a script the reader stays and chooses"
        links = page.locator("a")
        assert [links.nth(i).get_attribute("href") for i in range(links.count())] == ["en/intro.html", "zh_CN/intro.html"]
        links.nth(1).click()
        page.wait_for_url("**/zh_CN/intro.html")
    finally:
        context.close()
