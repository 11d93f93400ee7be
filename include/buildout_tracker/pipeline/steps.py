"""The weekly pipeline's steps, as plain functions: what each DAG task calls, and what
`make run` drives for many weeks in one process (`cycle.py`). Nothing here reads the clock:
the week is always an argument.

- `ingest(rt, feed, week)`: the feed-week (and the reference in force first when its rules
  need it), its state, its Data Docs, its alerts.
- `publish(rt, week)`: the week's six tables and manifest, and the scorecard's alerts.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from buildout_tracker import alerts, registry, settings, zones
from buildout_tracker.ingest import ledger, receipts, state
from buildout_tracker.ingest.feed_week import ingest_feed_week
from buildout_tracker.ingest.report import QUARANTINED, FeedWeekReport, save_report
from buildout_tracker.lake import Bucket, client_from_airflow
from buildout_tracker.pipeline.runtime import Runtime
from buildout_tracker.publish import AuditFailed, PublishResult, publish_week
from buildout_tracker.publish.inputs import feed_statuses
from buildout_tracker.publish.withdraw import WeekWithdrawn, note_republished, withdrawal_in_force
from buildout_tracker.weeks import closes_at, has_closed, parse_week

log = logging.getLogger(__name__)


class FeedWeekBlocked(RuntimeError):
    pass


class LaterWeeksStale(RuntimeError):
    pass


class BadWeek(ValueError):
    """Not an ISO week (2026-W99, banana)."""


class WeekNotClosed(ValueError):
    """The week has not closed yet, and the run was not forced."""


class NothingToPublish(RuntimeError):
    """No feed delivered anything in the week."""


def _update_reference(lake: Bucket, week: str, report: FeedWeekReport) -> None:
    said = state.update_reference(lake, week, report)
    report.stray_warnings.extend(f"{name}: {text}" for name, text in said.items())


# How each feed's state follows from its week's report.
STATE_UPDATES: dict[str, Callable[[Bucket, str, FeedWeekReport], object]] = {
    "reference": _update_reference,
    "fx_rates": state.update_fx_rates,
    "procurement": state.update_po_lines,
    "milestones": state.update_milestones,
    "hiring": state.update_hiring,
}


def ingest_feed(rt: Runtime, feed: str, week: str, commit: bool = True) -> FeedWeekReport:
    """The feed-week and the state it leaves, then its report (which publication reads: it
    names a feed-week whose state is written); `commit` writes its ledger record last
    (`ledger.commit_week`; `ingest` commits after the Data Docs and the alerts)."""
    report = ingest_feed_week(
        feed,
        week,
        landing=rt.landing,
        lake=rt.lake,
        hmac_key=rt.hmac_key,
        validator=rt.validator,
        run_id=rt.run_id,
        commit=False,
    )
    STATE_UPDATES[feed](rt.lake, week, report)
    report.validated_bytes.clear()  # the state is written: the bytes are not needed again
    save_report(rt.lake, report)
    receipts.write_receipts(rt.lake, report)  # each delivered file's receipt, for its owner
    rt.ingested.add((feed, week))
    if commit:
        ledger.commit_week(rt.lake, report)
    return report


@dataclass
class IngestOutcome:
    report: FeedWeekReport
    data_docs: str | None = None
    stale_later_weeks: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """What the task returns (XCom) and the asset event carries: counts only."""
        out = self.report.summary()
        out["data_docs"] = self.data_docs
        out["stale_later_weeks"] = self.stale_later_weeks
        return out


def ingest(rt: Runtime, feed: str, week: str, docs: bool = True) -> IngestOutcome:
    """The body of an `ingest_<feed>` task: the feeds its rules read that another DAG ingests
    first (the reference in force), then the feed's week, its Data Docs, its alerts."""
    for dep in registry.feed(feed).reads:
        if (
            registry.feed(dep).dag_id != registry.feed(feed).dag_id
            and (dep, week) not in rt.ingested
        ):
            ingest_feed(rt, dep, week)  # a re-run is a no-op for what is done
    report = ingest_feed(rt, feed, week, commit=False)
    outcome = IngestOutcome(report)
    if docs:
        outcome.data_docs = build_data_docs(rt, week, feed)
    if rt._validator is not None:
        rt.validator.forget_results()  # the next feed-week's Data Docs show only its own files
    outcome.stale_later_weeks = stale_later_weeks(rt, feed, week)
    announce(rt, report)
    # Last: killed before this, the next run redoes the feed-week whole (same bytes), so
    # its Data Docs and its alerts are never lost to a ledger that says "done".
    ledger.commit_week(rt.lake, report)
    return outcome


