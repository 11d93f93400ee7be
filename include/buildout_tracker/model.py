"""What the publishing step receives for one week: the validated state in force.

This is the seam between ingest (feeds/, ingest/) and the published tables (tables/).
Frames use these dtypes: text as pandas `str`, dates as naive `datetime64` at midnight,
timestamps as UTC-aware `datetime64`, decimals as float64, integers as Int64, flags as bool.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

# The feeds each table is built on. A table whose feed is blocked for the week is not
# published for that week (docs/feeds.md: nothing built on it is published for that week, and
# the last good publication stays as it was); the scorecard and data quality always are,
# with the areas the feed greys (`registry`) grey.
TABLE_FEEDS: dict[str, tuple[str, ...]] = {
    "procurement_weekly": ("procurement", "fx_rates"),
    "milestone_status_weekly": ("milestones",),
    "site_progress_weekly": ("milestones", "procurement", "fx_rates"),
    "hiring_weekly": ("hiring",),
}


@dataclass(frozen=True)
class FeedWeekStatus:
    """How a feed fared in a week: whether it delivered anything and whether it is blocked."""

    feed: str
    delivered: bool  # at least one file landed in the week (a duplicate counts)
    blocked: bool
    reason: str | None = None  # names the file and the rule when blocked
    files_received: int = 0
    duplicates_skipped: int = 0
    files_quarantined: int = 0
    rows_in: int = 0
    rows_quarantined: int = 0
    # A delivery of the week that could not be used (why): an ATS snapshot found incomplete,
    # whose week then keeps an earlier snapshot's figures. The feed's areas are grey.
    unused: str | None = None


@dataclass
class WeekInputs:
    week: str
    status_date: date
    # Current version of every PO line delivered up to the end of the week (deleted and
    # cancelled included: `live` is derived by the tables).
    po_lines: pd.DataFrame
    # Every valid FX rate delivered up to the end of the week: currency, rate_date, usd_per_unit.
    fx_rates: pd.DataFrame
    # Reference in force.
    sites: pd.DataFrame
    milestone_plan: pd.DataFrame
    budget_plan: pd.DataFrame
    hiring_plan: pd.DataFrame
    # Report in force of every site that has reported at least once: the feed's columns
    # (no reported_by, no notes) plus `stale` (bool: the site did not report this week).
    milestones: pd.DataFrame
    # Latest ATS snapshot delivered on or before the status date (no personal data;
    # offers carry `candidate_key`, an HMAC of candidate_id).
    requisitions: pd.DataFrame
    offers: pd.DataFrame
    feed_status: dict[str, FeedWeekStatus] = field(default_factory=dict)
    # Rule results of the week for data_quality_weekly: feed, file, rule, severity,
    # rows_checked, rows_failed, success.
    dq_rules: pd.DataFrame | None = None
    # Last week's published tables by name, when there are any.
    prior: dict[str, pd.DataFrame] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
