"""What the source systems dropped in the landing zone for a feed and a week."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from datetime import date

from buildout_tracker import registry, zones
from buildout_tracker.lake import Bucket
from buildout_tracker.weeks import shift, week_dates, week_key

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
    return _dated(landing, feed, week_dates(week))


def _dated(landing: Bucket, feed: str, days: list[date]) -> list[Delivery]:
    """Files under <feed>/<day>/ for each of `days` (consecutive), in delivery order: one
    listing from the first day's folder to the last's (S3 lists in key order, and a date
    folder's name sorts as its date), not one per day."""
    by_name = {d.isoformat(): d for d in days}
    first, last = min(by_name), max(by_name)
    start = len(feed) + 1
    found: list[Delivery] = []
    for obj in landing.iter(
        f"{feed}/",
        start_after=f"{feed}/{first}",
        stop=lambda key: key[start : start + 10] > last,
    ):
        folder, sep, _ = obj.key[start:].partition("/")
        if sep and folder in by_name and not is_folder_marker(obj.key):
            found.append(Delivery(feed, obj.key, by_name[folder], obj.size))
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
    if not ran:
        return []
    # One listing over the weeks that ran (from the first's Monday to the last's Sunday).
    days = [d for w in _span(ran[0], ran[-1]) for d in week_dates(w)]
    weeks_ran = set(ran)
    late = [
        d
        for d in _dated(landing, feed, days)
        if d.key not in known and week_key(d.delivery_date) in weeks_ran
    ]
    return sorted(late, key=lambda d: (d.delivery_date, d.key))


def _span(first: str, last: str) -> list[str]:
    out = [first]
    while out[-1] != last:
        out.append(shift(out[-1], 1))
    return out


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
