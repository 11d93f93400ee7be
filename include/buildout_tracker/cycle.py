"""Whole weekly cycles in one process: the same step functions the DAG tasks call, for many
weeks in a row, with progress. `make run` and the benchmarks use it; the DAGs are the
scheduled way to run the same steps.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from buildout_tracker import alerts, pipeline
from buildout_tracker.ingest.feed_week import FeedWeekReport
from buildout_tracker.publish import AuditFailed, PublishResult, publish_week

log = logging.getLogger(__name__)

INGEST_ORDER = ("reference", "fx_rates", "procurement", "milestones", "hiring")


@dataclass
class WeekOutcome:
    week: str
    reports: dict[str, FeedWeekReport]
    published: PublishResult | None
    error: str | None
    seconds: dict[str, float] = field(default_factory=dict)
    data_docs: dict[str, str] = field(default_factory=dict)


def run_week(
    rt: pipeline.Runtime,
    week: str,
    progress: Callable[[str], None] = lambda s: None,
    docs: bool = True,
    notify: bool = True,
) -> WeekOutcome:
    reports: dict[str, FeedWeekReport] = {}
    seconds: dict[str, float] = {}
    for feed in INGEST_ORDER:
        progress(f"ingest + validate {feed}")
        t0 = time.perf_counter()
        reports[feed] = pipeline.INGEST_STEPS[feed](rt, week)
        seconds[f"ingest_{feed}"] = time.perf_counter() - t0
        if notify:
            pipeline.announce(rt, reports[feed])
    data_docs: dict[str, str] = {}
    if docs:
        progress("data docs")
        t0 = time.perf_counter()
        uri = pipeline.build_data_docs(rt, week, "all")
        if uri:
            data_docs["all"] = uri
        seconds["data_docs"] = time.perf_counter() - t0
    progress("compute, audit, publish")
    t0 = time.perf_counter()
    published, error = None, None
    try:
        published = publish_week(rt.lake, rt.landing, week, run_id=rt.run_id)
    except AuditFailed as exc:
        error = str(exc)
        if notify:
            alerts.send(
                alerts.Alert("audit_failed", week, None, error, rt.lake.uri("curated/_manifests/"))
            )
    seconds["publish"] = time.perf_counter() - t0
    if published is not None and notify:
        alerts.send_all(alerts.scorecard_alerts(week, published.scorecard, published.manifest_uri))
    return WeekOutcome(week, reports, published, error, seconds, data_docs)


def run_weeks(
    rt: pipeline.Runtime, weeks: list[str], echo: Callable[[str], Any] = print, docs: bool = True
) -> list[WeekOutcome]:
    outcomes = []
    started = time.perf_counter()
    for k, week in enumerate(weeks, 1):

        def progress(phase: str, k: int = k, week: str = week) -> None:
            echo(f"  week {k}/{len(weeks)} {week}: {phase} ({time.perf_counter() - started:.0f} s)")

        outcome = run_week(rt, week, progress, docs=docs and k == len(weeks))
        outcomes.append(outcome)
        echo(week_line(outcome))
    return outcomes


def week_line(o: WeekOutcome) -> str:
    parts = []
    for feed, r in o.reports.items():
        s = r.summary()
        flag = " BLOCKED" if s["blocked"] else ""
        parts.append(
            f"{feed} {s['files_received']}f/{s['rows_in']}r/{s['rows_quarantined']}q{flag}"
        )
    pub = "published" if o.published else f"NOT published ({o.error})"
    return f"{o.week}: " + ", ".join(parts) + f" -> {pub}"
