"""milestones: `*.jsonl`, project-controls site reports (one JSON object a line).

Severities:
- critical, row: required fields, enums, site known, forecast while incomplete, actual date
  present exactly when complete and not after the report's status_date, percent 0..100 and
  100 exactly when complete. A broken row is quarantined.
- warning, row (reported, never quarantined, as docs/feeds.md says): a forecast before the
  status date on an incomplete milestone (`forecast_not_before_status_date`); a milestone
  completed before an earlier one in the order (`completed_in_order`: complete while an
  earlier milestone of the same site is not, or completed on an earlier date than it).
- critical, table: `all_eight_milestones`, each site in the file reports each of the eight
  milestones exactly once (a partial report would make weighted progress wrong). It is
  checked on every row that parsed (rows rejected at coercion count as missing).

`reported_by` and `notes` are personal data / free text: dropped at parse time, and the
file may omit them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .enums import MILESTONE_CODES, MILESTONE_ORDER, MILESTONE_STATUSES
from .rules import between, helper_rule, in_set, pair_ge, present_exactly_when
from .schema import Column, RuleContext, When
from .spec import FileSpec

INCOMPLETE = ("not_started", "in_progress")

COLUMNS = (
    Column("site_id", "text", required=True),
    Column("milestone_code", "text", required=True, enum=MILESTONE_CODES),
    Column("status_date", "date", required=True),
    Column("forecast_date", "date"),
    Column("actual_date", "date"),
    Column("percent_complete", "number", required=True),
    Column("status", "text", required=True, enum=MILESTONE_STATUSES),
    Column("reported_by", "text", pii="drop"),
    Column("notes", "text", pii="drop"),
)


def _site_anomalies(f: pd.DataFrame, ctx: RuleContext) -> pd.Series:
    """Per row: missing plus duplicated milestone codes of its site (0 when complete)."""
    known = f["milestone_code"].where(f["milestone_code"].isin(MILESTONE_CODES))
    g = known.groupby(f["site_id"], dropna=False)
    distinct = g.transform("nunique")
    rows = f.groupby(f["site_id"], dropna=False)["milestone_code"].transform("size")
    out = (len(MILESTONE_CODES) - distinct) + (rows - distinct)
    return out.where(f["site_id"].notna(), 0).astype("float64")


def _order_violations(f: pd.DataFrame, ctx: RuleContext) -> pd.Series:
    """Per complete row: earlier milestones of the site not complete or completed later."""
    result = pd.Series(0.0, index=f.index)
    done = f["status"].eq("complete").fillna(False).astype(bool) & f["site_id"].notna()
    if not done.any():
        return result
    base = pd.DataFrame(
        {
            "site_id": f["site_id"].astype(object),
            "order": f["milestone_code"].map(MILESTONE_ORDER).astype("float64"),
            "complete": f["status"].eq("complete").fillna(False).astype(bool),
            "actual": f["actual_date"],
        }
    )
    base = base[base["order"].notna() & base["site_id"].notna()]
    left = base[done.loc[base.index]].reset_index(names="idx")
    pairs = left.merge(base, on="site_id", suffixes=("", "_e"))
    pairs = pairs[pairs["order_e"] < pairs["order"]]
    later = (pairs["actual_e"] > pairs["actual"]).fillna(False).astype(bool)
    bad = ~pairs["complete_e"] | later
    counts = pairs[bad.to_numpy()].groupby("idx").size()
    result.loc[counts.index] = counts.to_numpy(dtype=np.float64)
    return result


RULES = (
    in_set(
        "site_id",
        lambda ctx: ctx.known_site_ids or (),
        rule_id="site_id_known",
        description="site_id is in sites.csv",
        needs=("known_site_ids",),
    ),
    present_exactly_when(
        "forecast_date", "status", INCOMPLETE, (), "forecast_required_while_incomplete"
    ),
    present_exactly_when(
        "actual_date", "status", ("complete",), INCOMPLETE, "actual_date_iff_complete"
    ),
    pair_ge(
        "status_date",
        "actual_date",
        "actual_not_after_status_date",
        "actual_date is not after the report's status_date",
    ),
    between(
        "percent_complete",
        "percent_in_range",
        "0 <= percent_complete <= 100",
        min_value=0,
        max_value=100,
    ),
    between(
        "percent_complete",
        "percent_100_iff_complete",
        "percent_complete is 100 exactly when status is complete (below 100 otherwise)",
        min_value=100,
        when=When("status", "==", "complete"),
    ),
    between(
        "percent_complete",
        "percent_below_100_while_incomplete",
        "percent_complete is below 100 while status is not complete",
        max_value=100,
        strict_max=True,
        when=When("status", "in", INCOMPLETE),
    ),
    pair_ge(
        "forecast_date",
        "status_date",
        "forecast_not_before_status_date",
        "an incomplete milestone's forecast_date is not before the status_date",
        severity="warning",
        when=When("status", "in", INCOMPLETE),
    ),
    helper_rule(
        "completed_in_order",
        "warning",
        "row",
        "no milestone is completed before an earlier one in the order",
        ("site_id", "milestone_code", "status", "actual_date"),
        "_order_violations",
        _order_violations,
        0,
        0,
    ),
    helper_rule(
        "all_eight_milestones",
        "critical",
        "table",
        "each site reports each of the eight milestones exactly once",
        ("site_id", "milestone_code"),
        "_site_milestone_anomalies",
        _site_anomalies,
        0,
        0,
    ),
)

MILESTONES = FileSpec(
    feed="milestones",
    kind="milestones",
    pattern=r".*\.jsonl",
    columns=COLUMNS,
    rules=RULES,
    format="jsonl",
)
SPECS = (MILESTONES,)
