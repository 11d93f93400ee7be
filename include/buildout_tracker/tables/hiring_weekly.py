"""`hiring_weekly`: hires against plan, open requisitions, offers and time to fill.

Grain: one row per week, workstream and role family, for every pair present in the hiring plan
or among the requisitions. The hiring state is the latest applicant-tracking snapshot delivered
on or before the status date.

An edited offer becomes a new version; only the highest version of each offer counts. A hire is
an offer whose highest version is accepted; its hire date is the date it was resolved, and it is
counted for its requisition's workstream and role family. Hires to date are dated on or before
the status date; hires this week inside the week (Monday to Sunday). Planned hires to date
prorate each quarter's plan: whole quarters that ended on or before the status date, plus the
current quarter's plan times the share of its days elapsed (status date included).

Open, on-hold and long-open requisitions count the snapshot's statuses; "over 90 days" means the
status date minus the opening date exceeds 90 days. The offer acceptance rate is accepted over
accepted plus declined, among highest versions resolved to date (rescinded offers count in
neither). A requisition is filled to date when its status is `filled` and it has a hire dated on
or before the status date; its time to fill is its earliest hire date minus its opening date, in
days. The 50th and 90th percentiles interpolate linearly between order statistics (numpy's
default); they are null when no requisition is filled to date.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from buildout_tracker.model import WeekInputs
from buildout_tracker.tables import arrow, audit_failure
from buildout_tracker.tables import definitions as d

NAME = "hiring_weekly"
KEYS: tuple[str, ...] = ("workstream", "role_family")

SCHEMA = arrow.schema(
    arrow.col("workstream", pa.string(), "Workstream."),
    arrow.col("role_family", pa.string(), "Role family."),
    arrow.col(
        "planned_hires_to_date",
        pa.float64(),
        "Hiring plan prorated to the status date (quarters ended in full, current quarter by days elapsed).",
    ),
    arrow.col(
        "hires_to_date",
        pa.int64(),
        "Hires (highest offer version accepted) with hire date on or before the status date.",
    ),
    arrow.col(
        "hires_this_week", pa.int64(), "Hires with hire date inside the week, Monday to Sunday."
    ),
    arrow.col(
        "attainment",
        pa.float64(),
        "hires_to_date / planned_hires_to_date; null when nothing is planned to date.",
    ),
    arrow.col("open_reqs", pa.int64(), "Requisitions with status open."),
    arrow.col("on_hold_reqs", pa.int64(), "Requisitions with status on_hold."),
    arrow.col(
        "open_reqs_over_90_days",
        pa.int64(),
        "Open requisitions with status_date minus opened_date above 90 days.",
    ),
    arrow.col(
        "offers_extended_this_week",
        pa.int64(),
        "Offers whose highest version has extended_date inside the week.",
    ),
    arrow.col(
        "offer_acceptance_rate",
        pa.float64(),
        "accepted / (accepted + declined) over highest versions resolved to date; null when none.",
    ),
    arrow.col(
        "time_to_fill_p50_days",
        pa.float64(),
        "Median days from opened_date to earliest hire, requisitions filled to date; null when none.",
    ),
    arrow.col(
        "time_to_fill_p90_days",
        pa.float64(),
        "90th percentile of the same time to fill, linear interpolation; null when none.",
    ),
)


def compute(inputs: WeekInputs) -> pa.Table:
    sd = d.ts(inputs.status_date)
    monday, sunday = d.week_bounds(inputs)
    plan = d.keyed(inputs.hiring_plan, KEYS)
    plan = plan.assign(_to_date=d.plan_to_date(plan, "planned_hires", inputs.status_date))
    planned = plan.groupby(list(KEYS))["_to_date"].sum()

    reqs = d.keyed(inputs.requisitions, [*KEYS, "req_id"])
    reqs = reqs.assign(opened_date=d.dates(reqs["opened_date"]))
    offers = inputs.offers if inputs.offers is not None else pd.DataFrame()
    offers = d.keyed(offers, ["offer_id", "req_id"]) if len(offers) else offers
    top = d.highest_versions(offers)
    top = top.merge(reqs[["req_id", *KEYS]], on="req_id", how="inner") if len(top) else top
    hired = (
        d.hires(reqs, offers)
        if len(offers)
        else pd.DataFrame(columns=["req_id", "hire_date", *KEYS])
    )
    hired_to_date = hired[hired["hire_date"] <= sd]
    first_hire = hired_to_date.groupby("req_id")["hire_date"].min()

    keys = set(planned.index) | set(
        map(tuple, reqs[list(KEYS)].drop_duplicates().to_numpy().tolist())
    )
    rows = []
    for ws, rf in sorted(keys):
        r = reqs[(reqs["workstream"] == ws) & (reqs["role_family"] == rf)]
        h = hired[(hired["workstream"] == ws) & (hired["role_family"] == rf)]
        o = top[(top["workstream"] == ws) & (top["role_family"] == rf)] if len(top) else top
        status = r["status"].astype("object")
        is_open = status.eq("open")
        resolved = o[o["resolved_date"] <= sd] if len(o) else o
        accepted = int(resolved["status"].astype("object").eq("accepted").sum()) if len(o) else 0
        declined = int(resolved["status"].astype("object").eq("declined").sum()) if len(o) else 0
        filled = r[status.eq("filled") & r["req_id"].isin(first_hire.index)]
        ttf = [
            float((first_hire[rid] - opened).days)
            for rid, opened in zip(filled["req_id"], filled["opened_date"], strict=True)
        ]
        to_date = int((h["hire_date"] <= sd).sum())
        plan_td = float(planned.get((ws, rf), 0.0))
        rows.append(
            {
                "workstream": ws,
                "role_family": rf,
                "planned_hires_to_date": plan_td,
                "hires_to_date": to_date,
                "hires_this_week": int(
                    ((h["hire_date"] >= monday) & (h["hire_date"] <= sunday)).sum()
                ),
                "attainment": d.ratio(to_date, plan_td),
                "open_reqs": int(is_open.sum()),
                "on_hold_reqs": int(status.eq("on_hold").sum()),
                "open_reqs_over_90_days": int(
                    (is_open & ((sd - r["opened_date"]).dt.days > 90)).sum()
                ),
                "offers_extended_this_week": int(
                    ((o["extended_date"] >= monday) & (o["extended_date"] <= sunday)).sum()
                )
                if len(o)
                else 0,
                "offer_acceptance_rate": d.ratio(accepted, accepted + declined),
                "time_to_fill_p50_days": d.percentile(ttf, 50),
                "time_to_fill_p90_days": d.percentile(ttf, 90),
            }
        )
    df = pd.DataFrame(rows, columns=[f.name for f in SCHEMA][2:])
    return arrow.to_table(arrow.with_week(df, inputs), SCHEMA)


def hires_to_date(inputs: WeekInputs) -> int:
    """Hires to date straight from the snapshot, for the audit's reconciliation."""
    if inputs.offers is None or not len(inputs.offers):
        return 0
    reqs = d.keyed(inputs.requisitions, ["req_id", *KEYS])
    h = d.hires(reqs, d.keyed(inputs.offers, ["offer_id", "req_id"]))
    return int((h["hire_date"] <= d.ts(inputs.status_date)).sum())


def check(table: pa.Table, inputs: WeekInputs) -> list[audit_failure.AuditFailure]:
    out: list[audit_failure.AuditFailure] = []
    df = table.to_pandas()
    for ratio in ("attainment",):
        if (df[ratio].dropna() < 0).any():
            out.append(audit_failure.AuditFailure(NAME, f"{ratio}_range", f"{ratio} below 0"))
    got = int(df["hires_to_date"].sum()) if len(df) else 0
    want = hires_to_date(inputs)
    if got != want:
        out.append(
            audit_failure.AuditFailure(
                NAME, "reconcile_hires", f"sum of hires_to_date is {got}, the snapshot gives {want}"
            )
        )
    if len(df) and (df["hires_this_week"] > df["hires_to_date"]).any():
        out.append(
            audit_failure.AuditFailure(NAME, "hires_this_week", "more hires this week than to date")
        )
    if len(df) and (df["time_to_fill_p50_days"] > df["time_to_fill_p90_days"]).any():
        out.append(audit_failure.AuditFailure(NAME, "time_to_fill", "p50 above p90"))
    return out
