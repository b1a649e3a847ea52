"""Assignment 2 end to end: source full marks, release zero, release in sync, the source
notebook runs, wrong submissions get the partial scores they deserve, and the references
and the training check of the assignment folder are right."""
from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pytest

from coursekit.grading.spec import from_json, to_json
from grading_support import grade_with, limits, load, local, locate

A2, SOURCE, RELEASE = locate("a2_training")
LIMITS = limits(wall=60)

checks_a2 = local("a2_training", "checks")
reference_a2 = local("a2_training", "reference")


@pytest.fixture(scope="module")
def a2():
    return load(A2)


def grade(path, a2, secret="test-secret"):
    return grade_with(path, a2, LIMITS, secret)


def with_extra_cell(tmp_path, name: str, code: str) -> Path:
    """The solved notebook plus one cell at the end that redefines a function (wrongly)."""
    nb = nbformat.read(SOURCE, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(code))
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


# wrong submissions: (name, redefinition, question -> points it must get); all others full marks
WRONG = {
    "per_array_clipping": (  # each array clipped by its own norm: no case passes
        "def clip_grad_norm_p(grads, max_norm, norm_type=2.0):\n"
        "    norms = [float(np.sum(np.abs(g) ** norm_type) ** (1 / norm_type)) if np.isfinite(norm_type)\n"
        "             else float(np.abs(g).max()) for g in grads.values()]\n"
        "    for g, n in zip(grads.values(), norms):\n"
        "        if n > max_norm:\n"
        "            g *= g.dtype.type(max_norm / (n + 1e-6))\n"
        "    return float(np.linalg.norm(norms, ord=norm_type))\n",
        {"q5": 0}),
    "two_norm_always": (  # chapter 2's clip_grad_norm renamed: only the p = 2 case passes
        "def clip_grad_norm_p(grads, max_norm, norm_type=2.0):\n"
        "    total = float(np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads.values())))\n"
        "    if max_norm / (total + 1e-6) < 1:\n"
        "        for g in grads.values():\n"
        "            g *= g.dtype.type(max_norm / (total + 1e-6))\n"
        "    return total\n",
        {"q5": 2}),
    "top_k_ignored": (  # the plain softmax at a temperature: only the greedy case passes
        "def softmax_top_k(scores, temperature, k):\n"
        "    if temperature == 0:\n"
        "        p = np.zeros_like(scores)\n"
        "        p[np.arange(len(scores)), scores.argmax(axis=1)] = 1\n"
        "        return p\n"
        "    z = scores / temperature\n"
        "    e = np.exp(z - z.max(axis=1, keepdims=True))\n"
        "    return e / e.sum(axis=1, keepdims=True)\n",
        {"q7": 2}),  # the sampler asks for k = V, so q8 still passes
    "sampling_ignores_temperature": (
        "def sample_with_temperature(scores, u, temperature=1.0):\n"
        "    cdf = np.cumsum(softmax_top_k(scores, 1.0, scores.shape[1]), axis=1)\n"
        "    return np.minimum((cdf <= u[:, None]).sum(axis=1), scores.shape[1] - 1).astype(np.int64)\n",
        {"q8": 0}),
    "state_not_carried": (
        "def tbptt_gradient(params, ids, batch_size, k):\n"
        "    X, Y = tbptt_batches(ids, batch_size, k)\n"
        "    h0 = np.zeros((batch_size, params['Wh'].shape[0]), dtype=params['Wh'].dtype)\n"
        "    out = [chunk_forward_backward(params, X[c], Y[c], h0) for c in range(len(X))]\n"
        "    grads = {n: sum(o[1][n] for o in out) / len(X) for n in params}\n"
        "    return sum(float(o[0]) for o in out) / len(X), grads, out[-1][2]\n",
        {"q3": 0}),
    "imports_reference": (  # allowed module, forbidden function: it and its callers score 0
        "from coursekit.checks import tbptt_batches\n",
        {"q1": 0, "q3": 0, "q10": 0}),
    "training_does_nothing": (
        "def train_char_model(ids, vocab_size, *, steps=300, seed=0, **kw):\n"
        "    return init_char_model(vocab_size, 16, 32, seed), np.zeros(steps)\n",
        {"q10": 0}),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(WRONG))
def test_wrong_submission_gets_partial_score(a2, tmp_path, name):
    code, expected = WRONG[name]
    res = grade(with_extra_cell(tmp_path, name, code), a2)
    assignment, _ = a2
    want = {q.id: expected.get(q.id, q.points) for q in assignment.questions}
    got = {qid: s for qid, (s, _) in res.questions.items()}
    assert got == want, [(t.name, t.output[:300]) for t in res.tests if t.score < t.max_score]


