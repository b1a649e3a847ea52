"""coursekit.book.site: the Sphinx fixes that keep the book's pages free of console errors."""
from types import SimpleNamespace

from coursekit.book import site


def js(filename, **attributes):
    return SimpleNamespace(filename=filename, attributes=attributes)


def test_repeated_scripts_are_dropped_in_order():
    thebe = 'const THEBE_JS_URL = "x"'
    scripts = [js("a.js"), js(None, body=thebe), js("b.js", **{"async": "async"}),
               js("", body=thebe), js("a.js"), js("b.js"), js(None, body="let y = 1")]
    context = {"script_files": scripts}
    site.dedupe_scripts(None, "page", "page.html", context, None)
    kept = [(s.filename, s.attributes.get("body"), s.attributes.get("async")) for s in context["script_files"]]
    assert kept == [("a.js", None, None), (None, thebe, None), ("b.js", None, "async"),
                    ("b.js", None, None), (None, "let y = 1", None)]


def test_default_mode_is_set_unless_given():
    context = {"script_files": [], "default_mode": ""}
    site.dedupe_scripts(None, "page", "page.html", context, None)
    assert context["default_mode"] == "light"
    context = {"script_files": [], "default_mode": "dark"}
    site.dedupe_scripts(None, "page", "page.html", context, None)
    assert context["default_mode"] == "dark"
