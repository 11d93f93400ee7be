"""docs/program-report.md carries the summary.json keys the code writes (its schema is the
docstring of report/changes.py), and the data dictionary points to it."""

from __future__ import annotations

from buildout_tracker.report import changes
from buildout_tracker.settings import PROJECT_ROOT


def test_the_summary_schema_is_documented_as_the_code_states_it() -> None:
    doc = (PROJECT_ROOT / "docs" / "program-report.md").read_text()
    body = changes.__doc__.strip().partition("\n")[2].strip()
    assert body in doc, "docs/program-report.md differs from report/changes.py: paste it again"
    dictionary = (PROJECT_ROOT / "docs" / "data-dictionary.md").read_text()
    assert "(program-report.md)" in dictionary
