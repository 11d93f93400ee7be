"""What the source systems dropped in the landing zone for a feed and a week."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from datetime import date

from buildout_tracker import registry, zones
from buildout_tracker.lake import Bucket
from buildout_tracker.weeks import shift, week_dates

_DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def is_folder_marker(key: str) -> bool:
    """A zero-byte "folder" object (`hiring/2026-11-28/`, what an S3 console's "Create
    folder" writes): a name ending in "/" is never a file, whatever its size."""
    return key.endswith("/")


@dataclass(frozen=True)
class Delivery:
    feed: str
    key: str
    delivery_date: date
    size: int

    @property
    def filename(self) -> str:
        return posixpath.basename(self.key)


def deliveries(landing: Bucket, feed: str, week: str) -> list[Delivery]:
    """Files under <feed>/<date>/ for every date of the week, in delivery order."""
    found: list[Delivery] = []
    for day in week_dates(week):
        prefix = f"{feed}/{day.isoformat()}/"
        for obj in landing.iter(prefix):
            if is_folder_marker(obj.key):
                continue
            found.append(Delivery(feed, obj.key, day, obj.size))
    return sorted(found, key=lambda d: (d.delivery_date, d.key))


def late_deliveries(
    landing: Bucket, lake: Bucket, feed: str, week: str, lookback: int
) -> list[Delivery]:
    """Files of the `lookback` weeks before `week` that landed after their own week ran: the
    week has a ledger and neither it nor a later week's ledger knows the file (docs/feeds.md: a
    late file is picked up "by the next week's run where the feed's rules carry state
    forward"). A week never run keeps its files for its own run (a backfill)."""
    known: set[str] = set()
    ran: list[str] = []
    for k in range(lookback, 0, -1):
        earlier = shift(week, -k)
        ledger = lake.get_json_or_none(zones.ledger_week(feed, earlier))
        if ledger is not None:
            ran.append(earlier)
            known.update(f["key"] for f in ledger.get("files", []))
    late = [d for w in ran for d in deliveries(landing, feed, w) if d.key not in known]
    return sorted(late, key=lambda d: (d.delivery_date, d.key))


def misplaced(landing: Bucket, feed: str) -> list[str]:
    """Landing objects no week will ever read, for `feed`: files directly under `<feed>/` and
    folders under it that are not a delivery date. The reference feed (run every week, first)
    also reports what is outside every feed's folder. Delimiter listings: one entry per
    folder, not per file, so the cost does not follow the number of files delivered. A folder
    marker is not an object to report (the folder it marks is judged by its name)."""
    found = [o.key for o in landing.iter_top(f"{feed}/") if not is_folder_marker(o.key)]
    found += [
        f"{feed}/{name}/" for name in landing.folders(f"{feed}/") if not _DATE_DIR.match(name)
    ]
    if feed == "reference":
        found += [o.key for o in landing.iter_top("") if not is_folder_marker(o.key)]
        found += [f"{name}/" for name in landing.folders("") if name not in registry.NAMES]
    return sorted(set(found))
