"""`milestone_status_weekly`: where every site stands on each of its eight milestones.

Grain: one row per week, site and milestone, for every site of the site register that has
reported at least once. A site's figures come from its report in force: its latest valid report
delivered up to the end of the week. When the site did not report this week it keeps that
report and the row is marked `stale`; `report_status_date` is the data date of the report used.

Baselines come from the milestone plan, never from the site's report. Slip is the milestone's
actual date when complete (else its forecast date) minus its baseline date, in days; positive
means late. `slip_change_days` is this week's slip minus last week's published slip for the same
site and milestone (null when either is unknown).

Health, first matching rule wins:

1. complete, slip 0 or less: `complete`; complete, slip above 0: `complete_late`;
2. not complete, slip above 30 days, or forecast date before the status date: `late`;
3. not complete, slip 1 to 30 days: `at_risk`;
4. not complete, slip 0 or less: `on_track`.

When the slip is unknown (no baseline in the plan, or no forecast on an incomplete milestone)
only the forecast-before-status-date rule can still apply; otherwise health is null rather than
a guess: a complete milestone without a baseline is neither shown on time nor late.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from buildout_tracker.model import WeekInputs
from buildout_tracker.tables import arrow, audit_failure
from buildout_tracker.tables import definitions as d

NAME = "milestone_status_weekly"
KEYS: tuple[str, ...] = ("site_id", "milestone_code")
HEALTH_VALUES = ("complete", "complete_late", "on_track", "at_risk", "late")

SCHEMA = arrow.schema(
    arrow.col("site_id", pa.string(), "Site of the register."),
    arrow.col("site_name", pa.string(), "Site name from the register."),
    arrow.col("region", pa.string(), "Region of the site (china, apac, emea, americas)."),
    arrow.col("country", pa.string(), "Country of the site."),
    arrow.col("milestone_code", pa.string(), "Milestone, one of the eight in build order."),
    arrow.col(
        "milestone_seq",
        pa.int64(),
        "Position of the milestone in build order, 1 (LAND_ACQUIRED) to 8 (GO_LIVE).",
    ),
    arrow.col("baseline_date", pa.date32(), "Baseline date from the milestone plan."),
    arrow.col("forecast_date", pa.date32(), "Forecast date from the site report in force."),
    arrow.col("actual_date", pa.date32(), "Actual completion date; null while not complete."),
    arrow.col(
        "percent_complete", pa.float64(), "Percent complete, 0 to 100, from the report in force."
    ),
    arrow.col(
        "status", pa.string(), "not_started, in_progress or complete, from the report in force."
    ),
    arrow.col(
        "slip_days",
        pa.int64(),
        "(actual_date if complete, else forecast_date) minus baseline_date, in days; positive is late.",
    ),
    arrow.col(
        "slip_change_days",
        pa.int64(),
        "slip_days minus last week's for the same key; null when either is unknown.",
    ),
    arrow.col("report_status_date", pa.date32(), "Data date of the site report used."),
    arrow.col(
        "stale",
        pa.bool_(),
        "True when the site did not report in this week and its last report is carried.",
    ),
    arrow.col(
        "health",
        pa.string(),
        "complete, complete_late, on_track, at_risk or late (rules in the data dictionary).",
    ),
)


def frame(inputs: WeekInputs) -> pd.DataFrame:
    """The table's rows as a frame (dates as datetime64), shared with site_progress_weekly."""
    ms = inputs.milestones.copy()
    ms = ms.rename(columns={"status_date": "report_status_date"})
    ms = d.keyed(ms, KEYS)
    sites = d.keyed(inputs.sites, ["site_id"])[["site_id", "site_name", "region", "country"]]
    ms = ms.merge(sites, on="site_id", how="inner")
    plan = d.keyed(inputs.milestone_plan, KEYS)[[*KEYS, "baseline_date"]]
    plan = plan.drop_duplicates(list(KEYS), keep="last")
    ms = ms.merge(plan, on=list(KEYS), how="left")
    ms["milestone_seq"] = ms["milestone_code"].map(d.MILESTONE_SEQ).astype("Int64")
    for col in ("baseline_date", "forecast_date", "actual_date", "report_status_date"):
        ms[col] = d.dates(ms[col])
    ms["percent_complete"] = pd.to_numeric(ms["percent_complete"], errors="coerce").astype(float)
    complete = ms["status"].astype("object").eq("complete").fillna(False).astype(bool)
    ms["slip_days"] = d.slip_days(
        complete, ms["actual_date"], ms["forecast_date"], ms["baseline_date"]
    )
    ms["stale"] = ms["stale"].astype("boolean").fillna(False).astype(bool)
    ms["health"] = _health(complete, ms["slip_days"], ms["forecast_date"], d.ts(inputs.status_date))
    ms["slip_change_days"] = _slip_change(ms, inputs)
    ms = ms.sort_values(["site_id", "milestone_seq", "milestone_code"], kind="mergesort")
    return ms.reset_index(drop=True)


