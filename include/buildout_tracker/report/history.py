"""The published history a week's report reads, read compactly.

For week W the report needs, for every published week up to W, a few columns of five tables
(the scorecard, the sites' earned value, the go-live milestones, hiring, procurement) and the
delivery rows of data quality; and, for W and the week before, every milestone row. It finds
them the way a consumer does: one listing of `curated/_manifests/` (which weeks are published,
and each manifest's ETag), the manifests of the weeks up to W, and each table's files as its
manifest lists them. It never lists the rest of the lake.

What it read is kept in the lake as a running history, `reports/program/_history/`: one Parquet
object per part below, whose metadata records for each week the SHA-256 (from the manifest) of
the partition its rows came from, and one JSON object with the compact manifests, each with the
ETag it was read at. The next build reads the running history, re-reads only what changed (a new
week, a week re-published since, a table published again with other rows), drops the weeks
no longer published (withdrawn) and writes the running history back when anything changed. A
report for week 100 therefore reads about ten objects instead of six hundred; a wrong or stale
running history cannot survive a build, because every week used is checked against its
manifest's ETag and every part against the manifest's checksum.

Columns a table does not have yet (a week published before the column existed) are read as
null, so the report works on every week the lake holds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from buildout_tracker import zones
from buildout_tracker.lake import Bucket, arrow_reader, json_bytes, parquet_bytes
from buildout_tracker.report import keys
from buildout_tracker.weeks import parse_week, previous, week_key

log = logging.getLogger(__name__)

FORMAT = 1  # bump when what a part holds changes: every running history is then rebuilt
WORKERS = 8  # parallel GETs when many weeks must be read (the first build, a rebuild)
GO_LIVE = "GO_LIVE"
DELIVERY = "delivery"

F, INT, S, B, D = pa.float64(), pa.int64(), pa.string(), pa.bool_(), pa.date32()
L = pa.list_(pa.string())


@dataclass(frozen=True)
class Part:
    """Some columns of one published table, for every week (optionally only rows where a
    column equals a value)."""

    name: str
    table: str
    columns: tuple[tuple[str, pa.DataType], ...]
    where: tuple[str, str] | None = None

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([("week", S), *self.columns])

    @property
    def digest(self) -> str:
        spec = [FORMAT, self.table, [(c, str(t)) for c, t in self.columns], self.where]
        return hashlib.sha256(json.dumps(spec).encode()).hexdigest()[:16]


_MEASURES = ("budget_total_usd", "budget_to_date_usd", "committed_usd", "received_usd")
_RATED = ("spend_pace", "spi", "cpi", "hiring_attainment", "otd_rate")
_FORECASTS = ("bac_usd", "eac_usd", "vac_usd", "tcpi")

PARTS: tuple[Part, ...] = (
    Part(
        "scorecard",
        "program_scorecard",
        (
            ("area", S),
            *((m, F) for m in (*_MEASURES, *_RATED)),
            ("rag", S),
            ("rag_reasons", L),
            *((m, F) for m in _FORECASTS),
        ),
    ),
    Part(
        "sites",
        "site_progress_weekly",
        (
            ("site_id", S),
            ("site_name", S),
            ("region", S),
            ("planned_mw", F),
            ("live", B),
            ("stale", B),
            ("go_live_baseline", D),
            ("go_live_forecast", D),
            ("go_live_slip_days", INT),
            ("bac_usd", F),
            ("pv_usd", F),
            ("ev_usd", F),
            ("ac_usd", F),
            ("spi", F),
            ("cpi", F),
            ("eac_usd", F),
            ("vac_usd", F),
            ("go_live_slip_change_days", INT),
        ),
    ),
    Part(
        "go_live",
        "milestone_status_weekly",
        (
            ("site_id", S),
            ("site_name", S),
            ("baseline_date", D),
            ("forecast_date", D),
            ("actual_date", D),
            ("slip_days", INT),
            ("health", S),
            ("stale", B),
            ("report_status_date", D),
        ),
        where=("milestone_code", GO_LIVE),
    ),
    Part(
        "hiring",
        "hiring_weekly",
        (
            ("workstream", S),
            ("role_family", S),
            ("planned_hires_to_date", F),
            ("hires_to_date", INT),
            ("hires_this_week", INT),
            ("attainment", F),
        ),
    ),
    Part(
        "procurement",
        "procurement_weekly",
        (
            ("workstream", S),
            ("category", S),
            ("committed_usd", F),
            ("received_usd", F),
            ("live_lines", INT),
            ("late_lines", INT),
            ("fully_received_lines", INT),
            ("on_time_lines", INT),
            ("otd_rate", F),
        ),
    ),
    Part(
        "delivery",
        "data_quality_weekly",
        (
            ("feed", S),
            ("files_received", INT),
            ("duplicates_skipped", INT),
            ("files_quarantined", INT),
            ("rows_in", INT),
            ("rows_quarantined", INT),
            ("blocked", B),
            ("blocked_reason", S),
            # not published yet; read when a later version of the table has it
            ("files_taken_late", INT),
        ),
        where=("rule", DELIVERY),
    ),
)
PART_BY_NAME = {p.name: p for p in PARTS}
# Every milestone of the week and of the week before (health changes); not kept in the history.
MILESTONES = Part(
    "milestones",
    "milestone_status_weekly",
    (
        ("site_id", S),
        ("site_name", S),
        ("milestone_code", S),
        ("milestone_seq", INT),
        ("baseline_date", D),
        ("forecast_date", D),
        ("actual_date", D),
        ("slip_days", INT),
        ("health", S),
        ("stale", B),
        ("report_status_date", D),
    ),
)


class WeekNotPublished(LookupError):
    """The report of a week that has no manifest in `curated/_manifests/`."""


@dataclass
class History:
    """What the report of `week` reads: every published week up to it."""

    week: str
    weeks: list[str]  # published weeks up to `week`, oldest first
    manifests: dict[str, dict[str, Any]]  # compact manifest of each of them (`compact_manifest`)
    parts: dict[str, pd.DataFrame]  # part name -> its rows for every week in `weeks`
    milestones: dict[str, pd.DataFrame]  # week -> every milestone row (`week` and the one before)
    stats: dict[str, Any] = field(default_factory=dict)  # what the read cost
    _by_week: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def previous(self) -> str:
        return previous(self.week)

    def published(self, week: str) -> bool:
        return week in self.manifests

    def part(self, name: str, week: str | None = None) -> pd.DataFrame:
        df = self.parts[name]
        if week is None:
            return df
        if (name, week) not in self._by_week:
            self._by_week[name, week] = df[df["week"] == week].reset_index(drop=True)
        return self._by_week[name, week]


def compact_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """The part of a manifest the report uses: run, dates, data quality, each table's files,
    checksum, rows, column names and why it was withheld, and the late files it took."""
    week = str(manifest.get("week"))
    tables = {}
    for name, t in sorted((manifest.get("tables") or {}).items()):
        tables[name] = {
            "files": list(t.get("files") or []),
            "sha256": t.get("sha256"),
            "rows": t.get("rows"),
            "withheld": t.get("withheld"),
            "columns": [c.get("name") for c in t.get("schema") or []],
        }
    return {
        "week": week,
        "status_date": manifest.get("status_date"),
        "run_id": manifest.get("run_id"),
        "code_version": manifest.get("code_version"),
        "data_quality": manifest.get("data_quality") or {},
        "tables": tables,
        "late_inputs": late_inputs(week, manifest.get("inputs") or []),
    }


_DATED = re.compile(r"^[^/]+/(\d{4}-\d{2}-\d{2})/")
RECEIVED = ("ingested", "duplicate", "quarantined")


def late_inputs(week: str, inputs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The input files of the week that were delivered in an earlier week's folder: files
    that landed after their week ran and were taken by this week's run."""
    from datetime import date

    out = []
    for f in inputs:
        m = _DATED.match(str(f.get("key") or ""))
        if not m or f.get("outcome") not in RECEIVED:
            continue
        try:
            delivered_in = week_key(date.fromisoformat(m.group(1)))
        except ValueError:
            continue
        if delivered_in < week:
            out.append(
                {
                    "feed": f.get("feed"),
                    "key": f.get("key"),
                    "outcome": f.get("outcome"),
                    "delivery_week": delivered_in,
                }
            )
    return sorted(out, key=lambda d: (str(d["feed"]), str(d["key"])))