def stale_later_weeks(rt: Runtime, feed: str, week: str) -> list[str]:
    weeks: set[str] = set()
    for name in registry.feed(feed).states:
        weeks.update(state.stale_later_weeks(rt.lake, name, week))
    return sorted(weeks)


def build_data_docs(rt: Runtime, week: str, feed: str) -> str | None:
    """Build GX Data Docs of what this runtime validated since the last build and upload
    them; returns the index URI (None when nothing was validated)."""
    if rt._validator is None or not rt.validator.has_results():
        return None
    with tempfile.TemporaryDirectory(prefix="gx-docs-") as tmp:
        out = rt.validator.build_data_docs(Path(tmp))
        if out is None:
            return None
        prefix = zones.data_docs_prefix(week, feed)
        root = Path(out).parent if Path(out).is_file() else Path(out)
        uploaded = set()
        for path in sorted(root.rglob("*")):
            if path.is_file():
                key = prefix + path.relative_to(root).as_posix()
                rt.lake.upload_file(key, str(path))
                uploaded.add(key)
        # The same pages built by an earlier (interrupted) run of the step, under another
        # validation time: replaced by these.
        pages = {_undated(k) for k in uploaded}
        rt.lake.delete(
            o.key
            for o in rt.lake.iter(prefix)
            if o.key not in uploaded and _undated(o.key) in pages
        )
    return rt.lake.uri(prefix + "index.html")


_GX_RUN_TIME = re.compile(r"/\d{8}T\d{6}(\.\d+)?Z/")


def _undated(key: str) -> str:
    """A Data Docs key without GX's validation-time folder."""
    return _GX_RUN_TIME.sub("/<run time>/", key)


def announce(rt: Runtime, report: FeedWeekReport) -> None:
    """Alerts for what an ingest found: each file refused in this run (its source-system
    owner must hear it), misplaced landing objects, and the feed's week when blocked."""
    if not rt.notify:
        return
    week, feed = report.week, report.feed
    for f in report.files:  # the source-system owner must hear that a file was refused
        if f.outcome == QUARANTINED and f.key in report.processed:
            alerts.send_once(
                alerts.Alert(
                    "file_refused",
                    week,
                    feed,
                    f"{f.key} refused ({f.rule}): {f.reason}",
                    rt.lake.uri(receipts.receipt_key_of(feed, f)),
                ),
                rt.lake,
            )
    if report.misplaced_new:  # whoever dropped them must hear that no run will read them
        alerts.send_once(
            alerts.Alert(
                "file_misplaced",
                week,
                feed,
                f"{len(report.misplaced_new)} landing object(s) outside <feed>/<YYYY-MM-DD>/, "
                f"read by no week: {', '.join(report.misplaced_new[:10])}",
                rt.landing.uri(report.misplaced_new[0]),
            ),
            rt.lake,
        )
    if report.blocked:
        alerts.send_once(
            alerts.Alert(
                "feed_blocked",
                week,
                feed,
                report.block_reason or "",
                rt.lake.uri(zones.feed_report(feed, week)),
            ),
            rt.lake,
        )


class ReportFailed(RuntimeError):
    """The week is published (tables and manifest stay), but its program report is not."""


