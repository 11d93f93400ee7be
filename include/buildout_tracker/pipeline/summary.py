"""What a person reads of a run: one line per week (what it received, refused, published and
which areas changed colour), the feed-week report (one line per feed, and the files and
notes that need attention), and the scorecard with each measure's change since last week.
Printed by `make run` and `make run-week` and logged by the ingest tasks; written once, here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from buildout_tracker.ingest.report import QUARANTINED, SUPERSEDED, FeedWeekReport

NA = "–"  # a measure that does not apply (null), not a zero


def feed_week_line(report: FeedWeekReport) -> str:
    """The week's totals for a feed (every file the week received, whichever run took it)."""
    s = report.summary()
    line = (
        f"{report.feed:<12} files {s['files_received']}, duplicates {s['duplicates_skipped']}, "
        f"files quarantined {s['files_quarantined']}, rows in {s['rows_in']:,}, "
        f"validated {s['rows_validated']:,}, quarantined {s['rows_quarantined']:,}"
    )
    if s["blocked"]:
        line += f" BLOCKED: {s['block_reason']}"
    if s["top_reasons"]:
        line += " top: " + "; ".join(s["top_reasons"])
    return line


def this_run_line(report: FeedWeekReport) -> str:
    """What this run did, as opposed to the week's totals: the files it processed and the
    files it left as they were (already in the ledger, duplicates, superseded)."""
    new = [f for f in report.files if f.key in report.processed]
    rows = sum(f.rows_in for f in new)
    kept = len(report.files) - len(new)
    return (
        f"this run: {len(new)} new file(s) processed ({rows:,} rows), "
        f"{kept} already known or skipped"
    )


def attention_lines(report: FeedWeekReport, limit: int = 10) -> list[str]:
    """Refused and superseded files with their reasons, and the run's notes."""
    refused = [f for f in report.files if f.outcome in (QUARANTINED, SUPERSEDED)]
    out = [f"{f.outcome} {f.key} ({f.rule}): {f.reason}" for f in refused[:limit]]
    if len(refused) > limit:
        out.append(f"... and {len(refused) - limit} more refused file(s)")
    out += [f"note: {note}" for note in report.stray_warnings[:limit]]
    return out


def needs_attention(report: FeedWeekReport) -> bool:
    s = report.summary()
    return bool(
        s["blocked"] or s["files_quarantined"] or s["rows_quarantined"] or report.stray_warnings
    )


def week_line(
    week: str,
    reports: Mapping[str, FeedWeekReport],
    scorecard: Any | None,
    error: str | None,
) -> str:
    """One line for a whole week: rows in and refused, blocked feeds, publication, RAG; and,
    when this run found no file it had not seen before (a re-run), that it found nothing new
    (the rows are the week's, whichever run ingested them)."""
    rows = sum(r.rows_in for r in reports.values())
    refused = sum(r.rows_quarantined for r in reports.values())
    files_refused = sum(r.count(QUARANTINED) for r in reports.values())
    parts = [f"{rows:,} rows in"]
    if refused or files_refused:
        parts.append(f"{refused:,} rows and {files_refused} file(s) refused")
    blocked = [f for f, r in reports.items() if r.blocked]
    if blocked:
        parts.append("BLOCKED: " + ", ".join(blocked))
    if not any(r.processed for r in reports.values()) and any(
        r.delivered for r in reports.values()
    ):
        parts.append("nothing new: every file was ingested by an earlier run")
    head = f"{week}  " + ("published" if scorecard is not None else "NOT published")
    line = f"{head:<22} " + ", ".join(parts)
    if scorecard is not None:
        line += "; " + rag_moves(scorecard)
    elif error:
        line += f" ({error})"
    return line


def rag_moves(scorecard: Any) -> str:
    """The program's colour, and every area whose colour changed since last week."""
    rows = sorted(
        scorecard.to_dict(orient="records"), key=lambda r: (r["area"] != "program", r["area"])
    )
    out = []
    for r in rows:
        before = r.get("rag_prior")
        if isinstance(before, str) and before != r["rag"]:
            out.append(f"{r['area']} {before}->{r['rag']}")
        elif r["area"] == "program":
            out.append(f"program {r['rag']}")
    return ", ".join(out)


def fmt(value: Any, digits: int = 2) -> str:
    """A measure as a person reads it: `–` when it does not apply."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NA
    return f"{value:,.{digits}f}"


def change(now: Any, before: Any, digits: int = 2) -> str:
    if fmt(now) == NA or fmt(before) == NA:
        return ""
    delta = float(now) - float(before)
    return f" ({delta:+.{digits}f})"


MEASURES = (
    ("spend_pace", "spend pace"),
    ("spi", "SPI"),
    ("cpi", "CPI"),
    ("hiring_attainment", "hiring"),
    ("otd_rate", "OTD"),
)


def scorecard_lines(scorecard: Any) -> list[str]:
    """Each area's colour and measures with their change since last week (`–`: does not
    apply), then the reasons of every rule not green."""
    rows = sorted(
        scorecard.to_dict(orient="records"), key=lambda r: (r["area"] != "program", r["area"])
    )
    width = 15
    head = f"  {'area':<17} {'RAG':<6} " + " ".join(f"{label:<{width}}" for _, label in MEASURES)
    out = [head]
    for r in rows:
        cells = [
            f"{fmt(r.get(m)) + change(r.get(m), r.get(f'{m}_prior')):<{width}}" for m, _ in MEASURES
        ]
        before = r.get("rag_prior")
        rag = r["rag"] + ("*" if isinstance(before, str) and before != r["rag"] else "")
        out.append(f"  {r['area']:<17} {rag:<6} " + " ".join(cells))
    out.append("  (change since last week in brackets; * colour changed; – does not apply)")
    out.append("")
    out.append("  Reasons (every rule not green):")
    for r in rows:
        reasons = [] if r.get("rag_reasons") is None else [str(x) for x in r["rag_reasons"]]
        out.append(f"    {r['area']:<17} {r['rag']:<6} {'; '.join(reasons) or NA}")
    return out
