"""The frames a widget's output area draws carry alt text (coursekit.book.widgets).

The rendered book draws widget outputs with the widgets HTML manager, whose PNG renderer
writes no ``alt``; :func:`figure_frame` is an HTML ``<img>`` whose alt says what it shows.
"""
import base64
import re

from matplotlib.figure import Figure

from coursekit.book.widgets import describe_figure, figure_frame


def _figure():
    fig = Figure(figsize=(4, 2))
    left, right = fig.subplots(1, 2)
    left.plot([0, 1], [1, 0])
    left.set(title=r"$\|\partial L/\partial h_t\|$ at $\rho = 0.9$", xlabel="step t", ylabel="norm")
    right.set_title("eigenvalues of $W_{hh}$")
    return fig


def test_describe_figure_reads_titles_and_labels_as_plain_text():
    assert describe_figure(_figure()) == ("2 panels: ‖∂L/∂h_t‖ at ρ = 0.9 (x: step t, y: norm); "
                                          "eigenvalues of W_hh")
    fig = Figure()
    fig.suptitle("loss")
    fig.subplots().set_xlabel("step")
    assert describe_figure(fig) == "loss. 1 panel: (x: step)"


def test_figure_frame_is_a_png_img_with_that_alt():
    fig = _figure()
    bundle = figure_frame(fig)._repr_mimebundle_()
    img = bundle["text/html"]
    src = re.search(r'src="data:image/png;base64,([^"]+)"', img).group(1)
    assert base64.b64decode(src)[:8] == b"\x89PNG\r\n\x1a\n"
    assert re.search(r'alt="([^"]+)"', img).group(1) == describe_figure(fig)
    given = figure_frame(fig, alt='a "quoted" <b>')._repr_mimebundle_()["text/html"]
    assert 'alt="a &quot;quoted&quot; &lt;b&gt;"' in given
