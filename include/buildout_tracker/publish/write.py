"""Writing a week's publication, under the week's lease (`lease.py`): stage every table
under `curated/_staging/` (invisible to readers, which skip `_` names), check what was
staged, copy each into place as one object per week partition (one PUT or COPY is atomic: a
reader sees the old partition or the new one), and write the manifest last. Tables built on
a feed blocked for the week are withheld: the partition an earlier run published stays, and
the manifest says why. A file holds every column of its table but `week`, which is its
partition folder (`week=<W>/`, the standard Hive layout), and the manifest describes the file
as written (its schema, rows and checksums).

A manifest never names an object whose bytes are not the ones it describes: when a
republication changes a table (a late file, a correction), the manifest in place is taken
down before the first changed table is copied (kept meanwhile under
`curated/_publishing/week=W/previous-manifest.json`, for the withheld tables' entries) and
the new one is written after the last: meanwhile the week reads as "publication in progress"
(no manifest), never as a manifest with a table of another run. A republication that changes
no table (a re-run, a retry) rewrites the same bytes and leaves the manifest up throughout.

Order of the writes, each checked against the lease first: lease, staged tables, [previous
manifest kept, manifest taken down], tables copied into place, manifest; then the clean-up
(previous manifest, staging, lease). Killed at any point, the next run of the week finishes
the job with the same bytes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from buildout_tracker import registry, settings, zones
from buildout_tracker.ingest import ledger
from buildout_tracker.lake import Bucket, json_bytes, parquet_bytes
from buildout_tracker.model import TABLE_FEEDS, WeekInputs
from buildout_tracker.publish import lease
from buildout_tracker.publish.inputs import input_files
from buildout_tracker.tables.arrow import file_table
from buildout_tracker.weeks import status_date


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


def write_week(
    lake: Bucket,
    week: str,
    run_id: str,
    inputs: WeekInputs,
    tables: dict[str, pa.Table],
    fail_after: int | None,
) -> PublishResult:
    withheld = withheld_tables(inputs)
    # The files hold every column but `week`, which is their partition path (`week=<W>/`).
    files = {name: file_table(t) for name, t in tables.items() if name not in withheld}
    data = {name: parquet_bytes(t) for name, t in files.items()}
    held = lease.Lease.acquire(lake, week, run_id)
    try:
        result = _write_week(lake, held, week, run_id, inputs, tables, data, withheld, fail_after)
    finally:
        held.release()  # a failed run gives the week back at once (a killed one: on expiry)
    return result


def _write_week(
    lake: Bucket,
    held: lease.Lease,
    week: str,
    run_id: str,
    inputs: WeekInputs,
    tables: dict[str, pa.Table],
    data: dict[str, bytes],
    withheld: dict[str, str],
    fail_after: int | None,
) -> PublishResult:
    staging = f"{zones.staging_prefix(week)}{_safe(run_id)}/"
    staged: dict[str, str] = {}
    for name, payload in data.items():
        key = f"{staging}{name}.parquet"
        held.check()
        lake.put_bytes(key, payload, "application/vnd.apache.parquet")
        staged[name] = key
    for name, key in staged.items():  # what is staged is what was computed
        if hashlib.sha256(lake.get_bytes(key)).digest() != hashlib.sha256(data[name]).digest():
            raise RuntimeError(f"staged {name} for {week} does not match what was written")

    live = lake.get_json_or_none(zones.manifest_key(week))
    kept = lake.get_json_or_none(lease.previous_manifest_key(week))
    previous = live if live is not None else (kept or {})  # the last whole publication
    manifest = _manifest(lake, week, run_id, inputs, tables, data, withheld, previous)
    described = (live or {}).get("tables", {})

    published: dict[str, str] = {}
    for i, (name, key) in enumerate(staged.items()):
        if fail_after is not None and i >= fail_after:
            raise RuntimeError(f"publication of {week} interrupted after {i} tables (test)")
        dest = zones.table_key(name, week)
        old = described.get(name, {})
        if (
            live is not None
            and old.get("files")
            and old.get("sha256") != manifest["tables"][name]["sha256"]
        ):
            # The manifest up names this partition with other bytes: take it down first.
            held.check()
            lake.put_bytes(lease.previous_manifest_key(week), json_bytes(live), "application/json")
            held.check()
            lake.delete([zones.manifest_key(week)])
            live, described = None, {}
        held.check()
        lake.copy(key, dest)
        published[name] = dest

    held.check()
    lake.put_bytes(zones.manifest_key(week), json_bytes(manifest), "application/json")
    if kept is not None or lake.exists(lease.previous_manifest_key(week)):
        lake.delete([lease.previous_manifest_key(week)])
    lake.delete_prefix(zones.staging_prefix(week))  # this run's and interrupted runs'
    return PublishResult(
        week=week,
        manifest_uri=lake.uri(zones.manifest_key(week)),
        tables={n: lake.uri(k) for n, k in published.items()},
        rows={n: tables[n].num_rows for n in published},
        scorecard=tables["program_scorecard"].to_pandas(),
    )


def _manifest(
    lake: Bucket,
    week: str,
    run_id: str,
    inputs: WeekInputs,
    tables: dict[str, pa.Table],
    data: dict[str, bytes],
    withheld: dict[str, str],
    previous: dict[str, Any],
) -> dict[str, Any]:
    before = previous.get("tables", {})
    manifest: dict[str, Any] = {
        "week": week,
        "status_date": status_date(week).isoformat(),
        "run_id": run_id,
        "code_version": settings.code_version(),
        "inputs": input_files(lake, week),
        "tables": {
            name: {
                "files": [zones.table_key(name, week)],
                "uris": [lake.uri(zones.table_key(name, week))],
                "rows": tables[name].num_rows,
                "sha256": hashlib.sha256(data[name]).hexdigest(),
                "row_content_sha256": row_content_sha256(file_table(tables[name])),
                "schema": [
                    {"name": f.name, "type": str(f.type)}
                    for f in pq.read_schema(pa.BufferReader(data[name]))
                ],
            }
            for name in tables
            if name not in withheld
        },
        "data_quality": {feed: vars(s) for feed, s in inputs.feed_status.items()},
        "decisions": ledger.week_decisions(lake, week, registry.NAMES),
    }
    for name, reason in withheld.items():
        # Not published by this run; a partition an earlier run published for the week stays
        # (the last good publication), and the manifest still describes it.
        old = before.get(name, {}) if lake.exists(zones.table_key(name, week)) else {}
        entry: dict[str, Any] = {"files": [], "uris": [], "rows": 0}
        if old.get("files"):
            entry = {k: v for k, v in old.items() if k not in ("withheld", "kept_from_run")}
            entry["kept_from_run"] = old.get("kept_from_run") or previous.get("run_id")
        manifest["tables"][name] = {**entry, "withheld": reason}
    manifest["tables"] = {n: manifest["tables"][n] for n in tables}
    return manifest


def withheld_tables(inputs: WeekInputs) -> dict[str, str]:
    """Tables not published for the week, with why: a feed they are built on is blocked."""
    out = {}
    for name, feeds in TABLE_FEEDS.items():
        blocked = [inputs.feed_status[f] for f in feeds if f in inputs.feed_status]
        reasons = [st.reason or f"{st.feed} blocked" for st in blocked if st.blocked]
        if reasons:
            out[name] = "; ".join(reasons)
    return out


def _safe(run_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)[:120]
