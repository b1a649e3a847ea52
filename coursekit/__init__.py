"""coursekit: the tested reference code behind the recurrent neural networks course.

Every chapter notebook and assignment imports this package. Modules are named
after the chapters that teach them (``rnn``, ``lstm``, ``gru``, ...); shared
building blocks live in ``layers``, ``optim`` and ``gradcheck``.
"""

__version__ = "0.1.0"