def publish(rt: Runtime, week: str, explicit: bool = True, report: bool = True) -> PublishResult:
    """The body of the publish task for one week: publish, then alert on red and grey areas
    (a failed audit is alerted and raised: nothing was published).

    Not published: a week in which no feed delivered anything (`NothingToPublish`), and,
    unless `explicit` (an operator named the week), a week an operator withdrew
    (`WeekWithdrawn`); an explicit publication brings a withdrawn week back.
    """
    statuses = feed_statuses(rt.lake, week)
    if not any(st.delivered for st in statuses.values()):
        raise NothingToPublish(
            f"{week}: no feed has delivered anything for this week: nothing to publish"
        )
    withdrawn = withdrawal_in_force(rt.lake, week)
    if withdrawn is not None and not explicit:
        raise WeekWithdrawn(
            f"{week} was withdrawn by {withdrawn['by']} at {withdrawn['at']} "
            f"({withdrawn['reason']}): publish it again explicitly to bring it back"
        )
    try:
        result = publish_week(rt.lake, rt.landing, week, run_id=rt.run_id)
    except AuditFailed as exc:
        if rt.notify:
            alerts.send_once(
                alerts.Alert(
                    "audit_failed", week, None, str(exc), rt.lake.uri(zones.MANIFESTS_PREFIX)
                ),
                rt.lake,
            )
        raise
    if withdrawn is not None:
        note_republished(rt.lake, week, by=rt.run_id, run_id=rt.run_id)
    if rt.notify:
        alerts.send_all_once(
            alerts.scorecard_alerts(week, result.scorecard, result.manifest_uri), rt.lake
        )
    if report:
        build_week_report(rt, week)
    return result


def build_week_report(rt: Runtime, week: str) -> Any:
    """The week's program report (reports/program/week=W/), from what was just published; if
    it cannot be built the step fails and alerts, and the published tables stay as they are.
    The weekly digest (each area's colour, the biggest changes, where the report is) goes to
    the alert channel once."""
    from buildout_tracker.report import build_report
    from buildout_tracker.report import keys as report_keys

    try:
        built = build_report(rt.lake, week)
    except Exception as exc:
        if rt.notify:
            alerts.send_once(
                alerts.Alert(
                    "report_failed", week, None,
                    f"published, but the weekly program report was not built: {exc}",
                    rt.lake.uri(report_keys.week_prefix(week)),
                ),
                rt.lake,
            )  # fmt: skip
        raise ReportFailed(
            f"{week} is published (its tables and manifest stay as they are), but its weekly "
            f"program report could not be built: {exc}"
        ) from exc
    if rt.notify:
        alerts.send_once(alerts.report_digest(week, built.digest, built.html_uri), rt.lake)
    return built


def check_week_may_run(week: str, force: bool = False, now: datetime | None = None) -> None:
    """Refuse a malformed week, and a week that has not closed yet unless forced: a guard on
    whether to run, never an input of a result."""
    try:
        parse_week(week)
    except ValueError as exc:
        raise BadWeek(f"{exc} (write an ISO week like 2026-W48)") from None
    if not force and not has_closed(week, now or datetime.now(UTC)):
        raise WeekNotClosed(
            f"{week} has not closed yet (it closes {closes_at(week):%Y-%m-%d %H:%M} UTC): its "
            "deliveries are not all in; run it after it closes, or force it explicitly "
            "(Airflow: trigger with force=true; make: FORCE=1)"
        )


def ready_to_publish(lake: Bucket, week: str) -> bool:
    """Every feed the scorecard depends on has run for the week (its state is written, then
    its report)."""
    return all(
        lake.exists(zones.state_meta(name, week))
        for feed in registry.STATUS_FEEDS
        for name in registry.feed(feed).states
    ) and all(lake.exists(zones.feed_report(feed, week)) for feed in registry.STATUS_FEEDS)


# A publication written less than this after a report of its week may have read the report
# before that write (a publication takes seconds): such weeks have their inputs compared.
_PUBLISHED_WHILE_INGESTING = timedelta(minutes=10)


