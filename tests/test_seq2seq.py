"""coursekit.nn.seq2seq: the masked loss (against the time-then-batch mistake), its numpy twin with
gradient, the seeds' decoder step, the three encoder-decoder forms, teacher forcing, padding,
decoding and checkpoints."""
import numpy as np
import pytest
import torch

from coursekit.data.pairs import BOS, EOS, PAD, PairBatches, TokenVocab, pad_batch
from coursekit.train.gradcheck import numerical_gradient_array, rel_error
from coursekit.nn import seq2seq as s2s


def ragged(seed=0, N=4, T=6, V=7, lengths=(6, 4, 2, 1)):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(N, T, V, generator=g, dtype=torch.float64)
    targets = torch.randint(3, V, (N, T), generator=g)
    for n, L in enumerate(lengths):
        targets[n, L:] = PAD
    return logits, targets


def test_sequence_loss_is_sum_over_real_tokens_over_their_number():
    logits, targets = ragged()
    logp = torch.log_softmax(logits, -1)
    real = [(n, t) for n in range(4) for t in range(6) if targets[n, t] != PAD]
    manual = -sum(logp[n, t, targets[n, t]] for n, t in real) / len(real)
    assert len(real) == 13
    assert float(s2s.masked_sequence_loss(logits, targets)) == pytest.approx(float(manual), abs=1e-12)


def test_time_then_batch_mistake_depends_on_padding_ours_does_not():
    logits, targets = ragged(1)
    more_logits = torch.cat([logits, torch.randn(4, 5, 7, dtype=torch.float64)], dim=1)
    more_targets = torch.cat([targets, torch.full((4, 5), PAD)], dim=1)  # 5 more padding steps
    ours = [float(s2s.masked_sequence_loss(a, b)) for a, b in ((logits, targets), (more_logits, more_targets))]
    d2l = [float(s2s.time_then_batch_loss(a, b))
           for a, b in ((logits, targets), (more_logits, more_targets))]
    assert ours[0] == pytest.approx(ours[1], abs=1e-12)
    assert d2l[1] == pytest.approx(d2l[0] * 6 / 11, abs=1e-12)  # shrinks with padding
    assert abs(d2l[0] - ours[0]) > 0.1  # and differs from the token mean even without extra padding
    # the mistake weighs sequences, not tokens: with equal lengths and no padding they agree
    full = torch.randint(3, 7, (4, 6))
    assert float(s2s.masked_sequence_loss(logits, full)) == pytest.approx(
        float(s2s.time_then_batch_loss(logits, full)), abs=1e-12)


def test_numpy_sequence_cross_entropy_matches_torch_and_its_gradient():
    logits, targets = ragged(2)
    mask = (targets != PAD).numpy()
    y = targets.numpy().copy()
    y[~mask] = 0  # whatever sits under the padding
    x = logits.numpy().copy()
    loss, dx = s2s.sequence_cross_entropy(x, y, mask)
    t = logits.clone().requires_grad_(True)
    ref = s2s.masked_sequence_loss(t, targets)
    ref.backward()
    assert float(loss) == pytest.approx(float(ref.detach()), abs=1e-12)
    assert rel_error(dx, t.grad.numpy()) < 1e-10
    num = numerical_gradient_array(lambda: np.array(s2s.sequence_cross_entropy(x, y, mask)[0]), x,
                                   np.array(1.0))
    assert rel_error(dx, num) < 1e-6
    assert np.all(dx[~mask] == 0)
    loss32, dx32 = s2s.sequence_cross_entropy(x.astype(np.float32), y, mask)
    assert dx32.dtype == np.float32 and abs(float(loss32) - float(loss)) < 1e-5
    with pytest.raises(ValueError, match="mask"):
        s2s.sequence_cross_entropy(x, y, np.zeros_like(mask))
    with pytest.raises(ValueError, match="y"):
        s2s.sequence_cross_entropy(x, y[:, :3], mask)


