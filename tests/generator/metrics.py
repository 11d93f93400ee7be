"""An independent, plain reading of docs/data-dictionary.md's scorecard over a generated landing folder.

Used by the tests to check that the generated history shows every RAG colour. It reads
the files as a consumer of docs/feeds.md would, not through the generator's internals.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from buildout_tracker import weeks as wk

WORKSTREAMS = ("compute_hardware", "chip_development", "data_centers", "ai_software")
MILESTONES = (
    "LAND_ACQUIRED", "PERMITS_ISSUED", "GROUNDBREAKING", "SHELL_COMPLETE", "POWER_ENERGIZED",
    "COOLING_COMMISSIONED", "IT_FITOUT_COMPLETE", "GO_LIVE",
)  # fmt: skip


def deliveries(root: Path, feed: str) -> list[tuple[date, Path]]:
    out = []
    for day_dir in sorted((root / feed).iterdir()):
        for f in sorted(day_dir.iterdir()):
            out.append((date.fromisoformat(day_dir.name), f))
    return out


def plan_to_date(df: pd.DataFrame, value: str, d: date) -> float:
    total = 0.0
    for q, v in zip(df["quarter"], df[value], strict=True):
        first, last = wk.quarter_bounds(q)
        if last <= d:
            total += v
        elif first <= d:
            total += v * ((d - first).days + 1) / ((last - first).days + 1)
    return total


def rate(value: float, green: tuple[float, float], amber: list[tuple[float, float]]) -> str:
    if value is None or np.isnan(value):
        return "none"
    if green[0] <= value <= green[1]:
        return "green"
    return "amber" if any(lo <= value <= hi for lo, hi in amber) else "red"


def scorecard(root: Path, week_keys: list[str]) -> pd.DataFrame:
    ref = root / "reference"
    ref_day = sorted(ref.iterdir())[0]
    sites = pd.read_csv(ref_day / "sites.csv")
    mplan = pd.read_csv(ref_day / "milestone_plan.csv", parse_dates=["baseline_date"])
    bplan = pd.read_csv(ref_day / "budget_plan.csv")
    hplan = pd.read_csv(ref_day / "hiring_plan.csv")
    fx = pd.concat(
        [pd.read_csv(f, parse_dates=["rate_date"]) for _, f in deliveries(root, "fx_rates")]
    )
    po_files = deliveries(root, "procurement")
    po_all = []
    for order, (day, f) in enumerate(po_files):
        df = pd.read_csv(f, dtype={"po_number": str, "site_id": str}, keep_default_na=False)
        df["delivered"] = pd.Timestamp(day)
        df["order"] = order
        df["row"] = np.arange(len(df))
        po_all.append(df)
    po = pd.concat(po_all, ignore_index=True)
    po["change_ts"] = pd.to_datetime(po["change_ts"], utc=True)
    for c in ("quantity", "unit_price", "received_qty", "net_value"):
        po[c] = po[c].astype(float)
    ms_files = deliveries(root, "milestones")
    hiring = deliveries(root, "hiring")
    out = []
    for key in week_keys:
        sd = wk.status_date(key)
        ts = pd.Timestamp(sd)
        usd = (
            fx[fx["rate_date"] <= ts]
            .sort_values("rate_date")
            .groupby("currency")
            .last()["usd_per_unit"]
        )
        usd = usd.to_dict() | {"USD": 1.0}
        cur = po[po["delivered"] <= ts].sort_values(["change_ts", "order", "row"])
        cur = cur.groupby(["po_number", "po_line"]).last().reset_index()
        live = cur[(cur["deleted"].astype(str) != "true") & (cur["status"] != "cancelled")].copy()
        live["rate"] = live["currency"].map(usd)
        live["received_usd"] = live["received_qty"] * live["unit_price"] * live["rate"]
        live["full"] = live["received_qty"] >= live["quantity"]
        live["on_time"] = live["full"] & (
            pd.to_datetime(live["last_receipt_date"])
            <= pd.to_datetime(live["requested_delivery_date"])
        )
        # milestones in force
        reports = {}
        for day, f in ms_files:
            if day > sd:
                continue
            recs = [json.loads(x) for x in f.read_text().splitlines()]
            sid = recs[0]["site_id"]
            if sid not in reports or recs[0]["status_date"] >= reports[sid][0]["status_date"]:
                reports[sid] = recs
        ms = pd.DataFrame([r for recs in reports.values() for r in recs])
        ms = ms.merge(mplan, on=["site_id", "milestone_code"]).merge(sites, on="site_id")
        ms["ev"] = ms["budget_usd"] * ms["weight"] * ms["percent_complete"] / 100
        ms["pv"] = ms["budget_usd"] * ms["weight"] * (ms["baseline_date"] <= ts)
        ev, pv = ms["ev"].sum(), ms["pv"].sum()
        ac = live[live["site_id"] != ""]["received_usd"].sum()
        # hiring: latest snapshot on or before the status date
        snap_day = max(day for day, _ in hiring if day <= sd)
        reqs = pd.concat(
            [pd.read_csv(f) for day, f in hiring if day == snap_day and f.name.startswith("req")]
        )
        offers = pd.concat(
            [pd.read_csv(f) for day, f in hiring if day == snap_day and f.name.startswith("off")]
        )
        top = offers.sort_values("version").groupby("offer_id").last().reset_index()
        hires = top[(top["status"] == "accepted") & (pd.to_datetime(top["resolved_date"]) <= ts)]
        hires = hires.merge(reqs[["req_id", "workstream"]], on="req_id")
        for area in ("program", *WORKSTREAMS):
            sel = (
                (lambda df, col="workstream": df)
                if area == "program"
                else (lambda df, col="workstream", a=area: df[df[col] == a])
            )
            budget = sum(
                plan_to_date(g, "budget_usd", sd) for _, g in sel(bplan).groupby("workstream")
            )
            planned = sum(
                plan_to_date(g, "planned_hires", sd)
                for _, g in sel(hplan).groupby(["workstream", "role_family"])
            )
            lv = sel(live)
            full = lv["full"].sum()
            row = {
                "week": key,
                "area": area,
                "spend_pace": lv["received_usd"].sum() / budget if budget else np.nan,
                "hiring_attainment": len(sel(hires)) / planned if planned else np.nan,
                "otd_rate": lv["on_time"].sum() / full if full else np.nan,
                "spi": ev / pv if area in ("program", "data_centers") and pv else np.nan,
                "cpi": ev / ac if area in ("program", "data_centers") and ac else np.nan,
            }
            rags = [
                rate(row["spi"], (0.95, np.inf), [(0.90, 0.95)]),
                rate(row["cpi"], (0.95, np.inf), [(0.90, 0.95)]),
                rate(row["spend_pace"], (0.85, 1.10), [(0.75, 0.85), (1.10, 1.20)]),
                rate(row["hiring_attainment"], (0.95, np.inf), [(0.85, 0.95)]),
                rate(row["otd_rate"], (0.90, np.inf), [(0.80, 0.90)]),
            ]
            order = ["green", "amber", "red"]
            rated = [r for r in rags if r != "none"]
            row["rag"] = max(rated, key=order.index) if rated else "grey"
            out.append(row)
    return pd.DataFrame(out)
