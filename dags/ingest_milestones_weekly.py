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

**Waits for a decision** when the week is blocked (the message names the file and the rule;
an alert goes out): `decide_milestones_week` shows it under Required actions. Ask the site's project controls team
for a corrected file in a delivery folder of the week, then choose to supersede the refused
file by it: the week runs again and, no longer blocked, is published. Keeping it blocked, or
no answer within BUILDOUT_DECISION_TIMEOUT_HOURS (default 48), fails the run: the week stays
withheld. Owner: buildout data platform.
"""

from __future__ import annotations

from airflow.sdk import dag, task

from buildout_tracker.orchestration.dag_support import (
    Tags,
    apply_decision,
    check_week,
    decision_request,
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

    @task.branch
    def check_milestones_week(summary: dict) -> str | None:
        return check_week(summary, decide="decide_milestones_week")

    decide = decision_request("decide_milestones_week", "check_milestones_week")

    @task(outlets=[MS])
    def apply_milestones_decision(decision: dict, summary: dict) -> list[dict]:
        return apply_decision(decision, [summary], {"milestones": MS})

    summary = ingest_milestone_reports()
    check_milestones_week(summary) >> decide
    apply_milestones_decision(decide.output, summary)


ingest_milestones_weekly()