@dataclass
class Publications:
    """When each week's feed reports and its manifest were last written (the S3 server's
    `LastModified`): which weeks are published from their reports as they are now.

    Airflow 3.3's asset queue keeps one entry per asset and can drop an asset's later events
    while the publishing DAG's run is busy (apache/airflow#56050; README, "Backfills"): the
    publishing DAG publishes the weeks behind as well as its events' weeks, and skips an
    event's week that an earlier run has published from the same reports."""

    reported: dict[str, datetime]  # week -> its latest feed report's time
    published: dict[str, datetime]  # week -> its manifest's time

    @classmethod
    def listed(cls, lake: Bucket) -> Publications:
        """Two listings: the feed reports and the manifests."""
        reported: dict[str, datetime] = {}
        for key, at in lake.last_modified(zones.FEED_REPORTS_PREFIX).items():
            if m := zones.FEED_REPORT_KEY.match(key):
                reported[m[1]] = max(at, reported.get(m[1], at))
        published: dict[str, datetime] = {}
        for key, at in lake.last_modified(zones.MANIFESTS_PREFIX).items():
            if m := zones.MANIFEST_KEY.match(key):
                published[m[1]] = at
        return cls(reported, published)

    def current(self, lake: Bucket, week: str) -> bool:
        """The week's manifest was written after every feed report of the week, and from
        them: when a report is at most 10 minutes older than the manifest, the manifest's
        `inputs` must name the reports' files (a publication may have read a report just
        before a re-run replaced it)."""
        from buildout_tracker.publish.inputs import input_files

        at, report = self.published.get(week), self.reported.get(week)
        if at is None:
            return False
        if report is None or report < at - _PUBLISHED_WHILE_INGESTING:
            return True
        if report > at:
            return False
        manifest = lake.get_json_or_none(zones.manifest_key(week))
        return manifest is not None and manifest.get("inputs") == input_files(lake, week)

    def behind(self, lake: Bucket) -> list[str]:
        """Weeks ingested since their publication, oldest first: every feed has run
        (`ready_to_publish`), something was delivered, the week is not withdrawn, and it is
        not `current` (never published, or a feed report written since)."""
        out = []
        for week in sorted(self.reported, key=parse_week):
            if self.current(lake, week) or not ready_to_publish(lake, week):
                continue
            if withdrawal_in_force(lake, week) is not None:
                continue
            if any(st.delivered for st in feed_statuses(lake, week).values()):
                out.append(week)  # else never published (`NothingToPublish`)
        return out


def weeks_behind(lake: Bucket) -> list[str]:
    """`Publications.behind` of the lake as it is now."""
    return Publications.listed(lake).behind(lake)


def run_ingest_task(feed: str, week: str, run_id: str, rt: Runtime | None = None) -> dict[str, Any]:
    """An ingest task: counts only (XCom and the asset event)."""
    from buildout_tracker.pipeline.summary import attention_lines, feed_week_line, this_run_line

    outcome = ingest(rt or Runtime.from_airflow(run_id), feed, week)
    log.info("%s %s, %s", feed, week, this_run_line(outcome.report))
    log.info("%s, the week's totals: %s", week, feed_week_line(outcome.report))
    for line in attention_lines(outcome.report):
        log.warning("%s %s: %s", feed, week, line)
    return outcome.summary()


def run_publish_task(
    week: str, run_id: str, rt: Runtime | None = None, explicit: bool = True
) -> dict[str, Any]:
    runtime = rt or Runtime.from_airflow(run_id)
    result = publish(runtime, week, explicit=explicit)
    rag = {row["area"]: row["rag"] for row in result.scorecard.to_dict(orient="records")}
    from buildout_tracker.report import keys as report_keys

    return {"week": week, "manifest": result.manifest_uri, "rows": result.rows, "rag": rag,
            "report": runtime.lake.uri(report_keys.html(week))}  # fmt: skip


def fail_if_blocked(summary: dict[str, Any]) -> None:
    if summary.get("blocked"):
        raise FeedWeekBlocked(
            summary.get("block_reason")
            or f"{summary.get('feed')} blocked for {summary.get('week')}"
        )


def fail_if_later_weeks_stale(summaries: list[dict[str, Any]]) -> None:
    stale = sorted({w for s in summaries for w in s.get("stale_later_weeks", [])})
    if stale:
        raise LaterWeeksStale(
            f"the state these weeks were built on changed (this run, or one overlapping it, "
            f"replaced it): re-run {', '.join(stale)} (in order) to bring them up to date"
        )


def ingested_feeds(week: str, rt: Runtime | None = None) -> list[str]:
    """Feeds with a report for the week (their ingest ran, whatever it found)."""
    lake = rt.lake if rt else Bucket(settings.lake_bucket(), client_from_airflow())
    return [f for f in registry.STATUS_FEEDS if lake.exists(zones.feed_report(f, week))]
