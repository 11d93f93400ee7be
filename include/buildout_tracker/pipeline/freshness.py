"""Freshness before the run: each weekly feed's delivery for a week is due some hours after
the week closes (`settings.delivery_deadline_hours`, default Monday 05:00 UTC, an hour
before the weekly run). A feed with nothing delivered for the week by then is alerted
once, naming the feed, its last delivery and its source owner, and recorded in
`reports/freshness/week=W.json` for the feed-health grid. The `watch_feed_freshness` DAG
runs this every hour; Airflow's own deadline alerts are not used (they attach to DAG runs,
not to deliveries, and under a busy executor their callbacks fire late).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from buildout_tracker import alerts, registry, settings, zones
from buildout_tracker.ingest.landing import deliveries
from buildout_tracker.lake import Bucket
from buildout_tracker.pipeline.runtime import Runtime
from buildout_tracker.weeks import closes_at


@dataclass(frozen=True)
class FeedFreshness:
    feed: str
    week: str
    due: str  # ISO timestamp, UTC
    files: int  # files landed for the week so far
    last_delivery: str | None  # the latest delivery date of the feed, any week
    late: bool  # due has passed and nothing was delivered for the week
    source_owner: str


def last_delivery(landing: Bucket, feed: str) -> str | None:
    """The newest `<feed>/<YYYY-MM-DD>/` folder holding a file (one delimiter listing)."""
    for day in sorted(landing.folders(f"{feed}/"), reverse=True):
        if len(day) == 10 and any(not o.key.endswith("/") for o in landing.iter(f"{feed}/{day}/")):
            return day
    return None


def due_at(feed: str, week: str) -> datetime:
    return closes_at(week) + timedelta(hours=settings.delivery_deadline_hours(feed))


def check(rt: Runtime, week: str, now: datetime) -> list[FeedFreshness]:
    """Each weekly feed's state for the week at `now`; late feeds alerted once."""
    out = []
    for feed in registry.FEEDS:
        if not feed.weekly:
            continue
        due = due_at(feed.name, week)
        files = len(deliveries(rt.landing, feed.name, week))
        late = files == 0 and now >= due
        out.append(
            FeedFreshness(feed.name, week, due.isoformat(), files,
                          last_delivery(rt.landing, feed.name), late, feed.source_owner)
        )  # fmt: skip
    rt.lake.put_json(
        zones.freshness(week),
        {"week": week, "checked_at": now.isoformat(), "feeds": [asdict(f) for f in out]},
    )
    for f in out:
        if f.late and rt.notify:
            alerts.send_once(
                alerts.Alert(
                    "feed_late",
                    week,
                    f.feed,
                    f"no {f.feed} delivery for {week} by {f.due} (last delivery: "
                    f"{f.last_delivery or 'never'}); source owner: {f.source_owner}",
                    rt.landing.uri(f"{f.feed}/"),
                ),
                rt.lake,
            )
    return out
