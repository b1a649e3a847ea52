"""coursekit.nn.tree and tree_torch: recursive networks over trees (chapter 8).

Tree helpers (parsing, levels, depths, forests, binarising); the numpy TreeRNN,
child-sum and binary Tree-LSTM against independent torch formulas (node by node) and
the level-batched torch twins in float64; every backward against finite differences
and autograd; the chain property (child-sum Tree-LSTM on a chain = lstm_forward);
bad input; float32."""
import numpy as np
import pytest
import torch

from coursekit.data import trees as T
from coursekit.nn import tree as tr
from coursekit.nn import tree_torch as tt
from coursekit.nn.lstm import lstm_forward
from coursekit.train.gradcheck import numerical_gradient_array, rel_error

D, H = 3, 4


def random_tree(rng, n_leaves, max_arity=None):
    """A random tree in post-order: binary (max_arity None) or of arity 1..max_arity."""
    children, frontier = [], []
    for _ in range(n_leaves):
        children.append([])
        frontier.append(len(children) - 1)
    while len(frontier) > 1:
        k = 2 if max_arity is None else int(rng.integers(1, min(max_arity, len(frontier)) + 1))
        idx = sorted(rng.choice(len(frontier), size=k, replace=False))
        picked = [frontier[i] for i in idx]
        frontier = [f for i, f in enumerate(frontier) if i not in idx]
        children.append(picked)
        frontier.append(len(children) - 1)
    return children


def forest_of(seed, binary, n_trees=3):
    rng = np.random.default_rng(seed)
    trees = [random_tree(rng, int(rng.integers(1, 7)), None if binary else 3) for _ in range(n_trees)]
    return T.forest(trees)[0]


# ----------------------------------------------------------------- helpers
def test_parse_tree_post_order_and_round_trip():
    labels, children = T.parse_tree("(MAX 2 (MIN 3 4) 5)")
    assert labels == ["2", "3", "4", "MIN", "5", "MAX"]
    assert children == [[], [], [], [1, 2], [], [0, 3, 4]]
    assert T.to_bracketed(labels, children) == "(MAX 2 (MIN 3 4) 5)"
    assert T.levels(children).tolist() == [0, 0, 0, 1, 0, 2]
    assert T.depths(children).tolist() == [1, 2, 2, 1, 1, 0]
    assert [g.tolist() for g in T.level_groups(children)] == [[0, 1, 2, 4], [3], [5]]


@pytest.mark.parametrize("text", ["", "(MAX 2", "(MAX 2))", "()", "2 3", ")"])
def test_parse_tree_rejects_bad_strings(text):
    with pytest.raises(ValueError, match="text"):
        T.parse_tree(text)


def test_check_children_rejects_later_children_and_two_parents():
    with pytest.raises(ValueError, match="earlier node"):
        T.check_children([[1], []])
    with pytest.raises(ValueError, match="child of both"):
        T.check_children([[], [0], [0]])
    with pytest.raises(TypeError, match="children"):
        T.check_children("abc")


def test_forest_offsets_and_roots():
    children, root_ids = T.forest([[[], [], [0, 1]], [[]]])
    assert children == [[], [], [0, 1], []]
    assert root_ids == [2, 3] == T.roots(children)


def test_binarize_folds_the_operator_left():
    labels, children = T.parse_tree("(MAX 2 (MIN 3 4) 5)")
    bl, bc = T.binarize(labels, children, end="]")
    assert T.to_bracketed(["." if v is None else v for v in bl], bc) == \
        "(. (. (. (. MAX 2) (. (. (. MIN 3) 4) ])) 5) ])"
    assert all(len(r) in (0, 2) for r in bc)


# -------------------------------------------------------- torch formulas
def _sig(a):
    return torch.sigmoid(a)