def test_context_decoder_step_matches_its_formula_in_torch():
    rng = np.random.default_rng(0)
    N, V, H, C, K = 2, 5, 4, 3, 6
    a = {k: rng.normal(size=s) for k, s in dict(Wy=(V, H), Ws=(H, H), Wc=(C, H), bs=(H,),
                                                  Wo=(H, K), bo=(K,)).items()}
    y_prev = np.eye(V)[[1, 3]]
    prev_s, c = rng.normal(size=(N, H)), rng.normal(size=(N, C))
    s, p = s2s.context_decoder_step(y_prev, prev_s, c, **a)
    T = {k: torch.tensor(v) for k, v in a.items()}
    ts = torch.tanh(torch.tensor(y_prev) @ T["Wy"] + torch.tensor(prev_s) @ T["Ws"]
                    + torch.tensor(c) @ T["Wc"] + T["bs"])
    tp = torch.softmax(ts @ T["Wo"] + T["bo"], dim=1)
    assert np.allclose(s, ts.numpy(), atol=1e-12) and np.allclose(p, tp.numpy(), atol=1e-12)
    with pytest.raises(ValueError, match="Wc"):
        s2s.context_decoder_step(y_prev, prev_s, c, a["Wy"], a["Ws"], a["Wc"].T, a["bs"], a["Wo"], a["bo"])


def batch(seed=0, N=5, V_src=9, V_tgt=8):
    rng = np.random.default_rng(seed)
    pairs = [(list(rng.integers(4, V_src, size=rng.integers(1, 7))),
              list(rng.integers(4, V_tgt, size=rng.integers(1, 6)))) for _ in range(N)]
    (src, src_len), (tgt_in, tgt_out) = PairBatches.make(pairs)
    return [torch.from_numpy(a) for a in (src, src_len, tgt_in, tgt_out)]


