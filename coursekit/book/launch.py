"""Launch buttons (Binder, Colab, JupyterHub) for the book: off by default, on with one setting.

The rendered book references no outside URL unless it is asked to. One setting switches
the launch buttons on: the environment variable ``COURSEKIT_REPOSITORY_URL`` (for example
``https://github.com/OWNER/REPO``; the Pages workflow sets it to the repository it runs
in) or, equivalently, ``repository: url:`` in ``_config.yml``. Then every chapter page
gets Binder and Colab buttons, and a JupyterHub button where ``COURSEKIT_JUPYTERHUB_URL``
(or ``launch_buttons: jupyterhub_url:``) names a hub. ``COURSEKIT_REPOSITORY_BRANCH``
picks the branch the buttons open (default ``main``).

A notebook opened in Colab has no coursekit, so the chapters carry, first, a setup cell
that installs it from the repository when (and only when) it runs inside Colab; it is
hidden in the rendered book (tag ``remove-cell``). :func:`prepare` writes that cell into
every notebook page of ``_toc.yml``, pointing at the configured repository; the Pages
workflow runs it before the build, so the published book, the ``.ipynb`` downloads and
the branch the buttons open all carry it::

    python coursekit/book/launch.py --repository https://github.com/OWNER/REPO

This file is also the Sphinx extension that applies the setting (``_config.yml`` lists
it under ``sphinx: extra_extensions``). It uses the standard library only, so the
workflow can run it before anything is installed.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

BINDER_URL = "https://mybinder.org"
COLAB_URL = "https://colab.research.google.com"
CELL_TAG = "coursekit-colab-install"


def launch_settings(environ=None, config_url: str = "", config_branch: str = "",
                    config_hub: str = "") -> dict | None:
    """The theme options that switch the buttons on, or None when no repository is set.

    ``environ`` (default ``os.environ``) wins over the ``_config.yml`` values passed in.
    """
    env = os.environ if environ is None else environ
    url = (env.get("COURSEKIT_REPOSITORY_URL") or config_url or "").strip().rstrip("/")
    if not url:
        return None
    if not re.match(r"https://[^/\s]+/[^/\s]+/[^/\s]+$", url):
        raise ValueError(f"COURSEKIT_REPOSITORY_URL must look like https://HOST/OWNER/REPO, got {url!r}")
    buttons = {"notebook_interface": "jupyterlab", "binderhub_url": BINDER_URL,
               "colab_url": COLAB_URL}
    hub = (env.get("COURSEKIT_JUPYTERHUB_URL") or config_hub or "").strip()
    if hub:
        buttons["jupyterhub_url"] = hub
    return {"repository_url": url,
            "repository_branch": env.get("COURSEKIT_REPOSITORY_BRANCH") or config_branch or "main",
            "path_to_docs": "", "launch_buttons": buttons}


def install_source(repository: str, branch: str = "main") -> str:
    """The setup cell's code: installs coursekit from ``repository`` inside Colab only."""
    spec = f"coursekit @ git+{repository.rstrip('/')}.git@{branch}"
    return ("# Google Colab only (the book's launch button): install the course package first.\n"
            "# Everywhere else coursekit is already installed and this cell does nothing.\n"
            "import sys\n"
            "if \"google.colab\" in sys.modules:\n"
            "    import subprocess\n"
            f"    subprocess.run([sys.executable, \"-m\", \"pip\", \"install\", \"-q\", {spec!r}], check=True)\n")


def toc_notebooks(root: Path) -> list[Path]:
    """The ``.ipynb`` pages that ``_toc.yml`` names (read without a YAML library)."""
    text = (root / "_toc.yml").read_text(encoding="utf-8")
    names = re.findall(r"^\s*(?:-\s*)?(?:file|root):\s*([^\s#]+)", text, flags=re.MULTILINE)
    found = []
    for name in names:
        path = root / (name if name.endswith(".ipynb") else name + ".ipynb")
        if path.is_file():
            found.append(path)
    return found


def add_install_cell(nb: dict, repository: str, branch: str = "main") -> dict:
    """``nb`` (notebook JSON) with the setup cell first, replacing an older one."""
    cells = [c for c in nb["cells"] if CELL_TAG not in c.get("metadata", {}).get("tags", [])]
    cell = {"cell_type": "code", "execution_count": None, "outputs": [],
            "metadata": {"tags": ["remove-cell", CELL_TAG]},
            "source": install_source(repository, branch).splitlines(keepends=True)}
    if nb.get("nbformat", 4) >= 4 and nb.get("nbformat_minor", 0) >= 5:
        cell["id"] = CELL_TAG
    return dict(nb, cells=[cell, *cells])


def prepare(root: Path, repository: str, branch: str = "main") -> list[Path]:
    """Write the Colab setup cell into every notebook page of ``root``'s ``_toc.yml``."""
    changed = []
    for path in toc_notebooks(Path(root)):
        nb = json.loads(path.read_text(encoding="utf-8"))
        new = add_install_cell(nb, repository, branch)
        if new != nb:
            path.write_text(json.dumps(new, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            changed.append(path)
    return changed


def _apply(app, config) -> None:
    """Sphinx ``config-inited``: switch the launch buttons on when the setting is given."""
    theme = dict(config.html_theme_options or {})
    given = theme.get("launch_buttons") or {}
    # Jupyter Book fills repository_url with its own repository when none is configured,
    # so only a URL other than that default counts as configured.
    url = theme.get("repository_url", "")
    url = "" if url.rstrip("/").endswith("executablebooks/jupyter-book") else url
    settings = launch_settings(config_url=url,
                               config_branch=theme.get("repository_branch", ""),
                               config_hub=given.get("jupyterhub_url", ""))
    if settings is None:
        return
    buttons = {**{k: v for k, v in given.items() if v}, **settings.pop("launch_buttons")}
    theme.update(settings, launch_buttons=buttons)
    config.html_theme_options = theme


def setup(app):
    """Sphinx entry point (``sphinx: extra_extensions: [coursekit.book.launch]``)."""
    app.connect("config-inited", _apply)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Write the Colab setup cell into every chapter.")
    ap.add_argument("--repository", default=os.environ.get("COURSEKIT_REPOSITORY_URL", ""),
                    help="https://HOST/OWNER/REPO (default: $COURSEKIT_REPOSITORY_URL)")
    ap.add_argument("--branch", default=os.environ.get("COURSEKIT_REPOSITORY_BRANCH", "main"))
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2])
    args = ap.parse_args(argv)
    settings = launch_settings({"COURSEKIT_REPOSITORY_URL": args.repository})
    if settings is None:
        ap.error("give --repository or set COURSEKIT_REPOSITORY_URL")
    changed = prepare(args.root, settings["repository_url"], args.branch)
    print(f"Colab setup cell written into {len(changed)} notebooks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