def published_weeks(lake: Bucket) -> dict[str, str]:
    """Every published week and its manifest's ETag, from one listing of the manifests."""
    out = {}
    for obj in lake.iter(zones.MANIFESTS_PREFIX):
        name = obj.key[len(zones.MANIFESTS_PREFIX) :]
        if not (name.startswith("week=") and name.endswith(".json")):
            continue
        week = name[len("week=") : -len(".json")]
        try:
            parse_week(week)
        except ValueError:
            continue
        out[week] = obj.etag
    return dict(sorted(out.items()))


def conform(table: pa.Table, part: Part, week: str) -> pa.Table:
    """A partition's rows in the part's schema: absent columns null, types cast."""
    n = table.num_rows
    arrays = [pa.array([week] * n, type=S)]
    for name, type_ in part.columns:
        if name in table.column_names:
            col = table.column(name)
            if pa.types.is_dictionary(col.type):
                col = col.cast(col.type.value_type)
            arrays.append(col if col.type == type_ else col.cast(type_))
        else:
            arrays.append(pa.nulls(n, type=type_))
    return pa.Table.from_arrays(arrays, schema=part.schema)


def select(table: pa.Table, part: Part, week: str) -> pa.Table:
    """A published partition's rows and columns that a part keeps, in the part's schema."""
    if part.where:
        name, value = part.where
        if name not in table.column_names:
            return part.schema.empty_table()
        col = table.column(name)
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        table = table.filter(pc.fill_null(pc.equal(col, value), False))
    return conform(table, part, week)


