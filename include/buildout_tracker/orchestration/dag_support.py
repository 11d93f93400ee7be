"""What every Buildout Tracker DAG shares: owner, tags, retries, timeouts, the weekly
timetable, the assets, the week of a run. Cheap to import: no pandas, GX or boto3.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from buildout_tracker import registry, settings
from buildout_tracker.weeks import week_key, week_of_interval_start

OWNER = "buildout-data-platform"
START_DATE = datetime(2026, 1, 5, 6, tzinfo=UTC)  # a Monday


class Tags:
    """The only tags a DAG may carry (telemetry-airflow's utils/tags.py habit)."""

    INGEST = "ingest"
    PUBLISH = "publish"
    WEEKLY = "weekly"
    PROCUREMENT = "procurement"
    MILESTONES = "milestones"
    HIRING = "hiring"
    REFERENCE = "reference"
    CURATED = "curated"

    @classmethod
    def all(cls) -> set[str]:
        return {v for k, v in vars(cls).items() if k.isupper()}


DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "retries": settings.task_retries(),
    "retry_delay": timedelta(seconds=settings.retry_delay_seconds()),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=10),
    "execution_timeout": timedelta(minutes=30),
}


def weekly_timetable() -> Any:
    """Monday 06:00 UTC to the next Monday 06:00: a run covers the ISO week of its interval's
    start and fires when the week has closed (the program's Monday-morning habit)."""
    from airflow.sdk import CronDataIntervalTimetable

    return CronDataIntervalTimetable("0 6 * * 1", timezone="UTC")


# Asset URIs use the project's own scheme: an s3:// URI makes the amazon provider import boto3
# on every DAG parse (0.14 s here). Where the data lives is in each asset's extra.
def validated_asset(feed: str) -> Any:
    from airflow.sdk import Asset

    return Asset(
        name=f"validated_{feed}",
        uri=f"buildout://lake/validated/{feed}",
        extra={"location": f"s3://{settings.lake_bucket()}/validated/ and state/ ({feed})"},
    )


def every_validated_asset() -> Any:
    """All the validated assets of the feeds the scorecard depends on (an AND condition)."""
    from functools import reduce

    return reduce(lambda a, b: a & b, (validated_asset(f) for f in registry.STATUS_FEEDS))


def curated_asset() -> Any:
    from airflow.sdk import Asset

    return Asset(
        name="curated_weekly_tables",
        uri="buildout://lake/curated",
        extra={"location": f"s3://{settings.lake_bucket()}/curated/"},
    )


def run_week(context: Any) -> str:
    """The ISO week of a scheduled, backfilled or manual run: from `params.week` when given,
    else from the data interval's start. Never from the clock."""
    params = context.get("params") or {}
    explicit = params.get("week") if isinstance(params, dict) else None
    if explicit:
        return str(explicit)
    start = context.get("data_interval_start") or context.get("logical_date")
    if start is None:
        raise ValueError("run has no data interval: trigger it with params.week (e.g. 2026-W48)")
    return week_of_interval_start(start)


def previous_week_of(moment: datetime) -> str:
    return week_key((moment - timedelta(days=7)).date())


def publish_weeks(context: Any) -> list[str]:
    """The weeks a run of the publishing DAG publishes: `params.week` when given, else the
    weeks its triggering asset events carry, else (the Monday cron fallback) the week that
    just closed, once at least one of its feeds was ingested: a fresh deployment's first
    fallback must not publish an empty week."""
    from buildout_tracker.weeks import parse_week

    explicit = (context.get("params") or {}).get("week")
    if explicit:
        return [explicit]
    weeks = set()
    for events in (context.get("triggering_asset_events") or {}).values():
        for event in events:
            week = (event.extra or {}).get("week")
            if week:
                weeks.add(week)
    if weeks:
        return sorted(weeks, key=parse_week)
    from airflow.sdk.exceptions import AirflowSkipException

    from buildout_tracker.pipeline.steps import ingested_feeds

    week = previous_week_of(context.get("logical_date") or context.get("run_after"))
    if not ingested_feeds(week):
        raise AirflowSkipException(f"no feed has been ingested for {week} yet: nothing to publish")
    return [week]


def weekly_ingest_dag_args(*tags: str) -> dict[str, Any]:
    """What every weekly ingest DAG passes to @dag, besides its id, schedule and docs."""
    from airflow.sdk import Param

    from buildout_tracker.alerts import task_failure_callback

    return {
        "start_date": START_DATE,
        "catchup": False,
        "max_active_runs": 1,
        "default_args": {**DEFAULT_ARGS, "on_failure_callback": task_failure_callback},
        "tags": [Tags.INGEST, Tags.WEEKLY, *tags],
        "params": {
            "week": Param(
                None, type=["null", "string"], description="ISO week to run, e.g. 2026-W48"
            )
        },
    }


def ingest_and_emit(feed: str, asset: Any) -> dict[str, Any]:
    """The body of an ingest task: the feed's week, its counts put on the asset event."""
    from airflow.sdk import get_current_context

    from buildout_tracker.pipeline.steps import run_ingest_task

    context = get_current_context()
    summary = run_ingest_task(feed, run_week(context), context["run_id"])
    context["outlet_events"][asset].extra = summary
    return summary


def check_week(*summaries: dict[str, Any]) -> None:
    """Fail, naming feed, file and rule, when a feed's week is blocked, or name the later
    weeks a re-run made stale."""
    from buildout_tracker.pipeline.steps import fail_if_blocked, fail_if_later_weeks_stale

    for summary in summaries:
        fail_if_blocked(summary)
    fail_if_later_weeks_stale(list(summaries))
