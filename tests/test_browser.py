"""The built book in a real browser: headless Chromium driven by Playwright, network off.

Every page listed in ``_toc.yml`` is opened from a local HTTP server over the session's one
book build (``built_book`` in ``tests/conftest.py``) and must:

- make no request that leaves the site (every other request is aborted and reported);
- log no console error and raise no uncaught JavaScript error; every request it makes
  to the site succeeds;
- show its math typeset by MathJax, with no raw TeX left in the text;
- have every image loaded, each with alt text or a caption;
- on a page with widgets, render every widget view from the saved state, after a
  static picture in the same output (the rendered book has no kernel);
- (chapters written as notebooks) offer their ``.ipynb`` download, and the link serves
  the notebook.

The search page must find a term from the book. The browser is Debian's ``chromium``
(``apt-get install chromium``), passed to Playwright with ``executable_path``: nothing
is downloaded. Without Playwright or Chromium the test skips and says why;
``COURSEKIT_REQUIRE_BROWSER=1`` (set by ``.ci/run``) turns that into a failure.
``COURSEKIT_CHROMIUM`` names another Chromium binary.
"""
from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import threading
from pathlib import Path

import pytest

from test_book import toc_files, TOC

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

REQUIRE = os.environ.get("COURSEKIT_REQUIRE_BROWSER") == "1"
PAGE_TIMEOUT_MS = 30_000
SEARCH_TERM = "recurrent"
# Text that MathJax would have replaced: delimiters and environments left in the page.
RAW_TEX = r"\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{|\\end\{|\\frac\{|\\mathrm\{"


def _unavailable(why: str):
    if REQUIRE:
        pytest.fail(f"{why} (COURSEKIT_REQUIRE_BROWSER=1 makes this a failure)")
    pytest.skip(why)


def chromium_path() -> str | None:
    """Debian's Chromium (or ``COURSEKIT_CHROMIUM``), or None when there is none."""
    for candidate in (os.environ.get("COURSEKIT_CHROMIUM"), "chromium", "chromium-browser",
                      "/usr/bin/chromium"):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the test reports what matters; keep pytest's output clean
        pass


@pytest.fixture(scope="module")
def site(built_book):
    """The built HTML served on 127.0.0.1 for the module: its base URL."""
    rc, html_dir, log = built_book
    if rc not in (0, None) or not (html_dir / "index.html").is_file():
        pytest.fail(f"book build failed (exit {rc}):\n{log[-4000:]}")
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", html_dir
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install -e '.[test]')")
    exe = chromium_path()
    if exe is None:
        _unavailable("no Chromium browser found: install Debian's package "
                     "(sudo apt-get install chromium) or set COURSEKIT_CHROMIUM")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True)
        yield b
        b.close()


class Visit:
    """One browser context whose every request outside ``origin`` is aborted and recorded."""

    def __init__(self, browser, origin: str):
        self.origin = origin
        self.context = browser.new_context(service_workers="block")
        self.context.set_default_timeout(PAGE_TIMEOUT_MS)
        self.outside: list[str] = []
        self.context.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.origin) or url.startswith(("data:", "blob:", "about:")):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def open(self, url: str):
        """Load ``url``; return (page, problems) with console errors and failed requests."""
        problems: list[str] = []
        page = self.context.new_page()
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}")
                if r.url.startswith(self.origin) else None)
        page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}")
                if r.status >= 400 else None)
        page.goto(url, wait_until="load")
        page.wait_for_load_state("networkidle")
        return page, problems

    def close(self):
        self.context.close()


