"""`procurement_weekly`: what the program has committed and received, by workstream and category.

Grain: one row per week, workstream and purchasing category, for every pair that has at least
one current PO line (even when none of its lines is live: the row then shows zeros).

A PO line counts only while it is live: its latest version is not deleted and not cancelled.
Committed is a live line's net value in USD; received is its received quantity times its unit
price in USD (actual cost: cost is incurred at receipt). Amounts convert at each currency's
latest rate on or before the status date.

A line is late when it is live, its requested delivery date is before the status date, it is
not yet fully received and its status is not `closed`. A line is fully received when it is live
and its received quantity reaches its ordered quantity; it was delivered on time when its last
receipt is on or before the requested delivery date. The on-time delivery rate is on-time lines
over fully received lines. `committed_change_usd` is this week's committed minus last week's
published figure for the same workstream and category (null when last week had no such row).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from buildout_tracker.model import WeekInputs
from buildout_tracker.tables import arrow, audit_failure
from buildout_tracker.tables import definitions as d

NAME = "procurement_weekly"
KEYS: tuple[str, ...] = ("workstream", "category")

SCHEMA = arrow.schema(
    arrow.col("workstream", pa.string(), "Workstream of the PO lines."),
    arrow.col("category", pa.string(), "Purchasing category of the PO lines."),
    arrow.col("committed_usd", pa.float64(), "Sum of net_value in USD of the live lines."),
    arrow.col(
        "received_usd",
        pa.float64(),
        "Sum of received_qty x unit_price in USD of the live lines (actual cost).",
    ),
    arrow.col("open_commitment_usd", pa.float64(), "committed_usd minus received_usd."),
    arrow.col(
        "live_lines", pa.int64(), "Number of live lines (current, not deleted, not cancelled)."
    ),
    arrow.col(
        "late_lines",
        pa.int64(),
        "Live lines past their requested delivery date, not fully received, status not closed.",
    ),
    arrow.col("fully_received_lines", pa.int64(), "Live lines with received_qty >= quantity."),
    arrow.col(
        "on_time_lines",
        pa.int64(),
        "Fully received lines whose last_receipt_date <= requested_delivery_date.",
    ),
    arrow.col(
        "otd_rate",
        pa.float64(),
        "On-time delivery rate: on_time_lines / fully_received_lines; null when none fully received.",
    ),
    arrow.col("suppliers", pa.int64(), "Distinct supplier_id among the live lines."),
    arrow.col(
        "top_supplier_share",
        pa.float64(),
        "Largest single supplier share of committed_usd; null when committed_usd is 0.",
    ),
    arrow.col(
        "committed_change_usd",
        pa.float64(),
        "committed_usd minus last week's for the same key; null when last week had no row for it.",
    ),
)


def compute(inputs: WeekInputs, lines: pd.DataFrame | None = None) -> pa.Table:
    """`lines` may be passed as `common.line_amounts(inputs)` to avoid recomputing it."""
    po = d.line_amounts(inputs) if lines is None else lines
    po = d.keyed(po, ["workstream", "category", "supplier_id"])
    sd = d.ts(inputs.status_date)
    live = po["live"].astype(bool)
    fully = live & (po["received_qty"] >= po["quantity"])
    po = po.assign(
        _live=live.astype("int64"),
        _late=(
            live
            & (po["requested_delivery_date"] < sd)
            & (po["received_qty"] < po["quantity"])
            & po["status"].astype("object").ne("closed")
        ).astype("int64"),
        _fully=fully.astype("int64"),
        _ontime=(fully & (po["last_receipt_date"] <= po["requested_delivery_date"])).astype(
            "int64"
        ),
    )
    rows = []
    for (ws, cat), g in po.groupby(list(KEYS), sort=True, dropna=False):
        committed = float(g["committed_usd"].sum())
        received = float(g["received_usd"].sum())
        lg = g[g["live"].astype(bool)]
        by_supplier = lg.groupby("supplier_id", dropna=False)["committed_usd"].sum()
        rows.append(
            {
                "workstream": ws,
                "category": cat,
                "committed_usd": committed,
                "received_usd": received,
                "open_commitment_usd": committed - received,
                "live_lines": int(g["_live"].sum()),
                "late_lines": int(g["_late"].sum()),
                "fully_received_lines": int(g["_fully"].sum()),
                "on_time_lines": int(g["_ontime"].sum()),
                "otd_rate": d.ratio(int(g["_ontime"].sum()), int(g["_fully"].sum())),
                "suppliers": int(lg["supplier_id"].nunique(dropna=True)),
                "top_supplier_share": d.ratio(
                    float(by_supplier.max()) if len(by_supplier) else 0.0, committed
                ),
            }
        )
    df = pd.DataFrame(rows, columns=[f.name for f in SCHEMA][2:-1])
    df["committed_change_usd"] = _change(df, inputs)
    return arrow.to_table(arrow.with_week(df, inputs), SCHEMA)


def _change(df: pd.DataFrame, inputs: WeekInputs) -> pd.Series:
    prior = d.prior_frame(inputs, NAME)
    if prior is None or df.empty:
        return pd.Series(np.nan, index=df.index, dtype=float)
    prior = d.keyed(prior, KEYS)[[*KEYS, "committed_usd"]].rename(columns={"committed_usd": "_p"})
    merged = df[list(KEYS)].merge(prior, on=list(KEYS), how="left")
    return pd.Series(
        df["committed_usd"].to_numpy() - pd.to_numeric(merged["_p"]).astype(float).to_numpy(),
        index=df.index,
    )


def check(
    table: pa.Table, inputs: WeekInputs, lines: pd.DataFrame | None = None
) -> list[audit_failure.AuditFailure]:
    """Reconciles the totals with the live lines and last week's figures."""
    out: list[audit_failure.AuditFailure] = []
    df = table.to_pandas()
    po = d.line_amounts(inputs) if lines is None else lines
    for measure in ("committed_usd", "received_usd"):
        want = float(po.loc[po["live"].astype(bool), measure].sum())
        got = float(df[measure].sum()) if len(df) else 0.0
        if abs(got - want) > 0.01:
            out.append(
                audit_failure.AuditFailure(
                    NAME,
                    f"reconcile_{measure}",
                    f"sum of {measure} is {got:.2f}, live PO lines give {want:.2f}",
                )
            )
    want_keys = set(map(tuple, d.keyed(po, KEYS)[list(KEYS)].drop_duplicates().to_numpy().tolist()))
    got_keys = set(map(tuple, df[list(KEYS)].to_numpy().tolist())) if len(df) else set()
    if want_keys != got_keys:
        out.append(
            audit_failure.AuditFailure(
                NAME,
                "rows",
                f"rows missing {sorted(want_keys - got_keys)}, unexpected {sorted(got_keys - want_keys)}",
            )
        )
    if len(df) and (df["live_lines"] < df["late_lines"]).any():
        out.append(
            audit_failure.AuditFailure(NAME, "late_lines", "more late lines than live lines")
        )
    if len(df) and (df["fully_received_lines"] < df["on_time_lines"]).any():
        out.append(
            audit_failure.AuditFailure(
                NAME, "on_time_lines", "more on-time lines than fully received lines"
            )
        )
    prior = d.prior_frame(inputs, NAME)
    last = (
        {}
        if prior is None
        else {
            tuple(k): float(v)
            for k, v in zip(
                d.keyed(prior, KEYS)[list(KEYS)].to_numpy().tolist(),
                prior["committed_usd"],
                strict=True,
            )
        }
    )
    for rec in df.to_dict("records"):
        key = (rec["workstream"], rec["category"])
        change = rec["committed_change_usd"]
        if key not in last:
            if not arrow.isnull(change):
                out.append(
                    audit_failure.AuditFailure(
                        NAME, "committed_change_usd", f"{key}: {change} but last week has no row"
                    )
                )
        elif arrow.isnull(change) or abs(change - (rec["committed_usd"] - last[key])) > 1e-6:
            out.append(
                audit_failure.AuditFailure(
                    NAME,
                    "committed_change_usd",
                    f"{key}: {change} != {rec['committed_usd']} - last week's {last[key]}",
                )
            )
    return out