@pytest.mark.parametrize("context", s2s.CONTEXTS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_forms_shapes_and_stepwise_equals_parallel(context, bidirectional):
    torch.manual_seed(0)
    model = s2s.Seq2Seq(9, 8, embed=6, hidden=10, context=context, bidirectional=bidirectional,
                        dtype=torch.float64).eval()
    src, src_len, tgt_in, _ = batch()
    logits, alpha = model(src, src_len, tgt_in)
    assert logits.shape == (5, tgt_in.shape[1], 8)
    assert (alpha is None) == (context != "attention")
    if alpha is not None:
        assert alpha.shape == (5, tgt_in.shape[1], src.shape[1])
        assert torch.allclose(alpha.sum(-1), torch.ones(5, tgt_in.shape[1], dtype=torch.float64))
        assert (alpha.masked_select(src[:, None, :].expand_as(alpha) == PAD) == 0).all()
    state = model.init_state(src, src_len)
    for t in range(tgt_in.shape[1]):
        lp, state = model.decoder_step(tgt_in[:, t], state)
        assert torch.allclose(lp.double(), torch.log_softmax(logits[:, t], -1), atol=1e-5)
    looped, _ = model(src, src_len, tgt_in, teacher_forcing=1.0 - 1e-12,
                      generator=torch.Generator().manual_seed(0))
    assert torch.allclose(looped, logits, atol=1e-10)


def test_padding_the_source_changes_nothing():
    torch.manual_seed(1)
    model = s2s.Seq2Seq(9, 8, embed=6, hidden=10, bidirectional=True, dtype=torch.float64).eval()
    src, src_len, tgt_in, _ = batch(3)
    wider = torch.cat([src, torch.full((5, 4), PAD)], dim=1)
    a, alpha_a = model(src, src_len, tgt_in)
    b, alpha_b = model(wider, src_len, tgt_in)
    assert torch.allclose(a, b, atol=1e-12) and torch.allclose(alpha_a, alpha_b[..., :src.shape[1]])


def test_no_teacher_forcing_feeds_the_models_own_predictions():
    torch.manual_seed(2)
    model = s2s.Seq2Seq(9, 8, embed=6, hidden=10, context="every_step", dtype=torch.float64).eval()
    src, src_len, tgt_in, _ = batch(4)
    free, _ = model(src, src_len, tgt_in, teacher_forcing=0.0)
    own = torch.cat([tgt_in[:, :1], free.argmax(-1)[:, :-1]], dim=1)  # bos, then its argmaxes
    forced, _ = model(src, src_len, own)
    assert torch.allclose(free, forced, atol=1e-10)
    half, _ = model(src, src_len, tgt_in, teacher_forcing=0.5, generator=torch.Generator().manual_seed(3))
    assert not torch.allclose(half, forced) or not torch.allclose(half, model(src, src_len, tgt_in)[0])
    with pytest.raises(ValueError, match="teacher_forcing"):
        model(src, src_len, tgt_in, teacher_forcing=1.5)


def reversal_pairs(n, seed, V=8):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x = list(rng.integers(4, V, size=rng.integers(2, 6)))
        out.append((x, x[::-1]))
    return out


def test_attention_model_learns_to_reverse_and_generate_decodes():
    from coursekit.train.loop import train
    torch.manual_seed(0)
    model = s2s.Seq2Seq(8, 8, embed=16, hidden=48, context="attention")

    def loss_fn(m, x, y, hidden=None, n_last=None):
        logits, _ = m(x[0], x[1], y[0])
        return s2s.masked_sequence_loss(logits, y[1]), None

    train(model, PairBatches(reversal_pairs(2000, 0), 64), steps=700, lr=1e-2, clip=1.0,
          loss_fn=loss_fn, progress=False)
    test = reversal_pairs(200, 1)
    greedy = model.generate([x for x, _ in test])
    beam = model.generate([x for x, _ in test], beam_size=3, alpha=0.6)
    acc = np.mean([g == y for g, (_, y) in zip(greedy, test)])
    assert acc > 0.9, acc
    assert np.mean([b == y for b, (_, y) in zip(beam, test)]) >= acc - 0.02
    a = model.alignment(test[0][0], test[0][1])
    assert a.shape == (len(test[0][1]) + 1, len(test[0][0]))
    # reversal: output token t looks at source position S-1-t
    assert (a[:-1].argmax(1) == np.arange(len(test[0][0]))[::-1]).mean() >= 0.5


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(3)
    model = s2s.Seq2Seq(9, 8, embed=6, hidden=10, context="attention", attention="additive")
    vocab = TokenVocab(list("abcde"), ordered=True)
    s2s.save_checkpoint(tmp_path / "m.pt", model, vocab.itos, vocab.itos, metrics={"per": 0.1},
                        extra={"src_merges": [("a", "b")]})
    loaded, src_itos, tgt_itos, metrics = s2s.load_checkpoint(tmp_path / "m.pt")
    assert src_itos == vocab.itos and metrics == {"per": 0.1}
    from coursekit.train.checkpoint import load_checkpoint as load_info
    assert load_info(tmp_path / "m.pt")[1]["extra"]["src_merges"] == [["a", "b"]]
    src, src_len, tgt_in, _ = batch(5)
    a, _ = model.eval()(src, src_len, tgt_in)
    b, _ = loaded(src, src_len, tgt_in)
    assert torch.allclose(a, b, atol=2e-2)  # float16 storage


def test_vocab_and_padding_helpers():
    v = TokenVocab([["the", "cat"], ["the", "dog"]], min_freq=1)
    assert v.itos[:5] == ["<pad>", "<bos>", "<eos>", "<unk>", "the"]
    assert v.encode(["the", "emu"], bos=True, eos=True) == [BOS, 4, 3, EOS]
    assert v.decode([BOS, 4, 5, EOS, 4]) == ["the", "cat"]
    assert TokenVocab.from_itos(v.itos).itos == v.itos
    assert TokenVocab([["a"], ["a"], ["b"]], min_freq=2).itos[4:] == ["a"]
    ids, lengths = pad_batch([[5, 6, 7], [8]])
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]] and lengths.tolist() == [3, 1]
    (src, src_len), (tgt_in, tgt_out) = PairBatches.make([([5, 6], [7]), ([8], [9, 10])])
    assert tgt_in.tolist() == [[BOS, 7, 0], [BOS, 9, 10]]
    assert tgt_out.tolist() == [[7, EOS, 0], [9, 10, EOS]]
    with pytest.raises(ValueError, match="special"):
        TokenVocab(["<pad>"], ordered=True)
