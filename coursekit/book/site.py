"""Sphinx fixes that keep the rendered book free of browser console errors.

``tests/test_browser.py`` opens every page in Chromium and fails on any console error.
Two came from the theme stack of Jupyter Book 1, and this extension (listed under
``sphinx: extra_extensions`` in ``_config.yml``) removes them:

- sphinx-thebe and sphinx-togglebutton register their inline configuration scripts
  after the HTML builder has read the registry, so every page carried them twice, and
  the second ``const THEBE_JS_URL = ...`` threw "Identifier 'THEBE_JS_URL' has already
  been declared": :func:`dedupe_scripts` keeps the first copy of each script;
- the pydata theme's page script reads the template variable ``default_mode``, which
  sphinx-book-theme neither sets nor accepts as a theme option, and logs "Got invalid
  theme mode" when it is empty: :func:`dedupe_scripts` also sets it to ``light`` (the
  figures have white backgrounds) where it is empty.
"""
from __future__ import annotations


def _key(script) -> tuple:
    attrs = getattr(script, "attributes", {}) or {}
    # an inline script's filename is None when registered early and "" when late
    return (str(getattr(script, "filename", script) or ""), tuple(sorted((k, str(v)) for k, v in attrs.items())))


def dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context``: drop repeated entries of ``script_files`` (same file or body);
    set an empty ``default_mode`` to ``light``."""
    seen, kept = set(), []
    for script in context.get("script_files", []):
        key = _key(script)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    # in place: the list is the builder's own, to which later handlers add page scripts
    context["script_files"][:] = kept
    if not context.get("default_mode"):
        context["default_mode"] = "light"


def setup(app):
    """Sphinx entry point (``sphinx: extra_extensions: [coursekit.book.site]``)."""
    # early: html-page-context stops at the first handler that returns a template name
    app.connect("html-page-context", dedupe_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
