"""coursekit: the tested reference code behind the recurrent neural networks course.

Every chapter notebook and assignment imports this package; it imports neither.
The top level names its roles (``CONTRIBUTING.md`` at the repository root
describes the layout):

- :mod:`coursekit.nn`: the model families, numpy reference beside its PyTorch twin;
- :mod:`coursekit.models`: small models the chapters train, built from the families;
- :mod:`coursekit.train`: optimisers, clipping, gradient checks, the training loop,
  checkpoints;
- :mod:`coursekit.data`: corpora with their provenance, and the synthetic tasks;
- :mod:`coursekit.decode`: sampling and search; :mod:`coursekit.metrics`: figures of merit;
- :mod:`coursekit.book`: what only the chapters use (showing source, plots, explorers,
  each chapter's experiments);
- :mod:`coursekit.grading`: the grader engine; :mod:`coursekit.cli`: the command.
"""

__version__ = "0.2.0"