def formula(kind, x, children, p):
    """Each network written out node by node in torch, independently of coursekit."""
    hs, cs = [], []
    for j, kids in enumerate(children):
        xj = x[j]
        if kind == "treernn":
            hs.append(xj @ p["We"] if not kids else
                      torch.tanh(torch.cat([hs[kids[0]], hs[kids[1]]]) @ p["W"] + p["b"]))
            continue
        Wx, Wh, b = p["Wx"], p["Wh"], p["b"]
        if kind == "childsum":
            ht = sum((hs[k] for k in kids), torch.zeros(H, dtype=x.dtype))
            a = xj @ Wx + ht @ Wh + b
            c = _sig(a[:H]) * torch.tanh(a[2 * H:3 * H])
            for k in kids:
                c = c + _sig(xj @ Wx[:, H:2 * H] + hs[k] @ Wh[:, H:2 * H] + b[H:2 * H]) * cs[k]
            o = _sig(a[3 * H:])
        else:
            z = torch.zeros(H, dtype=x.dtype)
            hl, hr = (hs[kids[0]], hs[kids[1]]) if kids else (z, z)
            cl, cr = (cs[kids[0]], cs[kids[1]]) if kids else (z, z)
            a = xj @ Wx + torch.cat([hl, hr]) @ Wh + b
            c = (_sig(a[:H]) * torch.tanh(a[3 * H:4 * H]) + _sig(a[H:2 * H]) * cl
                 + _sig(a[2 * H:3 * H]) * cr)
            o = _sig(a[4 * H:])
        hs.append(o * torch.tanh(c))
        cs.append(c)
    return torch.stack(hs), (torch.stack(cs) if cs else None)


FWD = {"treernn": tr.treernn_forward, "childsum": tr.childsum_treelstm_forward,
       "nary": tr.nary_treelstm_forward}
BWD = {"treernn": tr.treernn_backward, "childsum": tr.childsum_treelstm_backward,
       "nary": tr.nary_treelstm_backward}
MODULE = {"treernn": tt.TreeRNN, "childsum": tt.ChildSumTreeLSTM, "nary": tt.BinaryTreeLSTM}
NAMES = {"treernn": ("We", "W", "b"), "childsum": ("Wx", "Wh", "b"), "nary": ("Wx", "Wh", "b")}
KINDS = tuple(FWD)


def setup(kind, seed=0, dtype=np.float64):
    children = forest_of(seed, kind != "childsum")
    rng = np.random.default_rng(seed + 10)
    x = rng.normal(size=(len(children), D))
    p = tr.init_params(kind, D, H, seed=seed)
    p = {k: (v * 2 + (rng.normal(size=v.shape) * 0.3 if k == "b" else 0)).astype(dtype)
         for k, v in p.items()}
    return x.astype(dtype), children, p


def run(kind, x, children, p):
    out = FWD[kind](x, children, *(p[k] for k in NAMES[kind]))
    return (out[0], None, out[1]) if kind == "treernn" else out


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_forward_matches_node_by_node_formula_and_torch_module(kind, seed):
    x, children, p = setup(kind, seed)
    h, c, _ = run(kind, x, children, p)
    th, tc = formula(kind, torch.tensor(x), children, {k: torch.tensor(v) for k, v in p.items()})
    np.testing.assert_allclose(h, th.numpy(), atol=1e-10, rtol=0)
    mod = MODULE[kind](D, H, dtype=torch.float64).load_numpy(p)
    out = mod(torch.tensor(x), children)
    mh = out if kind == "treernn" else out[0]
    np.testing.assert_allclose(mh.detach().numpy(), h, atol=1e-10, rtol=0)
    nb = tt.node_by_node(mod, torch.tensor(x), children)
    np.testing.assert_allclose((nb if kind == "treernn" else nb[0]).detach().numpy(), h, atol=1e-10)
    if c is not None:
        np.testing.assert_allclose(c, tc.numpy(), atol=1e-10, rtol=0)
        np.testing.assert_allclose(out[1].detach().numpy(), c, atol=1e-10, rtol=0)


@pytest.mark.parametrize("kind", KINDS)
def test_backward_matches_finite_differences(kind):
    x, children, p = setup(kind, 3)
    rng = np.random.default_rng(5)
    h, c, cache = run(kind, x, children, p)
    dh = rng.normal(size=h.shape)
    dc = rng.normal(size=h.shape) if c is not None else None
    grads = BWD[kind](dh, cache) if c is None else BWD[kind](dh, cache, dc)
    arrays = {"x": x, **p}
    order = ("x",) + NAMES[kind]
    for name, g in zip(order, grads):
        def f():
            hh, cc, _ = run(kind, x, children, p)
            return hh * dh + (0 if cc is None else cc * dc)
        num = numerical_gradient_array(f, arrays[name], np.ones_like(h))
        assert rel_error(g, num) < 1e-6, (name, rel_error(g, num))


