"""What only the chapters use: showing source, pictures, explorers, each chapter's experiments.

- :mod:`~coursekit.book.show`: ``show(obj)`` prints the package's real source in a chapter;
- :mod:`~coursekit.book.viz`: diagrams and plots drawn by code;
- :mod:`~coursekit.book.widgets`: the static-picture-then-explorer pattern;
- ``chNN_<topic>``: the experiments, plots and explorers of chapter NN.

The references in :mod:`coursekit.nn` never import from here.
"""