def read_partition(
    lake: Bucket, part: Part, week: str, files: list[str], sizes: list[int] | None = None
) -> pa.Table:
    """A week's rows of a part from the manifest's files, decoding only the part's columns."""
    tables = []
    for key in files:
        raw = lake.get_bytes(key)
        if sizes is not None:
            sizes.append(len(raw))
        names = set(pq.read_schema(pa.BufferReader(raw)).names)
        wanted = [c for c, _ in part.columns if c in names]
        if part.where and part.where[0] in names and part.where[0] not in wanted:
            wanted.append(part.where[0])
        tables.append(select(pq.read_table(arrow_reader(raw), columns=wanted), part, week))
    if not tables:
        return part.schema.empty_table()
    return pa.concat_tables(tables)


def history_from_tables(
    week: str,
    published: dict[str, dict[str, pa.Table]],
    manifests: dict[str, dict[str, Any]],
) -> History:
    """The history `read_history` would read from a lake holding these tables (week -> table
    name -> rows) and these compact manifests: the same result, without a lake."""
    weeks = sorted(w for w in manifests if w <= week)
    parts = {}
    for part in PARTS:
        chunks = [
            select(published[w][part.table], part, w)
            for w in weeks
            if part.table in published.get(w, {})
        ]
        parts[part.name] = _frame(pa.concat_tables([part.schema.empty_table(), *chunks]))
    milestones = {
        w: _frame(select(published[w][MILESTONES.table], MILESTONES, w))
        for w in (week, previous(week))
        if w in manifests and MILESTONES.table in published.get(w, {})
    }
    return History(week, weeks, {w: manifests[w] for w in weeks}, parts, milestones)


def _token(manifest: dict[str, Any], table: str) -> str:
    """What identifies the rows a manifest publishes for a table ("" when none)."""
    t = manifest["tables"].get(table) or {}
    if not t.get("files"):
        return ""
    return str(t.get("sha256") or "|".join(t["files"]) + f"#{t.get('rows')}")


