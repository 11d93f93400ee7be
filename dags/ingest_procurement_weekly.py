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

**Fails** (red in the UI, alert sent) when the week is blocked: the message names the feed,
the file and the rule. Ask the ERP team (PO lines) or Treasury (FX rates) for a corrected
file; a re-run of the week picks it up. Owner: buildout data platform.
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

FX, PO = validated_asset("fx_rates"), validated_asset("procurement")


@dag(
    schedule=weekly_timetable(),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args={**DEFAULT_ARGS, "on_failure_callback": task_failure_callback},
    tags=[Tags.INGEST, Tags.WEEKLY, Tags.PROCUREMENT],
    doc_md=__doc__,
    params={
        "week": Param(None, type=["null", "string"], description="ISO week to run, e.g. 2026-W48")
    },
)
def ingest_procurement_weekly() -> None:
    @task(outlets=[FX])
    def ingest_fx_rates() -> dict:
        from buildout_tracker.pipeline import run_ingest_task

        context = get_current_context()
        summary = run_ingest_task("fx_rates", run_week(context), context["run_id"])
        context["outlet_events"][FX].extra = summary
        return summary

    @task(outlets=[PO])
    def ingest_po_lines() -> dict:
        from buildout_tracker.pipeline import run_ingest_task

        context = get_current_context()
        summary = run_ingest_task("procurement", run_week(context), context["run_id"])
        context["outlet_events"][PO].extra = summary
        return summary

    @task(retries=0)
    def check_procurement_week(fx: dict, po: dict) -> None:
        from buildout_tracker.pipeline import fail_if_blocked, fail_if_later_weeks_stale

        fail_if_blocked(fx)
        fail_if_blocked(po)
        fail_if_later_weeks_stale([fx, po])

    fx = ingest_fx_rates()
    po = ingest_po_lines()
    fx >> po
    check_procurement_week(fx, po)


ingest_procurement_weekly()
