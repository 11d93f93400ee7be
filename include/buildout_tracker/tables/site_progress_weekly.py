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

Forecasts at completion, by the CPI method of ANSI/EIA-748 practice (the cost efficiency so far
is assumed to hold for the rest of the work):

- estimate at completion (EAC) = BAC / CPI, null when CPI is null (no actual cost yet) or 0 (no
  value earned yet);
- estimate to complete (ETC) = EAC - AC, what is still to be spent;
- variance at completion (VAC) = BAC - EAC; negative is a forecast overrun. ETC and VAC are null
  when EAC is;
- to-complete performance index (TCPI) = (BAC - EV) / (BAC - AC): the cost efficiency the
  remaining work needs for the site to finish on budget (above 1 means better than budgeted);
  null when BAC - AC is 0 or less (the budget is already spent).

`go_live_slip_change_days` is this week's `go_live_slip_days` minus last week's published value
for the same site, null when either is unknown (last week published no row for the site, or
nothing at all); an older week is never used in its place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
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
    arrow.col(
        "eac_usd",
        pa.float64(),
        "Estimate at completion bac_usd / cpi; null when cpi is null or 0.",
    ),
    arrow.col(
        "etc_usd",
        pa.float64(),
        "Estimate to complete eac_usd - ac_usd; null when eac_usd is null.",
    ),
    arrow.col(
        "vac_usd",
        pa.float64(),
        "Variance at completion bac_usd - eac_usd, negative is an overrun; null when eac_usd is null.",
    ),
    arrow.col(
        "tcpi",
        pa.float64(),
        "To-complete performance index (bac_usd - ev_usd) / (bac_usd - ac_usd): the cost "
        "efficiency the remaining work needs to finish on budget; null when bac_usd - ac_usd <= 0.",
    ),
    arrow.col(
        "go_live_slip_change_days",
        pa.int64(),
        "go_live_slip_days minus last week's for the site; null when either is unknown.",
    ),
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
    last_slip = _last_go_live_slip(inputs)

    # Each site's rows in build order, found once for all sites (the sites in sorted order,
    # a site's milestones by milestone_seq, ties in their order), and the columns the loop
    # reads as arrays: pandas operations per site cost milliseconds each, and a program of
    # 2,000 sites made this table the heaviest of the week. The numbers are the same: the
    # same values summed in the same order.
    site_codes, site_ids = pd.factorize(ms["site_id"], sort=True, use_na_sentinel=True)
    seq = ms["milestone_seq"].to_numpy(dtype="float64", na_value=np.nan)
    perm = np.lexsort((seq, site_codes))
    perm = perm[site_codes[perm] >= 0]  # rows without a site are in no site's group
    bounds = np.flatnonzero(np.diff(site_codes[perm])) + 1
    code_of = ms["milestone_code"].to_numpy(dtype=object)
    complete_of = ms["status"].astype("object").eq("complete").to_numpy(dtype=bool)
    pct_of = ms["percent_complete"].astype(float).fillna(0.0).to_numpy(dtype="float64")
    stale_of = ms["stale"].to_numpy(dtype=bool)
    # A site's plan: its weights by milestone and the weights due by the status date, in
    # plan order.
    due = (plan["baseline_date"] <= sd).to_numpy(dtype=bool)
    plan_weight = plan["weight"].to_numpy(dtype="float64")
    plan_code = plan["milestone_code"].to_numpy(dtype=object)
    plan_rows = plan.groupby("site_id", sort=False, dropna=True).indices  # positions
    no_rows = np.zeros(0, dtype=np.int64)
    ac_of = ac_by_site.to_dict()

    rows = []
    for k, where in enumerate(np.split(perm, bounds) if len(perm) else []):
        site_id = site_ids[k]
        site = sites[site_id]
        codes = code_of[where]
        done = complete_of[where]
        first: dict[Any, int] = {}
        for j, code in enumerate(codes):
            first.setdefault(code, j)
        bac = float(site["budget_usd"])
        planned_mw = float(site["planned_mw"])
        mine = plan_rows.get(site_id, no_rows)
        pv = bac * float(plan_weight[mine][due[mine]].sum())
        weight_of = dict(zip(plan_code[mine], plan_weight[mine], strict=True))
        weights = np.array([weight_of.get(c, 0.0) for c in codes], dtype="float64")
        ev = bac * float((weights * pct_of[where] / 100.0).sum())
        ac = float(ac_of.get(site_id, 0.0))
        open_ = np.flatnonzero(~done)
        nxt = ms.iloc[where[open_[0]]] if len(open_) else None
        gl = ms.iloc[where[first["GO_LIVE"]]] if "GO_LIVE" in first else None
        gl_done = bool(done[first["GO_LIVE"]]) if gl is not None else False
        gl_slip = None if gl is None else gl["slip_days"]
        energized = "POWER_ENERGIZED" in first and bool(done[first["POWER_ENERGIZED"]])
        fc = d.forecast(bac, ev, ac)
        rows.append(
            {
                "site_id": site_id,
                "site_name": site["site_name"],
                "region": site["region"],
                "country": site["country"],
                "planned_mw": planned_mw,
                "energized_mw": planned_mw if energized else 0.0,
                "live": gl_done,
                "next_milestone": None if nxt is None else nxt["milestone_code"],
                "next_milestone_forecast": None if nxt is None else nxt["forecast_date"],
                "go_live_baseline": None if gl is None else gl["baseline_date"],
                "go_live_forecast": None
                if gl is None
                else (gl["actual_date"] if gl_done else gl["forecast_date"]),
                "go_live_slip_days": gl_slip,
                "stale": bool(stale_of[where].any()),
                "bac_usd": bac,
                "pv_usd": pv,
                "ev_usd": ev,
                "ac_usd": ac,
                "spi": d.ratio(ev, pv),
                "cpi": fc.cpi,
                "sv_usd": ev - pv,
                "cv_usd": ev - ac,
                "eac_usd": fc.eac,
                "etc_usd": fc.etc,
                "vac_usd": fc.vac,
                "tcpi": fc.tcpi,
                "go_live_slip_change_days": d.change(gl_slip, last_slip.get(str(site_id))),
            }
        )
    df = pd.DataFrame(rows, columns=[f.name for f in SCHEMA][2:])
    return arrow.to_table(arrow.with_week(df, inputs), SCHEMA)


