"""`site_progress_weekly`: one line per data-center site: power, go-live and earned value.

Grain: one row per week and site, for every site of the register that has reported at least
once (the same sites as `milestone_status_weekly`, from the same report in force).

A site's planned megawatts count as energized once its `POWER_ENERGIZED` milestone is complete,
and the site is live once `GO_LIVE` is complete. The next milestone is the first one in build
order that is not complete (null when all are). Go-live dates and slip follow the milestone
definitions: the forecast is the actual date once complete.

Earned value, with the site's budget at completion (BAC) from the register:

- planned value (PV) = BAC x the sum of the plan weights of milestones whose baseline date is on
  or before the status date;
- earned value (EV) = BAC x the sum of weight x percent complete / 100 over the eight milestones;
- actual cost (AC) = the received USD of the live PO lines charged to the site;
- SPI = EV / PV and CPI = EV / AC, null when the denominator is 0; SV = EV - PV, CV = EV - AC.

A milestone missing from the plan has weight 0.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from buildout_tracker.model import WeekInputs
from buildout_tracker.tables import arrow, audit_failure, milestone_status_weekly
from buildout_tracker.tables import definitions as d

NAME = "site_progress_weekly"
KEYS: tuple[str, ...] = ("site_id",)

SCHEMA = arrow.schema(
    arrow.col("site_id", pa.string(), "Site of the register."),
    arrow.col("site_name", pa.string(), "Site name from the register."),
    arrow.col("region", pa.string(), "Region of the site."),
    arrow.col("country", pa.string(), "Country of the site."),
    arrow.col("planned_mw", pa.float64(), "Planned capacity in megawatts, from the register."),
    arrow.col("energized_mw", pa.float64(), "planned_mw when POWER_ENERGIZED is complete, else 0."),
    arrow.col("live", pa.bool_(), "True when GO_LIVE is complete."),
    arrow.col(
        "next_milestone",
        pa.string(),
        "First milestone in build order not complete; null when all are.",
    ),
    arrow.col("next_milestone_forecast", pa.date32(), "Forecast date of next_milestone."),
    arrow.col("go_live_baseline", pa.date32(), "Baseline date of GO_LIVE from the milestone plan."),
    arrow.col(
        "go_live_forecast",
        pa.date32(),
        "Forecast date of GO_LIVE, or its actual date once complete.",
    ),
    arrow.col("go_live_slip_days", pa.int64(), "slip_days of GO_LIVE."),
    arrow.col("stale", pa.bool_(), "True when the site did not report in this week."),
    arrow.col(
        "bac_usd", pa.float64(), "Budget at completion: the site's budget_usd from the register."
    ),
    arrow.col(
        "pv_usd",
        pa.float64(),
        "Planned value: bac_usd x sum of weights of milestones with baseline_date on or before the status date.",
    ),
    arrow.col(
        "ev_usd", pa.float64(), "Earned value: bac_usd x sum of weight x percent_complete / 100."
    ),
    arrow.col(
        "ac_usd",
        pa.float64(),
        "Actual cost: sum of received_usd of live PO lines with this site_id.",
    ),
    arrow.col(
        "spi", pa.float64(), "Schedule performance index ev_usd / pv_usd; null when pv_usd is 0."
    ),
    arrow.col(
        "cpi", pa.float64(), "Cost performance index ev_usd / ac_usd; null when ac_usd is 0."
    ),
    arrow.col("sv_usd", pa.float64(), "Schedule variance ev_usd - pv_usd."),
    arrow.col("cv_usd", pa.float64(), "Cost variance ev_usd - ac_usd."),
)


def compute(
    inputs: WeekInputs,
    milestones: pd.DataFrame | None = None,
    lines: pd.DataFrame | None = None,
) -> pa.Table:
    """`milestones` is `milestone_status_weekly.frame(inputs)`, `lines` `common.line_amounts`."""
    ms = milestone_status_weekly.frame(inputs) if milestones is None else milestones
    po = d.line_amounts(inputs) if lines is None else lines
    sd = d.ts(inputs.status_date)
    sites = (
        d.keyed(inputs.sites, ["site_id"])
        .drop_duplicates("site_id", keep="last")
        .set_index("site_id")
        .to_dict("index")
    )
    plan = d.keyed(inputs.milestone_plan, ["site_id", "milestone_code"])
    plan = plan.drop_duplicates(["site_id", "milestone_code"], keep="last")
    plan = plan.assign(
        baseline_date=d.dates(plan["baseline_date"]),
        weight=pd.to_numeric(plan["weight"], errors="coerce").astype(float).fillna(0.0),
    )
    po = d.keyed(po, ["site_id"])
    ac_by_site = po[po["live"].astype(bool)].groupby("site_id")["received_usd"].sum()

    rows = []
    for site_id, g in ms.groupby("site_id", sort=True):
        g = g.sort_values("milestone_seq", kind="mergesort")
        by_code = g.set_index("milestone_code")
        site = sites[site_id]
        done = by_code["status"].astype("object").eq("complete")
        bac = float(site["budget_usd"])
        planned_mw = float(site["planned_mw"])
        sp = plan[plan["site_id"] == site_id]
        pv = bac * float(sp.loc[sp["baseline_date"] <= sd, "weight"].sum())
        weights = sp.set_index("milestone_code")["weight"]
        pct = by_code["percent_complete"].astype(float).fillna(0.0)
        ev = bac * float((weights.reindex(pct.index).fillna(0.0) * pct / 100.0).sum())
        ac = float(ac_by_site.get(site_id, 0.0))
        incomplete = g[~g["status"].astype("object").eq("complete")]
        nxt = incomplete.iloc[0] if len(incomplete) else None
        gl = by_code.loc["GO_LIVE"] if "GO_LIVE" in by_code.index else None
        gl_done = bool(done.get("GO_LIVE", False))
        rows.append(
            {
                "site_id": site_id,
                "site_name": site["site_name"],
                "region": site["region"],
                "country": site["country"],
                "planned_mw": planned_mw,
                "energized_mw": planned_mw if bool(done.get("POWER_ENERGIZED", False)) else 0.0,
                "live": gl_done,
                "next_milestone": None if nxt is None else nxt["milestone_code"],
                "next_milestone_forecast": None if nxt is None else nxt["forecast_date"],
                "go_live_baseline": None if gl is None else gl["baseline_date"],
                "go_live_forecast": None
                if gl is None
                else (gl["actual_date"] if gl_done else gl["forecast_date"]),
                "go_live_slip_days": None if gl is None else gl["slip_days"],
                "stale": bool(g["stale"].any()),
                "bac_usd": bac,
                "pv_usd": pv,
                "ev_usd": ev,
                "ac_usd": ac,
                "spi": d.ratio(ev, pv),
                "cpi": d.ratio(ev, ac),
                "sv_usd": ev - pv,
                "cv_usd": ev - ac,
            }
        )
    df = pd.DataFrame(rows, columns=[f.name for f in SCHEMA][2:])
    return arrow.to_table(arrow.with_week(df, inputs), SCHEMA)


def check(table: pa.Table, inputs: WeekInputs) -> list[audit_failure.AuditFailure]:
    out: list[audit_failure.AuditFailure] = []
    df = table.to_pandas()
    if not len(df):
        return out
    for ratio in ("spi", "cpi"):
        if (df[ratio].dropna() < 0).any():
            out.append(audit_failure.AuditFailure(NAME, f"{ratio}_range", f"{ratio} below 0"))
    for rec in df.to_dict("records"):
        if abs(rec["sv_usd"] - (rec["ev_usd"] - rec["pv_usd"])) > 0.01:
            out.append(
                audit_failure.AuditFailure(
                    NAME, "sv_usd", f"{rec['site_id']}: sv_usd != ev_usd - pv_usd"
                )
            )
        if abs(rec["cv_usd"] - (rec["ev_usd"] - rec["ac_usd"])) > 0.01:
            out.append(
                audit_failure.AuditFailure(
                    NAME, "cv_usd", f"{rec['site_id']}: cv_usd != ev_usd - ac_usd"
                )
            )
        if rec["energized_mw"] not in (0.0, rec["planned_mw"]):
            out.append(
                audit_failure.AuditFailure(
                    NAME, "energized_mw", f"{rec['site_id']}: neither 0 nor planned_mw"
                )
            )
    return out
