"""Where the weekly program report keeps its objects in the lake bucket (`reports/program/`).

Kept beside the report until `zones.py` carries them: every key the report reads or writes is
built here or in `zones.py`.
"""

from __future__ import annotations

PREFIX = "reports/program/"
HISTORY_PREFIX = f"{PREFIX}_history/"


def week_prefix(week: str) -> str:
    return f"{PREFIX}week={week}/"


def summary(week: str) -> str:
    """What changed in the week, as JSON (schema: `report.changes`)."""
    return f"{week_prefix(week)}summary.json"


def html(week: str) -> str:
    """The week's program report: one self-contained HTML file."""
    return f"{week_prefix(week)}index.html"


def history_part(name: str) -> str:
    """The compact running history of one published table's columns the report reads."""
    return f"{HISTORY_PREFIX}{name}.parquet"


def history_manifests() -> str:
    """What the running history knows of each published week's manifest."""
    return f"{HISTORY_PREFIX}manifests.json"
