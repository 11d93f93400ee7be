"""
### ingest_procurement_weekly

**Reads** the landing bucket's `fx_rates/<date>/fx_rates_*.csv` and
`procurement/<date>/po_lines_*.csv` delivered during the run's ISO week (the week of the data
interval's start, or `params.week`), plus the reference in force.

**Writes** to the lake bucket: the deliveries ledger (`ledger/`), refused rows and files
(`quarantine/procurement/`, `quarantine/fx_rates/`), GX validation results and Data Docs
(`reports/`), the validated files (`validated/`), and the state of PO lines and FX rates at
the end of the week (`state/po_lines/`, `state/fx_rates/`). Emits the assets
`validated_fx_rates` and `validated_procurement` with the week's counts and blocked flag.

**Waits for a decision** when the week is blocked (the message names the feed, the file and
the rule; an alert goes out): `decide_procurement_week` shows it under Required actions.
Ask the ERP team (PO lines) or Treasury (FX rates) for a corrected file in a delivery folder
of the week, then choose to supersede the refused file by it: the week runs again and, no
longer blocked, is published. Keeping it blocked, or no answer within
BUILDOUT_DECISION_TIMEOUT_HOURS (default 48), fails the run: the week stays withheld.
Owner: buildout data platform.
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

FX, PO = validated_asset("fx_rates"), validated_asset("procurement")


@dag(schedule=weekly_timetable(), doc_md=__doc__, **weekly_ingest_dag_args(Tags.PROCUREMENT))
def ingest_procurement_weekly() -> None:
    @task(outlets=[FX])
    def ingest_fx_rates() -> dict:
        return ingest_and_emit("fx_rates", FX)

    @task(outlets=[PO])
    def ingest_po_lines() -> dict:
        return ingest_and_emit("procurement", PO)

    @task.branch
    def check_procurement_week(fx: dict, po: dict) -> str | None:
        return check_week(fx, po, decide="decide_procurement_week")

    decide = decision_request("decide_procurement_week", "check_procurement_week")

    @task(outlets=[FX, PO])
    def apply_procurement_decision(decision: dict, fx: dict, po: dict) -> list[dict]:
        return apply_decision(decision, [fx, po], {"fx_rates": FX, "procurement": PO})

    fx = ingest_fx_rates()
    po = ingest_po_lines()
    fx >> po
    check_procurement_week(fx, po) >> decide
    apply_procurement_decision(decide.output, fx, po)


ingest_procurement_weekly()
