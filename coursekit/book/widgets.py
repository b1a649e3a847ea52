"""Helpers for the chapters' pictures and ipywidgets explorers.

Every explorer in the book follows one pattern: the computation is a plain,
tested function; a static figure of typical settings is displayed first (the
rendered book has no kernel, so that figure is what its reader sees); then the
interactive widget, whose output area redraws a figure as the controls move.
:func:`explore` displays the pair, :func:`figure_png` turns a figure into an image
that any backend can show.
"""
from __future__ import annotations

import io

from matplotlib.figure import Figure

__all__ = ["figure_png", "explore"]


def figure_png(fig: Figure, dpi: int = 100):
    """A PNG display object for ``fig`` (works with any matplotlib backend)."""
    from IPython.display import Image
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return Image(data=buf.getvalue(), format="png")


def explore(static: Figure, build) -> None:
    """Display ``static`` (the rendered book's picture), then the widget ``build()`` makes.

    The widget is built after the picture is shown: building it draws its first frame,
    which must come second.
    """
    from IPython.display import display
    display(figure_png(static))
    display(build())
