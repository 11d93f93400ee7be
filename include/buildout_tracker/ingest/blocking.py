"""When a feed's week is blocked (docs/feeds.md, "What bad input gets"): a critical
table-level rule failed in one of its files, or the share of its rows refused is above the
feed's threshold (`settings.quarantine_threshold`, strictly above blocks)."""

from __future__ import annotations

from collections import Counter

from buildout_tracker import settings
from buildout_tracker.ingest.report import INGESTED, FeedWeekReport


def decide_block(report: FeedWeekReport) -> None:
    """Block the feed's week on a critical table-level failure or too many refused rows."""
    threshold = settings.quarantine_threshold(report.feed)
    for f in report.files:
        for failure in f.table_failures:
            if failure["severity"] == "critical":
                report.blocked = True
                report.block_reason = f"{report.feed} blocked: file {f.key}: rule {failure['rule']} (critical): {failure['message']}"
                return
    rows_in = report.rows_in
    if rows_in and report.rows_quarantined / rows_in > threshold:
        worst = max(
            (f for f in report.files if f.outcome == INGESTED),
            key=lambda f: f.rows_quarantined,
        )
        top = ", ".join(f"{r} ({n})" for r, n in Counter(worst.top_rules).most_common(3))
        report.blocked = True
        report.block_reason = (
            f"{report.feed} blocked: {report.rows_quarantined} of {rows_in} rows quarantined "
            f"({report.rows_quarantined / rows_in:.1%} > {threshold:.0%}); most in file {worst.key}: {top}"
        )
