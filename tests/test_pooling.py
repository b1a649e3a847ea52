"""coursekit.nn.pooling: last / mean / max over the valid steps of a padded batch.

Forward parity with torch (the twin, per-sequence slices, and an nn.LSTM's packed h_n for
"last"), backward against autograd and finite differences, padding ignored both ways,
float32, bad input."""
import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

from coursekit.nn.pooling import MODES, Pool, lengths_to_mask, pool_backward, pool_forward, pool_torch
from coursekit.train.gradcheck import numerical_gradient_array, rel_error

N, T, H = 4, 6, 5
LENGTHS = np.array([6, 3, 1, 4])


def make(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, T, H)).astype(dtype), LENGTHS.copy()


def by_slices(h, lengths, mode):
    """Each sequence cut to its real steps, pooled on its own (torch, independent of coursekit)."""
    out = []
    for n, L in enumerate(lengths.tolist()):
        s = h[n, :L]
        out.append({"last": s[-1], "mean": s.mean(0), "max": s.max(0).values}[mode])
    return torch.stack(out)


@pytest.mark.parametrize("mode", MODES)
def test_forward_parity_with_torch(mode):
    h, lengths = make()
    z, _ = pool_forward(h, lengths, mode)
    ht = torch.from_numpy(h)
    assert np.abs(z - by_slices(ht, lengths, mode).numpy()).max() < 1e-12
    assert np.abs(z - pool_torch(ht, torch.from_numpy(lengths), mode).numpy()).max() < 1e-12


def test_last_step_is_the_packed_lstm_final_state():
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, H, batch_first=True).double()
    x = torch.randn(N, T, 3, dtype=torch.float64)
    out, _ = lstm(x)                        # padded run: states past len are garbage
    packed = pack_padded_sequence(x, torch.from_numpy(LENGTHS), batch_first=True,
                                  enforce_sorted=False)
    _, (h_n, _) = lstm(packed)
    z, _ = pool_forward(out.detach().numpy(), LENGTHS, "last")
    assert np.abs(z - h_n[0].detach().numpy()).max() < 1e-10


@pytest.mark.parametrize("mode", MODES)
def test_padding_changes_nothing_and_gets_no_gradient(mode):
    h, lengths = make(1)
    z, cache = pool_forward(h, lengths, mode)
    pad = ~lengths_to_mask(lengths, T)
    h2 = h.copy()
    h2[pad] = 1e6                            # huge values on padding: max would pick them
    assert np.array_equal(pool_forward(h2, lengths, mode)[0], z)
    dh = pool_backward(np.ones_like(z), cache)
    assert np.all(dh[pad] == 0)


@pytest.mark.parametrize("mode", MODES)
def test_backward_against_autograd_and_finite_differences(mode):
    h, lengths = make(2)
    dz = np.random.default_rng(3).normal(size=(N, H))
    z, cache = pool_forward(h, lengths, mode)
    dh = pool_backward(dz, cache)
    ht = torch.from_numpy(h).requires_grad_()
    (pool_torch(ht, torch.from_numpy(lengths), mode) * torch.from_numpy(dz)).sum().backward()
    assert np.abs(dh - ht.grad.numpy()).max() < 1e-12
    num = numerical_gradient_array(lambda: pool_forward(h, lengths, mode)[0], h, dz)
    assert rel_error(dh, num) < 1e-7


@pytest.mark.parametrize("mode", MODES)
def test_float32_and_module(mode):
    h, lengths = make(4, np.float32)
    z, cache = pool_forward(h, lengths, mode)
    assert z.dtype == np.float32 and pool_backward(np.ones_like(z), cache).dtype == np.float32
    zt = Pool(mode)(torch.from_numpy(h), torch.from_numpy(lengths))
    assert np.allclose(z, zt.numpy(), atol=1e-6)


def test_meanmax_concatenates():
    h, lengths = make(5)
    ht, lt = torch.from_numpy(h), torch.from_numpy(lengths)
    pool = Pool("meanmax")
    assert pool.out_features(H) == 2 * H
    z = pool(ht, lt)
    assert torch.equal(z, torch.cat([pool_torch(ht, lt, "mean"), pool_torch(ht, lt, "max")], 1))


def test_bad_input():
    h, lengths = make()
    with pytest.raises(ValueError, match="mode"):
        pool_forward(h, lengths, "median")
    with pytest.raises(ValueError, match="lengths"):
        pool_forward(h, np.array([1, 2, 3]), "mean")            # wrong N
    with pytest.raises(ValueError, match="lengths"):
        pool_forward(h, np.array([0, 1, 2, 3]), "mean")         # an empty sequence
    with pytest.raises(ValueError, match="lengths"):
        pool_forward(h, np.array([7, 1, 2, 3]), "mean")         # longer than T
    with pytest.raises(ValueError, match="lengths"):
        pool_forward(h, lengths.astype(float), "mean")
    with pytest.raises(TypeError, match="lengths"):
        pool_forward(h, [6, 3, 1, 4], "mean")
    with pytest.raises(ValueError, match="h"):
        pool_forward(h[0], lengths, "mean")
    _, cache = pool_forward(h, lengths, "max")
    with pytest.raises(ValueError, match="dz"):
        pool_backward(np.ones((N, H + 1)), cache)
    with pytest.raises(ValueError, match="lengths"):
        pool_torch(torch.from_numpy(h), torch.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="mode"):
        Pool("sum")
