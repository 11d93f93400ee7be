"""One new landing file: parsed against its spec, its rows checked, its valid rows written to
the validated zone and its refused rows (or the whole file) to quarantine. Nothing is lost:
the raw bytes stay in landing."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from buildout_tracker import zones
from buildout_tracker.ingest.landing import Delivery
from buildout_tracker.ingest.quarantine import quarantine_time, quarantine_whole_file, rejected_rows
from buildout_tracker.ingest.report import INGESTED, QUARANTINED, FileOutcome
from buildout_tracker.lake import Bucket, WriteBatch, frame_parquet_bytes
from buildout_tracker.timing import phase

log = logging.getLogger(__name__)


def process_file(
    feed: str,
    week: str,
    spec: Any,
    delivery: Delivery,
    data: bytes,
    out: FileOutcome,
    lake: Bucket,
    hmac_key: bytes,
    ctx: Any,
    written: dict[str, bytes] | None = None,
    writes: WriteBatch | None = None,
) -> tuple[FileOutcome, pd.DataFrame | None, pd.DataFrame | None]:
    """Parse, check rows, split: the file's valid rows and its refused rows are written
    (into `writes` when given, for the caller to flush; a file refused whole is quarantined
    at once). Returns the outcome, the parsed frame for the GX suite (`validation.py`: a
    result per file) and the valid rows; both frames are None for a file refused whole.
    `written` gets the valid rows' Parquet bytes by their key
    (`FeedWeekReport.validated_bytes`)."""
    return process_files(
        feed, week, spec, [(delivery, data, out)], lake, hmac_key, ctx, written, writes
    )[0]


def process_files(
    feed: str,
    week: str,
    spec: Any,
    files: list[tuple[Delivery, bytes, FileOutcome]],
    lake: Bucket,
    hmac_key: bytes,
    ctx: Any,
    written: dict[str, bytes] | None = None,
    writes: WriteBatch | None = None,
) -> list[tuple[FileOutcome, pd.DataFrame | None, pd.DataFrame | None]]:
    """`process_file` of each file of one kind and one rule context, in order: parsed
    together and their row-wise rules checked together (`feeds.parse_files`,
    `feeds.check_files`: the same results as file by file, a week's site reports at a
    fraction of the cost), then each file split and written on its own."""
    sink: Bucket | WriteBatch = lake if writes is None else writes
    from buildout_tracker import feeds

    with phase("ingest"):
        parsed_all = feeds.parse_files(spec, [(d.key, data) for d, data, _ in files], hmac_key)
    results: list[tuple[FileOutcome, pd.DataFrame | None, pd.DataFrame | None]] = []
    checked: list[tuple[int, Any, pd.DataFrame, dict[str, np.ndarray]]] = []
    for i, ((delivery, data, out), parsed) in enumerate(zip(files, parsed_all, strict=True)):
        out.warnings = list(parsed.warnings)
        for warning in parsed.warnings:
            log.warning("%s: %s: %s", feed, delivery.key, warning)
        if parsed.file_error is not None:
            out.outcome = QUARANTINED
            out.rule, out.reason = parsed.file_error.rule, parsed.file_error.reason
            out.rows_in = parsed.rows_in
            out.quarantine_key = quarantine_whole_file(feed, week, out, data, lake)
            log.warning(
                "%s: file %s quarantined: %s (%s)", feed, delivery.key, out.reason, out.rule
            )
            results.append((out, None, None))
            continue
        frame, refused = _with_failed_rows(parsed)
        checked.append((i, parsed, frame, refused))
        results.append((out, parsed.frame, None))

    with phase("validate"):
        checks = feeds.check_files(
            spec, [c[2] for c in checked], ctx, refused=[c[3] for c in checked]
        )

    with phase("ingest"):
        for (i, parsed, _, _), check in zip(checked, checks, strict=True):
            delivery, _, out = files[i]
            valid = _split(feed, week, spec, delivery, out, parsed, check, sink, written)
            results[i] = (out, parsed.frame, valid)
    return results


def _with_failed_rows(parsed: Any) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The frame the rules check, and per column the rows whose value failed coercion."""
    frame, refused = parsed.frame, {}
    if parsed.failed is not None and len(parsed.failed):
        # Rows with a value that failed coercion: refused already; checked with the rest
        # so that quarantine keeps their values and every other rule they break.
        frame = pd.concat([parsed.frame, parsed.failed], ignore_index=True)
        frame = frame.sort_values("_row", kind="stable").reset_index(drop=True)
        cells = parsed.rejected.dropna(subset=["column"])
        for column, rows in cells.groupby("column")["_row"]:
            refused[str(column)] = frame["_row"].isin(rows).to_numpy()
    return frame, refused


