"""Sphinx fixes that keep the rendered book free of browser console errors.

``tests/test_browser.py`` opens every page in Chromium and fails on any console error.
Two came from the theme stack of Jupyter Book 1, and this extension (listed under
``sphinx: extra_extensions`` in ``_config.yml``) removes them:

- sphinx-thebe and sphinx-togglebutton register their inline configuration scripts
  after the HTML builder has read the registry, so every page carried them twice, and
  the second ``const THEBE_JS_URL = ...`` threw "Identifier 'THEBE_JS_URL' has already
  been declared": :func:`dedupe_scripts` keeps the first copy of each script;
- with no ``default_mode`` the pydata theme logs "Got invalid theme mode": the book's
  mode is set to ``light`` (its figures have white backgrounds) unless one is given.
"""
from __future__ import annotations


def _key(script) -> tuple:
    attrs = getattr(script, "attributes", {}) or {}
    return (str(getattr(script, "filename", script)), tuple(sorted((k, str(v)) for k, v in attrs.items())))


def dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context``: drop repeated entries of ``script_files`` (same file or body)."""
    seen, kept = set(), []
    for script in context.get("script_files", []):
        key = _key(script)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def _default_mode(app, config) -> None:
    theme = dict(config.html_theme_options or {})
    if not theme.get("default_mode"):
        theme["default_mode"] = "light"
        config.html_theme_options = theme


def setup(app):
    """Sphinx entry point (``sphinx: extra_extensions: [coursekit.book.site]``)."""
    app.connect("config-inited", _default_mode)
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
