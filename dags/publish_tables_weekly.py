"""
### publish_tables_weekly

**Starts** on every update of a validated asset (procurement, FX rates, milestones, hiring;
each event carries its week) and publishes the weeks whose every feed has run: the weekly
ingests publish their week once the last of them is done, and a later ingest of a week (a
re-run, a late file, a correction after `make supersede`) publishes that week again, and
only it. On Mondays 12:00 UTC a fallback publishes the week that just closed if its ingests
did not (a feed whose DAG did not run cannot stall the week: its areas are grey), unless an
ingest of it is still queued or running. Either way the run also publishes every week
ingested since its publication: Airflow can drop asset events (apache/airflow#56050), and
the run's log names the weeks it recovered. Trigger with `week` (ISO week, e.g. 2026-W48) to
publish a week by hand (a week that has not closed needs `force`; a withdrawn week is
published again only this way).

**Reads** the validated state in force in the lake bucket (`state/`, `reports/feeds/`) and
last week's published tables.

**Writes** the six tables of the data dictionary (`docs/data-dictionary.md`) to
`curated/<table>/week=<W>/part-00000.parquet` and the manifest
`curated/_manifests/week=<W>.json` last, after an audit (keys, ranges, week-over-week
consistency, reconciliations). A failed audit publishes nothing and fails the run with the
reasons; a week no feed delivered anything for is not published. Red and grey areas are
sent to the alert webhook, once each. Owner: buildout data platform.
"""

from __future__ import annotations

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, get_current_context, task

from buildout_tracker.alerts import task_failure_callback
from buildout_tracker.orchestration.dag_support import (
    DEFAULT_ARGS,
    START_DATE,
    Tags,
    any_validated_asset,
    curated_asset,
    publish_and_emit,
    week_params,
)

CURATED = curated_asset()


@dag(
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 12 * * 1", timezone="UTC"),
        assets=any_validated_asset(),
    ),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args={**DEFAULT_ARGS, "on_failure_callback": task_failure_callback},
    tags=[Tags.PUBLISH, Tags.WEEKLY, Tags.CURATED],
    doc_md=__doc__,
    params=week_params("publish"),
)
def publish_tables_weekly() -> None:
    @task
    def select_weeks() -> list[str]:
        from buildout_tracker.orchestration.dag_support import publish_weeks

        return publish_weeks(get_current_context())

    @task(outlets=[CURATED])
    def publish_weekly_tables(weeks: list[str]) -> list[dict]:
        return publish_and_emit(weeks, CURATED)

    publish_weekly_tables(select_weeks())


publish_tables_weekly()
