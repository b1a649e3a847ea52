"""coursekit.models.deep.DeepTagger: the stack equals torch's num_layers module, residual
connections add, padding changes no valid output (packing, both directions), checkpoints."""
import numpy as np
import pytest
import torch
from torch import nn

from coursekit.models.deep import DeepTagger, count_parameters
from coursekit.nn import stacked as st
from coursekit.train.checkpoint import load_checkpoint, save_checkpoint

V, H, K = 7, 5, 3


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bi", [False, True])
def test_stack_equals_torch_num_layers_and_numpy(cell, bi):
    model = DeepTagger(V, H, K, num_layers=3, cell=cell, bidirectional=bi, seed=1,
                       dtype=torch.float64).eval()
    ref = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell](
        V, H, num_layers=3, bidirectional=bi, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        for l, layer in enumerate(model.layers):
            for name, p in layer.named_parameters():
                getattr(ref, name.replace("_l0", f"_l{l}")).copy_(p)
    ids = torch.randint(0, V, (4, 6), generator=torch.Generator().manual_seed(0))
    scores, _ = model(ids)
    x = nn.functional.one_hot(ids, V).double()
    out = ref(x)[0]
    assert torch.allclose(model.layer_outputs[-1], out, atol=1e-12)
    assert torch.allclose(scores, model.head(out), atol=1e-12)
    np_out = st.stacked_forward(x.numpy(), st.stacked_from_torch(ref), cell=cell)[0]
    assert np.allclose(np_out, out.detach().numpy(), atol=1e-10)


def test_residual_adds_the_layer_input():
    model = DeepTagger(V, H, K, num_layers=3, residual=True, seed=2).eval()
    ids = torch.randint(0, V, (2, 5), generator=torch.Generator().manual_seed(1))
    model(ids)
    outs = model.layer_outputs
    plain = model.layers[1](outs[0])[0]
    assert torch.allclose(outs[1], plain + outs[0], atol=1e-6)


@pytest.mark.parametrize("bi", [False, True])
def test_padding_changes_no_valid_output(bi):
    model = DeepTagger(V, H, K, num_layers=2, cell="lstm", bidirectional=bi, embed_size=4,
                       seed=3).eval()
    g = torch.Generator().manual_seed(2)
    lengths = torch.tensor([6, 3, 1])
    ids = torch.randint(0, V, (3, 6), generator=g)
    garbage = ids.clone()
    for n, L in enumerate(lengths):
        garbage[n, L:] = torch.randint(0, V, (6 - int(L),), generator=g)
    with torch.no_grad():
        a, _ = model(ids, lengths=lengths)
        b, _ = model(garbage, lengths=lengths)
        for n, L in enumerate(lengths):
            alone, _ = model(ids[n:n + 1, :L])
            assert torch.allclose(a[n, :L], alone[0], atol=1e-6)
    mask = torch.arange(6)[None] < lengths[:, None]
    assert torch.allclose(a[mask], b[mask], atol=1e-6)


def test_dropout_only_in_training_and_config_round_trip(tmp_path):
    model = DeepTagger(V, H, K, num_layers=2, bidirectional=True, dropout=0.5, residual=True,
                       embed_size=3, seed=4)
    ids = torch.randint(0, V, (2, 5), generator=torch.Generator().manual_seed(3))
    model.train()
    assert not torch.allclose(model(ids)[0], model(ids)[0])
    model.eval()
    path = save_checkpoint(tmp_path / "m.pt", model, half=False)
    loaded, info = load_checkpoint(path)
    assert info["config"] == model.config
    assert torch.allclose(loaded(ids)[0], model(ids)[0])
    assert count_parameters(model) == sum(p.numel() for p in model.parameters())


def test_bad_arguments():
    with pytest.raises(ValueError, match="cell"):
        DeepTagger(V, H, cell="tcn")
    with pytest.raises(ValueError, match="dropout"):
        DeepTagger(V, H, dropout=1.0)
    with pytest.raises(ValueError, match="num_layers"):
        DeepTagger(V, H, num_layers=0)
    m = DeepTagger(V, H, num_layers=2)
    with pytest.raises(ValueError, match="ids"):
        m(torch.zeros(2, 3, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="hidden"):
        m(torch.zeros(2, 3, dtype=torch.long), hidden=[None])
    with pytest.raises(ValueError, match="lengths"):
        m(torch.zeros(2, 3, dtype=torch.long), lengths=torch.tensor([4, 1]))
