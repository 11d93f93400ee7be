"""Small, valid deliveries built by hand for the ingest and publish tests."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

PO_COLUMNS = [
    "po_number", "po_line", "po_date", "change_ts", "supplier_id", "supplier_name", "workstream",
    "category", "site_id", "description", "quantity", "uom", "unit_price", "currency", "net_value",
    "requested_delivery_date", "received_qty", "last_receipt_date", "status", "deleted",
]  # fmt: skip
MILESTONES = [
    "LAND_ACQUIRED", "PERMITS_ISSUED", "GROUNDBREAKING", "SHELL_COMPLETE", "POWER_ENERGIZED",
    "COOLING_COMMISSIONED", "IT_FITOUT_COMPLETE", "GO_LIVE",
]  # fmt: skip


def csv_bytes(columns: list[str], rows: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if r.get(c) is None else r.get(c) for c in columns])
    return buf.getvalue().encode("utf-8")


def po_line(n: int, line: int = 1, **over: Any) -> dict[str, Any]:
    row = {
        "po_number": f"{4500000000 + n:010d}", "po_line": line, "po_date": "2026-09-01",
        "change_ts": "2026-09-01T08:00:00Z", "supplier_id": f"SUP-{n % 3}", "supplier_name": "Acme, Inc.",
        "workstream": "compute_hardware", "category": "servers", "site_id": "", "description": "rack servers",
        "quantity": "10", "uom": "EA", "unit_price": "100.00", "currency": "USD", "net_value": "1000.00",
        "requested_delivery_date": "2026-10-01", "received_qty": "0", "last_receipt_date": "",
        "status": "open", "deleted": "false",
    }  # fmt: skip
    row.update(over)
    return row


def po_lines_csv(rows: list[dict[str, Any]]) -> bytes:
    return csv_bytes(PO_COLUMNS, rows)


def fx_csv(rows: list[tuple[str, str, str]]) -> bytes:
    return csv_bytes(
        ["currency", "rate_date", "usd_per_unit"],
        [dict(zip(["currency", "rate_date", "usd_per_unit"], r, strict=True)) for r in rows],
    )


def sites_csv(site_ids: list[str]) -> bytes:
    return csv_bytes(
        ["site_id", "site_name", "country", "region", "planned_mw", "budget_usd"],
        [
            {
                "site_id": s,
                "site_name": f"Site {s}",
                "country": "SG",
                "region": "apac",
                "planned_mw": "50",
                "budget_usd": "1000000",
            }
            for s in site_ids
        ],
    )


def milestone_plan_csv(site_ids: list[str]) -> bytes:
    rows = []
    for s in site_ids:
        for i, code in enumerate(MILESTONES):
            rows.append(
                {
                    "site_id": s,
                    "milestone_code": code,
                    "baseline_date": f"2026-{i + 1:02d}-15",
                    "weight": "0.125",
                }
            )
    return csv_bytes(["site_id", "milestone_code", "baseline_date", "weight"], rows)


def budget_plan_csv() -> bytes:
    rows = [
        {"workstream": w, "quarter": q, "budget_usd": "1000000"}
        for w in ("compute_hardware", "chip_development", "data_centers", "ai_software")
        for q in ("2026-Q3", "2026-Q4")
    ]
    return csv_bytes(["workstream", "quarter", "budget_usd"], rows)


def hiring_plan_csv() -> bytes:
    rows = [
        {
            "workstream": "ai_software",
            "role_family": "software_eng",
            "quarter": q,
            "planned_hires": "4",
        }
        for q in ("2026-Q3", "2026-Q4")
    ]
    return csv_bytes(["workstream", "role_family", "quarter", "planned_hires"], rows)


def milestone_report(site_id: str, status_date: str, done: int = 2, **over: Any) -> bytes:
    """A site's full report: the first `done` milestones complete, the rest not started."""
    lines = []
    for i, code in enumerate(MILESTONES):
        complete = i < done
        rec = {
            "site_id": site_id, "milestone_code": code, "status_date": status_date,
            "forecast_date": None if complete else f"2027-{i + 1:02d}-15",
            "actual_date": f"2026-{i + 1:02d}-15" if complete else None,
            "percent_complete": 100 if complete else 0,
            "status": "complete" if complete else "not_started",
            "reported_by": "controller@example.com", "notes": "weekly report",
        }  # fmt: skip
        rec.update(over.get(code, {}))
        lines.append(json.dumps(rec))
    return ("\n".join(lines) + "\n").encode()


REQ_COLUMNS = [
    "req_id",
    "workstream",
    "team",
    "role_family",
    "level",
    "country",
    "opened_date",
    "target_start_date",
    "status",
    "closed_date",
    "hiring_manager_email",
]
OFFER_COLUMNS = [
    "offer_id",
    "version",
    "req_id",
    "candidate_id",
    "candidate_name",
    "candidate_email",
    "status",
    "extended_date",
    "resolved_date",
    "start_date",
]


def requisitions_csv(rows: list[dict[str, Any]]) -> bytes:
    base = {"workstream": "ai_software", "team": "platform", "role_family": "software_eng", "level": "L5", "country": "SG",
            "opened_date": "2026-08-01", "target_start_date": "", "status": "open", "closed_date": "", "hiring_manager_email": "boss@example.com"}  # fmt: skip
    return csv_bytes(REQ_COLUMNS, [{**base, **r} for r in rows])


def offers_csv(rows: list[dict[str, Any]]) -> bytes:
    base = {"version": "1", "candidate_id": "C-1", "candidate_name": "Jane Candidate", "candidate_email": "jane@example.com",
            "status": "extended", "extended_date": "2026-09-01", "resolved_date": "", "start_date": ""}  # fmt: skip
    return csv_bytes(OFFER_COLUMNS, [{**base, **r} for r in rows])
