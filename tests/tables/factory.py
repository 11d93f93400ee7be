"""Small `WeekInputs` for tests, with the dtypes of `model.WeekInputs`.

Every frame builder takes plain dicts (dates as 'YYYY-MM-DD' strings) and fills the columns a
test does not care about, so a test shows only the numbers it reasons about. `sample_inputs`
builds a small but complete week for tests that need every table populated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import pyarrow as pa

from buildout_tracker import weeks
from buildout_tracker.model import FeedWeekStatus, WeekInputs

WEEK = "2026-W48"  # Monday 2026-11-23 .. status date Sunday 2026-11-29
FEEDS = ("procurement", "fx_rates", "milestones", "hiring", "reference")
MILESTONES = (
    "LAND_ACQUIRED",
    "PERMITS_ISSUED",
    "GROUNDBREAKING",
    "SHELL_COMPLETE",
    "POWER_ENERGIZED",
    "COOLING_COMMISSIONED",
    "IT_FITOUT_COMPLETE",
    "GO_LIVE",
)

# column -> kind: text, date, ts (UTC timestamp), dec (float64), int (Int64), flag (bool)
PO_COLUMNS = {
    "po_number": "text",
    "po_line": "int",
    "po_date": "date",
    "change_ts": "ts",
    "supplier_id": "text",
    "supplier_name": "text",
    "workstream": "text",
    "category": "text",
    "site_id": "text",
    "description": "text",
    "quantity": "dec",
    "uom": "text",
    "unit_price": "dec",
    "currency": "text",
    "net_value": "dec",
    "requested_delivery_date": "date",
    "received_qty": "dec",
    "last_receipt_date": "date",
    "status": "text",
    "deleted": "flag",
}
FX_COLUMNS = {"currency": "text", "rate_date": "date", "usd_per_unit": "dec"}
SITE_COLUMNS = {
    "site_id": "text",
    "site_name": "text",
    "country": "text",
    "region": "text",
    "planned_mw": "dec",
    "budget_usd": "dec",
}
MILESTONE_PLAN_COLUMNS = {
    "site_id": "text",
    "milestone_code": "text",
    "baseline_date": "date",
    "weight": "dec",
}
BUDGET_PLAN_COLUMNS = {"workstream": "text", "quarter": "text", "budget_usd": "dec"}
HIRING_PLAN_COLUMNS = {
    "workstream": "text",
    "role_family": "text",
    "quarter": "text",
    "planned_hires": "int",
}
MILESTONE_COLUMNS = {
    "site_id": "text",
    "milestone_code": "text",
    "status_date": "date",
    "forecast_date": "date",
    "actual_date": "date",
    "percent_complete": "dec",
    "status": "text",
    "stale": "flag",
}
REQ_COLUMNS = {
    "req_id": "text",
    "workstream": "text",
    "team": "text",
    "role_family": "text",
    "level": "text",
    "country": "text",
    "opened_date": "date",
    "target_start_date": "date",
    "status": "text",
    "closed_date": "date",
}
OFFER_COLUMNS = {
    "offer_id": "text",
    "version": "int",
    "req_id": "text",
    "candidate_key": "text",
    "status": "text",
    "extended_date": "date",
    "resolved_date": "date",
    "start_date": "date",
}
DQ_COLUMNS = {
    "feed": "text",
    "file": "text",
    "rule": "text",
    "severity": "text",
    "rows_checked": "int",
    "rows_failed": "int",
    "success": "flag",
}


def frame(rows: Iterable[Mapping[str, Any]], columns: Mapping[str, str]) -> pd.DataFrame:
    df = pd.DataFrame(list(rows), columns=list(columns))
    for name, kind in columns.items():
        s = df[name]
        if kind == "text":
            df[name] = (
                s.astype("str").where(s.notna(), None).astype("str") if len(s) else s.astype("str")
            )
            df[name] = pd.Series([None if pd.isna(v) else str(v) for v in s], dtype="str")
        elif kind == "date":
            df[name] = pd.to_datetime(s).astype("datetime64[ns]")
        elif kind == "ts":
            df[name] = pd.to_datetime(s, utc=True)
        elif kind == "dec":
            df[name] = pd.to_numeric(s).astype("float64")
        elif kind == "int":
            df[name] = pd.to_numeric(s).astype("Int64")
        elif kind == "flag":
            df[name] = s.astype(bool)
    return df


def po_lines(*rows: Mapping[str, Any]) -> pd.DataFrame:
    """PO lines; by default a live USD line of 10 EA at 100 (net 1000), nothing received."""
    out = []
    for i, row in enumerate(rows, start=1):
        base: dict[str, Any] = {
            "po_number": f"{4500000000 + i:010d}",
            "po_line": 1,
            "po_date": "2026-09-01",
            "change_ts": "2026-09-01T00:00:00Z",
            "supplier_id": "SUP1",
            "supplier_name": "Supplier One Ltd",
            "workstream": "compute_hardware",
            "category": "servers",
            "site_id": None,
            "description": "line",
            "quantity": 10.0,
            "uom": "EA",
            "unit_price": 100.0,
            "currency": "USD",
            "requested_delivery_date": "2026-12-31",
            "received_qty": 0.0,
            "last_receipt_date": None,
            "status": "open",
            "deleted": False,
        }
        base.update(row)
        base.setdefault("net_value", None)
        if base["net_value"] is None:
            base["net_value"] = float(base["quantity"]) * float(base["unit_price"])
        out.append(base)
    return frame(out, PO_COLUMNS)


def fx_rates(*rows: tuple[str, str, float]) -> pd.DataFrame:
    return frame(
        [{"currency": c, "rate_date": d, "usd_per_unit": r} for c, d, r in rows], FX_COLUMNS
    )


def sites(*rows: Mapping[str, Any]) -> pd.DataFrame:
    out = []
    for row in rows:
        base = {
            "site_name": f"Site {row['site_id']}",
            "country": "MY",
            "region": "apac",
            "planned_mw": 10.0,
            "budget_usd": 1_000_000.0,
        }
        base.update(row)
        out.append(base)
    return frame(out, SITE_COLUMNS)


def milestone_plan(
    site_id: str, baselines: Iterable[str], weights: Iterable[float]
) -> pd.DataFrame:
    rows = [
        {"site_id": site_id, "milestone_code": code, "baseline_date": b, "weight": w}
        for code, b, w in zip(MILESTONES, baselines, weights, strict=True)
    ]
    return frame(rows, MILESTONE_PLAN_COLUMNS)


def site_report(
    site_id: str,
    report_date: str,
    milestones: Mapping[str, Mapping[str, Any]],
    stale: bool = False,
) -> pd.DataFrame:
    """Eight milestone rows; unspecified milestones are not started, forecast 2027-06-30."""
    rows = []
    for code in MILESTONES:
        base: dict[str, Any] = {
            "site_id": site_id,
            "milestone_code": code,
            "status_date": report_date,
            "forecast_date": "2027-06-30",
            "actual_date": None,
            "percent_complete": 0.0,
            "status": "not_started",
            "stale": stale,
        }
        spec = dict(milestones.get(code, {}))
        if spec.get("status") == "complete":
            base.update({"percent_complete": 100.0, "forecast_date": spec.get("actual_date")})
        base.update(spec)
        rows.append(base)
    return frame(rows, MILESTONE_COLUMNS)


def concat(*frames: pd.DataFrame) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True)


def budget_plan(*rows: tuple[str, str, float]) -> pd.DataFrame:
    return frame(
        [{"workstream": w, "quarter": q, "budget_usd": b} for w, q, b in rows], BUDGET_PLAN_COLUMNS
    )


def hiring_plan(*rows: tuple[str, str, str, int]) -> pd.DataFrame:
    return frame(
        [
            {"workstream": w, "role_family": r, "quarter": q, "planned_hires": n}
            for w, r, q, n in rows
        ],
        HIRING_PLAN_COLUMNS,
    )


def requisitions(*rows: Mapping[str, Any]) -> pd.DataFrame:
    out = []
    for row in rows:
        base = {
            "workstream": "ai_software",
            "team": "platform",
            "role_family": "software_eng",
            "level": "L5",
            "country": "SG",
            "opened_date": "2026-09-01",
            "target_start_date": None,
            "status": "open",
            "closed_date": None,
        }
        base.update(row)
        out.append(base)
    return frame(out, REQ_COLUMNS)


def offers(*rows: Mapping[str, Any]) -> pd.DataFrame:
    out = []
    for row in rows:
        base = {
            "version": 1,
            "candidate_key": "k" + str(row.get("offer_id")),
            "status": "extended",
            "extended_date": "2026-10-01",
            "resolved_date": None,
            "start_date": None,
        }
        base.update(row)
        out.append(base)
    return frame(out, OFFER_COLUMNS)


def dq_rules(*rows: Mapping[str, Any]) -> pd.DataFrame:
    return frame(rows, DQ_COLUMNS)


def feed_status(**overrides: FeedWeekStatus | dict[str, Any]) -> dict[str, FeedWeekStatus]:
    """Every feed delivered and not blocked, unless overridden (by a status or its fields)."""
    out = {}
    for feed in FEEDS:
        base: dict[str, Any] = {
            "feed": feed,
            "delivered": True,
            "blocked": False,
            "files_received": 1,
            "rows_in": 10,
        }
        o = overrides.get(feed)
        if isinstance(o, FeedWeekStatus):
            out[feed] = o
            continue
        base.update(o or {})
        out[feed] = FeedWeekStatus(**base)
    return out


def make_inputs(week: str = WEEK, **frames: Any) -> WeekInputs:
    """A WeekInputs with empty frames (right columns and dtypes) except those passed."""
    empty = {
        "po_lines": frame([], PO_COLUMNS),
        "fx_rates": frame([], FX_COLUMNS),
        "sites": frame([], SITE_COLUMNS),
        "milestone_plan": frame([], MILESTONE_PLAN_COLUMNS),
        "budget_plan": frame([], BUDGET_PLAN_COLUMNS),
        "hiring_plan": frame([], HIRING_PLAN_COLUMNS),
        "milestones": frame([], MILESTONE_COLUMNS),
        "requisitions": frame([], REQ_COLUMNS),
        "offers": frame([], OFFER_COLUMNS),
    }
    kw: dict[str, Any] = {**empty, **frames}
    kw.setdefault("feed_status", feed_status())
    return WeekInputs(week=week, status_date=weeks.status_date(week), **kw)


def as_prior(tables: Mapping[str, pa.Table]) -> dict[str, pd.DataFrame]:
    """A week's computed tables as the next week's `prior`, as a consumer would read them back."""
    return {name: t.to_pandas() for name, t in tables.items()}


def sample_inputs(week: str = WEEK, prior: Mapping[str, pd.DataFrame] | None = None) -> WeekInputs:
    """A small complete week: two reporting sites (one stale) and one never reporting, lines in
    USD and EUR across workstreams, budgets and hiring plans for every workstream, offers with
    versions, data-quality rules."""
    sd = weeks.status_date(week)
    return make_inputs(
        week,
        po_lines=po_lines(
            {
                "workstream": "data_centers",
                "category": "construction",
                "site_id": "S1",
                "quantity": 1,
                "unit_price": 500_000,
                "received_qty": 1,
                "last_receipt_date": "2026-10-01",
                "requested_delivery_date": "2026-10-15",
                "status": "received",
                "supplier_id": "SUPA",
            },
            {
                "workstream": "data_centers",
                "category": "power_electrical",
                "site_id": "S2",
                "quantity": 4,
                "unit_price": 100_000,
                "currency": "EUR",
                "received_qty": 2,
                "last_receipt_date": "2026-11-02",
                "requested_delivery_date": "2026-11-01",
                "status": "partially_received",
                "supplier_id": "SUPB",
            },
            {
                "workstream": "compute_hardware",
                "category": "gpu_accelerators",
                "quantity": 8,
                "unit_price": 30_000,
                "received_qty": 8,
                "last_receipt_date": "2026-11-20",
                "requested_delivery_date": "2026-11-10",
                "status": "received",
                "supplier_id": "SUPC",
            },
            {
                "workstream": "compute_hardware",
                "category": "servers",
                "quantity": 2,
                "unit_price": 20_000,
                "status": "cancelled",
            },
            {
                "workstream": "chip_development",
                "category": "eda_tools",
                "quantity": 1,
                "unit_price": 250_000,
                "received_qty": 1,
                "last_receipt_date": "2026-10-20",
                "requested_delivery_date": "2026-10-30",
                "status": "closed",
                "supplier_id": "SUPD",
            },
            {
                "workstream": "ai_software",
                "category": "cloud_services",
                "quantity": 12,
                "unit_price": 10_000,
                "received_qty": 12,
                "last_receipt_date": "2026-11-25",
                "requested_delivery_date": "2026-11-30",
                "uom": "MTH",
                "status": "received",
                "supplier_id": "SUPE",
            },
        ),
        fx_rates=fx_rates(
            ("EUR", "2026-11-20", 1.10), ("EUR", str(sd), 1.20), ("EUR", "2026-12-05", 9.99)
        ),
        sites=sites(
            {"site_id": "S1", "planned_mw": 20.0, "budget_usd": 2_000_000.0},
            {"site_id": "S2", "region": "emea", "country": "NO"},
            {"site_id": "S3"},
        ),
        milestone_plan=concat(
            milestone_plan(
                "S1",
                [
                    "2026-03-01",
                    "2026-05-01",
                    "2026-07-01",
                    "2026-09-01",
                    "2026-11-01",
                    "2027-01-01",
                    "2027-03-01",
                    "2027-05-01",
                ],
                [0.05, 0.05, 0.1, 0.2, 0.2, 0.1, 0.2, 0.1],
            ),
            milestone_plan(
                "S2",
                [
                    "2026-06-01",
                    "2026-08-01",
                    "2026-10-01",
                    "2026-12-01",
                    "2027-02-01",
                    "2027-04-01",
                    "2027-06-01",
                    "2027-08-01",
                ],
                [0.1, 0.1, 0.1, 0.2, 0.2, 0.1, 0.1, 0.1],
            ),
        ),
        milestones=concat(
            site_report(
                "S1",
                str(sd),
                {
                    "LAND_ACQUIRED": {"status": "complete", "actual_date": "2026-02-20"},
                    "PERMITS_ISSUED": {"status": "complete", "actual_date": "2026-05-10"},
                    "GROUNDBREAKING": {"status": "complete", "actual_date": "2026-07-20"},
                    "SHELL_COMPLETE": {
                        "status": "in_progress",
                        "forecast_date": "2026-12-15",
                        "percent_complete": 80.0,
                    },
                    "POWER_ENERGIZED": {
                        "status": "in_progress",
                        "forecast_date": "2027-01-20",
                        "percent_complete": 30.0,
                    },
                },
            ),
            site_report(
                "S2",
                "2026-11-15",
                {
                    "LAND_ACQUIRED": {"status": "complete", "actual_date": "2026-06-01"},
                    "PERMITS_ISSUED": {
                        "status": "in_progress",
                        "forecast_date": "2026-12-01",
                        "percent_complete": 50.0,
                    },
                },
                stale=True,
            ),
        ),
        budget_plan=budget_plan(
            ("data_centers", "2026-Q4", 3_000_000),
            ("compute_hardware", "2026-Q4", 400_000),
            ("chip_development", "2026-Q4", 300_000),
            ("ai_software", "2026-Q4", 150_000),
            ("ai_software", "2027-Q1", 150_000),
        ),
        hiring_plan=hiring_plan(
            ("ai_software", "software_eng", "2026-Q4", 4),
            ("data_centers", "dc_operations", "2026-Q4", 2),
            ("chip_development", "chip_design", "2026-Q4", 1),
            ("compute_hardware", "infrastructure_eng", "2026-Q4", 1),
        ),
        requisitions=requisitions(
            {
                "req_id": "R1",
                "status": "filled",
                "opened_date": "2026-09-01",
                "closed_date": "2026-10-15",
            },
            {"req_id": "R2", "status": "open", "opened_date": "2026-08-01"},
            {
                "req_id": "R3",
                "workstream": "data_centers",
                "role_family": "dc_operations",
                "status": "filled",
                "opened_date": "2026-10-01",
                "closed_date": "2026-11-25",
            },
            {
                "req_id": "R4",
                "workstream": "chip_development",
                "role_family": "chip_design",
                "status": "on_hold",
            },
            {
                "req_id": "R5",
                "workstream": "compute_hardware",
                "role_family": "infrastructure_eng",
                "status": "filled",
                "opened_date": "2026-09-15",
                "closed_date": "2026-11-01",
            },
        ),
        offers=offers(
            {"offer_id": "O1", "req_id": "R1", "version": 1, "status": "deprecated"},
            {
                "offer_id": "O1",
                "req_id": "R1",
                "version": 2,
                "status": "accepted",
                "extended_date": "2026-10-05",
                "resolved_date": "2026-10-15",
            },
            {
                "offer_id": "O2",
                "req_id": "R3",
                "status": "accepted",
                "extended_date": "2026-11-23",
                "resolved_date": "2026-11-25",
            },
            {
                "offer_id": "O3",
                "req_id": "R2",
                "status": "declined",
                "extended_date": "2026-11-01",
                "resolved_date": "2026-11-05",
            },
            {
                "offer_id": "O4",
                "req_id": "R5",
                "status": "accepted",
                "extended_date": "2026-10-20",
                "resolved_date": "2026-11-01",
            },
        ),
        dq_rules=dq_rules(
            {
                "feed": "procurement",
                "file": "po_lines_1.csv",
                "rule": "net_value_matches",
                "severity": "critical",
                "rows_checked": 6,
                "rows_failed": 0,
                "success": True,
            },
            {
                "feed": "milestones",
                "file": None,
                "rule": "forecast_not_past",
                "severity": "warning",
                "rows_checked": 16,
                "rows_failed": 1,
                "success": False,
            },
        ),
        prior=dict(prior or {}),
    )
