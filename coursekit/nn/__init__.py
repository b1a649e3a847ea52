"""Model families: the numpy reference (forward and backward with caches) beside its PyTorch twin.

One file per family: :mod:`~coursekit.nn.layers` (affine, softmax, losses,
embedding), :mod:`~coursekit.nn.rnn` (chapter 1), :mod:`~coursekit.nn.lstm` and
:mod:`~coursekit.nn.lstm_variants` (chapter 4), :mod:`~coursekit.nn.gru` and
:mod:`~coursekit.nn.gru_original` (chapter 5), :mod:`~coursekit.nn.stacked` (deep and
bidirectional stacks of those cells, chapter 6), :mod:`~coursekit.nn.tree` and
:mod:`~coursekit.nn.tree_torch` (recursive networks, chapter 8; the torch twins batched by
level live in their own file), :mod:`~coursekit.nn.cnn` (small
convolutional encoders for chapters 11 and 12), :mod:`~coursekit.nn.ctc` and
:mod:`~coursekit.nn.ctc_decode` (CTC loss, gradient and decoders, chapter 12),
:mod:`~coursekit.nn.pooling` (many-to-one heads over the valid steps, chapter 7),
:mod:`~coursekit.nn.attention` and :mod:`~coursekit.nn.seq2seq` (chapters 9 and 10).
Each family's file holds the functional numpy API (``*_forward(...) -> (out, cache)``,
``*_backward(dout, cache)``), its torch module written from tensor ops, and converters to
and from the matching ``torch.nn`` module.
"""
