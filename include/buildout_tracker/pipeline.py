"""The weekly pipeline's steps, as plain functions: what each DAG task calls, and what
`make run` drives for many weeks in one process. Nothing here reads the clock: the week
is always an argument.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from buildout_tracker import settings
from buildout_tracker.ingest import state
from buildout_tracker.ingest.feed_week import FeedWeekReport, ingest_feed_week
from buildout_tracker.ingest.landing import Delivery
from buildout_tracker.lake import Bucket, client_from_airflow, make_client
from buildout_tracker.weeks import status_date

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Where a run reads and writes, and the PII key: built from the environment or Airflow."""

    landing: Bucket
    lake: Bucket
    hmac_key: bytes
    run_id: str = "manual"
    _validator: Any = field(default=None, repr=False)

    @classmethod
    def from_env(cls, run_id: str = "manual") -> Runtime:
        client = make_client()
        key = settings.hmac_key_from_env()
        if key is None:
            raise RuntimeError(
                "no PII HMAC key: set BUILDOUT_PII_HMAC_KEY (make lake-up writes one into .env)"
            )
        return cls(
            Bucket(settings.landing_bucket(), client),
            Bucket(settings.lake_bucket(), client),
            key,
            run_id,
        )

    @classmethod
    def from_airflow(cls, run_id: str) -> Runtime:
        """Inside a task: S3 through the `buildout_s3` connection, the key from `buildout_pii_hmac`."""
        from airflow.sdk import BaseHook

        client = client_from_airflow()
        try:
            key = (BaseHook.get_connection(settings.HMAC_CONN_ID).password or "").encode()
        except Exception:  # connection absent: fall back to the environment (local default)
            key = settings.hmac_key_from_env() or b""
        if not key:
            raise RuntimeError(
                f"no PII HMAC key: create the Airflow connection {settings.HMAC_CONN_ID}"
            )
        return cls(
            Bucket(settings.landing_bucket(), client),
            Bucket(settings.lake_bucket(), client),
            key,
            run_id,
        )

    @property
    def validator(self) -> Any:
        if self._validator is None:
            from buildout_tracker.feeds.gx_suite import GxValidator

            self._validator = GxValidator()
        return self._validator


def _context_for(rt: Runtime, feed: str, week: str):  # type: ignore[no-untyped-def]
    from buildout_tracker.feeds.schema import RuleContext

    sd = status_date(week)
    cache: dict[str, Any] = {}

    def sites() -> set[str] | None:
        if "sites" not in cache:
            cache["sites"] = state.known_site_ids(rt.lake, week)
        return cache["sites"]

    def factory(kind: str, delivery: Delivery, shared: dict[str, Any]) -> RuleContext:
        if kind == "po_lines":
            return RuleContext(week, sd, sites(), state.currencies_with_rate(rt.lake, week))
        if kind == "milestones":
            return RuleContext(week, sd, sites())
        if kind == "offers":
            ids = shared.get(delivery.delivery_date.isoformat(), set())
            return RuleContext(week, sd, requisition_ids=frozenset(ids))
        return RuleContext(week, sd)

    return factory


def _ingest(rt: Runtime, feed: str, week: str) -> FeedWeekReport:
    return ingest_feed_week(
        feed,
        week,
        landing=rt.landing,
        lake=rt.lake,
        hmac_key=rt.hmac_key,
        context_for=_context_for(rt, feed, week),
        validator=rt.validator,
        run_id=rt.run_id,
        status_date=status_date(week),
    )


def ingest_reference(rt: Runtime, week: str) -> FeedWeekReport:
    report = _ingest(rt, "reference", week)
    said = state.update_reference(rt.lake, week, report)
    report.stray_warnings.extend(f"{name}: {text}" for name, text in said.items())
    _save(rt, report)
    return report


def _ingest_and_update(
    feed: str, update: Callable[[Bucket, str, FeedWeekReport], object]
) -> Callable[[Runtime, str], FeedWeekReport]:
    """The step of a feed whose state follows from its week's report alone."""

    def step(rt: Runtime, week: str) -> FeedWeekReport:
        report = _ingest(rt, feed, week)
        update(rt.lake, week, report)
        if report.stray_warnings:  # what the state update had to say
            _save(rt, report)
        return report

    step.__name__ = step.__qualname__ = f"ingest_{feed}"
    return step


ingest_fx_rates = _ingest_and_update("fx_rates", state.update_fx_rates)
ingest_po_lines = _ingest_and_update("procurement", state.update_po_lines)
ingest_milestones = _ingest_and_update("milestones", state.update_milestones)
ingest_hiring = _ingest_and_update("hiring", state.update_hiring)


INGEST_STEPS = {
    "reference": ingest_reference,
    "fx_rates": ingest_fx_rates,
    "procurement": ingest_po_lines,
    "milestones": ingest_milestones,
    "hiring": ingest_hiring,
}


def _save(rt: Runtime, report: FeedWeekReport) -> None:
    from buildout_tracker.ingest import zones

    rt.lake.put_json(zones.feed_report(report.feed, report.week), report.to_json())


