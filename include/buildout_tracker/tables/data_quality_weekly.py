"""`data_quality_weekly`: how each feed's input fared in the week, rule by rule.

Grain: one row per week, feed, file and rule. Two kinds of rows:

- rule rows: one per data-quality rule evaluated on the week's input, with the file it ran on
  (null for a rule on the feed as a whole), its severity (`critical`, `warning`, `info`), the rows
  it checked, the rows that broke it and whether it passed. The delivery columns are null.
- delivery rows, `rule = 'delivery'`, one per feed, file null: the files received in the week
  (duplicates included), the duplicates skipped (the same bytes delivered before), the files
  quarantined whole, the rows read from the accepted files, the rows quarantined, and whether
  the feed's week was blocked (with the reason, which names the file and the rule). On these rows
  `severity` is `critical` (a blocked delivery stops the feed's week), `rows_checked` equals
  `rows_in`, `rows_failed` equals `rows_quarantined` and `success` is the opposite of `blocked`.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from buildout_tracker.model import WeekInputs
from buildout_tracker.tables import arrow, audit_failure

NAME = "data_quality_weekly"
KEYS: tuple[str, ...] = ("feed", "file", "rule")
DELIVERY_RULE = "delivery"
SEVERITIES = ("critical", "warning", "info")

SCHEMA = arrow.schema(
    arrow.col("feed", pa.string(), "Feed: procurement, fx_rates, milestones, hiring or reference."),
    arrow.col(
        "file",
        pa.string(),
        "File name the rule ran on; null for feed-level rules and delivery rows.",
    ),
    arrow.col("rule", pa.string(), "Rule name; delivery for the feed's delivery row."),
    arrow.col("severity", pa.string(), "critical, warning or info."),
    arrow.col("rows_checked", pa.int64(), "Rows the rule checked (delivery rows: rows_in)."),
    arrow.col(
        "rows_failed", pa.int64(), "Rows that broke the rule (delivery rows: rows_quarantined)."
    ),
    arrow.col(
        "success", pa.bool_(), "True when the rule passed (delivery rows: the week is not blocked)."
    ),
    arrow.col(
        "files_received",
        pa.int64(),
        "Delivery rows: files that landed in the week, duplicates included; null on rule rows.",
    ),
    arrow.col(
        "duplicates_skipped",
        pa.int64(),
        "Delivery rows: files skipped as repeats of bytes already delivered; null on rule rows.",
    ),
    arrow.col(
        "files_quarantined",
        pa.int64(),
        "Delivery rows: whole files quarantined; null on rule rows.",
    ),
    arrow.col(
        "rows_in",
        pa.int64(),
        "Delivery rows: data rows read from the week's accepted files; null on rule rows.",
    ),
    arrow.col(
        "rows_quarantined", pa.int64(), "Delivery rows: rows sent to quarantine; null on rule rows."
    ),
    arrow.col(
        "blocked",
        pa.bool_(),
        "Delivery rows: true when the feed's week is blocked; null on rule rows.",
    ),
    arrow.col(
        "blocked_reason",
        pa.string(),
        "Delivery rows: why the week is blocked (file and rule); null otherwise.",
    ),
)
RULE_COLUMNS = ("feed", "file", "rule", "severity", "rows_checked", "rows_failed", "success")
DELIVERY_COLUMNS = (
    "files_received",
    "duplicates_skipped",
    "files_quarantined",
    "rows_in",
    "rows_quarantined",
    "blocked",
    "blocked_reason",
)


def compute(inputs: WeekInputs) -> pa.Table:
    rules = inputs.dq_rules if inputs.dq_rules is not None else pd.DataFrame(columns=RULE_COLUMNS)
    rules = rules.reindex(columns=list(RULE_COLUMNS)).astype("object")
    rules = rules.where(rules.notna(), None)
    for col in DELIVERY_COLUMNS:
        rules[col] = None
    delivery = [
        {
            "feed": st.feed,
            "file": None,
            "rule": DELIVERY_RULE,
            "severity": "critical",
            "rows_checked": st.rows_in,
            "rows_failed": st.rows_quarantined,
            "success": not st.blocked,
            "files_received": st.files_received,
            "duplicates_skipped": st.duplicates_skipped,
            "files_quarantined": st.files_quarantined,
            "rows_in": st.rows_in,
            "rows_quarantined": st.rows_quarantined,
            "blocked": st.blocked,
            "blocked_reason": st.reason if st.blocked else None,
        }
        for st in inputs.feed_status.values()
    ]
    df = pd.concat(
        [pd.DataFrame(delivery, columns=[*RULE_COLUMNS, *DELIVERY_COLUMNS]), rules]
        if len(rules)
        else [pd.DataFrame(delivery, columns=[*RULE_COLUMNS, *DELIVERY_COLUMNS])],
        ignore_index=True,
    )
    df = df.astype("object")
    df["_file"] = df["file"].map(lambda v: "" if arrow.isnull(v) else str(v))
    df["_kind"] = (df["rule"] != DELIVERY_RULE).astype(int)
    df = df.sort_values(["feed", "_kind", "_file", "rule"], kind="mergesort").drop(
        columns=["_file", "_kind"]
    )
    return arrow.to_table(arrow.with_week(df.reset_index(drop=True), inputs), SCHEMA)


def check(table: pa.Table, inputs: WeekInputs) -> list[audit_failure.AuditFailure]:
    out: list[audit_failure.AuditFailure] = []
    df = table.to_pandas()
    bad = set(df["severity"].dropna()) - set(SEVERITIES) if len(df) else set()
    if bad:
        out.append(
            audit_failure.AuditFailure(NAME, "severity_values", f"unknown severity {sorted(bad)}")
        )
    feeds = set(df.loc[df["rule"] == DELIVERY_RULE, "feed"]) if len(df) else set()
    if feeds != set(inputs.feed_status):
        out.append(
            audit_failure.AuditFailure(
                NAME,
                "delivery_rows",
                f"delivery rows for {sorted(feeds)}, feeds {sorted(inputs.feed_status)}",
            )
        )
    failed = pd.to_numeric(df["rows_failed"], errors="coerce")
    checked = pd.to_numeric(df["rows_checked"], errors="coerce")
    if (failed > checked).fillna(False).any():
        out.append(audit_failure.AuditFailure(NAME, "rows_failed", "more rows failed than checked"))
    return out
