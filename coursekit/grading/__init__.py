"""The coursekit grader: assignments students cannot fool.

- :mod:`~coursekit.grading.spec`: what an assignment's ``tests.py`` declares
  (:mod:`~coursekit.grading.inputs`: how inputs are drawn).
- :mod:`~coursekit.grading.loader`: loading an assignment folder (tests, references,
  checks of its own).
- :mod:`~coursekit.grading.assign`: the student release and the autograder zip.
- :mod:`~coursekit.grading.grade`: grading one or many notebooks, reports.
- :mod:`~coursekit.grading.sandbox` and :mod:`~coursekit.grading.child`: the
  limited child process that runs student code and returns arrays only;
  :mod:`~coursekit.grading.confine`: Landlock, the subreaper, killing descendants.
- :mod:`~coursekit.grading.compare`: the parent's checks and feedback.
- :mod:`~coursekit.grading.check`: ``check("q1")`` inside a notebook.
- :mod:`~coursekit.grading.classroom`: a class folder -> LMS CSV, regrade, summary.
- :mod:`~coursekit.grading.similarity`: the similarity report (nothing scored).

Chapter: the instructors' appendix (``book/instructors.md``).
"""


def make_check(spec):
    """``check = make_check(...)``: see :func:`coursekit.grading.check.make_check`."""
    from coursekit.grading.check import make_check as _make_check
    return _make_check(spec)
