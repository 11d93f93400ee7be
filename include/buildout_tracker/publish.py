"""Write, audit, publish: a week's six tables become visible whole or not at all.

1. Load the validated state in force for the week (`WeekInputs`).
2. Compute the six tables (`tables.compute_all`) and audit them (`tables.audit.audit_week`).
   A failed audit publishes nothing and raises `AuditFailed` with the reasons.
3. Stage every table under `curated/_staging/week=W/<run>/` (invisible to Athena, DuckDB and
   pyarrow, which skip `_` names), check what was staged, then copy each into place as one
   object per partition: `curated/<table>/week=W/part-00000.parquet`. One PUT or COPY of one
   object is atomic, so a reader sees the old partition or the new one, never half a file
   nor an empty partition.
4. Write the manifest last: `curated/_manifests/week=W.json`.

Parquet bytes are deterministic for the same rows and code, so a re-run or a backfill writes
byte-identical tables; the manifest's per-table SHA-256 proves it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from buildout_tracker import settings
from buildout_tracker.ingest import state
from buildout_tracker.ingest.feed_week import read_report
from buildout_tracker.lake import Bucket, json_bytes, parquet_bytes
from buildout_tracker.model import TABLE_FEEDS, FeedWeekStatus, WeekInputs
from buildout_tracker.timing import phase
from buildout_tracker.weeks import previous, status_date

log = logging.getLogger(__name__)

STATUS_FEEDS = ("procurement", "fx_rates", "milestones", "hiring")
PART = "part-00000.parquet"


class AuditFailed(RuntimeError):
    def __init__(self, week: str, failures: list[Any]) -> None:
        self.week, self.failures = week, failures
        lines = "; ".join(f"{f.table}: {f.check}: {f.message}" for f in failures[:10])
        super().__init__(f"audit failed for {week}, nothing published: {lines}")


def table_key(table: str, week: str) -> str:
    return f"curated/{table}/week={week}/{PART}"


def manifest_key(week: str) -> str:
    return f"curated/_manifests/week={week}.json"


_DTYPES = {
    "text": "str",
    "date": "datetime64[us]",
    "timestamp": "datetime64[us, UTC]",
    "decimal": "float64",
    "number": "float64",
    "integer": "Int64",
    "boolean": "bool",
}


def empty_frame(kind: str) -> pd.DataFrame:
    """No rows, but the columns and dtypes a validated file of this kind has."""
    from buildout_tracker import feeds
    from buildout_tracker.feeds.schema import hashed_name

    spec = next(s for specs in feeds.SPECS.values() for s in specs if s.kind == kind)
    cols = {
        (hashed_name(c.name) if c.pii == "hash" else c.name): pd.Series(
            dtype="str" if c.pii == "hash" else _DTYPES[c.type]
        )
        for c in spec.kept_columns
    }
    return pd.DataFrame(cols)


def _state(lake: Bucket, name: str, week: str) -> pd.DataFrame:
    """The state in force at the week; a typed empty frame when there is none (or it is
    empty because nothing valid ever arrived), so the tables see the feed's columns."""
    frame = state.read_state_at(lake, name, week)
    if frame is None or (len(frame) == 0 and len(frame.columns) == 0):
        return empty_frame(name.removeprefix("reference_"))
    return frame


def feed_statuses(lake: Bucket, week: str) -> dict[str, FeedWeekStatus]:
    """Each feed's week, reference included (its delivery row in data_quality_weekly; the
    scorecard greys areas only on the feeds of `model.AREA_FEEDS`)."""
    out = {}
    for feed in (*STATUS_FEEDS, "reference"):
        report = read_report(lake, feed, week)
        if report is None:
            out[feed] = FeedWeekStatus(
                feed, delivered=False, blocked=False, reason=f"{feed}: not ingested for {week}"
            )
            continue
        s = report.summary()
        out[feed] = FeedWeekStatus(
            feed,
            delivered=report.delivered,
            blocked=report.blocked,
            reason=report.block_reason,
            files_received=s["files_received"],
            duplicates_skipped=s["duplicates_skipped"],
            files_quarantined=s["files_quarantined"],
            rows_in=s["rows_in"],
            rows_quarantined=s["rows_quarantined"],
        )
    return out


