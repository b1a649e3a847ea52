"""coursekit.data.listops and coursekit.models.listops (chapter 8): the generator's rules,
its determinism, the tree and token views, and the classifiers' batching."""
import numpy as np
import pytest
import torch

from coursekit.data import listops as L
from coursekit.data.trees import levels, parents
from coursekit.models.listops import (
    SequenceClassifier,
    TreeClassifier,
    accuracy_by_depth,
    fit,
    node_scores,
    predict,
    sequence_batch,
    tree_batch,
)


@pytest.mark.parametrize("text,value", [("(MAX 2 (MIN 3 4) 5)", 5), ("(MIN 7 (MAX 1 8) 9)", 7),
                                        ("(MED 1 7 (SM 5 9))", 4), ("(MED 1 2 3 9)", 2),
                                        ("(SM 9 9 (SM 5 5))", 8)])
def test_evaluate_follows_the_rules(text, value):
    assert L.evaluate(L.from_string(text)) == value


def test_dataset_is_deterministic_and_has_exact_depths():
    a = L.dataset(20, (1, 3, 5), seed=4)
    b = L.dataset(20, (1, 3, 5), seed=4)
    assert [L.to_string(e) for e in a[0]] == [L.to_string(e) for e in b[0]]
    assert [L.depth(e) for e in a[0]] == a[2].tolist()
    assert np.array_equal(a[1], [L.evaluate(e) for e in a[0]])
    c = L.dataset(20, (1, 3, 5), seed=5)
    assert [L.to_string(e) for e in a[0]] != [L.to_string(e) for e in c[0]]
    for e in a[0]:
        assert L.from_string(L.to_string(e)) == e
        args = [x for x in _walk(e)]
        assert all(2 <= k <= 4 for k in args)


def _walk(e):
    if isinstance(e, tuple):
        yield len(e[1])
        for a in e[1]:
            yield from _walk(a)


def test_operators_subset():
    exprs, _, _ = L.dataset(30, (2,), seed=1, operators=("MAX",))
    assert all("MIN" not in L.to_string(e) and "SM" not in L.to_string(e) for e in exprs)
    with pytest.raises(ValueError, match="operators"):
        L.dataset(3, (1,), operators=("POW",))


def test_binary_tree_leaves_are_the_tokens_and_closing_nodes_hold_subexpressions():
    e = L.from_string("(MAX 2 (MIN 3 4) (SM 5 6) 1)")
    ids, children, is_leaf = L.binary_tree(e)
    assert [L.VOCAB[i] for i in ids[is_leaf]] == L.tokens(e)
    assert all(len(r) in (0, 2) for r in children)
    assert (ids[~is_leaf] == 0).all()
    subs = L.subexpressions(e)
    assert [(L.to_string(s), v) for s, v, _ in subs] == [("(MIN 3 4)", 3), ("(SM 5 6)", 1),
                                                       ("(MAX 2 (MIN 3 4) (SM 5 6) 1)", 3)]
    assert subs[-1][2] == len(children) - 1
    assert parents(children)[-1] == -1 and levels(children).max() >= L.depth(e)


def test_bad_input():
    with pytest.raises(ValueError, match="digit"):
        L.evaluate(12)
    with pytest.raises(ValueError, match="operator"):
        L.from_string("(POW 2 3)")


def test_tree_classifier_batches_trees_like_single_trees():
    exprs, _y, _d = L.dataset(3, (1, 2, 3), seed=2)
    torch.manual_seed(0)
    model = TreeClassifier(16, 8, seed=1).double()
    together = model(tree_batch(exprs))
    alone = torch.cat([model(tree_batch([e])) for e in exprs])
    torch.testing.assert_close(together, alone, atol=1e-12, rtol=0)
    _ids, children, probs = node_scores(model, exprs[-1])
    assert probs.shape == (len(children), 10) and np.allclose(probs.sum(1), 1)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_sequence_classifier_ignores_padding(bidirectional):
    exprs, _y, _d = L.dataset(2, (1, 3), seed=3)
    model = SequenceClassifier(16, 8, bidirectional=bidirectional).double()
    together = model(sequence_batch(exprs))
    alone = torch.cat([model(sequence_batch([e])) for e in exprs])
    torch.testing.assert_close(together, alone, atol=1e-12, rtol=0)


def test_fit_lowers_the_loss_and_accuracy_by_depth():
    exprs, y, d = L.dataset(40, (1,), seed=6)
    model = TreeClassifier(16, 8, seed=0)
    hist = fit(model, exprs, y, steps=40, batch_size=16, lr=1e-2, seed=0)
    assert np.mean(hist["loss"][-5:]) < np.mean(hist["loss"][:5])
    acc = accuracy_by_depth(predict(model, exprs), y, d)
    assert set(acc) == {1} and 0 <= acc[1] <= 1
