"""A validation run from `python -c` (the way `make bench` starts its measured child) goes on
to the end: pyspark, which GX imports when it is installed, took a `__main__` without a file
for a doctest run and exited the interpreter with status 0, printing "Skipping doctests"."""

from __future__ import annotations

import subprocess
import sys

CODE = """
from buildout_tracker.feeds.gx_suite import GxValidator
from buildout_tracker.feeds.procurement import PO_LINES
from buildout_tracker.feeds.schema import RuleContext
GxValidator()._validation(PO_LINES, RuleContext())
print("went on to the end")
"""


def test_a_validation_under_python_c_is_not_cut_short() -> None:
    run = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "went on to the end" in run.stdout, (run.stdout[-500:], run.stderr[-2000:])
    assert "FutureWarning" not in run.stderr, run.stderr[-2000:]