T = TypeVar("T")


def _pmap(fn: Callable[[Any], T], items: list[Any], workers: int) -> list[T]:
    if len(items) <= 1 or workers <= 1:
        return [fn(i) for i in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(fn, items))


def _load_store(lake: Bucket) -> tuple[dict[str, Any], dict[str, tuple[pa.Table, dict[str, str]]]]:
    """The running history; a part that cannot be read or is of another format is absent
    (the build reads its weeks again and writes it anew)."""
    manifests: dict[str, Any] = {}
    try:
        raw = lake.get_bytes_or_none(keys.history_manifests())
        doc = json.loads(raw) if raw is not None else {}
        if doc.get("format") == FORMAT:
            manifests = doc.get("weeks") or {}
    except ValueError as exc:
        log.warning("running history of the report: manifests unreadable, read again: %s", exc)

    def load(part: Part) -> tuple[str, tuple[pa.Table, dict[str, str]] | None]:
        data = lake.get_bytes_or_none(keys.history_part(part.name))
        if data is None:
            return part.name, None
        try:
            table = pq.read_table(arrow_reader(data))
            meta = json.loads((table.schema.metadata or {}).get(b"buildout_history", b"{}"))
        except (pa.ArrowException, ValueError) as exc:
            log.warning(
                "running history of the report: %s unreadable, read again: %s", part.name, exc
            )
            return part.name, None
        if meta.get("spec") != part.digest or table.schema.remove_metadata() != part.schema:
            return part.name, None
        return part.name, (table.replace_schema_metadata(None), dict(meta.get("weeks") or {}))

    parts: dict[str, tuple[pa.Table, dict[str, str]]] = {}
    for name, got in _pmap(load, list(PARTS), WORKERS):
        if got is not None:
            parts[name] = got
    return manifests, parts