def test_training_check_gives_partial_credit_between_entropy_and_uniform(a2):
    """An RNN built to predict with the source's own bigram table scores full marks; the same
    table at lower confidence (scores times beta) earns a share that falls with beta; guessing
    uniformly earns nothing; bad shapes earn nothing."""
    assignment, _ = a2
    q = assignment.question("q10")
    case = next(c for c in q.cases if not c.public)
    V = case.sizes["V"]
    ids = q.inputs[0].draw(np.random.default_rng(7), case.sizes, "float64")
    P, _, _ = checks_a2.bigram_source(ids, V, q.options["alpha"])

    def bigram_rnn(beta):  # h_t ~ onehot(x_t), so o_t = beta * log P[x_t]
        return {"W_embed": np.eye(V), "Wx": 20 * np.eye(V), "Wh": np.zeros((V, V)),
                "b": np.zeros(V), "W_out": beta * np.log(P) / np.tanh(20), "b_out": np.zeros(V)}

    fracs = [checks_a2.markov_val_loss(q, case, {"ids": ids}, bigram_rnn(b), None)[0]
             for b in (1.0, 0.35, 0.2, 0.0)]
    assert fracs[0] == 1.0 and fracs[3] == 0.0, fracs
    assert 1.0 > fracs[1] > fracs[2] > 0.0, fracs
    bad = {**bigram_rnn(1.0), "Wh": np.zeros((V, V - 1))}
    frac, lines = checks_a2.markov_val_loss(q, case, {"ids": ids}, bad, None)
    assert frac == 0.0 and "Wh" in lines[0]