def _health(
    complete: pd.Series, slip: pd.Series, forecast: pd.Series, sd: pd.Timestamp
) -> pd.Series:
    s = slip.astype("Float64")
    known = s.notna().fillna(False).astype(bool).to_numpy()
    sv = s.fillna(0).astype(float).to_numpy()
    done = complete.to_numpy()
    fc_past = (forecast < sd).fillna(False).astype(bool).to_numpy()
    conditions = [
        done & known & (sv <= 0),
        done & known & (sv > 0),
        ~done & ((known & (sv > 30)) | fc_past),
        ~done & known & (sv >= 1) & (sv <= 30),
        ~done & known & (sv <= 0),
    ]
    labels = ["complete", "complete_late", "late", "at_risk", "on_track"]  # rule order
    out = np.select(conditions, labels, default="")
    return pd.Series(out, index=slip.index, dtype=object).replace("", None)


def _slip_change(ms: pd.DataFrame, inputs: WeekInputs) -> pd.Series:
    prior = d.prior_frame(inputs, NAME)
    if prior is None or ms.empty:
        return pd.Series(pd.NA, index=ms.index, dtype="Int64")
    prior = d.keyed(prior, KEYS)[[*KEYS, "slip_days"]].rename(columns={"slip_days": "_p"})
    merged = ms[list(KEYS)].merge(prior, on=list(KEYS), how="left")
    last = pd.Series(
        pd.to_numeric(merged["_p"], errors="coerce").astype("Float64").to_numpy(), index=ms.index
    )
    return (ms["slip_days"].astype("Float64") - last).round().astype("Int64")


def compute(inputs: WeekInputs) -> pa.Table:
    return arrow.to_table(arrow.with_week(frame(inputs), inputs), SCHEMA)


def check(table: pa.Table, inputs: WeekInputs) -> list[audit_failure.AuditFailure]:
    out: list[audit_failure.AuditFailure] = []
    df = table.to_pandas()
    if not len(df):
        return out
    pct = df["percent_complete"].dropna()
    if ((pct < 0) | (pct > 100)).any():
        out.append(
            audit_failure.AuditFailure(
                NAME, "percent_complete_range", "percent_complete outside 0..100"
            )
        )
    seq = df["milestone_seq"].dropna()
    if ((seq < 1) | (seq > 8)).any() or df["milestone_seq"].isna().any():
        out.append(
            audit_failure.AuditFailure(
                NAME, "milestone_seq_range", "milestone_seq outside 1..8 or unknown"
            )
        )
    bad = set(df["health"].dropna()) - set(HEALTH_VALUES)
    if bad:
        out.append(
            audit_failure.AuditFailure(NAME, "health_values", f"unknown health {sorted(bad)}")
        )
    prior = d.prior_frame(inputs, NAME)
    last: dict[tuple[str, str], float] = {}
    if prior is not None:
        p = d.keyed(prior, KEYS)
        for k1, k2, v in zip(p["site_id"], p["milestone_code"], p["slip_days"], strict=True):
            if not arrow.isnull(v):
                last[(k1, k2)] = float(v)
    for rec in df.to_dict("records"):
        key = (rec["site_id"], rec["milestone_code"])
        now, change = rec["slip_days"], rec["slip_change_days"]
        want = None if arrow.isnull(now) or key not in last else float(now) - last[key]
        got = None if arrow.isnull(change) else float(change)
        if want != got:
            out.append(
                audit_failure.AuditFailure(
                    NAME,
                    "slip_change_days",
                    f"{key}: {got} but slip {now} vs last week's {last.get(key)}",
                )
            )
    return out
