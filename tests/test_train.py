"""The torch training loop (coursekit.train) and the numpy char-RNN (coursekit.models.charrnn)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from coursekit.models.charlm import CharLM
from coursekit.models.charrnn import charrnn_loss, init_charrnn, sample_charrnn, train_charrnn
from coursekit.data.batches import char_batches, SequentialBatches
from coursekit.data.shakespeare import load_hello
from coursekit.train.gradcheck import grad_check
from coursekit.data.text import CharVocab
from coursekit.train.loop import cosine_schedule, train

torch.set_num_threads(1)
TEXT = load_hello("witches") * 4     # 504 characters
VOCAB = CharVocab(TEXT)
IDS = VOCAB.encode(TEXT)


def _model(seed=0, **kw):
    torch.manual_seed(seed)
    return CharLM(VOCAB.size, 32, embed_dim=8, **kw)


class RecordingSGD(torch.optim.SGD):
    """SGD that keeps a copy of every gradient it is given."""

    def __init__(self, params, **kw):
        super().__init__(params, **kw)
        self.seen = []

    def step(self, closure=None):
        self.seen.append([p.grad.detach().clone() for g in self.param_groups for p in g["params"]])
        return super().step(closure)


def test_loss_goes_down_and_history_fields():
    model = _model()
    batches = char_batches(IDS, 8, 32, np.random.default_rng(0))
    hist = train(model, batches, steps=120, lr=1e-2, progress=False)
    for key in ("step", "loss", "grad_norm", "lr", "seconds"):
        assert len(hist[key]) == 120
    assert hist["step"] == list(range(1, 121))
    assert np.all(np.diff(hist["seconds"]) >= 0)
    assert hist["stopped"] == "steps"
    assert np.mean(hist["loss"][-10:]) < 0.5 * np.mean(hist["loss"][:5])
    assert hist["loss"][0] == pytest.approx(np.log(VOCAB.size), abs=0.3)


def test_eval_fn_and_schedule_and_log():
    model = _model()
    calls, logs = [], []
    batches = char_batches(IDS, 4, 16, np.random.default_rng(0))
    hist = train(model, batches, steps=20, lr=1e-2, progress=False, eval_every=5,
                 eval_fn=lambda m: calls.append(m.training) or 1.5,
                 schedule=cosine_schedule(warmup=0.1, final=0.1), log=logs.append, log_every=10)
    assert hist["val_step"] == [5, 10, 15, 20] and hist["val_loss"] == [1.5] * 4
    assert calls == [False] * 4                     # evaluated in eval mode
    assert hist["lr"][0] < hist["lr"][3]            # warm-up
    assert hist["lr"][-1] < 0.3e-2                  # decayed
    assert [d["step"] for d in logs if "loss" in d] == [10, 20]


def test_keep_best_restores_the_weights_of_the_lowest_evaluation():
    model = _model()
    values, seen = iter([3.0, 1.0, 2.0, 4.0]), []

    def eval_fn(m):   # scripted validation values; remember the weights each one scored
        seen.append({k: t.detach().clone() for k, t in m.state_dict().items()})
        return next(values)

    hist = train(model, char_batches(IDS, 4, 16, np.random.default_rng(0)), steps=20, lr=1e-2,
                 progress=False, eval_fn=eval_fn, eval_every=5, keep_best=True)
    assert hist["val_step"] == [5, 10, 15, 20]
    assert hist["best_step"] == 10 and hist["best_val_loss"] == 1.0
    final = model.state_dict()
    assert all(torch.equal(final[k], seen[1][k]) for k in final)       # step 10's weights ...
    assert not all(torch.equal(final[k], seen[3][k]) for k in final)   # ... not the last ones
    with pytest.raises(ValueError, match="keep_best"):
        train(_model(), char_batches(IDS, 4, 16, np.random.default_rng(0)), steps=2,
              progress=False, keep_best=True)


def test_time_limit_stops_early():
    model = _model()
    hist = train(model, char_batches(IDS, 4, 16, np.random.default_rng(0)), steps=10**6,
                 lr=1e-2, progress=False, time_limit=0.5)
    assert hist["stopped"] == "time_limit" and 0 < len(hist["step"]) < 10**6


def test_clip_by_norm_bounds_the_update():
    model = _model()
    before = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    hist = train(model, char_batches(IDS, 4, 16, np.random.default_rng(0)), steps=1,
                 optimizer=opt, clip=1e-3, progress=False)
    step = torch.sqrt(sum(((p.detach() - b) ** 2).sum() for p, b in zip(model.parameters(), before)))
    assert hist["grad_norm"][0] > 1e-2                     # the raw gradient was larger ...
    assert float(step) == pytest.approx(1e-3, rel=1e-3)   # ... and the update was clipped


def test_clip_by_value_bounds_each_entry():
    model = _model()
    before = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    train(model, char_batches(IDS, 4, 16, np.random.default_rng(0)), steps=1, optimizer=opt,
          clip_value=1e-4, progress=False)
    biggest = max(float((p.detach() - b).abs().max()) for p, b in zip(model.parameters(), before))
    assert biggest == pytest.approx(1e-4, rel=1e-3)


def test_seed_reproducible_and_matters():
    def run(seed):
        model = _model(dropout=0.3)
        hist = train(model, char_batches(IDS, 4, 16, np.random.default_rng(0)), steps=15,
                     lr=1e-2, seed=seed, progress=False)
        return hist["loss"], [p.detach().clone() for p in model.parameters()]
    l1, w1 = run(3)
    l2, w2 = run(3)
    l3, _ = run(4)
    assert l1 == l2 and all(torch.equal(a, b) for a, b in zip(w1, w2))
    assert l1 != l3                                  # dropout masks follow the seed


def _stream_batch(T=48, N=3):
    sb = SequentialBatches(IDS, N, T)
    return next(iter(sb))


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_tbptt_carries_hidden_state(cell):
    """With lr = 0, chunked training sees the same losses as one full forward pass."""
    x, y = _stream_batch()
    model = _model(cell=cell)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(4.0)                          # a strong recurrence: the state matters
        scores, _ = model(torch.from_numpy(x))
        full = F.cross_entropy(scores.reshape(-1, VOCAB.size), torch.from_numpy(y).reshape(-1),
                               reduction="none").reshape(x.shape)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    for k in (12, (12, 24)):
        hist = train(model, [(x, y)], steps=4, optimizer=opt, tbptt=k, progress=False)
        expect = [float(full[:, s:s + 12].mean()) for s in range(0, 48, 12)]
        np.testing.assert_allclose(hist["loss"], expect, rtol=1e-5)
    # without carrying, later chunks start from zero and see different losses
    hist = train(model, [(x[:, s:s + 12], y[:, s:s + 12]) for s in range(0, 48, 12)], steps=4,
                 optimizer=opt, progress=False)
    assert not np.allclose(hist["loss"][1:], expect[1:], rtol=1e-2)


def test_tbptt_gradients_reach_back_k2_steps():
    """Each update's gradient is full BPTT of its k1 new targets through a k2-step window."""
    x, y = map(torch.from_numpy, _stream_batch(T=24))
    k1, k2 = 8, 16
    model = _model()
    opt = RecordingSGD(model.parameters(), lr=0.0)
    train(model, [(x.numpy(), y.numpy())], steps=3, optimizer=opt, tbptt=(k1, k2), progress=False)

    def grads(lo, hi, start):
        """d/dtheta of the mean loss on targets [lo, hi), BPTT from position `start`."""
        model.zero_grad()
        with torch.no_grad():
            h = model(x[:, :start])[1] if start else None
        scores, _ = model(x[:, start:hi], h)
        loss = F.cross_entropy(scores[:, lo - start:].reshape(-1, VOCAB.size),
                               y[:, lo:hi].reshape(-1))
        loss.backward()
        return [p.grad.clone() for p in model.parameters()]

    for update, (lo, hi, start) in enumerate([(0, 8, 0), (8, 16, 0), (16, 24, 8)]):
        for got, want in zip(opt.seen[update], grads(lo, hi, start)):
            torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)
    # and truncation matters: the third update is not full BPTT from position 0
    assert not all(torch.allclose(a, b, rtol=1e-3, atol=1e-6)
                   for a, b in zip(opt.seen[2], grads(16, 24, 0)))


