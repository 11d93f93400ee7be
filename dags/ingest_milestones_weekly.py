"""
### ingest_milestones_weekly

**Reads** the landing bucket's `milestones/<date>/*.jsonl` (each data-center site's
project-controls report) delivered during the run's ISO week (the week of the data interval's
start, or `params.week`), plus the reference in force (site register).

**Writes** to the lake bucket: ledger, quarantine (`quarantine/milestones/`; raw files with
controllers' e-mails stay in landing only), GX validation results and Data Docs, validated
files, and each site's report in force (`state/milestones/`, stale when the site did not
report this week). Controllers' e-mails and notes are dropped at ingest. Emits the asset
`validated_milestones`.

**Fails** when the week is blocked, naming the file and the rule: ask the site's project
controls team for a corrected report. Owner: buildout data platform.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task

from buildout_tracker.alerts import task_failure_callback
from buildout_tracker.dag_support import (
    DEFAULT_ARGS,
    START_DATE,
    Tags,
    run_week,
    validated_asset,
    weekly_timetable,
)

MS = validated_asset("milestones")


@dag(
    schedule=weekly_timetable(),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args={**DEFAULT_ARGS, "on_failure_callback": task_failure_callback},
    tags=[Tags.INGEST, Tags.WEEKLY, Tags.MILESTONES],
    doc_md=__doc__,
    params={
        "week": Param(None, type=["null", "string"], description="ISO week to run, e.g. 2026-W48")
    },
)
def ingest_milestones_weekly() -> None:
    @task(outlets=[MS])
    def ingest_milestone_reports() -> dict:
        from buildout_tracker.pipeline import run_ingest_task

        context = get_current_context()
        summary = run_ingest_task("milestones", run_week(context), context["run_id"])
        context["outlet_events"][MS].extra = summary
        return summary

    @task(retries=0)
    def check_milestones_week(summary: dict) -> None:
        from buildout_tracker.pipeline import fail_if_blocked, fail_if_later_weeks_stale

        fail_if_blocked(summary)
        fail_if_later_weeks_stale([summary])

    check_milestones_week(ingest_milestone_reports())


ingest_milestones_weekly()