@pytest.mark.parametrize("kind", KINDS)
def test_backward_matches_autograd(kind):
    x, children, p = setup(kind, 4)
    rng = np.random.default_rng(6)
    h, _c, cache = run(kind, x, children, p)
    dh = rng.normal(size=h.shape)
    grads = BWD[kind](dh, cache)
    tx = torch.tensor(x, requires_grad=True)
    mod = MODULE[kind](D, H, dtype=torch.float64).load_numpy(p)
    out = mod(tx, children)
    ((out if kind == "treernn" else out[0]) * torch.tensor(dh)).sum().backward()
    np.testing.assert_allclose(grads[0], tx.grad.numpy(), atol=1e-10)
    for name, g in zip(NAMES[kind], grads[1:]):
        np.testing.assert_allclose(g, getattr(mod, name).grad.numpy(), atol=1e-10, err_msg=name)


def test_childsum_on_a_chain_is_lstm_forward():
    rng = np.random.default_rng(7)
    n = 6
    children = [[]] + [[j - 1] for j in range(1, n)]
    x = rng.normal(size=(n, D))
    p = tr.init_params("childsum", D, H, seed=7)
    p["b"] = rng.normal(size=4 * H)
    h, c, _ = tr.childsum_treelstm_forward(x, children, p["Wx"], p["Wh"], p["b"])
    lh, lc, _ = lstm_forward(x[None], np.zeros((1, H)), p["Wx"], p["Wh"], p["b"])
    np.testing.assert_allclose(h, lh[0], atol=1e-12)
    np.testing.assert_allclose(c, lc[0], atol=1e-12)


def test_childsum_forget_gate_is_per_child():
    """Two children with different h get different forget gates: a shared gate would not."""
    rng = np.random.default_rng(8)
    children = [[], [], [0, 1]]
    x = rng.normal(size=(3, D))
    p = tr.init_params("childsum", D, H, seed=8)
    _, _, cache = tr.childsum_treelstm_forward(x, children, p["Wx"], p["Wh"], p["b"])
    f = cache[8][-1]  # the root level's edge gates, (2, H)
    assert f.shape == (2, H) and not np.allclose(f[0], f[1])


@pytest.mark.parametrize("kind", KINDS)
def test_float32_runs_and_keeps_its_dtype(kind):
    x, children, p = setup(kind, 0, np.float32)
    h, _c, cache = run(kind, x, children, p)
    assert h.dtype == np.float32
    grads = BWD[kind](np.ones_like(h), cache)
    assert all(g.dtype == np.float32 for g in grads)


def test_bad_input_names_the_argument():
    x, children, p = setup("childsum", 0)
    with pytest.raises(ValueError, match="Wh"):
        tr.childsum_treelstm_forward(x, children, p["Wx"], p["Wh"][:, :-1], p["b"])
    with pytest.raises(ValueError, match="x must have one row per node"):
        tr.childsum_treelstm_forward(x[:-1], children, p["Wx"], p["Wh"], p["b"])
    with pytest.raises(ValueError, match="dtype"):
        tr.childsum_treelstm_forward(x.astype(np.float32), children, p["Wx"], p["Wh"], p["b"])
    q = tr.init_params("treernn", D, H)
    with pytest.raises(ValueError, match="binary"):
        tr.treernn_forward(np.zeros((4, D)), [[], [], [], [0, 1, 2]], q["We"], q["W"], q["b"])
    with pytest.raises(ValueError, match="W must have shape"):
        tr.treernn_forward(np.zeros((3, D)), [[], [], [0, 1]], q["We"], q["W"][:H], q["b"])
    _, _, cache = tr.childsum_treelstm_forward(x, children, p["Wx"], p["Wh"], p["b"])
    with pytest.raises(ValueError, match="dh"):
        tr.childsum_treelstm_backward(np.zeros((1, H)), cache)
    with pytest.raises(ValueError, match="kind"):
        tr.init_params("gru", D, H)
    with pytest.raises(ValueError, match="x must be a torch.Tensor"):
        tt.ChildSumTreeLSTM(D, H)(torch.zeros(3, D + 1), [[], [], [0, 1]])


def test_level_batching_runs_one_product_per_level():
    children = forest_of(9, False, n_trees=5)
    plan = tt.level_plan(children, binary=False)
    assert len(plan["levels"]) == int(T.levels(children).max()) + 1
    assert sum(len(lv[0]) for lv in plan["levels"]) == len(children)
