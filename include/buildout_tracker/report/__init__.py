"""The weekly program report, built from the published tables after each publication.

- `history.py`: the published weeks up to W, only the columns the report needs, read through
  each week's manifest and kept as a running history in the lake (`reports/program/_history/`).
- `changes.py`: what changed since the previous ISO week (`summary.json`; its JSON keys are in
  that module's docstring).
- `charts.py`: the charts' numbers and their Vega-Lite specs, rendered to SVG by vl-convert.
- `page.py`: the one self-contained HTML page (`index.html`).
- `build.py`: `build_report(lake, week)`, `save_local(lake, week, path)`.
- `bench.py`: `bench_report(lake, week, baseline)`, for `make bench`.

The report reads only what is published (`curated/`); it imports the top level, `feeds/` and
`tables/`, never the layers that publish. Importing it imports neither altair nor vl-convert:
both are loaded by the task that renders.
"""

from __future__ import annotations

from buildout_tracker.report.build import ReportResult, build_report, report_bytes, save_local
from buildout_tracker.report.history import WeekNotPublished, read_history

__all__ = [
    "ReportResult",
    "WeekNotPublished",
    "build_report",
    "read_history",
    "report_bytes",
    "save_local",
]
