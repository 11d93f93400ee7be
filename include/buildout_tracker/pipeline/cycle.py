"""Whole weeks in one process: the same steps the DAG tasks call (`steps.ingest` for every
feed in the registry's order, then `steps.publish`), alerts included, for many weeks in a
row. `make run` and the benchmarks use it; the DAGs are the scheduled way to run them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from buildout_tracker import registry
from buildout_tracker.ingest.report import FeedWeekReport
from buildout_tracker.pipeline import steps
from buildout_tracker.pipeline.runtime import Runtime
from buildout_tracker.publish import AuditFailed, PublishResult

log = logging.getLogger(__name__)


@dataclass
class WeekOutcome:
    week: str
    reports: dict[str, FeedWeekReport]
    published: PublishResult | None
    error: str | None
    seconds: dict[str, float] = field(default_factory=dict)
    data_docs: dict[str, str] = field(default_factory=dict)


def run_week(
    rt: Runtime,
    week: str,
    progress: Callable[[str], None] = lambda s: None,
    docs: bool = True,
    report: bool | None = None,
) -> WeekOutcome:
    """Every feed's ingest task, then the publish task (and the week's program report), for
    one week."""
    reports: dict[str, FeedWeekReport] = {}
    seconds: dict[str, float] = {}
    data_docs: dict[str, str] = {}
    for feed in registry.NAMES:
        progress(f"ingest + validate {feed}")
        t0 = time.perf_counter()
        outcome = steps.ingest(rt, feed, week, docs=docs)
        reports[feed] = outcome.report
        if outcome.data_docs:
            data_docs[feed] = outcome.data_docs
        seconds[f"ingest_{feed}"] = time.perf_counter() - t0
    progress("compute, audit, publish")
    t0 = time.perf_counter()
    published, error = None, None
    try:
        published = steps.publish(rt, week, report=docs if report is None else report)
    except (AuditFailed, steps.NothingToPublish) as exc:
        error = str(exc)
    seconds["publish"] = time.perf_counter() - t0
    return WeekOutcome(week, reports, published, error, seconds, data_docs)


def run_weeks(
    rt: Runtime,
    weeks: list[str],
    echo: Callable[[str], Any] = print,
    docs: bool = True,
    verbose: bool = False,
) -> list[WeekOutcome]:
    """Weeks in order, a line each; Data Docs for the last one only (each week's are built
    by its DAG runs). `verbose`: every step of every week, and every feed's report."""
    from buildout_tracker.pipeline.summary import attention_lines, feed_week_line, week_line

    outcomes = []
    for k, week in enumerate(weeks, 1):

        def progress(phase: str, k: int = k, week: str = week) -> None:
            if verbose:
                echo(f"    week {k}/{len(weeks)} {week}: {phase}")

        t0 = time.perf_counter()
        last = k == len(weeks)  # Data Docs and the program report of the last week only
        outcome = run_week(rt, week, progress, docs=docs and last)
        outcomes.append(outcome)
        card = outcome.published.scorecard if outcome.published else None
        line = week_line(outcome.week, outcome.reports, card, outcome.error)
        echo(f"  {line}  [{time.perf_counter() - t0:.1f} s]")
        for report in outcome.reports.values():
            if verbose:
                echo(f"      {feed_week_line(report)}")
            for note in attention_lines(report) if verbose or k == len(weeks) else []:
                echo(f"        {note}")
    return outcomes
