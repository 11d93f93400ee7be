"""What the source systems dropped in the landing zone for a feed and a week."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from datetime import date

from buildout_tracker.lake import Bucket
from buildout_tracker.weeks import week_dates

_DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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
            if obj.key.endswith("/"):
                continue
            found.append(Delivery(feed, obj.key, day, obj.size))
    return sorted(found, key=lambda d: (d.delivery_date, d.key))
