"""
### ingest_reference_weekly

**Reads** the landing bucket's `reference/<date>/` files from the program office
(`sites.csv`, `milestone_plan.csv`, `budget_plan.csv`, `hiring_plan.csv`) delivered during
the run's ISO week (the week of the data interval's start, or `params.week`).

**Writes** to the lake bucket: ledger, quarantine (`quarantine/reference/`), GX results and
Data Docs, validated files, and the version of each reference file in force
(`state/reference_<file>/`). A reference file that fails validation keeps the previous
version in force and the run says so (task log and the feed report in
`reports/feeds/week=<W>/reference.json`). Emits the asset `validated_reference`.
The procurement and milestones DAGs bring the reference up to date themselves before they
check site ids, so this DAG's order relative to them does not matter.
Owner: buildout data platform; reference data: the program management office.
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

REF = validated_asset("reference")


@dag(
    schedule=weekly_timetable(),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args={**DEFAULT_ARGS, "on_failure_callback": task_failure_callback},
    tags=[Tags.INGEST, Tags.WEEKLY, Tags.REFERENCE],
    doc_md=__doc__,
    params={
        "week": Param(None, type=["null", "string"], description="ISO week to run, e.g. 2026-W48")
    },
)
def ingest_reference_weekly() -> None:
    @task(outlets=[REF])
    def ingest_reference_files() -> dict:
        from buildout_tracker.pipeline import run_ingest_task

        context = get_current_context()
        summary = run_ingest_task("reference", run_week(context), context["run_id"])
        context["outlet_events"][REF].extra = summary
        return summary

    ingest_reference_files()


ingest_reference_weekly()
