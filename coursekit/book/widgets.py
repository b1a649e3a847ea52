"""Helpers for the chapters' pictures and ipywidgets explorers.

Every explorer in the book follows one pattern: the computation is a plain,
tested function; a static figure of typical settings is displayed first (the
rendered book has no kernel, so that figure is what its reader sees); then the
interactive widget, whose output area redraws a figure as the controls move.
:func:`explore` displays the pair, :func:`figure_png` turns a figure into an image
that any backend can show, :func:`figure_frame` into the image a widget's output
area draws, with alt text (:func:`describe_figure`) saying what the figure shows.
"""
from __future__ import annotations

import base64
import html
import io
import re

from matplotlib.figure import Figure

__all__ = ["describe_figure", "explore", "figure_frame", "figure_png"]


def figure_png(fig: Figure, dpi: int = 100):
    """A PNG display object for ``fig`` (works with any matplotlib backend)."""
    from IPython.display import Image
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return Image(data=buf.getvalue(), format="png")


_TEX_WORDS = {"\\|": "‖", "\\partial ": "∂", "\\partial": "∂", "\\rho": "ρ", "\\phi": "φ", "\\tau": "τ",
              "\\alpha": "α", "\\sigma": "σ", "\\odot": "⊙", "\\cdot": "·", "\\to": "→"}
_TEX_DROP = str.maketrans("", "", "${}")


def describe_figure(fig: Figure) -> str:
    """Alt text for ``fig`` from what it says about itself: its title, then each panel's
    title and axis labels ("2 panels: hidden state h_t (x: step t, y: value); ...").
    """
    def clean(text: str) -> str:  # mathtext to plain words: $\|\partial L\|$ -> ‖∂L‖
        for tex, plain in _TEX_WORDS.items():
            text = text.replace(tex, plain)
        return " ".join(re.sub(r"\\([A-Za-z]+)", r"\1", text).translate(_TEX_DROP).split())

    parts = []
    if getattr(fig, "_suptitle", None) is not None and fig._suptitle.get_text().strip():
        parts.append(clean(fig._suptitle.get_text()))
    panels = []
    for ax in fig.get_axes():
        if not ax.get_visible() or not ax.axison and not ax.get_title():
            continue
        title = "; ".join(clean(t) for t in (ax.get_title(loc) for loc in ("left", "center", "right"))
                          if t.strip())
        axes = ", ".join(f"{name}: {clean(label)}" for name, label in
                         (("x", ax.get_xlabel()), ("y", ax.get_ylabel())) if label.strip())
        panel = " ".join(p for p in (title, f"({axes})" if axes else "") if p)
        if panel:
            panels.append(panel)
    if panels:
        parts.append(("1 panel: " if len(panels) == 1 else f"{len(panels)} panels: ")
                     + "; ".join(panels))
    return ". ".join(parts) if parts else "plot"


class _Frame:
    """A PNG of a figure as HTML ``<img>`` with alt text (see :func:`figure_frame`)."""

    def __init__(self, png: bytes, alt: str):
        self.png, self.alt = png, alt

    def _repr_mimebundle_(self, include=None, exclude=None):
        src = "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")
        return {"text/html": f'<img src="{src}" alt="{html.escape(self.alt)}"/>',
                "text/plain": f"<figure: {self.alt}>"}


def figure_frame(fig: Figure, alt: str | None = None, dpi: int = 100) -> _Frame:
    """``fig`` as the frame a widget's output area draws: a PNG with alt text.

    The rendered book draws widget outputs from the saved widget state with the
    widgets HTML manager, whose PNG renderer writes no ``alt``; an HTML ``<img>``
    carries it. ``alt`` defaults to :func:`describe_figure`.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return _Frame(buf.getvalue(), describe_figure(fig) if alt is None else alt)


def explore(static: Figure, build) -> None:
    """Display ``static`` (the rendered book's picture), then the widget ``build()`` makes.

    The widget is built after the picture is shown: building it draws its first frame,
    which must come second.
    """
    from IPython.display import display
    display(figure_png(static))
    display(build())
