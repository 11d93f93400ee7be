"""Delivery receipts for the source systems' owners: one JSON object per delivered file of a
feed-week, `receipts/<feed>/<delivery date>/<file>.json` in the lake bucket, saying what
became of the file. It gives the outcome, the rows in, accepted and refused, every rule
broken with its count and row numbers, the reason a whole file was refused, and whom it is
for. It holds no value from the file: only rule ids, counts, row numbers and the reasons the
feed-week report already carries.

`write_receipts(lake, report)` runs after each feed-week (`pipeline.steps.ingest`). A
receipt is rewritten whole by every run of the week, so it always says what the latest run
found (a superseded file's receipt says it was superseded). Its bytes depend only on the
report and the quarantine, so a re-run that changes nothing writes the same bytes.

Row numbers are the quarantine's `_row`: the data row of a CSV file (1 is the first row after
the header) or the line of a JSONL file (docs/feeds.md). A rule broken by very many rows keeps
its exact count; its list of row numbers stops at `MAX_ROW_NUMBERS`, and
`row_numbers_complete` says whether it did.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections import defaultdict
from datetime import date
from typing import Any

from buildout_tracker import registry
from buildout_tracker.ingest.report import (
    DUPLICATE,
    INGESTED,
    NOT_RECEIVED,
    QUARANTINED,
    SUPERSEDED,
    FeedWeekReport,
    FileOutcome,
)
from buildout_tracker.lake import Bucket

PREFIX = "receipts/"
VERSION = 1
MAX_ROW_NUMBERS = 1000
MAX_NAME = 120
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_UNSAFE_CHAR = re.compile(r"[^A-Za-z0-9._-]")


def file_name(landing_key: str) -> str:
    """The file's name as its owner wrote it: the landing key after `<feed>/<date>/`."""
    parts = landing_key.split("/", 2)
    return parts[2] if len(parts) == 3 and parts[2] else posixpath.basename(landing_key)


def receipt_name(name: str) -> str:
    """A name safe as the last part of an S3 key and of a URL path: the file's own name when it
    is plain (letters, digits, `.`, `_`, `-`, not starting with a dot, at most 120 characters),
    else its plain characters with a hash of the exact name appended, so that two odd names
    never share a receipt (`../po lines%.csv` -> `po_lines_.csv-<10 hex>`)."""
    if _SAFE.match(name) and len(name) <= MAX_NAME and ".." not in name:
        return f"{name}.json"
    plain = _UNSAFE_CHAR.sub("_", name)
    plain = re.sub(r"\.{2,}", ".", plain).lstrip("._-")[: MAX_NAME - 11] or "file"
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{plain}-{digest}.json"


def receipt_key(feed: str, delivery_date: str, landing_key: str) -> str:
    """`receipts/<feed>/<delivery date>/<file>.json` (the key builder; zones.py to carry it)."""
    registry.feed(feed)  # a known feed: its name is a plain word
    day = date.fromisoformat(delivery_date).isoformat()  # a real date, written YYYY-MM-DD
    return f"{PREFIX}{feed}/{day}/{receipt_name(file_name(landing_key))}"


def receipt_key_of(feed: str, f: FileOutcome) -> str:
    return receipt_key(feed, f.delivery_date, f.key)


def receipt_prefix(feed: str, delivery_date: str | None = None) -> str:
    if delivery_date is None:
        return f"{PREFIX}{feed}/"
    return f"{PREFIX}{feed}/{date.fromisoformat(delivery_date).isoformat()}/"


def delivered_files(report: FeedWeekReport) -> list[FileOutcome]:
    """The files a receipt is written for: every file this week's runs received (a file
    another week's run took late gets its receipt from that week)."""
    return [f for f in report.files if f.outcome not in NOT_RECEIVED]


def rows_by_rule(lake: Bucket, quarantine_key: str | None) -> dict[str, list[int]]:
    """Every rule broken in a file's refused rows, with the row numbers that broke it (sorted),
    from the quarantine Parquet's `_row` and `rules` columns (no other column is read)."""
    if not quarantine_key or not quarantine_key.endswith(".rows.parquet"):
        return {}
    import io

    import pyarrow.parquet as pq

    data = lake.get_bytes_or_none(quarantine_key)
    if data is None:
        return {}
    table = pq.read_table(io.BytesIO(data), columns=["_row", "rules"])
    out: dict[str, list[int]] = defaultdict(list)
    for row, rules in zip(
        table.column("_row").to_pylist(), table.column("rules").to_pylist(), strict=True
    ):
        if row is None:
            continue
        for rule in rules or ():
            out[str(rule)].append(int(row))
    return {rule: sorted(set(rows)) for rule, rows in sorted(out.items())}


