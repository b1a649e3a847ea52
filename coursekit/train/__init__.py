"""Training: numpy optimisers and clipping, gradient checking, the torch loop, checkpoints.

- :mod:`~coursekit.train.optim`: SGD (momentum, Nesterov), Adagrad, RMSprop and Adam
  for dicts of numpy arrays (matched to ``torch.optim``). Chapter 2.
- :mod:`~coursekit.train.clip`: clipping by global norm and by value. Chapter 2.
- :mod:`~coursekit.train.gradcheck`: finite-difference gradients and relative error.
  Chapter 1.
- :mod:`~coursekit.train.loop`: ``train(model, batches, ...)``, the one seeded training
  loop for torch models (progress bar, clipping, truncated BPTT, history), and
  ``sequence_loss``. Chapters 2 to 5.
- :mod:`~coursekit.train.checkpoint`: small, safe checkpoints of any coursekit model.
  Chapter 3.
"""
