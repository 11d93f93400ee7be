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

from airflow.sdk import dag, task

from buildout_tracker.orchestration.dag_support import (
    Tags,
    ingest_and_emit,
    validated_asset,
    weekly_ingest_dag_args,
    weekly_timetable,
)

REF = validated_asset("reference")


@dag(schedule=weekly_timetable(), doc_md=__doc__, **weekly_ingest_dag_args(Tags.REFERENCE))
def ingest_reference_weekly() -> None:
    @task(outlets=[REF])
    def ingest_reference_files() -> dict:
        return ingest_and_emit("reference", REF)

    ingest_reference_files()


ingest_reference_weekly()
