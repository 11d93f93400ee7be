"""One feed, one week: every landing file recorded in the ledger, parsed against the feed's
schema, checked against its rules, validated with its GX suite, split into the validated
zone and quarantine. Nothing is lost: the raw file stays in landing, refused rows and
files go to quarantine with every rule they broke, and a re-run skips what is done.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd

from buildout_tracker import settings
from buildout_tracker.ingest import zones
from buildout_tracker.ingest.landing import Delivery, deliveries, late_deliveries, misplaced
from buildout_tracker.lake import Bucket
from buildout_tracker.timing import phase
from buildout_tracker.weeks import week_key

log = logging.getLogger(__name__)

# Feeds whose raw files may carry personal data: quarantine points at the landing key
# (under its access controls) instead of copying the bytes.
PERSONAL_DATA_FEEDS = frozenset({"hiring", "milestones"})

INGESTED, DUPLICATE, QUARANTINED, IGNORED = "ingested", "duplicate", "quarantined", "ignored"
SUPERSEDED = "superseded"  # replaced by a correction, on an operator's word (supersede_file)
TAKEN_LATE = "taken_late"  # landed after its week ran; a later week's run ingested it
NOT_RECEIVED = (IGNORED, TAKEN_LATE)  # received by no run of this week (or by another week's)


@dataclass
class FileOutcome:
    key: str
    sha256: str
    size: int
    delivery_date: str
    week: str
    kind: str | None
    outcome: str
    duplicate_of: str | None = None
    rows_in: int = 0
    rows_valid: int = 0
    rows_quarantined: int = 0
    reason: str | None = None
    rule: str | None = None
    warnings: list[str] = field(default_factory=list)
    rule_stats: list[dict[str, Any]] = field(default_factory=list)
    table_failures: list[dict[str, Any]] = field(default_factory=list)
    top_rules: dict[str, int] = field(default_factory=dict)
    gx_success: bool | None = None
    validated_key: str | None = None
    quarantine_key: str | None = None
    run_id: str | None = None

    @property
    def fid(self) -> str:
        return zones.file_id(self.key, self.sha256)


@dataclass
class FeedWeekReport:
    feed: str
    week: str
    files: list[FileOutcome]
    blocked: bool = False
    block_reason: str | None = None
    stray_warnings: list[str] = field(default_factory=list)
    # Files processed by this call (not skipped as already in the ledger): what is news.
    processed: list[str] = field(default_factory=list)
    # Landing keys outside the layout seen for the first time by this call (news too).
    misplaced_new: list[str] = field(default_factory=list)

    @property
    def delivered(self) -> bool:
        return any(f.outcome not in NOT_RECEIVED for f in self.files)

    def count(self, outcome: str) -> int:
        return sum(1 for f in self.files if f.outcome == outcome)

    @property
    def rows_in(self) -> int:
        return sum(f.rows_in for f in self.files if f.outcome == INGESTED)

    @property
    def rows_valid(self) -> int:
        return sum(f.rows_valid for f in self.files if f.outcome == INGESTED)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files if f.outcome == INGESTED)

    def top_reasons(self, n: int = 3) -> list[tuple[str, int]]:
        counts: Counter[str] = Counter()
        for f in self.files:
            counts.update(f.top_rules)
            if f.outcome == QUARANTINED and f.rule:
                counts[f"file:{f.rule}"] += 1
        return counts.most_common(n)

    def summary(self) -> dict[str, Any]:
        """What the asset event, the run report and the UI show: counts only, no values."""
        return {
            "feed": self.feed,
            "week": self.week,
            "files_received": sum(1 for f in self.files if f.outcome not in NOT_RECEIVED),
            "duplicates_skipped": self.count(DUPLICATE),
            "files_quarantined": self.count(QUARANTINED),
            "rows_in": self.rows_in,
            "rows_validated": self.rows_valid,
            "rows_quarantined": self.rows_quarantined,
            "blocked": self.blocked,
            "block_reason": self.block_reason,
            "top_reasons": [f"{rule} ({n})" for rule, n in self.top_reasons()],
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "feed": self.feed,
            "week": self.week,
            "blocked": self.blocked,
            "block_reason": self.block_reason,
            "stray_warnings": self.stray_warnings,
            "files": [asdict(f) for f in self.files],
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> FeedWeekReport:
        return cls(
            feed=obj["feed"],
            week=obj["week"],
            files=[FileOutcome(**f) for f in obj["files"]],
            blocked=obj["blocked"],
            block_reason=obj.get("block_reason"),
            stray_warnings=obj.get("stray_warnings", []),
        )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def frame_to_parquet(frame: pd.DataFrame) -> bytes:
    import pyarrow as pa

    from buildout_tracker.lake import parquet_bytes

    return parquet_bytes(pa.Table.from_pandas(frame, preserve_index=False))


def read_parquet_frame(bucket: Bucket, key: str) -> pd.DataFrame:
    return bucket.read_parquet(key).to_pandas()


class ContentIndex:
    """The ledger's content index: every key seen for each SHA-256.

    A file is a duplicate when the same bytes were delivered under another key that comes
    first in delivery order (delivery date, then key), whatever order weeks are run in.
    """

    def __init__(self, lake: Bucket) -> None:
        self.lake = lake

    def owner(self, sha: str, delivery: Delivery, week: str) -> dict[str, str]:
        key = zones.ledger_content(sha)
        entry = self.lake.get_json_or_none(key) or {"sha256": sha, "deliveries": []}
        mine = {
            "key": delivery.key,
            "delivery_date": delivery.delivery_date.isoformat(),
            "week": week,
        }
        if not any(d["key"] == delivery.key for d in entry["deliveries"]):
            entry["deliveries"] = sorted(
                [*entry["deliveries"], mine], key=lambda d: (d["delivery_date"], d["key"])
            )
            self.lake.put_json(key, entry)
        same_feed = [d for d in entry["deliveries"] if d["key"].startswith(f"{delivery.feed}/")]
        return min(same_feed, key=lambda d: (d["delivery_date"], d["key"]))


def supersede_file(lake: Bucket, feed: str, week: str, key: str, reason: str) -> dict[str, Any]:
    """Declare a delivered file replaced by a correction (feeds.md: "a correction arrives as a
    new file"): from the next run of its week on, its rows and failures no longer count, so a
    week it blocked can publish. Its bytes, quarantine and validation results stay."""
    entry = lake.get_json_or_none(zones.superseded(feed, week)) or {"feed": feed, "week": week}
    entry.setdefault("files", {})[key] = {"reason": reason}
    lake.put_json(zones.superseded(feed, week), entry)
    return entry


def _layout_refusal(feed: str, delivery: Delivery, spec: Any) -> tuple[str, str] | None:
    """(rule, reason) when a file under a feed's delivery folder is not one it accepts."""
    from buildout_tracker import feeds

    folder = f"{feed}/{delivery.delivery_date.isoformat()}/"
    if "/" in delivery.key[len(folder) :]:
        return "layout", (
            f"not directly in the delivery folder {folder} (feeds.md: <feed>/<date>/<file>); "
            "left in landing: deliver it again directly in the folder"
        )
    if spec is None:
        return "file_name", (
            f"{delivery.filename} is not a file name this feed accepts "
            f"({', '.join(feeds.file_patterns(feed))}; plain, uncompressed); left in landing"
        )
    return None


ContextFactory = Callable[[str, Delivery, dict[str, Any]], Any]


def ingest_feed_week(
    feed: str,
    week: str,
    *,
    landing: Bucket,
    lake: Bucket,
    hmac_key: bytes,
    context_for: ContextFactory,
    validator: Any,
    run_id: str = "manual",
    status_date: date | None = None,
) -> FeedWeekReport:
    """Ledger, parse, rules, GX and split for every file of the feed's week.

    `context_for(kind, delivery, shared)` returns the rule context for a file; `shared` lets
    a feed pass what one file teaches the next (the requisition ids of a hiring delivery).
    """
    from buildout_tracker import feeds

    previous = lake.get_json_or_none(zones.ledger_week(feed, week))
    done = {f["key"]: FileOutcome(**f) for f in (previous or {}).get("files", [])}
    replaced = (lake.get_json_or_none(zones.superseded(feed, week)) or {}).get("files", {})
    index = ContentIndex(lake)
    shared: dict[str, Any] = {}
    outcomes: list[FileOutcome] = []
    to_validate: list[tuple[Any, Any, FileOutcome, pd.DataFrame]] = []
    processed: list[str] = []

    found = deliveries(landing, feed, week)
    late = [
        d
        for d in late_deliveries(landing, lake, feed, week, settings.late_lookback_weeks())
        if d.key not in done
    ]
    # Late files an earlier run of this week took stay this week's (a re-run is a no-op).
    in_week = {d.key for d in found}
    taken = [
        Delivery(feed, f.key, date.fromisoformat(f.delivery_date), f.size)
        for f in done.values()
        if f.key not in in_week and week_key(date.fromisoformat(f.delivery_date)) != week
    ]
    for d in late:
        log.warning("%s %s: %s landed after its week ran: taken by this run", feed, week, d.key)
        lake.put_json(zones.late_pickup(feed, d.key), {"key": d.key, "taken_in": week})
    found = [*taken, *late, *found]
    order = {kind: i for i, kind in enumerate(zones.FEED_FILES[feed])}

    def kind_of(d: Delivery) -> str | None:
        spec = feeds.spec_for(feed, d.filename)
        return None if spec is None else spec.kind

    ranked = sorted(found, key=lambda d: (order.get(kind_of(d) or "", 99), d.delivery_date, d.key))
    for delivery in ranked:
        spec = feeds.spec_for(feed, delivery.filename)
        data = landing.get_bytes(delivery.key)
        sha = sha256_hex(data)
        base = FileOutcome(
            key=delivery.key,
            sha256=sha,
            size=len(data),
            delivery_date=delivery.delivery_date.isoformat(),
            week=week,
            kind=spec.kind if spec else None,
            outcome=IGNORED,
            run_id=run_id,
        )
        refusal = _layout_refusal(feed, delivery, spec)
        if refusal is not None:
            # Refused whole and visibly (report, data quality, the owner's alert); the bytes
            # stay in landing, the only place allowed to hold whatever the file contains.
            base.outcome, (base.rule, base.reason) = QUARANTINED, refusal
            log.warning("%s: %s refused: %s", feed, delivery.key, base.reason)
            outcomes.append(base)
            if delivery.key not in done:
                processed.append(delivery.key)  # news: its owner hears of it once
            continue
        assert spec is not None
        if previous is not None and delivery.key not in done and delivery not in late:
            # A re-run of a week: a file that landed after its first run may have been taken
            # by a later week's run meanwhile (never counted twice).
            pickup = lake.get_json_or_none(zones.late_pickup(feed, delivery.key))
            if pickup is not None and pickup["taken_in"] != week:
                base.outcome = TAKEN_LATE
                base.reason = f"landed after {week} ran; ingested by {pickup['taken_in']}'s run"
                outcomes.append(base)
                continue
        if delivery.key in replaced:
            # Its rows and its failures no longer count; what it left in the lake stays.
            base.outcome, base.rule = SUPERSEDED, "superseded"
            base.reason = f"superseded: {replaced[delivery.key]['reason']}"
            earlier = done.get(delivery.key)
            if earlier is not None:
                base.validated_key, base.quarantine_key = (
                    earlier.validated_key,
                    earlier.quarantine_key,
                )
            outcomes.append(base)
            continue
        # The same bytes count once within their feed (feeds.md: "same content, any name, any
        # date"), an empty file's too; another feed's file is never the original.
        owner = index.owner(sha, delivery, week)
        if owner["key"] != delivery.key:
            base.outcome, base.duplicate_of = DUPLICATE, owner["key"]
            base.reason = f"same bytes as {owner['key']}"
            log.info("%s: %s skipped: duplicate of %s", feed, delivery.key, owner["key"])
            outcomes.append(base)
            continue
        earlier = done.get(delivery.key)
        if (
            earlier is not None
            and earlier.sha256 == sha
            and earlier.outcome in (INGESTED, QUARANTINED)
        ):
            log.info(
                "%s: %s already %s (ledger); not processed again",
                feed,
                delivery.key,
                earlier.outcome,
            )
            if earlier.kind == "requisitions" and earlier.validated_key:
                ids = read_parquet_frame(lake, earlier.validated_key)["req_id"]
                shared.setdefault(earlier.delivery_date, set()).update(ids.dropna().astype(str))
            outcomes.append(earlier)
            continue
        ctx = context_for(spec.kind, delivery, shared)
        out, parsed_frame = _process_file(
            feed, week, spec, delivery, data, base, lake, hmac_key, ctx, shared
        )
        outcomes.append(out)
        processed.append(out.key)
        if parsed_frame is not None:
            to_validate.append((spec, ctx, out, parsed_frame))

    _validate_with_gx(feed, week, to_validate, lake, validator)
    report = FeedWeekReport(feed, week, outcomes, processed=processed)
    stray = misplaced(landing, feed)
    if stray:
        seen = set(lake.get_json_or_none(zones.misplaced_seen(feed)) or [])
        report.misplaced_new = [k for k in stray if k not in seen]
        if report.misplaced_new:
            lake.put_json(zones.misplaced_seen(feed), sorted(seen | set(stray)))
        report.stray_warnings.extend(
            f"{key} is not in a delivery folder <feed>/<YYYY-MM-DD>/: no week reads it; "
            "left in landing"
            for key in stray
        )
    _decide_block(report)
    lake.put_json(
        zones.ledger_week(feed, week),
        {"feed": feed, "week": week, "files": [asdict(f) for f in outcomes]},
    )
    lake.put_json(zones.feed_report(feed, week), report.to_json())
    return report


def _process_file(
    feed: str,
    week: str,
    spec: Any,
    delivery: Delivery,
    data: bytes,
    out: FileOutcome,
    lake: Bucket,
    hmac_key: bytes,
    ctx: Any,
    shared: dict[str, Any],
) -> tuple[FileOutcome, pd.DataFrame | None]:
    """Parse, check rows, split: the file's valid rows and its refused rows are written.
    Returns the parsed frame for the GX suite, which runs once per file kind (below)."""
    from buildout_tracker import feeds

    with phase("ingest"):
        parsed = feeds.parse_file(spec, delivery.key, data, hmac_key)
    out.warnings = list(parsed.warnings)
    for warning in parsed.warnings:
        log.warning("%s: %s: %s", feed, delivery.key, warning)
    if parsed.file_error is not None:
        out.outcome = QUARANTINED
        out.rule, out.reason = parsed.file_error.rule, parsed.file_error.reason
        out.rows_in = parsed.rows_in
        out.quarantine_key = _quarantine_whole_file(feed, week, out, data, lake)
        log.warning("%s: file %s quarantined: %s (%s)", feed, delivery.key, out.reason, out.rule)
        return out, None

    with phase("validate"):
        frame, refused = parsed.frame, {}
        if parsed.failed is not None and len(parsed.failed):
            # Rows with a value that failed coercion: refused already; checked with the rest
            # so that quarantine keeps their values and every other rule they break.
            frame = pd.concat([parsed.frame, parsed.failed], ignore_index=True)
            frame = frame.sort_values("_row", kind="stable").reset_index(drop=True)
            cells = parsed.rejected.dropna(subset=["column"])
            for column, rows in cells.groupby("column")["_row"]:
                refused[str(column)] = frame["_row"].isin(rows).to_numpy()
        check = feeds.check_rows(spec, frame, ctx, refused=refused)

    with phase("ingest"):
        valid = check.valid.copy()
        valid["_file"] = delivery.key
        valid["_delivery_date"] = pd.Timestamp(delivery.delivery_date)
        out.validated_key = zones.validated_file(feed, spec.kind, week, out.fid)
        lake.put_bytes(out.validated_key, frame_to_parquet(valid))

        rejected = _rejected_rows(parsed.rejected, check.quarantined)
        if len(rejected):
            out.quarantine_key = zones.quarantine_rows(feed, spec.kind, week, out.fid)
            rejected.insert(0, "_file", delivery.key)
            rejected["_run_id"] = out.run_id
            rejected["_quarantined_at"] = quarantine_time()
            lake.put_bytes(out.quarantine_key, frame_to_parquet(rejected))

    out.outcome = INGESTED
    out.rows_in = int(parsed.rows_in)
    out.rows_valid = len(valid)
    out.rows_quarantined = len(rejected)
    out.rule_stats = _records(_with_parse_rules(check.rule_stats, parsed.rejected, parsed.rows_in))
    out.table_failures = [
        {"rule": r, "severity": s, "message": m} for (r, s, m) in check.table_failures
    ]
    out.top_rules = (
        dict(Counter(rule for rules in rejected["rules"] for rule in rules))
        if len(rejected)
        else {}
    )
    if spec.kind == "requisitions":
        shared.setdefault(out.delivery_date, set()).update(valid["req_id"].dropna().astype(str))
    log.info(
        "%s: %s: %d rows in, %d valid, %d quarantined",
        feed, delivery.key, out.rows_in, out.rows_valid, out.rows_quarantined,
    )  # fmt: skip
    return out, parsed.frame


def _validate_with_gx(
    feed: str,
    week: str,
    pending: list[tuple[Any, Any, FileOutcome, pd.DataFrame]],
    lake: Bucket,
    validator: Any,
) -> None:
    """Run each file kind's GX suite once on the week's new files of that kind (files that
    share a rule context): a data-center site sends one small file a week, and GX's fixed
    cost per validation would otherwise dominate the week. Results are stored per group,
    naming its files; every file records its group's outcome."""
    groups: dict[tuple[str, Any], list[tuple[Any, Any, FileOutcome, pd.DataFrame]]] = {}
    for item in pending:
        spec, ctx = item[0], item[1]
        groups.setdefault((spec.kind, ctx.fingerprint()), []).append(item)
    for (kind, _), items in groups.items():
        spec, ctx = items[0][0], items[0][1]
        outs = [o for _, _, o, _ in items]
        if len(items) == 1:
            label, result_key = outs[0].key, zones.validation_result(feed, week, outs[0].fid)
        else:
            digest = hashlib.sha256("".join(o.sha256 for o in outs).encode()).hexdigest()[:12]
            label = f"{feed}/{kind}: {len(items)} files of {week}"
            result_key = zones.validation_result(feed, week, f"{kind}-{len(items)}files-{digest}")
        with phase("validate"):
            frame = (
                items[0][3]
                if len(items) == 1
                else pd.concat([f for *_, f in items], ignore_index=True)
            )
            gx = validator.validate(spec, frame, label, ctx)
            lake.put_json(result_key, {"files": [o.key for o in outs], "result": gx.results})
        for o in outs:
            o.gx_success = bool(gx.success)


def _rejected_rows(coercion: pd.DataFrame, rule_failures: pd.DataFrame) -> pd.DataFrame:
    """One row per refused source row with every rule it broke (coercion and row rules)."""
    parts = []
    if coercion is not None and len(coercion):
        cells = coercion.assign(
            raw=[
                f"{c}={v!r}" for c, v in zip(coercion["column"], coercion["raw_value"], strict=True)
            ]
        )
        c = cells.groupby("_row", sort=True).agg(
            rules=("rule", lambda s: sorted(set(s))),
            detail=("message", lambda s: "; ".join(s)),
            raw_values=("raw", lambda s: "; ".join(s)),
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
    rules = merged.groupby("_row")["rules"].agg(lambda s: _every_rule(r for rs in s for r in rs))
    first = merged.drop(columns=["rules"]).groupby("_row").first()
    out = first.join(rules).reset_index()
    for col in out.columns:
        if col not in ("_row", "rules") and out[col].dtype == object:
            out[col] = out[col].map(
                lambda v: None if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)
            )
    return out.sort_values("_row").reset_index(drop=True)


def _with_parse_rules(stats: pd.DataFrame, refused: pd.DataFrame, rows_in: int) -> pd.DataFrame:
    """Rule results including the rules applied while parsing (`type:<column>`, a required
    value left empty, `structure:field_count`, `format:json_line`), checked on every row read.
    A parse rule and a row rule of the same id (`required:<column>`) count their rows once."""
    if refused is None or not len(refused):
        return stats
    failed = refused.groupby("rule")["_row"].nunique()
    rows = []
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


def quarantine_time() -> str:
    """When something was quarantined (feeds.md: quarantine keeps "the run and the time").
    Metadata about the event, written once per file (the ledger skips a file already done):
    no published number or validated row depends on it."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _every_rule(rules: Iterable[str]) -> list[str]:
    """The rules a row broke; a value that failed coercion is null for the row rules, so its
    `required:<column>` is a consequence of `type:<column>`, not a second fault."""
    found = set(rules)
    return sorted(r for r in found if not (r.startswith("required:") and f"type:{r[9:]}" in found))


def _quarantine_whole_file(
    feed: str, week: str, out: FileOutcome, data: bytes, lake: Bucket
) -> str:
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
    if feed in PERSONAL_DATA_FEEDS:
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


def _records(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    if frame is None or not len(frame):
        return []
    out = []
    for rec in frame.to_dict(orient="records"):
        out.append({str(k): (v.item() if hasattr(v, "item") else v) for k, v in rec.items()})
    return out


def _decide_block(report: FeedWeekReport) -> None:
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


def read_report(lake: Bucket, feed: str, week: str) -> FeedWeekReport | None:
    raw = lake.get_json_or_none(zones.feed_report(feed, week))
    return None if raw is None else FeedWeekReport.from_json(raw)


def concat_validated(lake: Bucket, report: FeedWeekReport, kind: str) -> pd.DataFrame | None:
    frames = [
        read_parquet_frame(lake, f.validated_key)
        for f in report.files
        if f.outcome == INGESTED and f.kind == kind and f.validated_key
    ]
    return pd.concat(frames, ignore_index=True) if frames else None