def _last_go_live_slip(inputs: WeekInputs) -> dict[str, float]:
    """Last week's published go_live_slip_days by site (only sites where it was known)."""
    prior = d.prior_frame(inputs, NAME)
    if prior is None or "go_live_slip_days" not in prior.columns:
        return {}
    p = d.keyed(prior, KEYS)
    return {
        site: float(v)
        for site, v in zip(p["site_id"], p["go_live_slip_days"], strict=True)
        if not arrow.isnull(v)
    }


def number(v: object) -> float | None:
    """A published value as a float; None when null (None, NaN, NA)."""
    return None if arrow.isnull(v) else float(v)  # type: ignore[arg-type]


def close(got: float | None, want: float | None) -> bool:
    """Both null, or both numbers within a cent (relative 1e-9 for large amounts)."""
    if got is None or want is None:
        return got is None and want is None
    return abs(got - want) <= max(0.01, 1e-9 * abs(want))


def check_forecasts(
    table: str, where: str, rec: Mapping[str, Any], bac: float, ev: float, ac: float
) -> list[audit_failure.AuditFailure]:
    """A row's eac_usd, etc_usd (when the table has it), vac_usd and tcpi against its bac, ev and
    ac (shared with the scorecard, whose areas forecast from the sums of their sites)."""
    out: list[audit_failure.AuditFailure] = []

    def fail(check: str, message: str) -> None:
        out.append(audit_failure.AuditFailure(table, check, f"{where}: {message}"))

    want = d.forecast(bac, ev, ac)
    eac, etc, vac, tcpi = (number(rec.get(c)) for c in ("eac_usd", "etc_usd", "vac_usd", "tcpi"))
    if not close(eac, want.eac):
        fail("eac_usd", f"eac_usd {eac} but bac / cpi is {want.eac}")
    # The identities hold between the published numbers themselves.
    if eac is None:
        if etc is not None or vac is not None:
            fail("eac_null", f"etc_usd {etc} / vac_usd {vac} while eac_usd is null")
    else:
        if "etc_usd" in rec and (etc is None or not close(eac, ac + etc)):
            fail("etc_usd", f"eac_usd {eac} != ac_usd {ac} + etc_usd {etc}")
        if not close(vac, bac - eac):
            fail("vac_usd", f"vac_usd {vac} != bac_usd {bac} - eac_usd {eac}")
    if (tcpi is None) != (bac - ac <= 0):
        fail("tcpi_null", f"tcpi {tcpi} but bac - ac is {bac - ac} (null exactly when <= 0)")
    elif (
        tcpi is not None
        and want.tcpi is not None
        and abs(tcpi - want.tcpi) > 1e-9 * max(1.0, abs(want.tcpi))
    ):
        fail("tcpi", f"tcpi {tcpi} != (bac - ev) / (bac - ac) = {want.tcpi}")
    return out


def check(table: pa.Table, inputs: WeekInputs) -> list[audit_failure.AuditFailure]:
    out: list[audit_failure.AuditFailure] = []
    df = table.to_pandas()
    if not len(df):
        return out
    for ratio in ("spi", "cpi"):
        if (df[ratio].dropna() < 0).any():
            out.append(audit_failure.AuditFailure(NAME, f"{ratio}_range", f"{ratio} below 0"))
    last_slip = _last_go_live_slip(inputs)
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
        out.extend(
            check_forecasts(
                NAME,
                str(rec["site_id"]),
                rec,
                float(rec["bac_usd"]),
                float(rec["ev_usd"]),
                float(rec["ac_usd"]),
            )
        )
        want = d.change(rec["go_live_slip_days"], last_slip.get(str(rec["site_id"])))
        got = rec["go_live_slip_change_days"]
        if number(got) != want:
            out.append(
                audit_failure.AuditFailure(
                    NAME,
                    "go_live_slip_change_days",
                    f"{rec['site_id']}: {got} but go-live slip {rec['go_live_slip_days']} vs "
                    f"last week's {last_slip.get(str(rec['site_id']))}",
                )
            )
    return out
