"""
### publish_tables_weekly

**Starts** when the validated assets of procurement, FX rates, milestones and hiring have all
been updated (asset events carry the week), or on Mondays 12:00 UTC as a fallback so a
silent feed cannot stall the week (it then publishes the week that just closed, with the
silent feed's areas grey). `params.week` publishes a given week by hand.

**Reads** the validated state in force in the lake bucket (`state/`, `reports/feeds/`) and
last week's published tables.

**Writes** the six tables of the data dictionary (`docs/data-dictionary.md`) to
`curated/<table>/week=<W>/part-00000.parquet` and the manifest
`curated/_manifests/week=<W>.json` last, after an audit (keys, ranges, week-over-week
consistency, reconciliations). A failed audit publishes nothing and fails the run with the
reasons. Red and grey areas are sent to the alert webhook. Owner: buildout data platform.
"""

from __future__ import annotations

from airflow.sdk import (
    AssetOrTimeSchedule,
    CronTriggerTimetable,
    Param,
    dag,
    get_current_context,
    task,
)

from buildout_tracker.alerts import task_failure_callback
from buildout_tracker.orchestration.dag_support import (
    DEFAULT_ARGS,
    START_DATE,
    Tags,
    curated_asset,
    every_validated_asset,
)

CURATED = curated_asset()


@dag(
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 12 * * 1", timezone="UTC"),
        assets=every_validated_asset(),
    ),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args={**DEFAULT_ARGS, "on_failure_callback": task_failure_callback},
    tags=[Tags.PUBLISH, Tags.WEEKLY, Tags.CURATED],
    doc_md=__doc__,
    params={
        "week": Param(
            None, type=["null", "string"], description="ISO week to publish, e.g. 2026-W48"
        )
    },
)
def publish_tables_weekly() -> None:
    @task
    def select_weeks() -> list[str]:
        from buildout_tracker.orchestration.dag_support import publish_weeks

        return publish_weeks(get_current_context())

    @task(outlets=[CURATED])
    def publish_weekly_tables(weeks: list[str]) -> list[dict]:
        from buildout_tracker.pipeline.steps import run_publish_task

        context = get_current_context()
        results = [run_publish_task(week, context["run_id"]) for week in weeks]
        context["outlet_events"][CURATED].extra = {"weeks": weeks}
        return results

    publish_weekly_tables(select_weeks())


publish_tables_weekly()
