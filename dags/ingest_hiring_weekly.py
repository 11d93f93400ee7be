"""
### ingest_hiring_weekly

**Reads** the landing bucket's `hiring/<date>/requisitions_*.csv` and `offers_*.csv` (ATS
snapshots) delivered during the run's ISO week (the week of the data interval's start, or
`params.week`).

**Writes** to the lake bucket: ledger, quarantine (`quarantine/hiring/`; raw files stay in
landing only, as they hold personal data), GX validation results and Data Docs, validated
files, and the ATS state in force (`state/requisitions/`, `state/offers/`). Candidate names
and e-mails and managers' e-mails are dropped at ingest; `candidate_id` becomes an HMAC keyed
by the `buildout_pii_hmac` connection. Emits the asset `validated_hiring`.

**Fails** when the week is blocked, naming the file and the rule: ask the talent systems
team for a corrected export. Owner: buildout data platform.
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

HIRING = validated_asset("hiring")


@dag(
    schedule=weekly_timetable(),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args={**DEFAULT_ARGS, "on_failure_callback": task_failure_callback},
    tags=[Tags.INGEST, Tags.WEEKLY, Tags.HIRING],
    doc_md=__doc__,
    params={
        "week": Param(None, type=["null", "string"], description="ISO week to run, e.g. 2026-W48")
    },
)
def ingest_hiring_weekly() -> None:
    @task(outlets=[HIRING])
    def ingest_ats_snapshots() -> dict:
        from buildout_tracker.pipeline import run_ingest_task

        context = get_current_context()
        summary = run_ingest_task("hiring", run_week(context), context["run_id"])
        context["outlet_events"][HIRING].extra = summary
        return summary

    @task(retries=0)
    def check_hiring_week(summary: dict) -> None:
        from buildout_tracker.pipeline import fail_if_blocked, fail_if_later_weeks_stale

        fail_if_blocked(summary)
        fail_if_later_weeks_stale([summary])

    check_hiring_week(ingest_ats_snapshots())


ingest_hiring_weekly()