def dq_rule_rows(lake: Bucket, week: str) -> pd.DataFrame:
    """Every rule's result of the week, per file, for data_quality_weekly."""
    rows: list[dict[str, Any]] = []
    for feed in (*STATUS_FEEDS, "reference"):
        report = read_report(lake, feed, week)
        if report is None:
            continue
        for f in report.files:
            if f.outcome == "quarantined":
                rows.append(
                    {"feed": feed, "file": f.key, "rule": f"file:{f.rule}", "severity": "critical",
                     "rows_checked": f.rows_in, "rows_failed": f.rows_in, "success": False}
                )  # fmt: skip
            for r in f.rule_stats:
                rows.append(
                    {"feed": feed, "file": f.key, "rule": r["rule"], "severity": r["severity"],
                     "rows_checked": int(r["rows_checked"]), "rows_failed": int(r["rows_failed"]),
                     "success": int(r["rows_failed"]) == 0}
                )  # fmt: skip
            stated = {r["rule"] for r in f.rule_stats}
            for t in f.table_failures:
                if t["rule"] in stated:
                    continue
                rows.append(
                    {"feed": feed, "file": f.key, "rule": t["rule"], "severity": t["severity"],
                     "rows_checked": f.rows_in, "rows_failed": 0, "success": False}
                )  # fmt: skip
    cols = ["feed", "file", "rule", "severity", "rows_checked", "rows_failed", "success"]
    return pd.DataFrame(rows, columns=cols)


def read_published(lake: Bucket, week: str) -> dict[str, pd.DataFrame]:
    """A week's published tables, read through its manifest (empty when never published)."""
    manifest = lake.get_json_or_none(manifest_key(week))
    if manifest is None:
        return {}
    return {
        name: lake.read_parquet(t["files"][0]).to_pandas()
        for name, t in manifest["tables"].items()
        if t.get("files")  # a table withheld in a week never published holds no file
    }


def load_week_inputs(lake: Bucket, week: str) -> WeekInputs:
    milestones = _state(lake, "milestones", week).copy()
    if "_report_week" in milestones:
        milestones["stale"] = milestones["_report_week"] != week
    else:
        milestones["stale"] = pd.Series(True, index=milestones.index, dtype=bool)
    return WeekInputs(
        week=week,
        status_date=status_date(week),
        po_lines=_state(lake, "po_lines", week),
        fx_rates=_state(lake, "fx_rates", week),
        sites=_state(lake, "reference_sites", week),
        milestone_plan=_state(lake, "reference_milestone_plan", week),
        budget_plan=_state(lake, "reference_budget_plan", week),
        hiring_plan=_state(lake, "reference_hiring_plan", week),
        milestones=milestones,
        requisitions=_state(lake, "requisitions", week),
        offers=_state(lake, "offers", week),
        feed_status=feed_statuses(lake, week),
        dq_rules=dq_rule_rows(lake, week),
        prior=read_published(lake, previous(week)),
    )


@dataclass
class PublishResult:
    week: str
    manifest_uri: str
    tables: dict[str, str]
    rows: dict[str, int]
    scorecard: pd.DataFrame
    audit_failures: list[Any] = field(default_factory=list)


def row_content_sha256(table: pa.Table) -> str:
    """Checksum of the rows themselves, independent of the Parquet encoding: a consumer can
    recompute it from the published file (one canonical JSON line per row)."""
    digest = hashlib.sha256()
    for batch in table.to_batches():
        for row in batch.to_pylist():
            digest.update(json.dumps(row, sort_keys=True, default=str).encode() + b"\n")
    return digest.hexdigest()


def compute_and_audit(inputs: WeekInputs) -> tuple[dict[str, pa.Table], list[Any]]:
    from buildout_tracker.tables import compute_all
    from buildout_tracker.tables.audit import audit_week

    with phase("compute"):
        tables = compute_all(inputs)
    with phase("audit"):
        failures = audit_week(tables, inputs)
    return tables, failures


def publish_week(
    lake: Bucket, landing: Bucket, week: str, run_id: str = "manual", fail_after: int | None = None
) -> PublishResult:
    """Compute, audit and publish one week. `fail_after` (tests) stops after N tables are in place."""
    with phase("compute"):
        inputs = load_week_inputs(lake, week)
    tables, failures = compute_and_audit(inputs)
    if failures:
        raise AuditFailed(week, failures)
    return _publish(lake, week, run_id, inputs, tables, fail_after)


def _publish(
    lake: Bucket,
    week: str,
    run_id: str,
    inputs: WeekInputs,
    tables: dict[str, pa.Table],
    fail_after: int | None,
) -> PublishResult:
    with phase("publish"):
        return _publish_objects(lake, week, run_id, inputs, tables, fail_after)