def test_bad_arguments():
    model = _model()
    with pytest.raises(ValueError, match="tbptt"):
        train(model, [(IDS[None, :-1], IDS[None, 1:])], steps=1, tbptt=(8, 12), progress=False)
    with pytest.raises(ValueError, match="steps"):
        train(model, [], steps=0, progress=False)
    with pytest.raises(ValueError, match="ran out"):
        train(model, iter([(IDS[None, :10], IDS[None, 1:11])]), steps=3, progress=False)


# ------------------------------------------------------------------ numpy char-RNN
@pytest.mark.parametrize("embed_dim", [None, 5])
def test_numpy_charrnn_gradients_finite_differences(embed_dim):
    V, H = 7, 6
    params = init_charrnn(V, H, embed_dim=embed_dim, seed=1)
    rng = np.random.default_rng(0)
    x = rng.integers(0, V, (2, 5))
    y = rng.integers(0, V, (2, 5))
    h0 = rng.standard_normal((2, H)) * 0.5
    mask = rng.random((2, 5)) < 0.7
    _, grads, _ = charrnn_loss(params, x, y, h0, mask)
    errs = grad_check(lambda: charrnn_loss(params, x, y, h0, mask)[0], params, grads)
    assert set(errs) == set(params)
    assert max(errs.values()) < 1e-6, errs


