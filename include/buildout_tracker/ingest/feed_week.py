"""One feed, one week: every landing file of the week (and any late file of an earlier week)
recorded in the ledger, decided (`decision.py`), and when new parsed, checked and split
(`process.py`) and validated by GX (`validation.py`); then the week's block decision
(`blocking.py`) and its report. Nothing is lost: the raw file stays in landing, refused rows
and files go to quarantine with every rule they broke, and a re-run skips what is done.

With `commit=False` the run writes neither its report nor its ledger record: the caller
writes the report once the state is written, and commits the ledger
(`ledger.commit_week`) as the step's last write, after its Data Docs and alerts, so that a
step killed anywhere before is redone whole by its next run (`pipeline.steps.ingest`).
Every object a run writes is the same bytes for the same landing files and the same state
(only the run id and the quarantine time differ), so two overlapping runs of one feed-week
leave what either would have left alone.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date
from typing import Any

import pandas as pd

from buildout_tracker import feeds, registry, settings
from buildout_tracker.ingest import ledger
from buildout_tracker.ingest.blocking import decide_block
from buildout_tracker.ingest.decision import (
    Action,
    Decision,
    WeekLedger,
    decide,
    decide_before_reading,
    too_large,
)
from buildout_tracker.ingest.landing import Delivery, deliveries, late_deliveries, misplaced
from buildout_tracker.ingest.process import process_file, process_files
from buildout_tracker.ingest.report import (
    DUPLICATE,
    IGNORED,
    QUARANTINED,
    SUPERSEDED,
    TAKEN_LATE,
    FeedWeekReport,
    FileOutcome,
    save_report,
    validated_frame,
)
from buildout_tracker.ingest.rule_context import RuleContexts
from buildout_tracker.ingest.validation import validate_with_gx
from buildout_tracker.lake import Bucket, WriteBatch, prefetched
from buildout_tracker.weeks import week_key

log = logging.getLogger(__name__)

_READ_AHEAD_MAX_BYTES = 16 * 1024 * 1024  # larger files are read when their turn comes
_BATCH_MAX_BYTES = 16 * 1024 * 1024  # JSON Lines files parsed together, at most about this


def ingest_feed_week(
    feed: str,
    week: str,
    *,
    landing: Bucket,
    lake: Bucket,
    hmac_key: bytes,
    validator: Any,
    run_id: str = "manual",
    commit: bool = True,
) -> FeedWeekReport:
    """Ledger, parse, rules, GX and split for every file of the feed's week; with `commit`,
    the ledger record and the report too (module docstring)."""
    done = ledger.previous_run(lake, feed, week)
    found, late = _files_of_week(landing, lake, feed, week, done or {})
    week_ledger = WeekLedger(
        done=done or {},
        rerun=done is not None,
        late=frozenset(d.key for d in late),
        replaced=ledger.superseded_files(lake, feed, week),
        # A file that landed after this week's first run: a later week's run may be taking
        # it at this moment; the first to claim it takes it.
        taken_late_by=lambda key: ledger.claim_late(lake, feed, key, week),
    )
    # The per-file objects (validated and refused rows, content index entries) are written
    # together, before GX and the commit: one request at a time they were the loop's waits.
    writes = WriteBatch(lake)
    index = ledger.ContentIndex(lake, writes)
    contexts = RuleContexts(lake, week)
    outcomes: list[FileOutcome] = []
    to_validate: list[tuple[Any, Any, FileOutcome, pd.DataFrame]] = []
    processed: list[str] = []
    written: dict[str, bytes] = {}  # validated Parquet bytes by key, for the state update

    # New JSON Lines files of one kind and context (a week's site reports, hundreds of small
    # files) wait here and are parsed and checked together (`process_files`); any other file
    # is processed after them, so outcomes, GX and writes keep the files' order.
    pending: list[tuple[Delivery, bytes, FileOutcome]] = []
    pending_as: list[Any] = []  # [spec, ctx] of the pending files
    pending_bytes = 0

    def flush_pending() -> None:
        nonlocal pending_bytes
        if not pending:
            return
        spec, ctx = pending_as
        for out, parsed, _ in process_files(
            feed, week, spec, pending, lake, hmac_key, ctx, written, writes
        ):
            outcomes.append(out)
            processed.append(out.key)
            if parsed is not None:
                to_validate.append((spec, ctx, out, parsed))
        pending.clear()
        pending_bytes = 0

    def read_ahead(d: Delivery) -> tuple[bytes, str, list[dict[str, str]]] | None:
        """The file's bytes, their hash and their content index entries, read while the
        files before it are processed (only files small enough to hold a few of)."""
        if too_large(d) or d.size > _READ_AHEAD_MAX_BYTES:
            return None
        data = landing.get_bytes(d.key)
        sha = hashlib.sha256(data).hexdigest()
        return data, sha, index.deliveries(sha)

    for delivery, ahead in prefetched(read_ahead, found):
        spec = feeds.spec_for(feed, delivery.filename)
        if too_large(delivery):
            flush_pending()
            early = decide_before_reading(feed, week, delivery, spec, week_ledger)
            if early is not None and early.rule == "file_too_large":
                # Refused from the listing, never read (it would cost the task its memory):
                # so no content hash either ("").
                unread = FileOutcome(
                    key=delivery.key, sha256="", size=delivery.size,
                    delivery_date=delivery.delivery_date.isoformat(), week=week,
                    kind=spec.kind if spec else None, outcome=IGNORED, run_id=run_id,
                )  # fmt: skip
                outcomes.append(_skipped(feed, unread, early))
                if delivery.key not in week_ledger.done:
                    processed.append(delivery.key)  # news: its owner hears of it once
                continue
        if ahead is not None:
            data, sha, listed = ahead
        else:
            data = landing.get_bytes(delivery.key)
            sha, listed = hashlib.sha256(data).hexdigest(), None
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
        decision = decide(feed, week, delivery, spec, sha, week_ledger, index, listed)
        if decision.action is Action.PROCESS:
            assert spec is not None  # a file without a spec is refused for its name
            ctx = contexts.for_file(spec.kind, delivery)
            if spec.format == "jsonl":
                if pending and (pending_as != [spec, ctx] or pending_bytes > _BATCH_MAX_BYTES):
                    flush_pending()
                pending.append((delivery, data, base))
                pending_as[:] = [spec, ctx]
                pending_bytes += len(data)
                continue
            flush_pending()
            out, parsed, valid = process_file(
                feed, week, spec, delivery, data, base, lake, hmac_key, ctx, written, writes
            )
            outcomes.append(out)
            processed.append(out.key)
            if parsed is not None:
                to_validate.append((spec, ctx, out, parsed))
            if spec.kind == "requisitions" and valid is not None:
                contexts.learn_requisitions(out.delivery_date, valid["req_id"].dropna().astype(str))
            continue
        flush_pending()
        outcomes.append(_skipped(feed, base, decision))
        if decision.action is Action.REFUSE and delivery.key not in week_ledger.done:
            processed.append(delivery.key)  # news: its owner hears of it once
        earlier = decision.earlier
        if (
            decision.action is Action.ALREADY_DONE
            and earlier is not None
            and earlier.kind == "requisitions"
            and earlier.validated_key
        ):
            ids = lake.read_frame(earlier.validated_key)["req_id"]
            contexts.learn_requisitions(earlier.delivery_date, ids.dropna().astype(str))
        if decision.action is Action.DUPLICATE and base.kind == "requisitions":
            # A repeated requisitions file stands for its original's rows in its own delivery
            # (the hiring state reads it so): its offers are checked against those req_ids.
            original = decision.duplicate_of or ""
            here = [o.validated_key for o in outcomes if o.key == original and o.validated_key]
            day = original.split("/")[1] if original.count("/") >= 2 else ""
            validated = (
                here[0]
                if here
                else (
                    ledger.ingested_validated_key(
                        lake, feed, week_key(date.fromisoformat(day)), original
                    )
                    if len(day) == 10
                    else None
                )
            )
            if validated:
                # This run's own are in its write batch, not in the lake yet.
                ids = validated_frame(lake, written, validated)["req_id"]
                contexts.learn_requisitions(base.delivery_date, ids.dropna().astype(str))

    flush_pending()
    writes.flush()
    validate_with_gx(feed, week, to_validate, lake, validator)
    report = FeedWeekReport(feed, week, outcomes, processed=processed, validated_bytes=written)
    stray = misplaced(landing, feed)
    report.misplaced_new = ledger.new_misplaced(lake, feed, stray, record=commit)
    report.stray_warnings.extend(
        f"{key} is not in a delivery folder <feed>/<YYYY-MM-DD>/: no week reads it; left in landing"
        for key in stray
    )
    decide_block(report)
    if commit:
        ledger.record_week(lake, feed, week, outcomes)
        save_report(lake, report)
    return report


def _files_of_week(
    landing: Bucket, lake: Bucket, feed: str, week: str, done: dict[str, FileOutcome]
) -> tuple[list[Delivery], list[Delivery]]:
    """The week's files in processing order (file kinds in the registry's order, then
    delivery date and key), with the late files of earlier weeks this run takes."""
    found = deliveries(landing, feed, week)
    late = []
    for d in late_deliveries(landing, lake, feed, week, settings.late_lookback_weeks()):
        if d.key in done:
            continue
        taker = ledger.claim_late(lake, feed, d.key, week)
        if taker != week:  # its own week's re-run, or another week's run, claimed it first
            log.info("%s %s: %s landed late; taken by %s's run", feed, week, d.key, taker)
            continue
        late.append(d)
    # Late files an earlier run of this week took stay this week's (a re-run is a no-op).
    in_week = {d.key for d in found}
    taken = [
        Delivery(feed, f.key, date.fromisoformat(f.delivery_date), f.size)
        for f in done.values()
        if f.key not in in_week and week_key(date.fromisoformat(f.delivery_date)) != week
    ]
    for d in late:
        log.warning("%s %s: %s landed after its week ran: taken by this run", feed, week, d.key)
    order = {kind: i for i, kind in enumerate(registry.feed(feed).kinds)}

    def rank(d: Delivery) -> tuple[int, date, str]:
        spec = feeds.spec_for(feed, d.filename)
        return (order.get(spec.kind if spec else "", 99), d.delivery_date, d.key)

    return sorted([*taken, *late, *found], key=rank), late


def _skipped(feed: str, base: FileOutcome, decision: Decision) -> FileOutcome:
    """The outcome of a file the run does not parse."""
    action = decision.action
    if action is Action.REFUSE:
        # Refused whole and visibly (report, data quality, the owner's alert); the bytes
        # stay in landing, the only place allowed to hold whatever the file contains.
        base.outcome, base.rule, base.reason = QUARANTINED, decision.rule, decision.reason
        log.warning("%s: %s refused: %s", feed, base.key, base.reason)
    elif action is Action.TAKEN_LATE:
        base.outcome, base.reason = TAKEN_LATE, decision.reason
    elif action is Action.SUPERSEDED:
        base.outcome, base.rule, base.reason = SUPERSEDED, decision.rule, decision.reason
        if decision.earlier is not None:
            base.validated_key = decision.earlier.validated_key
            base.quarantine_key = decision.earlier.quarantine_key
    elif action is Action.DUPLICATE:
        base.outcome, base.duplicate_of, base.reason = (
            DUPLICATE,
            decision.duplicate_of,
            decision.reason,
        )
        log.info("%s: %s skipped: duplicate of %s", feed, base.key, decision.duplicate_of)
    elif action is Action.ALREADY_DONE and decision.earlier is not None:
        log.info(
            "%s: %s was %s by an earlier run of this week (ledger): not processed again",
            feed,
            base.key,
            decision.earlier.outcome,
        )
        return decision.earlier
    return base
