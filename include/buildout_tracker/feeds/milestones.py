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


# The two helpers below run on every site report twice (the row check, then GX's helper
# column): numpy on the frame's arrays, about 20 times faster than the pandas groupby and
# merge they replace on an eight-row report; the numbers are the same
# (`tests/feeds/test_milestone_helpers.py` compares them with the pandas forms).


def _site_anomalies(f: pd.DataFrame, ctx: RuleContext) -> pd.Series:
    """Per row: missing plus duplicated milestone codes of its site (0 when complete)."""
    site, _ = pd.factorize(f["site_id"], use_na_sentinel=True)
    code = _looked_up(f["milestone_code"], MILESTONE_ORDER)  # a code's index, 0 to 7
    n_sites = int(site.max()) + 1 if len(site) else 0
    out = np.zeros(len(f), dtype="float64")
    if n_sites == 0:
        return pd.Series(out, index=f.index)
    has = site >= 0
    rows = np.bincount(site[has], minlength=n_sites)
    known = has & ~np.isnan(code)
    pairs = np.unique(site[known] * len(MILESTONE_CODES) + code[known].astype("int64"))
    distinct = np.bincount(pairs // len(MILESTONE_CODES), minlength=n_sites)
    s = site[has]
    out[has] = (len(MILESTONE_CODES) - distinct[s]) + (rows[s] - distinct[s])
    return pd.Series(out, index=f.index)


def _order_violations(f: pd.DataFrame, ctx: RuleContext) -> pd.Series:
    """Per complete row: earlier milestones of the site not complete or completed later."""
    out = np.zeros(len(f), dtype="float64")
    complete = f["status"].eq("complete").fillna(False).to_numpy(dtype=bool)
    site, _ = pd.factorize(f["site_id"], use_na_sentinel=True)
    order = _looked_up(f["milestone_code"], MILESTONE_ORDER)
    actual = f["actual_date"].to_numpy()  # datetime64 in the column's own unit, NaT for none
    if not np.issubdtype(actual.dtype, np.datetime64):
        actual = pd.to_datetime(f["actual_date"]).to_numpy()
    base = np.flatnonzero((site >= 0) & ~np.isnan(order))  # rows that take part
    left = base[complete[base]]
    if not len(left):
        return pd.Series(out, index=f.index)
    # Every (complete row, row of the same site) pair, as the merge on site_id would give.
    by_site = base[np.argsort(site[base], kind="stable")]
    sites_sorted = site[by_site]
    start = np.searchsorted(sites_sorted, site[left], side="left")
    count = np.searchsorted(sites_sorted, site[left], side="right") - start
    li = np.repeat(left, count)
    offsets = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    ei = by_site[np.repeat(start, count) + offsets]
    earlier = order[ei] < order[li]
    a_e, a_l = actual[ei], actual[li]
    later = ~np.isnat(a_e) & ~np.isnat(a_l) & (a_e > a_l)
    bad = earlier & (~complete[ei] | later)
    np.add.at(out, li[bad], 1.0)
    return pd.Series(out, index=f.index)


def _looked_up(s: pd.Series, numbers: dict[str, int]) -> np.ndarray:
    """Each value's number (NaN for a null or an unknown value), as `s.map(numbers)` gives
    it: a dictionary lookup per value, where pandas' `map` costs 0.6 ms on an eight-row
    report (its helpers run on 2,000 of them a week at SCALE=xlarge)."""
    nan = float("nan")
    return np.array(
        [numbers.get(v, nan) if isinstance(v, str) else nan for v in s.to_numpy(dtype=object)],
        dtype="float64",
    )


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
