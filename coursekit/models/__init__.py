"""Small torch (and numpy) models that chapters and benchmarks train, built from coursekit.nn.

- :mod:`~coursekit.models.charlm`: ``CharLM``, the character language model
  (torch; chapters 3 and 4), with ``evaluate`` and its checkpoint helpers.
- :mod:`~coursekit.models.charrnn`: the same model from scratch in numpy, trained
  with truncated BPTT and Adagrad (chapter 3).
- :mod:`~coursekit.models.sequence`: ``SequenceNet``, the one configurable model of
  the synthetic tasks (chapters 2, 4 and 5).
- :mod:`~coursekit.models.crnn`: ``CRNN``, conv columns read by a bidirectional LSTM and
  trained with CTC (chapter 12).
"""
