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

**Waits for a decision** when the week is blocked (the message names the file and the rule;
an alert goes out): `decide_hiring_week` shows it under Required actions. Ask the talent systems team
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

HIRING = validated_asset("hiring")


@dag(schedule=weekly_timetable(), doc_md=__doc__, **weekly_ingest_dag_args(Tags.HIRING))
def ingest_hiring_weekly() -> None:
    @task(outlets=[HIRING])
    def ingest_ats_snapshots() -> dict:
        return ingest_and_emit("hiring", HIRING)

    @task.branch
    def check_hiring_week(summary: dict) -> str | None:
        return check_week(summary, decide="decide_hiring_week")

    decide = decision_request("decide_hiring_week", "check_hiring_week")

    @task(outlets=[HIRING])
    def apply_hiring_decision(decision: dict, summary: dict) -> list[dict]:
        return apply_decision(decision, [summary], {"hiring": HIRING})

    summary = ingest_ats_snapshots()
    check_hiring_week(summary) >> decide
    apply_hiring_decision(decide.output, summary)


ingest_hiring_weekly()