def test_references_match_coursekit_charrnn():
    """The composed chunk reference equals chapter 3's model loss (renamed, per character)."""
    from coursekit.models.charrnn import charrnn_loss, init_charrnn, train_charrnn  # noqa: F401
    rng = np.random.default_rng(0)
    V, D, H, N, k = 6, 4, 5, 3, 7
    p = init_charrnn(V, H, embed_dim=D, seed=1)
    p["b"] = 0.3 * rng.standard_normal(H)
    x, y, h0 = rng.integers(0, V, (N, k)), rng.integers(0, V, (N, k)), rng.standard_normal((N, H))
    loss, grads, h = charrnn_loss(p, x, y, h0)
    ours = dict(p)                                   # the same six names as the assignment
    l2, g2, h_last = reference_a2.chunk_forward_backward(ours, x, y, h0)
    assert l2 == pytest.approx(loss / k, rel=1e-12)
    for name in ("W_embed", "Wx", "Wh", "b", "W_out", "b_out"):
        np.testing.assert_allclose(g2[name], grads[name] / k, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(h_last, h[:, -1], rtol=1e-12)
    # one chunk per stream: the truncated gradient is the whole text's exact gradient
    ids = rng.integers(0, V, 2 * k + 1)
    X, Y = reference_a2.tbptt_batches(ids, 2, k)
    assert X.shape == Y.shape == (1, 2, k) and (Y[0, :, :-1] == X[0, :, 1:]).all()
    loss_full, _, _ = charrnn_loss(p, X[0], Y[0])
    assert reference_a2.tbptt_gradient(ours, ids, 2, k)[0] == pytest.approx(loss_full / k, rel=1e-12)


def test_k1k2_reference_limits():
    """TBPTT(k, k) is the chunked gradient; TBPTT(k1, k2 >= S) with k1 | S is the exact one."""
    rng = np.random.default_rng(2)
    V, D, H = 5, 3, 4
    p = dict(zip(reference_a2.PARAM_NAMES,
                 (rng.standard_normal((V, D)), rng.standard_normal((D, H)),
                  1.5 * rng.standard_normal((H, H)) / np.sqrt(H), rng.standard_normal(H),
                  rng.standard_normal((H, V)), rng.standard_normal(V))))
    ids = rng.integers(0, V, 2 * 24 + 1)                  # B = 2 streams of S = 24
    for got, want in ((reference_a2.tbptt_k1k2_gradient(p, ids, 2, 4, 4),
                       reference_a2.tbptt_gradient(p, ids, 2, 4)),
                      (reference_a2.tbptt_k1k2_gradient(p, ids, 2, 3, 24),
                       reference_a2.tbptt_gradient(p, ids, 2, 24))):
        assert float(got[0]) == pytest.approx(float(want[0]), rel=1e-12)
        for n in p:
            np.testing.assert_allclose(got[1][n], want[1][n], rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(got[2], want[2], rtol=1e-12)
    cut = reference_a2.tbptt_k1k2_gradient(p, ids, 2, 3, 6)[1]["Wh"]  # a real truncation differs
    assert not np.allclose(cut, reference_a2.tbptt_gradient(p, ids, 2, 24)[1]["Wh"], rtol=1e-3)


def test_sampler_reference_is_inverse_cdf_and_greedy_at_zero():
    rng = np.random.default_rng(1)
    scores = rng.standard_normal((1, 5)).repeat(40000, axis=0)
    idx = reference_a2.sample_with_temperature(scores, rng.random(40000), 0.5)
    from coursekit.book.ch03_charlm import softmax_temperature
    freq = np.bincount(idx, minlength=5) / 40000
    np.testing.assert_allclose(freq, softmax_temperature(scores[:1], 0.5)[0], atol=0.01)
    greedy = reference_a2.sample_with_temperature(scores[:50], rng.random(50), 0.0)
    assert (greedy == scores[0].argmax()).all() and greedy.dtype == np.int64


def test_clipping_and_top_k_references_agree_with_torch_and_coursekit():
    """q5 is torch's clip_grad_norm_ with norm_type; p = 2 is coursekit's clip_grad_norm; q6
    clamps as clip_grad_value and counts; q7 with k = V is coursekit's softmax_temperature."""
    import torch
    from coursekit.decode import softmax_temperature
    from coursekit.train.clip import clip_grad_norm
    rng = np.random.default_rng(5)
    for p in (1.0, 2.0, 3.0, float("inf")):
        arrays = [3 * rng.standard_normal(s) for s in ((3, 4), (5,), (2, 2))]
        ours = dict(enumerate(a.copy() for a in arrays))
        norm = reference_a2.clip_grad_norm_p(ours, 1.5, p)
        tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
        for t, a in zip(tensors, arrays):
            t.grad = torch.tensor(a)
        tnorm = torch.nn.utils.clip_grad_norm_(tensors, 1.5, norm_type=p)
        assert norm == pytest.approx(float(tnorm), rel=1e-12)
        for k, t in enumerate(tensors):
            np.testing.assert_allclose(ours[k], t.grad.numpy(), rtol=1e-6, atol=1e-12)
        if p == 2.0:
            theirs = dict(enumerate(a.copy() for a in arrays))
            assert clip_grad_norm(theirs, 1.5) == pytest.approx(norm, rel=1e-12)
    g = {"a": np.array([-2.0, 0.5, 1.0, 3.0]), "b": np.array([[1.5, -0.2]], dtype=np.float32)}
    assert reference_a2.clip_grad_value_count(g, 1.0) == 3  # 1.0 itself is not clamped
    assert g["a"].tolist() == [-1.0, 0.5, 1.0, 1.0] and g["b"].dtype == np.float32
    scores = rng.standard_normal((4, 6))
    np.testing.assert_allclose(reference_a2.softmax_top_k(scores, 0.7, 6),
                               softmax_temperature(scores, 0.7), rtol=1e-12)
    p = reference_a2.softmax_top_k(scores, 0.7, 2)
    assert ((p > 0).sum(axis=1) == 2).all() and np.allclose(p.sum(axis=1), 1)
    assert (p.argmax(axis=1) == scores.argmax(axis=1)).all()


def test_input_kinds_draw_their_law_and_survive_the_release_json(a2):
    assignment, _ = a2
    q8, q10 = assignment.question("q8"), assignment.question("q10")
    u = q8.inputs[1].draw(np.random.default_rng(0), {"N": 1000}, "float64")
    assert u.min() >= 0 and u.max() < 1 and u.min() < 0.01
    text = q10.inputs[0].draw(np.random.default_rng(0), {"L": 3000, "V": 8}, "float64")
    assert text.dtype == np.int64 and text.shape == (3000,) and set(text) <= set(range(8))
    _, _, H = checks_a2.bigram_source(text, 8, 0.1)
    assert 0.3 < H < np.log(8) - 0.3  # neither a cycle nor noise: something to learn
    public, _ = from_json(to_json(assignment))  # what the release's check() sees
    assert [a.kind for a in public.question("q10").inputs] == ["markov"]
    assert [a.kind for a in public.question("q8").inputs] == ["normal", "unit"]
    sizes = {"N": 5, "V": 8, "L": 50}
    for q in (q8, q10):  # check() in the student's kernel draws exactly what the grader draws
        for a, b in zip(q.inputs, public.question(q.id).inputs):
            np.testing.assert_array_equal(a.draw(np.random.default_rng(3), sizes, "float64"),
                                          b.draw(np.random.default_rng(3), sizes, "float64"))


def test_release_check_runs_in_the_students_namespace(capsys):
    """The release's setup cell (public tests inlined) works without tests.py nearby."""
    nb = nbformat.read(RELEASE, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    ns: dict = {}
    exec(code[0], ns)  # setup: check = make_check(r'''{...}''') and charlm_params
    exec(code[1], ns)  # the given building blocks
    exec(code[2], ns)  # tbptt_batches with its NotImplementedError
    exec('check("q1")', ns)
    assert "q1: not implemented yet" in capsys.readouterr().out
    src = nbformat.read(SOURCE, as_version=4)
    for cell in src.cells:  # the solutions, checked against the public cases inlined as JSON
        if cell.cell_type == "code" and cell.source.startswith("def ") and "BEGIN SOLUTION" in cell.source:
            exec(cell.source, ns)
    for qid in ("q1", "q5", "q8", "q10"):
        exec(f'check("{qid}")', ns)
    out = capsys.readouterr().out
    assert out.count("public tests passed; hidden tests run at grading") == 4, out


