"""The notebooks here are submissions to grade, not notebooks to run: keep nbval away."""
collect_ignore_glob = ["*.ipynb"]