def _split(
    feed: str,
    week: str,
    spec: Any,
    delivery: Delivery,
    out: FileOutcome,
    parsed: Any,
    check: Any,
    sink: Bucket | WriteBatch,
    written: dict[str, bytes] | None,
) -> pd.DataFrame:
    """Write the file's valid rows and its refused rows; fill its outcome."""
    valid = check.valid.copy()
    valid["_file"] = delivery.key
    valid["_delivery_date"] = pd.Timestamp(delivery.delivery_date)
    out.validated_key = zones.validated_file(feed, spec.kind, week, out.fid)
    data = frame_parquet_bytes(valid)
    sink.put_bytes(out.validated_key, data)
    if written is not None:
        written[out.validated_key] = data

    if len(parsed.rejected) or len(check.quarantined):
        rejected = rejected_rows(parsed.rejected, check.quarantined)
    else:  # nothing refused (most files): an empty frame, as `rejected_rows` would give
        rejected = pd.DataFrame({"_row": pd.Series([], dtype="Int64"), "rules": []})
    if len(rejected):
        out.quarantine_key = zones.quarantine_rows(feed, spec.kind, week, out.fid)
        rejected.insert(0, "_file", delivery.key)
        rejected["_run_id"] = out.run_id
        rejected["_quarantined_at"] = quarantine_time()
        sink.put_bytes(out.quarantine_key, frame_parquet_bytes(rejected))

    out.outcome = INGESTED
    out.rows_in = int(parsed.rows_in)
    out.rows_valid = len(valid)
    out.rows_quarantined = len(rejected)
    out.rule_stats = records(
        with_parse_rules(check.rule_stats, parsed.rejected, parsed.rows_in, parsed.warned_rules)
    )
    out.table_failures = [
        {"rule": r, "severity": s, "message": m} for (r, s, m) in check.table_failures
    ]
    out.top_rules = (
        dict(Counter(rule for rules in rejected["rules"] for rule in rules))
        if len(rejected)
        else {}
    )
    log.info(
        "%s: %s: %d rows in, %d valid, %d quarantined",
        feed, delivery.key, out.rows_in, out.rows_valid, out.rows_quarantined,
    )  # fmt: skip
    return valid


def with_parse_rules(
    stats: pd.DataFrame,
    refused: pd.DataFrame,
    rows_in: int,
    warned: dict[str, int] | None = None,
) -> pd.DataFrame:
    """Rule results including the rules applied while parsing (`type:<column>`, a required
    value left empty, `structure:field_count`, `structure:line_too_long`, `format:json_line`,
    `no_control_characters:<column>`), checked on every row read; `warned` are the parse
    rules of warning severity (control characters replaced in free text), rows kept.
    A parse rule and a row rule of the same id (`required:<column>`) count their rows once."""
    rows: list[dict[str, Any]] = [
        {"rule": rule, "severity": "warning", "level": "row",
         "rows_checked": rows_in, "rows_failed": int(n)}
        for rule, n in sorted((warned or {}).items())
    ]  # fmt: skip
    if refused is None or not len(refused):
        return pd.concat([pd.DataFrame(rows), stats], ignore_index=True) if rows else stats
    failed = refused.groupby("rule")["_row"].nunique()
    for rule, n in failed.items():
        same = stats["rule"] == rule
        if same.any():
            stats = stats.copy()
            stats.loc[same, "rows_failed"] = stats.loc[same, "rows_failed"].astype(int) + int(n)
            stats.loc[same, "rows_checked"] = rows_in
            continue
        rows.append({"rule": rule, "severity": "critical", "level": "row",
                     "rows_checked": rows_in, "rows_failed": int(n)})  # fmt: skip
    return pd.concat([pd.DataFrame(rows), stats], ignore_index=True) if rows else stats


def records(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    """The frame's rows as dicts of Python values (`tolist` per column: numpy scalars
    become Python ones, as `.item()` of `to_dict`'s values would give)."""
    if frame is None or not len(frame):
        return []
    names = [str(c) for c in frame.columns]
    columns = [frame[c].tolist() for c in frame.columns]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
