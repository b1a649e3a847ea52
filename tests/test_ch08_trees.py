"""coursekit.book.ch08_trees: the tree drawing, the worked example, the results tables and the
explorer's node values (on a freshly built, untrained classifier)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from coursekit.book import ch08_trees as ch08
from coursekit.data import listops
from coursekit.data.trees import parse_tree
from coursekit.models.listops import TreeClassifier
from coursekit.nn import tree as tr


def test_layout_puts_parents_above_their_children():
    labels, children = parse_tree("(MAX 2 (MIN 3 4) 5)")
    x, y = ch08.tree_layout(children)
    assert x.tolist() == [0, 1, 2, 1.5, 3, (0 + 1.5 + 3) / 3]
    assert y.tolist() == [0, 0, 0, 1, 0, 2]
    fig = ch08.draw_tree(labels, children, notes=[str(v) for v in range(6)])
    plt.close(fig)


def test_tiny_example_is_a_binary_tree_the_treernn_reads():
    labels, children, x, We, W, b = ch08.tiny_example()
    h, _ = tr.treernn_forward(x, children, We, W, b)
    assert h.shape == (7, 2) and labels[-1] is None


def test_accuracy_table_and_plot_from_a_results_record():
    runs = {name: [{"seed": s, "accuracy_by_depth": {"1": 0.5 + 0.1 * s, "2": 0.2}}
                   for s in range(3)] for name in ("treelstm", "lstm")}
    results = {"runs": runs, "steps": 10, "batch_size": 4}
    table = ch08.accuracy_table(results)
    assert np.allclose(table["lstm"][1], (0.6, 0.5, 0.7)) and np.isclose(table["treelstm"][2][0], 0.2)
    plt.close(ch08.plot_accuracy_by_depth(results))


def test_node_values_follow_the_subexpressions():
    model = TreeClassifier(8, 4, seed=0)
    _, children, values = ch08.node_values(model, "(MAX 2 (MIN 3 4) 5)")
    assert [v[0] for v in values if v is not None] == [3, 5]
    assert all(v is None for v, row in zip(values, children) if not row)
    plt.close(ch08.explorer_figure(model, ch08.EXAMPLES[1]))
    for text in ch08.EXAMPLES:
        listops.from_string(text)
