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

from airflow.sdk import dag, task

from buildout_tracker.orchestration.dag_support import (
    Tags,
    check_week,
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

    @task(retries=0)
    def check_hiring_week(summary: dict) -> None:
        check_week(summary)

    check_hiring_week(ingest_ats_snapshots())


ingest_hiring_weekly()