def test_numpy_charrnn_matches_torch_charlm_loss():
    """The numpy model's loss equals CharLM's (one-hot input) with the same weights."""
    V, H = VOCAB.size, 16
    model = CharLM(V, H, dtype=torch.float64)
    params = {"Wx": model.rnn.weight_ih_l0.detach().numpy().T.copy(),
              "Wh": model.rnn.weight_hh_l0.detach().numpy().T.copy(),
              "b": (model.rnn.bias_ih_l0 + model.rnn.bias_hh_l0).detach().numpy(),
              "W_out": model.head.weight.detach().numpy().T.copy(),
              "b_out": model.head.bias.detach().numpy().copy()}
    x, y = _stream_batch(T=20)
    loss, _, _ = charrnn_loss(params, x, y)
    with torch.no_grad():
        scores, _ = model(torch.from_numpy(x))
    ref = F.cross_entropy(scores.reshape(-1, V), torch.from_numpy(y).reshape(-1), reduction="sum")
    assert float(loss) == pytest.approx(ref.item() / x.shape[0], rel=1e-12)


def test_numpy_charrnn_learns_and_samples():
    params = init_charrnn(VOCAB.size, 48, seed=0)
    hist = train_charrnn(params, IDS, steps=300, k1=20, lr=0.1)
    assert np.mean(hist["loss"][-20:]) < 0.3 * np.mean(hist["loss"][:5])
    assert hist["smooth_loss"][-1] < hist["smooth_loss"][0]
    text = sample_charrnn(params, VOCAB, 30, prefix="When", temperature=0)
    assert text.startswith("When") and len(text) == 34
    assert text == sample_charrnn(params, VOCAB, 30, prefix="When", temperature=0, seed=5)
    assert sample_charrnn(params, VOCAB, 30, seed=1) == sample_charrnn(params, VOCAB, 30, seed=1)


@pytest.mark.parametrize("k1,k2,batch", [(10, 10, 1), (5, 15, 2), (8, 20, 1)])
def test_numpy_tbptt_carries_hidden_state(k1, k2, batch):
    """With lr = 0 the per-window losses equal those of one full pass over the stream."""
    params = init_charrnn(VOCAB.size, 12, seed=2)
    n_windows = 6
    hist = train_charrnn(params, IDS, steps=n_windows, k1=k1, k2=k2, batch_size=batch,
                         lr=0.0, clip_value=None)
    L = (len(IDS) - 1) // batch
    X = IDS[:batch * L].reshape(batch, L)
    Y = IDS[1:batch * L + 1].reshape(batch, L)
    T = n_windows * k1
    mask_base = np.zeros((batch, T), bool)
    for w in range(n_windows):
        mask = mask_base.copy()
        mask[:, w * k1:(w + 1) * k1] = True
        full, _, _ = charrnn_loss(params, X[:, :T], Y[:, :T], mask=mask)
        assert hist["loss"][w] == pytest.approx(float(full) / k1, rel=1e-10)


def test_numpy_tbptt_bad_arguments():
    params = init_charrnn(VOCAB.size, 4)
    with pytest.raises(ValueError, match="k2"):
        train_charrnn(params, IDS, steps=1, k1=10, k2=5)
    with pytest.raises(ValueError, match="too short"):
        train_charrnn(params, IDS[:5], steps=1, k1=10)
    with pytest.raises(ValueError, match="ids"):
        train_charrnn(params, IDS + 100, steps=1)
