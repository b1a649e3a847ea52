"""Small torch (and numpy) models that chapters and benchmarks train, built from coursekit.nn.

- :mod:`~coursekit.models.charlm`: ``CharLM``, the character language model
  (torch; chapters 3 and 4), with ``evaluate`` and its checkpoint helpers.
- :mod:`~coursekit.models.charrnn`: the same model from scratch in numpy, trained
  with truncated BPTT and Adagrad (chapter 3).
- :mod:`~coursekit.models.captioners`: ``ShowAndTell`` and ``ShowAttendTell``, torch
  image captioners on a ``ConvEncoder`` with greedy and beam decoding (chapter 11).
- :mod:`~coursekit.models.captioning`: ``CaptioningRNN``, the numpy image captioner in
  the CS231n API (loss with ``<NULL>`` masked, greedy ``sample``; chapter 11).
- :mod:`~coursekit.models.deep`: ``DeepTagger``, stacked uni- or bidirectional recurrent
  layers with dropout and residual connections between them, a read-out at every step
  (torch; chapter 6).
- :mod:`~coursekit.models.sequence`: ``SequenceNet``, the one configurable model of
  the synthetic tasks (chapters 2, 4 and 5).
- :mod:`~coursekit.models.listops`: ``TreeClassifier`` and ``SequenceClassifier``, the
  ListOps models of chapter 8, with their batching and training loop.
- :mod:`~coursekit.models.crnn`: ``CRNN``, conv columns read by a bidirectional LSTM and
  trained with CTC (chapter 12).
- :mod:`~coursekit.models.sentiment`: ``SentimentRNN``, the review classifier (embedding,
  packed LSTM/GRU one way or both, a pooling head) and their training loop (chapter 7).
- :mod:`~coursekit.models.bow`: the bag-of-words logistic-regression baseline (chapter 7).
- :mod:`~coursekit.models.forecast`: persistence, linear autoregression and the GRU
  forecaster, one-step and multi-step, with MAE and RMSE (chapter 7).
"""
