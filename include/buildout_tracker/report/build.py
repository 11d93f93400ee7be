"""Build a week's program report: read the history, work out what changed, draw the charts,
write `summary.json` and `index.html` under `reports/program/week=<W>/`."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from buildout_tracker.lake import Bucket, json_bytes
from buildout_tracker.report import keys
from buildout_tracker.report.changes import digest, what_changed
from buildout_tracker.report.charts import figures, render_all, warm_up
from buildout_tracker.report.history import History, read_history
from buildout_tracker.report.page import page

log = logging.getLogger(__name__)


@dataclass
class ReportResult:
    week: str
    summary_key: str
    html_key: str
    summary_uri: str
    html_uri: str
    html_sha256: str
    html_bytes: int
    sentences: list[str]
    digest: str  # the week in a few lines, for the alert channel
    summary: dict[str, Any] = field(repr=False)
    seconds: dict[str, float] = field(default_factory=dict)  # read, changes, charts, page, write
    history: dict[str, Any] = field(default_factory=dict)  # what reading the history cost


def render_report(
    h: History, warming: threading.Thread | None = None
) -> tuple[dict[str, Any], str, dict[str, float]]:
    """(summary, html, seconds per phase) of a history: pure, no lake."""
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    summary = what_changed(h)
    seconds["changes"] = time.perf_counter() - t
    t = time.perf_counter()
    figs = figures(h)
    if warming is not None:
        warming.join()
    figs = render_all(figs)
    seconds["charts"] = time.perf_counter() - t
    t = time.perf_counter()
    html = page(h, summary, figs)
    seconds["page"] = time.perf_counter() - t
    return summary, html, seconds


def build_report(lake: Bucket, week: str) -> ReportResult:
    """The week's report, written to the lake (summary first, the page last)."""
    t0 = time.perf_counter()
    warming = warm_up()  # the chart engine starts while the history is read
    h = read_history(lake, week)
    read_s = time.perf_counter() - t0
    summary, html, seconds = render_report(h, warming)
    t = time.perf_counter()
    data = html.encode("utf-8")
    lake.put_bytes(keys.summary(week), json_bytes(summary), "application/json")
    lake.put_bytes(keys.html(week), data, "text/html; charset=utf-8")
    seconds = {"read": read_s, **seconds, "write": time.perf_counter() - t}
    seconds["total"] = time.perf_counter() - t0
    log.info("report %s built in %.2f s (%s)", week, seconds["total"], seconds)
    return ReportResult(
        week=week,
        summary_key=keys.summary(week),
        html_key=keys.html(week),
        summary_uri=lake.uri(keys.summary(week)),
        html_uri=lake.uri(keys.html(week)),
        html_sha256=hashlib.sha256(data).hexdigest(),
        html_bytes=len(data),
        sentences=list(summary["sentences"]),
        digest=digest(summary),
        summary=summary,
        seconds=seconds,
        history=dict(h.stats),
    )


def report_bytes(lake: Bucket, week: str, build: bool = False) -> bytes:
    """The week's page: the one in the lake, built first when asked or when there is none."""
    data = None if build else lake.get_bytes_or_none(keys.html(week))
    if data is None:
        build_report(lake, week)
        data = lake.get_bytes(keys.html(week))
    return data


def save_local(lake: Bucket, week: str, path: str | Path, build: bool = False) -> Path:
    """Write the week's page to a local file (for `make report` and `make run`)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(report_bytes(lake, week, build=build))
    return out