_MATH_READY = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  return !!(window.MathJax && MathJax.startup);
}"""

_PAGE_FACTS = r"""async (rawTex) => {
  const imgs = Array.from(document.querySelectorAll('img'));
  for (const img of imgs) { img.loading = 'eager'; }
  await Promise.all(imgs.map(img => img.decode().catch(() => null)));
  const main = document.querySelector('main, [role=main], article') || document.body;
  const clone = main.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container, textarea, .highlight')
       .forEach(n => n.remove());
  const text = clone.textContent;
  const raw = text.match(new RegExp(rawTex, 'g')) || [];
  const rawAt = raw.length ? text.slice(Math.max(0, text.search(new RegExp(rawTex)) - 40),
                                        text.search(new RegExp(rawTex)) + 40) : '';
  const views = Array.from(document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-view+json"]'));
  return {
    mathElements: main.querySelectorAll('.math').length,
    typeset: main.querySelectorAll('mjx-container').length,
    mathErrors: main.querySelectorAll('mjx-merror, [data-mjx-error]').length,
    raw: raw.length, rawAt: rawAt,
    images: imgs.map(img => ({
      src: img.getAttribute('src'), ok: img.complete && img.naturalWidth > 0,
      alt: (img.getAttribute('alt') || '').trim(),
      caption: !!(img.closest('figure') && img.closest('figure').querySelector('figcaption'))
    })),
    views: views.map(v => {
      const out = v.closest('.cell_output, .output') || v.parentElement;
      const rendered = out.querySelectorAll('.widget-subarea > *, .jupyter-widgets').length;
      const picture = Array.from(out.querySelectorAll('img'))
          .some(i => i.complete && i.naturalWidth > 0 &&
                     (i.compareDocumentPosition(v) & Node.DOCUMENT_POSITION_FOLLOWING));
      return {rendered: rendered, picture: picture};
    }),
    downloads: Array.from(document.querySelectorAll('a[href$=".ipynb"]'))
                    .map(a => a.href)
  };
}"""


_WIDGETS_RENDERED = """() => {
  const views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]');
  return views.length === 0 || document.querySelectorAll('.widget-subarea > *').length >= views.length;
}"""


def _wait_for_widgets(page) -> None:
    """Give the widget manager time to render the saved views (the check below reports it)."""
    try:
        page.wait_for_function(_WIDGETS_RENDERED, timeout=PAGE_TIMEOUT_MS)
    except Exception:  # playwright's TimeoutError: reported as "not rendered" below
        pass


def _page_urls(base: str) -> list[tuple[str, str]]:
    return [(f, base + f + ".html") for f in toc_files(TOC)]


def test_book_pages_work_in_the_browser(site, browser):
    base, html_dir = site
    root = Path(__file__).resolve().parents[1]
    visit = Visit(browser, base)
    failures: list[str] = []
    try:
        for doc, url in _page_urls(base):
            page, problems = visit.open(url)
            has_mathjax = page.evaluate(_MATH_READY)
            _wait_for_widgets(page)
            facts = page.evaluate(_PAGE_FACTS, RAW_TEX)
            bad = list(problems)
            if facts["mathElements"]:
                if not has_mathjax:
                    bad.append("has math but MathJax did not start")
                elif facts["typeset"] < facts["mathElements"]:
                    bad.append(f"{facts['mathElements']} math elements, "
                               f"{facts['typeset']} typeset")
            if facts["mathErrors"]:
                bad.append(f"{facts['mathErrors']} MathJax errors")
            if facts["raw"]:
                bad.append(f"{facts['raw']} raw TeX fragments, e.g. ...{facts['rawAt']!r}...")
            for img in facts["images"]:
                if not img["ok"]:
                    bad.append(f"image did not load: {img['src']}")
                if not (img["alt"] or img["caption"]):
                    bad.append(f"image without alt text or caption: {img['src']}")
            for i, view in enumerate(facts["views"]):
                if not view["rendered"]:
                    bad.append(f"widget view {i} not rendered from the saved state")
                if not view["picture"]:
                    bad.append(f"widget view {i} has no static picture before it")
            if (root / f"{doc}.ipynb").is_file():
                notebooks = [u for u in facts["downloads"] if u.startswith(base)
                             and u.endswith("/" + Path(doc).name + ".ipynb")]
                if not notebooks:
                    bad.append("no .ipynb download link")
                else:
                    reply = visit.context.request.get(notebooks[0])
                    try:
                        nb = json.loads(reply.body()) if reply.ok else {}
                    except ValueError:
                        nb = {}
                    if not nb.get("cells"):
                        bad.append(f".ipynb download did not serve the notebook "
                                   f"(HTTP {reply.status}): {notebooks[0]}")
            page.close()
            failures += [f"{doc}: {b}" for b in bad]
        failures += [f"request left the site: {u}" for u in visit.outside]
    finally:
        visit.close()
    assert not failures, "\n".join(failures)


def test_book_search_finds_a_term(site, browser):
    base, html_dir = site
    visit = Visit(browser, base)
    try:
        page, problems = visit.open(f"{base}search.html?q={SEARCH_TERM}")
        page.wait_for_selector("#search-results ul.search li a", timeout=PAGE_TIMEOUT_MS)
        hits = page.eval_on_selector_all("#search-results ul.search li a",
                                         "links => links.map(a => a.getAttribute('href'))")
        assert not problems, problems
        assert not visit.outside, visit.outside
    finally:
        visit.close()
    docs = {d + ".html" for d in toc_files(TOC)}
    assert any(h.split("#")[0].split("?")[0] in docs for h in hits), hits