def _publish_objects(
    lake: Bucket,
    week: str,
    run_id: str,
    inputs: WeekInputs,
    tables: dict[str, pa.Table],
    fail_after: int | None,
) -> PublishResult:
    withheld = withheld_tables(inputs)
    staged: dict[str, tuple[str, bytes]] = {}
    staging = f"curated/_staging/week={week}/{_safe(run_id)}/"
    for name, table in tables.items():
        if name in withheld:
            continue
        data = parquet_bytes(table)
        key = f"{staging}{name}.parquet"
        lake.put_bytes(key, data, "application/vnd.apache.parquet")
        staged[name] = (key, data)
    for name, (key, data) in staged.items():  # what is staged is what was computed
        if hashlib.sha256(lake.get_bytes(key)).digest() != hashlib.sha256(data).digest():
            raise RuntimeError(f"staged {name} for {week} does not match what was written")

    published: dict[str, str] = {}
    for i, (name, (key, _)) in enumerate(staged.items()):
        if fail_after is not None and i >= fail_after:
            raise RuntimeError(f"publication of {week} interrupted after {i} tables (test)")
        dest = table_key(name, week)
        lake.client.copy_object(
            Bucket=lake.name, Key=dest, CopySource={"Bucket": lake.name, "Key": key}
        )
        published[name] = dest
    lake.delete_prefix(f"curated/_staging/week={week}/")  # this run's and interrupted runs'

    previous = lake.get_json_or_none(manifest_key(week)) or {}
    before = previous.get("tables", {})
    manifest: dict[str, Any] = {
        "week": week,
        "status_date": status_date(week).isoformat(),
        "run_id": run_id,
        "code_version": settings.code_version(),
        "inputs": _inputs_of(lake, week),
        "tables": {
            name: {
                "files": [published[name]],
                "uris": [lake.uri(published[name])],
                "rows": tables[name].num_rows,
                "sha256": hashlib.sha256(staged[name][1]).hexdigest(),
                "row_content_sha256": row_content_sha256(tables[name]),
                "schema": [
                    {"name": f.name, "type": str(f.type)}
                    for f in pq.read_schema(pa.BufferReader(staged[name][1]))
                ],
            }
            for name in tables
            if name not in withheld
        },
        "data_quality": {feed: vars(s) for feed, s in inputs.feed_status.items()},
    }
    for name, reason in withheld.items():
        # Not published by this run; a partition an earlier run published for the week stays
        # (the last good publication), and the manifest still describes it.
        old = before.get(name, {}) if lake.exists(table_key(name, week)) else {}
        entry: dict[str, Any] = {"files": [], "uris": [], "rows": 0}
        if old.get("files"):
            entry = {k: v for k, v in old.items() if k not in ("withheld", "kept_from_run")}
            entry["kept_from_run"] = old.get("kept_from_run") or previous.get("run_id")
        manifest["tables"][name] = {**entry, "withheld": reason}
    manifest["tables"] = {n: manifest["tables"][n] for n in tables}
    lake.put_bytes(manifest_key(week), json_bytes(manifest), "application/json")
    return PublishResult(
        week=week,
        manifest_uri=lake.uri(manifest_key(week)),
        tables={n: lake.uri(k) for n, k in published.items()},
        rows={n: tables[n].num_rows for n in published},
        scorecard=tables["program_scorecard"].to_pandas(),
    )


def withheld_tables(inputs: WeekInputs) -> dict[str, str]:
    """Tables not published for the week, with why: a feed they are built on is blocked."""
    out = {}
    for name, feeds in TABLE_FEEDS.items():
        blocked = [inputs.feed_status[f] for f in feeds if f in inputs.feed_status]
        reasons = [st.reason or f"{st.feed} blocked" for st in blocked if st.blocked]
        if reasons:
            out[name] = "; ".join(reasons)
    return out


def _inputs_of(lake: Bucket, week: str) -> list[dict[str, Any]]:
    out = []
    for feed in (*STATUS_FEEDS, "reference"):
        report = read_report(lake, feed, week)
        for f in report.files if report else []:
            out.append({"feed": feed, "key": f.key, "sha256": f.sha256, "outcome": f.outcome})
    return sorted(out, key=lambda d: (d["feed"], d["key"]))


def _safe(run_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)[:120]
