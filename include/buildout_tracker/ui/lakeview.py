"""What the pages read from the lake, read compactly and kept while the object is unchanged.

Every page starts from listings (one LIST per prefix: the published manifests, the feed-week
reports), which give each object's ETag; what was derived from an object (a manifest's
summary, a scorecard's colours, a report's counts) is kept in memory under (key, ETag) and
read again only when the ETag changes. A scorecard is read through its week's manifest: the
file it names, only the columns the page shows, kept under the file's SHA-256 from the
manifest. Objects not yet in memory are read in parallel.

Feed-week reports: which weeks have one is listed each time (a delimiter listing, one name per
week), the reports of the weeks that still change (not published yet, the latest two
published) are listed each time, and older weeks' from a full listing at most 30 s old,
refreshed in the background. Rendered pieces that depend only on such versions (the RAG
history, the feed-health grid) are kept too.

So a warm Buildout page costs a handful of small LISTs, run in parallel, whatever the number
of weeks; the first request after a start reads every week once.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from buildout_tracker import registry, zones
from buildout_tracker.lake import Bucket, ObjectInfo
from buildout_tracker.weeks import parse_week, week_key

T = TypeVar("T")
Entry = tuple[str, str, Callable[[], T]]  # (memo key, version, how to compute the value)

# Older published weeks' feed-week reports are known from a listing at most this old; the
# latest RECENT_WEEKS published weeks and the weeks not published yet are listed each time.
REPORT_SNAPSHOT_TTL = 30.0
RECENT_WEEKS = 2

PROGRAM_PREFIX = "reports/program/"  # the weekly program report (report/keys.py)
_WEEK = re.compile(r"^\d{4}-W\d{2}$")
SCORECARD_COLUMNS = ("area", "rag", "rag_reasons")


def week_sort(weeks: Iterable[str]) -> list[str]:
    return sorted(weeks, key=parse_week)


class Memo:
    """A bounded map of derived values, each valid for one (key, version)."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[str, tuple[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str, version: str) -> tuple[bool, Any]:
        with self._lock:
            found = self._items.get(key)
            if found is not None and found[0] == version:
                self._items.move_to_end(key)
                self.hits += 1
                return True, found[1]
            self.misses += 1
            return False, None

    def put(self, key: str, version: str, value: Any) -> None:
        with self._lock:
            self._items[key] = (version, value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


@dataclass(frozen=True)
class ManifestInfo:
    week: str
    etag: str
    run_id: str
    status_date: str
    code_version: str
    tables: dict[str, dict[str, Any]]  # name -> rows, files, sha256, withheld
    data_quality: dict[str, dict[str, Any]]
    inputs: int


@dataclass(frozen=True)
class AreaRag:
    area: str
    rag: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class FeedHealth:
    """One feed's week, as the feed-health grid shows it (counts only)."""

    feed: str
    week: str
    delivered: bool
    files: int
    late: int  # files of an earlier week this week's runs took
    duplicates: int
    files_refused: int
    rows_in: int
    rows_refused: int
    blocked: bool
    block_reason: str | None

    @property
    def refused_share(self) -> float | None:
        return self.rows_refused / self.rows_in if self.rows_in else None


@dataclass
class Listing:
    objects: dict[str, ObjectInfo] = field(default_factory=dict)


class LakeView:
    """Reads of one lake bucket for the pages. Thread-safe; one per process."""

    def __init__(self, lake: Bucket, workers: int = 8) -> None:
        self.lake = lake
        self.small = Memo(50_000)  # compact derived values
        self.large = Memo(48)  # whole reports and refused-row summaries
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="buildout-ui")
        # For work that itself fans out on `_pool` (one feed-week of a run view each).
        self._outer = ThreadPoolExecutor(max_workers=4, thread_name_prefix="buildout-ui-outer")
        self._snapshot: tuple[float, dict[tuple[str, str], ObjectInfo]] | None = None
        self._snapshot_lock = threading.Lock()
        self._refreshing = False

    # --- listings (always fresh) ---

    def listing(self, prefix: str) -> list[ObjectInfo]:
        return self.lake.list(prefix)

    def published(self) -> dict[str, ObjectInfo]:
        """Published weeks (their manifests under curated/_manifests/), in week order."""
        found = {}
        for obj in self.lake.iter_top(zones.MANIFESTS_PREFIX):
            m = zones.MANIFEST_KEY.match(obj.key)
            if m:
                found[m.group(1)] = obj
        return {w: found[w] for w in week_sort(found)}

    def feed_report_objects(self, week: str | None = None) -> dict[tuple[str, str], ObjectInfo]:
        """(week, feed) -> the feed-week report's object, for one week or all."""
        prefix = f"reports/feeds/week={week}/" if week else "reports/feeds/"
        out = {}
        for obj in self.lake.iter(prefix):
            m = zones.FEED_REPORT_KEY.match(obj.key)
            if m and m.group(2) in registry.BY_NAME:
                out[(m.group(1), m.group(2))] = obj
        return out

    # --- derived values (cached) ---

    def _cached(self, memo: Memo, key: str, version: str, compute: Callable[[], T]) -> T:
        hit, value = memo.get(key, version)
        if hit:
            return value  # type: ignore[no-any-return]
        value = compute()
        memo.put(key, version, value)
        return value

    def _cached_many(self, memo: Memo, entries: list[Entry[T]]) -> list[T]:
        """`_cached` for many entries: hits answered at once, misses read in parallel."""
        out: list[Any] = [None] * len(entries)
        todo = []
        for i, (key, version, _) in enumerate(entries):
            hit, value = memo.get(key, version)
            if hit:
                out[i] = value
            else:
                todo.append(i)
        if todo:
            values = self.map(lambda i: entries[i][2](), todo)
            for i, value in zip(todo, values, strict=True):
                memo.put(entries[i][0], entries[i][1], value)
                out[i] = value
        return out

    def fragment(self, name: str, parts: Iterable[str], build: Callable[[], str]) -> str:
        """A rendered piece of page, kept while what it was built from (the versions of its
        inputs, `parts`) is unchanged."""
        version = hashlib.sha1("\n".join(parts).encode()).hexdigest()
        return self._cached(self.small, f"fragment:{name}", version, build)

    def map(self, fn: Callable[..., T], *items: Iterable[Any]) -> list[T]:
        """`fn` over the items in parallel (`fn` must not call `map` itself)."""
        return list(self._pool.map(fn, *items))

    def outer_map(self, fn: Callable[..., T], *items: Iterable[Any]) -> list[T]:
        """`fn` over the items in parallel, `fn` free to call `map`."""
        return list(self._outer.map(fn, *items))

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """One call on the pool (it must not call `map`)."""
        return self._pool.submit(fn, *args)

    def manifest(self, week: str, obj: ObjectInfo) -> ManifestInfo | None:
        return self._cached(self.small, *self._manifest_entry(week, obj))

    def _manifest_entry(self, week: str, obj: ObjectInfo) -> Entry[ManifestInfo | None]:
        def read() -> ManifestInfo | None:
            raw = self.lake.get_json_or_none(obj.key)
            if not isinstance(raw, dict):
                return None
            tables = {
                name: {
                    "rows": t.get("rows", 0),
                    "files": list(t.get("files") or []),
                    "sha256": t.get("sha256"),
                    "withheld": t.get("withheld"),
                }
                for name, t in (raw.get("tables") or {}).items()
            }
            return ManifestInfo(
                week=week,
                etag=obj.etag,
                run_id=str(raw.get("run_id") or ""),
                status_date=str(raw.get("status_date") or ""),
                code_version=str(raw.get("code_version") or ""),
                tables=tables,
                data_quality=dict(raw.get("data_quality") or {}),
                inputs=len(raw.get("inputs") or []),
            )

        return (f"manifest:{obj.key}", obj.etag, read)

    def manifests(self, published: dict[str, ObjectInfo]) -> dict[str, ManifestInfo]:
        weeks = list(published)
        infos = self._cached_many(
            self.small, [self._manifest_entry(w, published[w]) for w in weeks]
        )
        return {w: m for w, m in zip(weeks, infos, strict=True) if m is not None}

    def scorecard(self, m: ManifestInfo) -> list[AreaRag]:
        """The week's areas and colours, from the program_scorecard file its manifest names
        (only `area`, `rag` and `rag_reasons` are read)."""
        return self._cached(self.small, *self._scorecard_entry(m))

    def _scorecard_entry(self, m: ManifestInfo) -> Entry[list[AreaRag]]:
        t = m.tables.get("program_scorecard") or {}
        files = t.get("files") or []
        if not files:
            return (f"scorecard:none:{m.week}", m.etag, list)
        key = str(files[0])
        version = str(t.get("sha256") or m.etag)

        def read() -> list[AreaRag]:
            import pyarrow.parquet as pq

            data = self.lake.get_bytes_or_none(key)
            if data is None:
                return []
            pf = pq.ParquetFile(io.BytesIO(data))
            cols = [c for c in SCORECARD_COLUMNS if c in pf.schema_arrow.names]
            table = pf.read(columns=cols)
            areas = table.column("area").to_pylist()
            rags = table.column("rag").to_pylist()
            reasons = (
                table.column("rag_reasons").to_pylist()
                if "rag_reasons" in cols
                else [None] * len(areas)
            )
            return [
                AreaRag(str(a), str(r or "grey"), tuple(str(x) for x in (why or ())))
                for a, r, why in zip(areas, rags, reasons, strict=True)
            ]

        return (f"scorecard:{key}", version, read)

    def scorecards(self, manifests: dict[str, ManifestInfo]) -> dict[str, list[AreaRag]]:
        weeks = list(manifests)
        cards = self._cached_many(self.small, [self._scorecard_entry(manifests[w]) for w in weeks])
        return dict(zip(weeks, cards, strict=True))

    def feed_report_raw(self, obj: ObjectInfo) -> dict[str, Any] | None:
        return self._cached(
            self.large, f"report:{obj.key}", obj.etag, lambda: self.lake.get_json_or_none(obj.key)
        )

    def _health_entry(self, week: str, feed: str, obj: ObjectInfo) -> Entry[FeedHealth]:
        def read() -> FeedHealth:
            from buildout_tracker.ingest.report import FeedWeekReport

            raw = self.lake.get_json_or_none(obj.key)
            report = FeedWeekReport.from_json(raw) if isinstance(raw, dict) else None
            return health_of(week, feed, report)

        return (f"health:{obj.key}", obj.etag, read)

    def health_grid(
        self, objects: dict[tuple[str, str], ObjectInfo]
    ) -> dict[tuple[str, str], FeedHealth]:
        keys = list(objects)
        cells = self._cached_many(
            self.small, [self._health_entry(k[0], k[1], objects[k]) for k in keys]
        )
        return dict(zip(keys, cells, strict=True))

    # --- which feed-week reports exist, and their versions ---

    def report_weeks(self) -> list[str]:
        """Weeks with a feed-week report (one delimiter listing: a name per week)."""
        names = self.lake.folders("reports/feeds/")
        return week_sort(n[5:] for n in names if n.startswith("week=") and _WEEK.match(n[5:]))

    def report_snapshot(self) -> dict[tuple[str, str], ObjectInfo]:
        """Every feed-week report's object, from a listing at most REPORT_SNAPSHOT_TTL s old
        (refreshed in the background once older; the first call lists at once)."""
        with self._snapshot_lock:
            snap = self._snapshot
            now = time.monotonic()
            if snap is not None:
                if now - snap[0] > REPORT_SNAPSHOT_TTL and not self._refreshing:
                    self._refreshing = True
                    self._outer.submit(self._refresh_snapshot)
                return snap[1]
        self._refresh_snapshot()
        assert self._snapshot is not None
        return self._snapshot[1]

    def _refresh_snapshot(self) -> None:
        try:
            t = time.monotonic()
            data = self.feed_report_objects()
            with self._snapshot_lock:
                self._snapshot = (t, data)
        finally:
            self._refreshing = False

    def current_reports(
        self, published: Iterable[str], weeks: list[str] | None = None
    ) -> dict[tuple[str, str], ObjectInfo]:
        """Every feed-week report's object: listed now for the weeks that change (not
        published yet, the latest RECENT_WEEKS published, any the snapshot does not know),
        from the snapshot for the older published weeks."""
        weeks = self.report_weeks() if weeks is None else weeks
        snapshot = self.report_snapshot()
        known = {w for w, _ in snapshot}
        pub = [w for w in published if w in set(weeks)]
        fresh = {w for w in weeks if w not in set(pub) or w not in known} | set(pub[-RECENT_WEEKS:])
        out = {k: v for k, v in snapshot.items() if k[0] in set(weeks) and k[0] not in fresh}
        for found in self.map(self.feed_report_objects, sorted(fresh)):
            out.update(found)
        return out

    def feed_report(self, week: str, feed: str, obj: ObjectInfo | None = None) -> Any:
        """The whole FeedWeekReport (None when the feed has not run for the week)."""
        from buildout_tracker.ingest.report import FeedWeekReport

        if obj is None:
            obj = self.feed_report_objects(week).get((week, feed))
        if obj is None:
            return None
        raw = self.feed_report_raw(obj)
        return FeedWeekReport.from_json(raw) if isinstance(raw, dict) else None

    def rows_by_rule(self, obj: ObjectInfo) -> dict[str, list[int]]:
        """A refused-rows file's rules and row numbers (`_row`, `rules` columns only)."""
        from buildout_tracker.ingest.receipts import rows_by_rule

        return self._cached(
            self.large, f"rows:{obj.key}", obj.etag, lambda: rows_by_rule(self.lake, obj.key)
        )

    def refused_file_record(self, obj: ObjectInfo) -> dict[str, Any]:
        """A refused file's quarantine record: rule and reason (never its bytes)."""

        def read() -> dict[str, Any]:
            raw = self.lake.get_json_or_none(obj.key) or {}
            keep = ("landing_key", "rule", "reason", "size", "run_id", "quarantined_at")
            return {k: raw.get(k) for k in keep}

        return self._cached(self.small, f"qfile:{obj.key}", obj.etag, read)


def health_of(week: str, feed: str, report: Any) -> FeedHealth:
    from buildout_tracker.ingest.report import DUPLICATE, NOT_RECEIVED, QUARANTINED

    if report is None:
        return FeedHealth(feed, week, False, 0, 0, 0, 0, 0, 0, False, None)
    received = [f for f in report.files if f.outcome not in NOT_RECEIVED]
    late = 0
    for f in received:
        try:
            if week_key(date.fromisoformat(f.delivery_date)) != week:
                late += 1
        except ValueError:
            continue
    return FeedHealth(
        feed=feed,
        week=week,
        delivered=report.delivered,
        files=len(received),
        late=late,
        duplicates=report.count(DUPLICATE),
        files_refused=report.count(QUARANTINED),
        rows_in=report.rows_in,
        rows_refused=report.rows_quarantined,
        blocked=report.blocked,
        block_reason=report.block_reason,
    )
