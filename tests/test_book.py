"""The book builds with warnings as errors and its HTML works with no network.

One Jupyter Book build per test session (it executes every chapter notebook),
shared by the tests below (and the browser test) through the session fixture
``built_book`` of ``tests/conftest.py``:

- the build exits 0 with ``-W -n --keep-going`` and logs no Sphinx warning;
- every page listed in ``_toc.yml`` produced an HTML file;
- no HTML page loads anything (script, stylesheet, image, frame, font, ...)
  from outside the book, and no stylesheet imports an external URL;
- MathJax is loaded from the local file named in ``_config.yml``;
- every chapter page has a plot (an ``<img>`` whose file exists) and math;
- a page with widget views carries the saved widget state and the local
  RequireJS and widget-manager scripts, and every view's model is in that state;
- the references page lists every entry of the bibliography;
- the vendored offline assets match their recorded SHA-256 sums.
"""
from __future__ import annotations

import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# Sphinx logs problems as "file:line: WARNING: ..." / "ERROR: ..."; kernel log
# lines such as "[IPKernelApp] WARNING | ..." are not build warnings.
SPHINX_PROBLEM = re.compile(r"(WARNING|ERROR|CRITICAL|SEVERE):")
# Tag -> attributes through which a browser fetches something on page load.
LOADING_ATTRS = {
    "script": ("src",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "iframe": ("src",),
    "frame": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "input": ("src",),
}
CSS_EXTERNAL = re.compile(r"""(@import\s+|url\()\s*['"]?\s*(https?:)?//""", re.IGNORECASE)


# ---------------------------------------------------------------- helpers
def toc_files(toc: dict) -> list[str]:
    """Every document named in a jb-book ``_toc.yml``, root first."""
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return [re.sub(r"\.(md|ipynb)$", "", f) for f in files]


def is_external(url: str) -> bool:
    """True for a URL that leaves the book: a scheme with a host, or ``//host``."""
    url = url.strip()
    if url.startswith("//"):
        return True
    parts = urlsplit(url)
    return parts.scheme not in ("", "data", "blob", "about", "javascript", "mailto")


class PageParser(HTMLParser):
    """Collects the tags of one page that matter to these tests."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.resources: list[tuple[str, str, str]] = []   # (tag, attr, url)
        self.scripts: list[dict] = []                      # attrs + "body"
        self.imgs: list[str] = []
        self.math = 0
        self.styles: list[str] = []
        self._script: dict | None = None
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        for attr in LOADING_ATTRS.get(tag, ()):
            if a.get(attr):
                urls = [u.split()[0] for u in a[attr].split(",") if u.strip()] \
                    if attr == "srcset" else [a[attr]]
                self.resources += [(tag, attr, u) for u in urls]
        if "style" in a:
            self.styles.append(a["style"])
        if tag == "script":
            self._script = dict(a, body="")
        elif tag == "style":
            self._in_style = True
        elif tag == "img":
            self.imgs.append(a.get("src", ""))
        if "math" in a.get("class", "").split():
            self.math += 1

    def handle_data(self, data):
        if self._script is not None:
            self._script["body"] += data
        elif self._in_style:
            self.styles.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append(self._script)
            self._script = None
        elif tag == "style":
            self._in_style = False


def parse(path: Path) -> PageParser:
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def local_target(page: Path, url: str) -> Path:
    """The file a page-relative URL points at (query and fragment dropped)."""
    return (page.parent / urlsplit(url).path).resolve()


# ---------------------------------------------------------------- the build
@pytest.fixture(scope="module")
def book(built_book):
    """The session's one build (``tests/conftest.py``): (returncode, html_dir, log)."""
    return built_book


@pytest.fixture(scope="module")
def html(book):
    rc, html_dir, log = book
    if rc not in (0, None) or not html_dir.is_dir():
        pytest.fail(f"book build failed (exit {rc}):\n{log[-6000:]}")
    return html_dir


@pytest.fixture(scope="module")
def pages(html):
    """Parsed HTML pages (theme template snippets under _static/ are not pages)."""
    return {p: parse(p) for p in sorted(html.rglob("*.html"))
            if "_static" not in p.relative_to(html).parts}


def test_build_succeeds_without_warnings(book):
    rc, html_dir, log = book
    if rc is None:
        pytest.skip(f"COURSEKIT_BOOK_HTML: reusing the build in {html_dir}; not built here")
    problems = [line for line in log.splitlines() if SPHINX_PROBLEM.search(line)]
    assert rc == 0, f"jupyter-book build exited {rc}:\n{log[-6000:]}"
    assert not problems, "build logged warnings/errors:\n" + "\n".join(problems)
    assert (html_dir / "index.html").is_file()


def test_every_toc_page_has_html(html):
    missing = [f for f in toc_files(TOC) if not (html / f"{f}.html").is_file()]
    assert not missing, f"no HTML for toc entries: {missing}"


def test_no_external_resources(html, pages):
    offenders = []
    for page, parsed in pages.items():
        rel = page.relative_to(html)
        offenders += [f"{rel}: <{tag} {attr}={url!r}>"
                      for tag, attr, url in parsed.resources if is_external(url)]
        offenders += [f"{rel}: external url in style: {s[:120]!r}"
                      for s in parsed.styles if CSS_EXTERNAL.search(s)]
        for script in parsed.scripts:
            cdn = script.get("data-jupyter-widgets-cdn")
            if cdn and is_external(cdn):
                offenders.append(f"{rel}: widget manager would fetch from {cdn!r}")
    for css in sorted(html.rglob("*.css")):
        if CSS_EXTERNAL.search(css.read_text(encoding="utf-8", errors="replace")):
            offenders.append(f"{css.relative_to(html)} imports an external URL")
    assert pages, "no HTML pages were built"
    assert not offenders, "external resources:\n" + "\n".join(offenders)


def test_local_resources_exist(html, pages):
    """Every local script, stylesheet and image a page loads is in the output."""
    missing = []
    for page, parsed in pages.items():
        for tag, attr, url in parsed.resources:
            if is_external(url) or url.startswith(("data:", "#")):
                continue
            if not local_target(page, url).is_file():
                missing.append(f"{page.relative_to(html)}: <{tag} {attr}={url!r}>")
    assert not missing, "missing files:\n" + "\n".join(missing)


def test_mathjax_is_local(html, pages):
    mathjax = CONFIG["sphinx"]["config"]["mathjax_path"]
    assert not is_external(mathjax)
    math_pages = [p for p, parsed in pages.items() if parsed.math]
    assert math_pages, "no page has math"
    for page in math_pages:
        srcs = [s["src"] for s in pages[page].scripts
                if urlsplit(s.get("src", "")).path.endswith("/" + mathjax)]
        assert srcs, f"{page.relative_to(html)} has math but does not load {mathjax}"
        target = local_target(page, srcs[0])
        assert target.is_file() and target.stat().st_size > 100_000, target
        fonts = target.parent / "output" / "chtml" / "fonts" / "woff-v2"
        assert any(fonts.glob("*.woff")), f"MathJax fonts missing under {fonts}"


def chapter_pages(html) -> list[Path]:
    chapters = [f for f in toc_files(TOC) if re.match(r"\d\d_", Path(f).name)]
    return [html / f"{f}.html" for f in chapters]


def test_chapters_have_a_plot_and_math(html, pages):
    chapters = chapter_pages(html)
    assert chapters, "the toc lists no chapter notebooks (book/NN_name)"
    for page in chapters:
        parsed = pages[page]
        plots = [src for src in parsed.imgs
                 if src and not is_external(src) and local_target(page, src).is_file()]
        assert plots, f"{page.name}: no <img> with a built image file"
        assert parsed.math, f"{page.name}: no typeset math"


def test_widget_views_have_state_and_local_manager(html, pages):
    for page in chapter_pages(html):
        scripts = pages[page].scripts
        views = [s for s in scripts if s.get("type") == WIDGET_VIEW]
        if not views:
            continue
        states = [s for s in scripts if s.get("type") == WIDGET_STATE]
        assert len(states) == 1, f"{page.name}: widget views without saved state"
        models = json.loads(states[0]["body"])["state"]
        for view in views:
            model_id = json.loads(view["body"])["model_id"]
            assert model_id in models, f"{page.name}: view of unsaved model {model_id}"
        srcs = [urlsplit(s["src"]).path for s in scripts if s.get("src")]
        for name in ("require.js", "embed-amd.js"):
            found = [s for s in srcs if s.endswith("/" + name)]
            assert found, f"{page.name}: {name} not loaded"
            assert not is_external(found[0])
            assert local_target(page, found[0]).is_file()


def test_references_page_lists_every_entry(html, pages):
    bib = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    keys = re.findall(r"^@\w+\{([^,\s]+),", bib, flags=re.MULTILINE)
    text = (html / "book" / "references.html").read_text(encoding="utf-8")
    entries = re.findall(r'role="doc-biblioentry"', text)
    assert len(keys) >= 19
    assert len(entries) == len(keys), (len(entries), len(keys))


def test_offline_assets_match_checksums():
    """book/_static/offline/ holds exactly what fetch_assets.sh recorded."""
    folder = ROOT / "book" / "_static" / "offline"
    lines = (folder / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    recorded = dict(reversed(line.split(maxsplit=1)) for line in lines if line.strip())
    present = {p.relative_to(folder).as_posix() for sub in ("mathjax", "requirejs", "html-manager")
               for p in (folder / sub).rglob("*") if p.is_file()}
    assert present == set(recorded), present ^ set(recorded)
    for name, digest in recorded.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name


def test_package_map_page_lists_every_module(html):
    """The appendix is generated at build time from the docstrings: every module is on it."""
    from coursekit.cli import package_map
    text = (html / "book" / "package_map.html").read_text(encoding="utf-8")
    missing = [r["module"] for r in package_map()
               if not re.search(r">\s*" + re.escape(r["module"]) + r"\s*<", text)]
    assert not missing, missing
