"""Chapter 6 helpers: the gradient map, the word-boundary data, parameter counts, the shipped
results and checkpoints."""
import numpy as np
import pytest
import torch

from coursekit.book import ch06_deep as ch06
from coursekit.models.deep import DeepTagger, count_parameters


def test_gradient_map_fades_without_residual_and_not_with_it():
    plain = ch06.gradient_map(10, 12)
    res = ch06.gradient_map(10, 12, residual=True)
    assert plain.shape == res.shape == (10, 12)
    assert np.allclose(plain[-1, -1], res[-1, -1])  # the same top layer, the same read-out
    assert plain[0, -1] / plain[-1, -1] < 0.01       # down 10 layers, plain: two decades lost
    assert res[0, -1] / res[-1, -1] > 0.3            # residual: about the same
    assert plain[-1, 0] < 0.05 * plain[-1, -1]        # back in time both fade
    assert res[-1, 0] < 0.05 * res[-1, -1]
    with pytest.raises(ValueError, match="cell"):
        ch06.gradient_map(2, 3, cell="tcn")


def test_gradient_map_is_the_total_derivative():
    """Entry (l, t) against the finite-difference effect of nudging h^(l)_t is hard to reach;
    instead: the top layer's entries must match autograd of a hand-written tanh recurrence."""
    m = ch06.gradient_map(1, 6, cell="rnn", N=1, hidden_size=4, seed=3)
    g = torch.Generator().manual_seed(3)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        cell = torch.nn.RNNCell(4, 4, dtype=torch.float64)
    x = torch.randn(1, 6, 4, generator=g, dtype=torch.float64)
    hs, h = [], torch.zeros(1, 4, dtype=torch.float64)
    for t in range(6):
        h = torch.tanh(x[:, t] @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh)
        h.retain_grad()
        hs.append(h)
    v = torch.randn(4, generator=g, dtype=torch.float64)
    (hs[-1] @ v).sum().backward()
    assert np.allclose(m[0], [h.grad.norm().item() for h in hs])


def test_boundary_data_and_restore():
    chars, tags = ch06.boundary_data("To be,\nor  not to be.")
    assert chars == "Tobe,ornottobe."
    assert tags.tolist() == [1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0]
    assert ch06.restore_spaces(chars, tags) == "To be, or not to be."
    assert ch06.boundary_data("")[0] == ""
    with pytest.raises(TypeError, match="text"):
        ch06.boundary_data(["a"])


@pytest.mark.parametrize("kw", [dict(num_layers=3), dict(num_layers=2, bidirectional=True, cell="lstm"),
                                dict(cell="rnn", embed_size=None), dict(bidirectional=True, embed_size=8)])
def test_tagger_parameters_formula(kw):
    kw.setdefault("embed_size", 32)
    assert ch06.tagger_parameters(60, 33, 5, **kw) == count_parameters(DeepTagger(60, 33, 5, **kw))
    H = ch06.matched_hidden(20_000, V=60, K=5, num_layers=kw.get("num_layers", 1),
                            cell=kw.get("cell", "gru"), bidirectional=kw.get("bidirectional", False),
                            embed_size=kw["embed_size"])
    assert abs(ch06.tagger_parameters(60, H, 5, **kw) - 20_000) < 0.05 * 20_000


def test_train_model_runs_and_reverse_reads_right_to_left():
    model, vocab, res = ch06.train_model("boundary", hidden_size=8, steps=3, eval_every=3,
                                         batch_size=4, T=16, embed_size=4, reverse=True)
    assert res["steps_done"] == 3 and res["config"]["reverse"] is True
    assert set(res["final"]) >= {"loss", "accuracy", "f1", "majority"}
    with pytest.raises(ValueError, match="task"):
        ch06.train_model("translation", hidden_size=4)


@pytest.mark.skipif(not ch06.RESULTS_PATH.exists(), reason="benchmarks/ch06_deep.py not run")
def test_shipped_results_match_the_experiments_and_checkpoints():
    res = ch06.load_results()
    assert set(res["results"]) == set(ch06.EXPERIMENTS)
    for name, kw in ch06.EXPERIMENTS.items():
        cfg = res["results"][name]["config"]
        assert all(cfg[k] == v for k, v in kw.items() if not isinstance(v, str)), name
    for name in ch06.CHECKPOINTS:
        model, vocab = ch06.load_model(name)
        assert count_parameters(model) == res["results"][name]["parameters"]
    rows = ch06.results_rows(res["results"])
    assert [r[0] for r in rows] == list(ch06.RESULT_LABELS.values())
    by_name = dict(zip(ch06.RESULT_LABELS, rows))
    # equal budgets: the depth runs and the widened tagger match their reference's count
    for name, ref in (("lm_depth_2", "lm_depth_1"), ("lm_depth_3", "lm_depth_1"),
                      ("boundary_forward_wide", "boundary_bidirectional")):
        assert abs(by_name[name][3] - by_name[ref][3]) < 0.05 * by_name[ref][3], name
    assert by_name["lm_depth_3"][1] == 3 and by_name["boundary_forward"][8] != ""


def test_results_rows_names_missing_runs():
    with pytest.raises(ValueError, match="lm_depth_1"):
        ch06.results_rows({})
