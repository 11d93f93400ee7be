"""Two small published weeks, 2026-W47 and 2026-W48, whose changes are worked out by hand.

Areas (scorecard, as published):

- chip_development: hiring attainment 0.86 (amber) -> 45 / 55 = 0.8182 (red); the area turns
  red. Role families: chip_design 40/46 -> 41/50 hires/planned, ml_engineering 3/4 -> 4/5.
  Contributions to the change, (dH - 0.86 dP) / 55: chip_design (1 - 3.44) / 55 = -0.044364,
  ml_engineering (1 - 0.86) / 55 = +0.002545; they add up to 0.8182 - 0.86 = -0.041818.
- data_centers and program: two sites. S1 (DC-AA-01): PV 100 -> 110, EV 96 -> 96, AC 96 -> 96;
  S2 (DC-BB-01): PV 100 -> 110, EV 96 -> 108.6, AC 96 -> 128.6. SPI 192 / 200 = 0.96 (green)
  -> 204.6 / 220 = 0.93 (amber): contributions (dEV - 0.96 dPV) / 220 = S1 -9.6 / 220 =
  -0.043636, S2 3 / 220 = +0.013636. CPI 1.00 (green) -> 204.6 / 224.6 = 0.910953 (amber):
  (dEV - 1.0 dAC) / 224.6 = S2 -20 / 224.6 = -0.089047 (S1 0, left out). BAC 1000 each: EAC
  2000 -> 2000 x 224.6 / 204.6 = 2195.50; S2's contribution 2000 x (32.6 - 12.6) / 204.6 =
  195.50 (all of it). Go-live slip S1 10 -> 40 days (+30), S2 5 -> 5.
- compute_hardware: on-time delivery 182 / 200 = 0.91 (green) -> 196 / 225 = 0.8711 (amber).
  Categories: gpu_accelerators on time 91 -> 96 of fully received 100 -> 115, servers 91 -> 100
  of 100 -> 110: contributions (dOT - 0.91 dFR) / 225 = gpu -8.65 / 225 = -0.038444, servers
  -0.1 / 225 = -0.000444. Committed gpu 1000 -> 1100 (+100), servers 500 -> 450 (-50).
- program also carries chip_development's hiring and compute_hardware's on-time delivery, so
  its rules spi, cpi (green -> amber), hiring_attainment (amber -> red) and otd_rate (green ->
  amber) all change, and it turns red (was amber). ai_software stays green.

Milestones: S1 GO_LIVE at_risk (slip 10) -> late (slip 40, as its site's go-live); S1
SHELL_COMPLETE on_track (0) -> at_risk (12); S2 unchanged. Sites: S2 goes stale in W48 (its report of 2026-11-15 is carried).
Feeds in W48: reference blocked ("reference blocked: sites.csv: required:site_id"), procurement
took one file late (delivered in the 2026-W47 folder), the others delivered.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from buildout_tracker import zones
from buildout_tracker.lake import Bucket, json_bytes, parquet_bytes
from buildout_tracker.report.history import compact_manifest
from buildout_tracker.tables import SCHEMAS, arrow
from buildout_tracker.weeks import status_date

W47, W48 = "2026-W47", "2026-W48"
S1, S2 = "DC-AA-01", "DC-BB-01"
AREAS = ("program", "ai_software", "chip_development", "compute_hardware", "data_centers")
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


def _scorecard(week: str) -> list[dict[str, Any]]:
    now = week == W48
    base = {"budget_total_usd": 10_000.0, "budget_to_date_usd": 1_000.0,
            "committed_usd": 900.0, "received_usd": 950.0, "spend_pace": 0.95}  # fmt: skip
    rows = {
        "ai_software": {"hiring_attainment": 1.0, "otd_rate": 0.95, "rag": "green"},
        "chip_development": {
            "hiring_attainment": 45 / 55 if now else 0.86,
            "otd_rate": 0.95,
            "rag": "red" if now else "amber",
        },
        "compute_hardware": {
            "hiring_attainment": 1.0,
            "otd_rate": 196 / 225 if now else 0.91,
            "rag": "amber" if now else "green",
        },
        "data_centers": {
            "hiring_attainment": 1.0,
            "otd_rate": 0.95,
            "spi": 0.93 if now else 0.96,
            "cpi": 204.6 / 224.6 if now else 1.0,
            "rag": "amber" if now else "green",
        },
        "program": {
            "hiring_attainment": 45 / 55 if now else 0.86,
            "otd_rate": 196 / 225 if now else 0.91,
            "spi": 0.93 if now else 0.96,
            "cpi": 204.6 / 224.6 if now else 1.0,
            "rag": "red" if now else "amber",
        },
    }
    out = []
    for area in AREAS:
        r = {"area": area, **base, **rows[area]}
        if area in ("program", "data_centers"):
            r["bac_usd"] = 2000.0
            r["eac_usd"] = 2000.0 * 224.6 / 204.6 if now else 2000.0
            r["vac_usd"] = 2000.0 - r["eac_usd"]
            r["tcpi"] = (2000.0 - (204.6 if now else 192.0)) / (2000.0 - (224.6 if now else 192.0))
        r["rag_reasons"] = REASONS[week].get(area, [])
        out.append(r)
    return out


REASONS = {
    W47: {
        "chip_development": ["hiring_attainment 0.86 < 0.95 (amber)"],
        "program": ["hiring_attainment 0.86 < 0.95 (amber)"],
    },
    W48: {
        "chip_development": ["hiring_attainment 0.82 < 0.85 (red)"],
        "compute_hardware": ["otd_rate 0.87 < 0.90 (amber)"],
        "data_centers": ["spi 0.93 < 0.95 (amber)", "cpi 0.91 < 0.95 (amber)"],
        "program": [
            "spi 0.93 < 0.95 (amber)",
            "cpi 0.91 < 0.95 (amber)",
            "hiring_attainment 0.82 < 0.85 (red)",
            "otd_rate 0.87 < 0.90 (amber)",
        ],
    },
}


def _sites(week: str) -> list[dict[str, Any]]:
    now = week == W48
    return [
        {"site_id": S1, "site_name": "Alpha Campus A", "region": "emea", "country": "DE",
         "planned_mw": 50.0, "energized_mw": 0.0, "live": False, "stale": False,
         "go_live_baseline": date(2027, 6, 1), "go_live_forecast": date(2027, 7 if now else 6, 11),
         "go_live_slip_days": 40 if now else 10, "bac_usd": 1000.0,
         "pv_usd": 110.0 if now else 100.0, "ev_usd": 96.0, "ac_usd": 96.0,
         "spi": (96 / 110) if now else 0.96, "cpi": 1.0},
        {"site_id": S2, "site_name": "Beta Campus A", "region": "apac", "country": "JP",
         "planned_mw": 30.0, "energized_mw": 0.0, "live": False, "stale": now,
         "go_live_baseline": date(2027, 3, 1), "go_live_forecast": date(2027, 3, 6),
         "go_live_slip_days": 5, "bac_usd": 1000.0, "pv_usd": 110.0 if now else 100.0,
         "ev_usd": 108.6 if now else 96.0, "ac_usd": 128.6 if now else 96.0,
         "spi": (108.6 / 110) if now else 0.96, "cpi": (108.6 / 128.6) if now else 1.0},
    ]  # fmt: skip


def _milestones(week: str) -> list[dict[str, Any]]:
    now = week == W48
    rows = []
    for site, name in ((S1, "Alpha Campus A"), (S2, "Beta Campus A")):
        for seq, code in enumerate(MILESTONES, 1):
            health, slip, baseline = "on_track", 0, date(2026, 12, 1)
            if site == S1 and code == "SHELL_COMPLETE":
                health, slip = ("at_risk", 12) if now else ("on_track", 0)
            if code == "GO_LIVE":  # as site_progress_weekly has it
                if site == S1:
                    baseline = date(2027, 6, 1)
                    health, slip = ("late", 40) if now else ("at_risk", 10)
                else:
                    baseline, health, slip = date(2027, 3, 1), "at_risk", 5
            reported = date(2026, 11, 15) if site == S2 else status_date(week)
            rows.append(
                {"site_id": site, "site_name": name, "region": "emea", "country": "DE",
                 "milestone_code": code, "milestone_seq": seq, "baseline_date": baseline,
                 "forecast_date": baseline + timedelta(days=slip),
                 "actual_date": None, "percent_complete": 0.0, "status": "in_progress",
                 "slip_days": slip, "slip_change_days": None, "report_status_date": reported,
                 "stale": site == S2 and now, "health": health}
            )  # fmt: skip
    return rows


def _hiring(week: str) -> list[dict[str, Any]]:
    now = week == W48
    return [
        {"workstream": "chip_development", "role_family": "chip_design",
         "planned_hires_to_date": 50.0 if now else 46.0, "hires_to_date": 41 if now else 40,
         "hires_this_week": 1 if now else 0},
        {"workstream": "chip_development", "role_family": "ml_engineering",
         "planned_hires_to_date": 5.0 if now else 4.0, "hires_to_date": 4 if now else 3,
         "hires_this_week": 1 if now else 0},
    ]  # fmt: skip


def _procurement(week: str) -> list[dict[str, Any]]:
    now = week == W48
    return [
        {"workstream": "compute_hardware", "category": "gpu_accelerators",
         "committed_usd": 1100.0 if now else 1000.0, "received_usd": 850.0 if now else 800.0,
         "on_time_lines": 96 if now else 91, "fully_received_lines": 115 if now else 100,
         "live_lines": 120, "late_lines": 2},
        {"workstream": "compute_hardware", "category": "servers",
         "committed_usd": 450.0 if now else 500.0, "received_usd": 400.0,
         "on_time_lines": 100 if now else 91, "fully_received_lines": 110 if now else 100,
         "live_lines": 110, "late_lines": 1},
    ]  # fmt: skip


FEEDS = ("reference", "fx_rates", "procurement", "milestones", "hiring")


def data_quality_status(week: str) -> dict[str, dict[str, Any]]:
    out = {}
    for feed in FEEDS:
        blocked = week == W48 and feed == "reference"
        delivered = feed != "reference" or blocked
        out[feed] = {
            "feed": feed, "delivered": delivered, "blocked": blocked,
            "reason": "reference blocked: sites.csv: required:site_id" if blocked else None,
            "files_received": 1 if delivered else 0, "duplicates_skipped": 0,
            "files_quarantined": 1 if blocked else 0, "rows_in": 100 if delivered else 0,
            "rows_quarantined": 7 if blocked else 0,
        }  # fmt: skip
    return out


def _delivery(week: str) -> list[dict[str, Any]]:
    rows = []
    for feed, st in data_quality_status(week).items():
        rows.append(
            {"feed": feed, "file": None, "rule": "delivery", "severity": "critical",
             "rows_checked": st["rows_in"], "rows_failed": st["rows_quarantined"],
             "success": not st["blocked"], "files_received": st["files_received"],
             "duplicates_skipped": 0, "files_quarantined": st["files_quarantined"],
             "rows_in": st["rows_in"], "rows_quarantined": st["rows_quarantined"],
             "blocked": st["blocked"], "blocked_reason": st["reason"]}
        )  # fmt: skip
        rows.append(
            {"feed": feed, "file": f"{feed}/x.csv", "rule": "required:x", "severity": "critical",
             "rows_checked": 10, "rows_failed": 0, "success": True}
        )  # fmt: skip
    return rows


def inputs(week: str) -> list[dict[str, Any]]:
    out = [{"feed": "procurement", "key": f"procurement/{status_date(week)}/po_lines_1.csv",
            "sha256": "0" * 64, "outcome": "ingested"}]  # fmt: skip
    if week == W48:  # landed in the W47 folder after W47 ran: taken by W48's run
        out.append({"feed": "procurement", "key": "procurement/2026-11-20/po_lines_late.csv",
                    "sha256": "1" * 64, "outcome": "ingested"})  # fmt: skip
    return out


ROWS = {
    "program_scorecard": _scorecard,
    "site_progress_weekly": _sites,
    "milestone_status_weekly": _milestones,
    "hiring_weekly": _hiring,
    "procurement_weekly": _procurement,
    "data_quality_weekly": _delivery,
}


def table(name: str, week: str, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows in the table's published schema (columns not given are null)."""
    schema = SCHEMAS[name]
    cols = [f.name for f in schema]
    df = pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols)
    df["week"] = week
    df["status_date"] = status_date(week)
    return arrow.to_table(df.astype(object), schema)