def ensure_reference(rt: Runtime, week: str) -> None:
    """Reference in force for the week, ingesting the week's reference deliveries if not done.

    Procurement and milestones check site ids against it; running it again is a no-op.
    """
    ingest_reference(rt, week)


def stale_later_weeks(rt: Runtime, feed: str, week: str) -> list[str]:
    weeks: set[str] = set()
    for name in state.FEED_STATES[feed]:
        weeks.update(state.stale_later_weeks(rt.lake, name, week))
    return sorted(weeks)


def build_data_docs(rt: Runtime, week: str, feed: str) -> str | None:
    """Build GX Data Docs for what this runtime validated and upload them; returns the index URI."""
    import tempfile
    from pathlib import Path

    from buildout_tracker.ingest import zones

    if rt._validator is None:
        return None
    with tempfile.TemporaryDirectory(prefix="gx-docs-") as tmp:
        out = rt.validator.build_data_docs(Path(tmp))
        if out is None:
            return None
        prefix = zones.data_docs_prefix(week, feed)
        root = Path(out).parent if Path(out).is_file() else Path(out)
        for path in sorted(root.rglob("*")):
            if path.is_file():
                rt.lake.upload_file(prefix + path.relative_to(root).as_posix(), str(path))
    return rt.lake.uri(prefix + "index.html")


def run_ingest_task(feed: str, week: str, run_id: str, rt: Runtime | None = None) -> dict[str, Any]:
    """The body of an `ingest_<feed>` task: reference in force first where rules need it,
    then the feed's week, its data docs, an alert when blocked. Returns counts only (XCom)."""

    rt = rt or Runtime.from_airflow(run_id)
    if feed in ("procurement", "milestones"):
        ensure_reference(rt, week)
    report = INGEST_STEPS[feed](rt, week)
    summary = report.summary()
    docs = build_data_docs(rt, week, feed)
    summary["data_docs"] = docs
    summary["stale_later_weeks"] = stale_later_weeks(rt, feed, week)
    announce(rt, report)
    log.info("%s %s: %s", feed, week, {k: v for k, v in summary.items() if k != "top_reasons"})
    return summary


def announce(rt: Runtime, report: FeedWeekReport) -> None:
    """Alerts for what an ingest found: each file refused in this run (its source-system
    owner must hear it), and the feed's week when blocked."""
    from buildout_tracker import alerts

    week, feed = report.week, report.feed
    for f in report.files:  # the source-system owner must hear that a file was refused
        if f.outcome == "quarantined" and f.key in report.processed:
            alerts.send(
                alerts.Alert(
                    "file_refused",
                    week,
                    feed,
                    f"{f.key} refused ({f.rule}): {f.reason}",
                    rt.lake.uri(f.quarantine_key or f"quarantine/{feed}/week={week}/"),
                )
            )
    if report.misplaced_new:  # whoever dropped them must hear that no run will read them
        alerts.send(
            alerts.Alert(
                "file_misplaced",
                week,
                feed,
                f"{len(report.misplaced_new)} landing object(s) outside <feed>/<YYYY-MM-DD>/, "
                f"read by no week: {', '.join(report.misplaced_new[:10])}",
                rt.landing.uri(report.misplaced_new[0]),
            )
        )
    if report.blocked:
        alerts.send(
            alerts.Alert(
                "feed_blocked",
                week,
                feed,
                report.block_reason or "",
                rt.lake.uri(f"reports/feeds/week={week}/{feed}.json"),
            )
        )


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
            f"this run changed state that later weeks were built on: re-run {', '.join(stale)} "
            "(in order) to bring them up to date"
        )


class FeedWeekBlocked(RuntimeError):
    pass


class LaterWeeksStale(RuntimeError):
    pass


def ingested_feeds(week: str, rt: Runtime | None = None) -> list[str]:
    """Feeds with a report for the week (their ingest ran, whatever it found)."""
    from buildout_tracker.ingest import zones

    lake = rt.lake if rt else Bucket(settings.lake_bucket(), client_from_airflow())
    return [
        f
        for f in ("procurement", "fx_rates", "milestones", "hiring")
        if lake.exists(zones.feed_report(f, week))
    ]


def run_publish_task(week: str, run_id: str, rt: Runtime | None = None) -> dict[str, Any]:
    """The body of the publish task for one week: publish, then alert on red and grey areas."""
    from buildout_tracker import alerts
    from buildout_tracker.publish import AuditFailed, publish_week

    rt = rt or Runtime.from_airflow(run_id)
    try:
        result = publish_week(rt.lake, rt.landing, week, run_id=run_id)
    except AuditFailed as exc:
        alerts.send(
            alerts.Alert("audit_failed", week, None, str(exc), rt.lake.uri("curated/_manifests/"))
        )
        raise
    alerts.send_all(alerts.scorecard_alerts(week, result.scorecard, result.manifest_uri))
    rag = {row["area"]: row["rag"] for row in result.scorecard.to_dict(orient="records")}
    return {"week": week, "manifest": result.manifest_uri, "rows": result.rows, "rag": rag}