def _severity(f: FileOutcome) -> dict[str, str]:
    return {str(s.get("rule")): str(s.get("severity") or "") for s in f.rule_stats}


def _summary(f: FileOutcome, rules: list[dict[str, Any]]) -> str:
    name = file_name(f.key)
    if f.outcome == QUARANTINED:
        return f"{name} was refused whole ({f.rule}): {f.reason}. No row of it was accepted."
    if f.outcome == DUPLICATE:
        return f"{name} has the same bytes as {f.duplicate_of}: it was not processed again."
    if f.outcome == SUPERSEDED:
        return f"{name} was superseded by a correction ({f.reason}): its rows no longer count."
    if f.rows_quarantined:
        broken = ", ".join(f"{r['rule']} ({r['rows']})" for r in rules[:5])
        return (
            f"{name}: {f.rows_valid:,} of {f.rows_in:,} rows accepted, {f.rows_quarantined:,} "
            f"refused; rules broken: {broken}."
        )
    return f"{name}: all {f.rows_in:,} rows accepted."


def receipt(report: FeedWeekReport, f: FileOutcome, lake: Bucket | None = None) -> dict[str, Any]:
    """A file's receipt (what `write_receipts` writes). `lake` is where its refused rows are
    read from, for their row numbers; without it, counts come from the report alone."""
    feed = registry.feed(report.feed)
    severity = _severity(f)
    by_rule = rows_by_rule(lake, f.quarantine_key) if lake is not None else {}
    counts = dict(f.top_rules)
    for rule, rows in by_rule.items():
        counts[rule] = len(rows)
    rules = [
        {
            "rule": rule,
            "severity": severity.get(rule) or "critical",
            "rows": int(n),
            "row_numbers": by_rule.get(rule, [])[:MAX_ROW_NUMBERS],
            "row_numbers_complete": len(by_rule.get(rule, [])) == int(n)
            and int(n) <= MAX_ROW_NUMBERS,
        }
        for rule, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return {
        "receipt_version": VERSION,
        "feed": feed.name,
        "source_owner": feed.source_owner,
        "file": file_name(f.key),
        "landing_key": f.key,
        "delivery_date": f.delivery_date,
        "week": report.week,
        "sha256": f.sha256,
        "size": f.size,
        "outcome": f.outcome,
        "accepted": f.outcome == INGESTED,
        "summary": _summary(f, rules),
        "rows_in": f.rows_in,
        "rows_accepted": f.rows_valid if f.outcome == INGESTED else 0,
        "rows_refused": (
            f.rows_quarantined
            if f.outcome == INGESTED
            else f.rows_in
            if f.outcome == QUARANTINED
            else 0
        ),
        "refused_file": (
            {"rule": f.rule, "reason": f.reason} if f.outcome == QUARANTINED else None
        ),
        "rules_broken": rules,
        "table_rules_failed": [
            {"rule": t.get("rule"), "severity": t.get("severity"), "message": t.get("message")}
            for t in f.table_failures
        ],
        "warnings": list(f.warnings),
        "duplicate_of": f.duplicate_of,
        "superseded": f.reason if f.outcome == SUPERSEDED else None,
        "feed_week_blocked": report.blocked,
        "feed_week_block_reason": report.block_reason,
        "run_id": f.run_id,
        "quarantine_key": f.quarantine_key,
    }


def write_receipts(lake: Bucket, report: FeedWeekReport) -> list[str]:
    """A receipt for every delivered file of the feed-week report; returns the keys written."""
    from buildout_tracker.lake import concurrently, put_json_many

    files = delivered_files(report)
    keys = [receipt_key_of(report.feed, f) for f in files]
    built = concurrently(lambda f: receipt(report, f, lake), files)
    put_json_many(lake, zip(keys, built, strict=True))
    return keys


def read_receipt(lake: Bucket, key: str) -> dict[str, Any] | None:
    raw = lake.get_json_or_none(key)
    return raw if isinstance(raw, dict) else None