def tables(week: str) -> dict[str, pa.Table]:
    return {name: table(name, week, fn(week)) for name, fn in ROWS.items()}


def manifest(week: str, published: dict[str, pa.Table], run_id: str = "test-run") -> dict[str, Any]:
    """A manifest like `publish/write.py` writes (what the report reads of it, at least)."""
    entries = {}
    for name, t in published.items():
        data = parquet_bytes(arrow.file_table(t))  # the file as published: no `week` column
        entries[name] = {
            "files": [zones.table_key(name, week)],
            "uris": [f"s3://lake/{zones.table_key(name, week)}"],
            "rows": t.num_rows,
            "sha256": hashlib.sha256(data).hexdigest(),
            "schema": [{"name": f.name, "type": str(f.type)} for f in
                       pq.read_schema(pa.BufferReader(data))],
        }  # fmt: skip
    return {
        "week": week,
        "status_date": status_date(week).isoformat(),
        "run_id": run_id,
        "code_version": "0.1.0+test",
        "inputs": inputs(week),
        "tables": entries,
        "data_quality": data_quality_status(week),
    }


def publish(lake: Bucket, week: str, published: dict[str, pa.Table] | None = None,
            run_id: str = "test-run") -> dict[str, Any]:  # fmt: skip
    """Write a week's tables and its manifest (last) into the lake, as the publisher does
    (`week` in the partition path only)."""
    published = tables(week) if published is None else published
    for name, t in published.items():
        lake.put_bytes(zones.table_key(name, week), parquet_bytes(arrow.file_table(t)))
    m = manifest(week, published, run_id)
    lake.put_bytes(zones.manifest_key(week), json_bytes(m))
    return m


def compact(week: str) -> dict[str, Any]:
    return compact_manifest(json.loads(json_bytes(manifest(week, tables(week)))))
