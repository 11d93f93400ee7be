"""The deliveries ledger (`ledger/` in the lake): what every run of a feed-week decided about
every landing file, the content index that makes the same bytes count once, the files an
operator declared superseded, the late files a later week took, and the misplaced objects
already announced. A re-run reads it to skip what is done; nothing here parses a file.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from buildout_tracker import zones
from buildout_tracker.ingest.landing import Delivery
from buildout_tracker.ingest.report import FileOutcome
from buildout_tracker.lake import Bucket


def previous_run(lake: Bucket, feed: str, week: str) -> dict[str, FileOutcome] | None:
    """The files an earlier run of the feed-week recorded, by landing key (None: never run)."""
    previous = lake.get_json_or_none(zones.ledger_week(feed, week))
    if previous is None:
        return None
    return {f["key"]: FileOutcome(**f) for f in previous.get("files", [])}


def record_week(lake: Bucket, feed: str, week: str, outcomes: list[FileOutcome]) -> None:
    lake.put_json(
        zones.ledger_week(feed, week),
        {"feed": feed, "week": week, "files": [asdict(f) for f in outcomes]},
    )


def known_keys(lake: Bucket, feed: str, week: str) -> set[str] | None:
    """Landing keys the feed-week's ledger knows (None: the week never ran)."""
    ledger = lake.get_json_or_none(zones.ledger_week(feed, week))
    return None if ledger is None else {f["key"] for f in ledger.get("files", [])}


def ingested_validated_key(lake: Bucket, feed: str, week: str, key: str) -> str | None:
    """The validated rows of a file the feed-week ingested (None when it did not)."""
    ledger = lake.get_json_or_none(zones.ledger_week(feed, week))
    for f in (ledger or {}).get("files", []):
        if f["key"] == key and f["outcome"] == "ingested":
            return f.get("validated_key")
    return None


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
    """Declare a delivered file replaced by a correction (docs/feeds.md: a correction arrives
    as a new file): from the next run of its week on, its rows and failures no longer count,
    so a week it blocked can publish. Its bytes, quarantine and validation results stay."""
    entry = lake.get_json_or_none(zones.superseded(feed, week)) or {"feed": feed, "week": week}
    entry.setdefault("files", {})[key] = {"reason": reason}
    lake.put_json(zones.superseded(feed, week), entry)
    return entry


def superseded_files(lake: Bucket, feed: str, week: str) -> dict[str, dict[str, Any]]:
    """Landing key -> the operator's record, for the files of a feed-week declared replaced."""
    return dict((lake.get_json_or_none(zones.superseded(feed, week)) or {}).get("files", {}))


def mark_taken_late(lake: Bucket, feed: str, key: str, week: str) -> None:
    """A file of an earlier week that landed after its week ran is taken by `week`'s run."""
    lake.put_json(zones.late_pickup(feed, key), {"key": key, "taken_in": week})


def taken_late_by(lake: Bucket, feed: str, key: str) -> str | None:
    """The week whose run took a late file, if one did."""
    pickup = lake.get_json_or_none(zones.late_pickup(feed, key))
    return None if pickup is None else str(pickup["taken_in"])


def new_misplaced(lake: Bucket, feed: str, stray: list[str]) -> list[str]:
    """The misplaced landing objects not announced before (each is alerted once)."""
    if not stray:
        return []
    seen = set(lake.get_json_or_none(zones.misplaced_seen(feed)) or [])
    new = [k for k in stray if k not in seen]
    if new:
        lake.put_json(zones.misplaced_seen(feed), sorted(seen | set(stray)))
    return new
