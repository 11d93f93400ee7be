"""The feed-week report as a person reads it: one line per feed-week, and the files and notes
that need attention. Printed by `make run`, `make run-week` and logged by the ingest tasks;
written once, here."""

from __future__ import annotations

from collections.abc import Mapping

from buildout_tracker.ingest.report import QUARANTINED, SUPERSEDED, FeedWeekReport


def feed_week_line(report: FeedWeekReport) -> str:
    s = report.summary()
    line = (
        f"{report.feed:<12} files {s['files_received']}, duplicates {s['duplicates_skipped']}, "
        f"files quarantined {s['files_quarantined']}, rows in {s['rows_in']}, "
        f"validated {s['rows_validated']}, quarantined {s['rows_quarantined']}"
    )
    if s["blocked"]:
        line += f" BLOCKED: {s['block_reason']}"
    if s["top_reasons"]:
        line += " top: " + "; ".join(s["top_reasons"])
    return line


def attention_lines(report: FeedWeekReport, limit: int = 10) -> list[str]:
    """Refused and superseded files with their reasons, and the run's notes."""
    refused = [f for f in report.files if f.outcome in (QUARANTINED, SUPERSEDED)]
    out = [f"{f.outcome} {f.key} ({f.rule}): {f.reason}" for f in refused[:limit]]
    out += [f"note: {note}" for note in report.stray_warnings[:limit]]
    return out


def week_line(
    week: str, reports: Mapping[str, FeedWeekReport], published: bool, error: str | None
) -> str:
    """One line for a whole week: each feed's files, rows and refused rows, then publication."""
    parts = []
    for feed, r in reports.items():
        s = r.summary()
        flag = " BLOCKED" if s["blocked"] else ""
        parts.append(
            f"{feed} {s['files_received']}f/{s['rows_in']}r/{s['rows_quarantined']}q{flag}"
        )
    pub = "published" if published else f"NOT published ({error})"
    return f"{week}: " + ", ".join(parts) + f" -> {pub}"
