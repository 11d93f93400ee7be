"""Quarantine: what a refused file or a refused row leaves in the lake (docs/feeds.md: the
original bytes or rows, every rule broken, the run and the time), and never a personal value
in the clear outside landing and the validated zone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import pandas as pd

from buildout_tracker import registry, settings, zones
from buildout_tracker.ingest.report import FileOutcome
from buildout_tracker.lake import Bucket


def rejected_rows(coercion: pd.DataFrame, rule_failures: pd.DataFrame) -> pd.DataFrame:
    """One row per refused source row with every rule it broke (coercion and row rules)."""
    parts = []
    if coercion is not None and len(coercion):
        # A value refused in a column is shown as `column='value'`; a row refused whole (its
        # shape, a JSON line) names no column and shows nothing: its message says why.
        raw: list[str | None] = [
            f"{c}={v!r}" if isinstance(c, str) and c else None
            for c, v in zip(coercion["column"], coercion["raw_value"], strict=True)
        ]
        cells = coercion.assign(raw=pd.Series(raw, index=coercion.index, dtype=object))
        c = cells.groupby("_row", sort=True).agg(
            rules=("rule", lambda s: sorted(set(s))),
            detail=("message", lambda s: "; ".join(s)),
            raw_values=("raw", lambda s: "; ".join(v for v in s if isinstance(v, str)) or None),
        )
        parts.append(c.reset_index())
    if rule_failures is not None and len(rule_failures):
        r = rule_failures.copy()
        r["rules"] = r["rules"].map(lambda v: sorted(v))
        parts.append(r)
    if not parts:
        return pd.DataFrame(
            {"_row": pd.Series([], dtype="Int64"), "rules": pd.Series([], dtype=object)}
        )
    merged = pd.concat(parts, ignore_index=True, sort=False)
    rules = merged.groupby("_row")["rules"].agg(lambda s: every_rule(r for rs in s for r in rs))
    first = merged.drop(columns=["rules"]).groupby("_row").first()
    out = first.join(rules).reset_index()
    for col in out.columns:
        if col not in ("_row", "rules") and out[col].dtype == object:
            out[col] = out[col].map(
                lambda v: None if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)
            )
    return out.sort_values("_row").reset_index(drop=True)


def quarantine_time() -> str:
    """When something was quarantined (docs/feeds.md: quarantine keeps "the run and the time").
    Metadata about the event, written once per file (the ledger skips a file already done):
    no published number or validated row depends on it."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def every_rule(rules: Iterable[str]) -> list[str]:
    """The rules a row broke; a value that failed coercion is null for the row rules, so its
    `required:<column>` is a consequence of `type:<column>`, not a second fault."""
    found = set(rules)
    return sorted(r for r in found if not (r.startswith("required:") and f"type:{r[9:]}" in found))


def quarantine_whole_file(feed: str, week: str, out: FileOutcome, data: bytes, lake: Bucket) -> str:
    record = {
        "feed": feed,
        "week": week,
        "landing_key": out.key,
        "sha256": out.sha256,
        "size": out.size,
        "rule": out.rule,
        "reason": out.reason,
        "run_id": out.run_id,
        "quarantined_at": quarantine_time(),
    }
    if registry.feed(feed).personal_data:
        record["bytes"] = (
            f"kept in landing only (personal data): s3://{settings.landing_bucket()}/{out.key}"
        )
    else:
        bytes_key = zones.quarantine_file(feed, week, out.fid, "raw")
        lake.put_bytes(bytes_key, data)
        record["bytes"] = f"s3://{lake.name}/{bytes_key}"
    key = zones.quarantine_file(feed, week, out.fid, "json")
    lake.put_json(key, record)
    return key