def read_history(lake: Bucket, week: str, *, store: bool = True, workers: int = WORKERS) -> History:
    """Every published week up to `week`, compactly (module docstring). `store=False` reads
    every week from its partitions and leaves the running history alone."""
    parse_week(week)
    stats: dict[str, Any] = {"objects_read": 1, "bytes_read": 0, "weeks_reread": {}}
    listed = published_weeks(lake)
    if week not in listed:
        raise WeekNotPublished(f"{week} is not published: no {zones.manifest_key(week)}")
    weeks = [w for w in listed if w <= week]

    cached_manifests, cached_parts = _load_store(lake) if store else ({}, {})
    stats["objects_read"] += (1 + len(PARTS)) if store else 0

    # Manifests: the cached one when its ETag is the listed one, else read again.
    manifests: dict[str, dict[str, Any]] = {}
    stale = [
        w
        for w in weeks
        if not listed[w] or (cached_manifests.get(w) or {}).get("etag") != listed[w]
    ]
    for w in weeks:
        if w not in stale:
            manifests[w] = cached_manifests[w]["manifest"]

    def read_manifest(w: str) -> tuple[str, dict[str, Any] | None, int]:
        raw = lake.get_bytes_or_none(zones.manifest_key(w))  # None: taken down since listed
        return w, None if raw is None else compact_manifest(json.loads(raw)), len(raw or b"")

    for w, m, size in _pmap(read_manifest, stale, workers):
        stats["bytes_read"] += size
        if m is not None:
            manifests[w] = m
        elif w == week:
            raise WeekNotPublished(f"{week} is not published: its manifest is being replaced")
        else:  # a republication in progress: the week reads as not published for now
            listed.pop(w)
    weeks = [w for w in weeks if w in manifests]
    stats["objects_read"] += len(stale)
    stats["manifests_reread"] = len(stale)

    # Parts: the cached rows of a week when they came from the partition its manifest lists.
    frames: dict[str, pd.DataFrame] = {}
    store_parts: dict[str, tuple[pa.Table, dict[str, str]]] = {}
    jobs: list[tuple[Part, str, list[str]]] = []
    kept: dict[str, pa.Table] = {}
    tokens: dict[str, dict[str, str]] = {}
    for part in PARTS:
        table, seen = cached_parts.get(part.name, (part.schema.empty_table(), {}))
        valid = {
            w: t
            for w, t in seen.items()
            if w in listed
            and (w > week or (w in manifests and _token(manifests[w], part.table) == t))
        }
        redo = [w for w in weeks if w not in valid]
        keep_weeks = pa.array(sorted(valid), type=S)
        kept[part.name] = table.filter(pc.is_in(table.column("week"), value_set=keep_weeks))
        tokens[part.name] = valid
        stats["weeks_reread"][part.name] = len(redo)
        for w in redo:
            jobs.append((part, w, manifests[w]["tables"].get(part.table, {}).get("files") or []))

    def read_job(job: tuple[Part, str, list[str]]) -> tuple[str, str, pa.Table, int]:
        part, w, files = job
        sizes: list[int] = []
        return part.name, w, read_partition(lake, part, w, files, sizes), sum(sizes)

    fresh: dict[str, list[pa.Table]] = {p.name: [] for p in PARTS}
    for name, w, t, size in _pmap(read_job, jobs, workers):
        fresh[name].append(t)
        stats["bytes_read"] += size
        tokens[name][w] = _token(manifests[w], PART_BY_NAME[name].table)
        stats["objects_read"] += len(
            manifests[w]["tables"].get(PART_BY_NAME[name].table, {}).get("files") or []
        )

    changed = (
        bool(stale)
        or any(fresh.values())
        or any(set(tokens[p.name]) != set(cached_parts.get(p.name, (None, {}))[1]) for p in PARTS)
    )
    for part in PARTS:
        whole = pa.concat_tables([kept[part.name], *fresh[part.name]])
        whole = whole.sort_by([("week", "ascending")])
        store_parts[part.name] = (whole, tokens[part.name])
        upto = whole.filter(pc.less_equal(whole.column("week"), week))
        frames[part.name] = _frame(upto)

    if store and changed:
        _write_store(lake, listed, cached_manifests, manifests, store_parts)
        stats["history_written"] = True

    milestones = {}
    for w in (week, previous(week)):
        if w in manifests:
            files = manifests[w]["tables"].get(MILESTONES.table, {}).get("files") or []
            sizes: list[int] = []
            milestones[w] = _frame(read_partition(lake, MILESTONES, w, files, sizes))
            stats["objects_read"] += len(files)
            stats["bytes_read"] += sum(sizes)
    return History(week, weeks, {w: manifests[w] for w in weeks}, frames, milestones, stats)


def _write_store(
    lake: Bucket,
    listed: dict[str, str],
    cached: dict[str, Any],
    manifests: dict[str, dict[str, Any]],
    parts: dict[str, tuple[pa.Table, dict[str, str]]],
) -> None:
    """Write the running history back; a failure costs the next build a re-read, no more."""
    doc = {
        w: entry for w, entry in cached.items() if w in listed and entry.get("etag") == listed[w]
    }
    doc.update({w: {"etag": listed[w], "manifest": m} for w, m in manifests.items() if listed[w]})
    try:
        for part in PARTS:
            table, seen = parts[part.name]
            meta = {"spec": part.digest, "weeks": dict(sorted(seen.items()))}
            table = table.replace_schema_metadata({"buildout_history": json.dumps(meta)})
            lake.put_bytes(
                keys.history_part(part.name), parquet_bytes(table), "application/vnd.apache.parquet"
            )
        lake.put_bytes(
            keys.history_manifests(),
            json_bytes({"format": FORMAT, "weeks": dict(sorted(doc.items()))}),
            "application/json",
        )
    except Exception as exc:  # the report does not need it; the next build reads again
        log.warning("running history of the report not written: %s", exc)


def _frame(table: pa.Table) -> pd.DataFrame:
    """Arrow to pandas with nullable integers and flags (a null stays null, not NaN)."""
    mapping = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
    df = table.to_pandas(types_mapper=mapping.get)
    return df.reset_index(drop=True)
