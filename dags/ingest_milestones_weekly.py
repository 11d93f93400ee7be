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

from airflow.sdk import dag, task

from buildout_tracker.orchestration.dag_support import (
    Tags,
    check_week,
    ingest_and_emit,
    validated_asset,
    weekly_ingest_dag_args,
    weekly_timetable,
)

MS = validated_asset("milestones")


@dag(schedule=weekly_timetable(), doc_md=__doc__, **weekly_ingest_dag_args(Tags.MILESTONES))
def ingest_milestones_weekly() -> None:
    @task(outlets=[MS])
    def ingest_milestone_reports() -> dict:
        return ingest_and_emit("milestones", MS)

    @task(retries=0)
    def check_milestones_week(summary: dict) -> None:
        check_week(summary)

    check_milestones_week(ingest_milestone_reports())


ingest_milestones_weekly()
