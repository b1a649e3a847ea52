"""Launch buttons: off by default, on with one setting; the Colab setup cell; the downloads.

- with no setting the Sphinx extension leaves the theme options alone, and the session's
  book build (``built_book``) has no launch link and no outside URL in any link;
- ``COURSEKIT_REPOSITORY_URL`` alone turns on Binder and Colab (and JupyterHub with a hub
  URL), pointing at that repository; a malformed URL is a clear error;
- :func:`prepare` puts the setup cell first in every notebook page of ``_toc.yml``,
  hidden in the book, idempotently; the cell does nothing outside Colab and installs
  coursekit from the repository inside it;
- every notebook page of the built book links its ``.ipynb`` download, and the file it
  links is the chapter's notebook.
"""
from __future__ import annotations

import json
import re
import shutil
import sys
import types
from pathlib import Path

import pytest

from coursekit.book import launch

ROOT = Path(__file__).resolve().parents[1]
URL = "https://github.com/someone/rnn-course"


class FakeConfig:
    def __init__(self, theme):
        self.html_theme_options = theme


def apply(theme, monkeypatch, **env):
    for key in ("COURSEKIT_REPOSITORY_URL", "COURSEKIT_JUPYTERHUB_URL", "COURSEKIT_REPOSITORY_BRANCH"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    config = FakeConfig(theme)
    launch._apply(None, config)
    return config.html_theme_options


def test_off_by_default(monkeypatch):
    theme = {"launch_buttons": {"binderhub_url": "", "colab_url": "", "thebe": False}}
    assert apply(dict(theme), monkeypatch) == theme


def test_one_setting_switches_binder_and_colab_on(monkeypatch):
    theme = apply({"launch_buttons": {"binderhub_url": "", "thebe": False}}, monkeypatch,
                  COURSEKIT_REPOSITORY_URL=URL + "/")
    assert theme["repository_url"] == URL and theme["repository_branch"] == "main"
    buttons = theme["launch_buttons"]
    assert buttons["binderhub_url"] == launch.BINDER_URL and buttons["colab_url"] == launch.COLAB_URL
    assert "jupyterhub_url" not in buttons
    hub = apply({}, monkeypatch, COURSEKIT_REPOSITORY_URL=URL,
                COURSEKIT_JUPYTERHUB_URL="https://hub.example.edu", COURSEKIT_REPOSITORY_BRANCH="launch")
    assert hub["launch_buttons"]["jupyterhub_url"] == "https://hub.example.edu"
    assert hub["repository_branch"] == "launch"


def test_config_repository_url_is_the_same_setting(monkeypatch):
    theme = apply({"repository_url": URL}, monkeypatch)
    assert theme["launch_buttons"]["colab_url"] == launch.COLAB_URL


def test_jupyter_books_default_repository_does_not_count(monkeypatch):
    theme = {"repository_url": "https://github.com/executablebooks/jupyter-book",
             "launch_buttons": {"binderhub_url": ""}}
    assert apply(dict(theme), monkeypatch) == theme


def test_malformed_repository_url_is_a_clear_error(monkeypatch):
    with pytest.raises(ValueError, match="COURSEKIT_REPOSITORY_URL"):
        apply({}, monkeypatch, COURSEKIT_REPOSITORY_URL="github.com/someone")


def test_config_registers_the_extension():
    import yaml
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert "coursekit.book.launch" in config["sphinx"]["extra_extensions"]
    assert not any(v for k, v in config["launch_buttons"].items() if k.endswith("_url"))
    assert not (config.get("repository") or {}).get("url"), "a repository URL turns buttons on"


def test_prepare_puts_the_setup_cell_first_everywhere(tmp_path):
    shutil.copy(ROOT / "_toc.yml", tmp_path / "_toc.yml")
    shutil.copytree(ROOT / "book", tmp_path / "book", ignore=shutil.ignore_patterns("_static"))
    notebooks = launch.toc_notebooks(tmp_path)
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    assert len(notebooks) == len([n for n in re.findall(r"file:\s*(\S+)", toc)
                                  if (ROOT / f"{n}.ipynb").is_file()])
    changed = launch.prepare(tmp_path, URL, "launch")
    assert sorted(changed) == sorted(notebooks)
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        first = nb["cells"][0]
        assert first["cell_type"] == "code" and "remove-cell" in first["metadata"]["tags"]
        assert f"git+{URL}.git@launch" in "".join(first["source"])
        original = json.loads((ROOT / path.relative_to(tmp_path)).read_text(encoding="utf-8"))
        assert nb["cells"][1:] == original["cells"]
    assert launch.prepare(tmp_path, URL, "launch") == []          # idempotent
    launch.prepare(tmp_path, URL + "-fork", "main")               # re-pointed, not duplicated
    nb = json.loads(notebooks[0].read_text(encoding="utf-8"))
    assert sum(launch.CELL_TAG in c["metadata"].get("tags", []) for c in nb["cells"]) == 1


def test_setup_cell_installs_only_inside_colab(monkeypatch):
    import subprocess
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(cmd))
    code = launch.install_source(URL, "launch")
    exec(compile(code, "setup-cell", "exec"), {})
    assert calls == []
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    exec(compile(code, "setup-cell", "exec"), {})
    assert calls and calls[0][1:4] == ["-m", "pip", "install"]
    assert calls[0][-1] == f"coursekit @ git+{URL}.git@launch"


def test_command_line_requires_a_repository(monkeypatch, capsys):
    monkeypatch.delenv("COURSEKIT_REPOSITORY_URL", raising=False)
    with pytest.raises(SystemExit) as exc:
        launch.main(["--root", str(ROOT)])
    assert exc.value.code == 2 and "--repository" in capsys.readouterr().err


# ---------------------------------------------------------------- the built book
@pytest.fixture(scope="module")
def html(built_book):
    rc, html_dir, log = built_book
    if rc not in (0, None) or not (html_dir / "index.html").is_file():
        pytest.fail(f"book build failed (exit {rc}):\n{log[-4000:]}")
    return html_dir


def notebook_pages(html_dir):
    from test_book import TOC, toc_files
    return [(doc, html_dir / f"{doc}.html") for doc in toc_files(TOC)
            if (ROOT / f"{doc}.ipynb").is_file()]


@pytest.mark.slow
def test_built_book_has_no_launch_links(html):
    offenders = []
    for page in sorted(html.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        for name in ("mybinder.org", "colab.research.google.com", "hub/user-redirect"):
            if name in text:
                offenders.append(f"{page.relative_to(html)}: {name}")
    assert not offenders, offenders


@pytest.mark.slow
def test_book_notebook_pages_offer_their_ipynb(html):
    pages = notebook_pages(html)
    assert pages
    for doc, page in pages:
        text = page.read_text(encoding="utf-8")
        links = re.findall(r'href="([^"]+\.ipynb)"', text)
        assert links, f"{doc}: no .ipynb download link"
        target = (page.parent / links[0]).resolve()
        assert target.is_file(), f"{doc}: {links[0]} is not in the built site"
        nb = json.loads(target.read_text(encoding="utf-8"))
        source = json.loads((ROOT / f"{doc}.ipynb").read_text(encoding="utf-8"))
        assert [c["source"] for c in nb["cells"]] == [c["source"] for c in source["cells"]], doc
