"""A week's deliveries come from one ranged listing of the feed's folder (StartAfter, then
stop past the week's last date) on the real local S3 server: the same files as one listing
per day's folder, and nothing of the neighbouring days or of folders that are not dates."""

from __future__ import annotations

from buildout_tracker.ingest import landing as ld
from buildout_tracker.lake import Bucket

W37 = "2026-W37"  # 2026-09-07 .. 2026-09-13
KEYS = [
    "procurement/2026-09-06/before.csv",  # the Sunday before
    "procurement/2026-09-07/a.csv",
    "procurement/2026-09-07/nested/b.csv",
    "procurement/2026-09-07x/not_a_date.csv",
    "procurement/2026-09-1/short.csv",
    "procurement/2026-09-10/c d.csv",
    "procurement/2026-09-13/last.csv",
    "procurement/2026-09-14/after.csv",
    "procurement/late/x.csv",
    "procurement/top.csv",
    "procurementx/2026-09-08/other_feed.csv",
    "hiring/2026-09-08/other.csv",
]


def _per_day(landing: Bucket, feed: str, week: str) -> list[str]:
    from buildout_tracker.weeks import week_dates

    return sorted(
        o.key
        for day in week_dates(week)
        for o in landing.iter(f"{feed}/{day.isoformat()}/")
        if not o.key.endswith("/")
    )


def test_one_ranged_listing_finds_what_per_day_listings_find(
    fresh_buckets: tuple[Bucket, Bucket],
) -> None:
    landing, _ = fresh_buckets
    for key in reversed(KEYS):
        landing.put_bytes(key, b"x")
    got = ld.deliveries(landing, "procurement", W37)
    assert (
        sorted(d.key for d in got)
        == _per_day(landing, "procurement", W37)
        == [
            "procurement/2026-09-07/a.csv",
            "procurement/2026-09-07/nested/b.csv",
            "procurement/2026-09-10/c d.csv",
            "procurement/2026-09-13/last.csv",
        ]
    )
    assert [d.delivery_date.isoformat() for d in got] == [
        "2026-09-07", "2026-09-07", "2026-09-10", "2026-09-13",
    ]  # fmt: skip


def test_the_listing_stops_past_the_range(fresh_buckets: tuple[Bucket, Bucket]) -> None:
    landing, _ = fresh_buckets
    for i in range(30):
        landing.put_bytes(f"procurement/2026-10-{i + 1:02d}/f.csv", b"x")
    seen: list[str] = []

    def stop(key: str) -> bool:
        seen.append(key)
        return key[12:22] > "2026-10-02"

    keys = [
        o.key for o in landing.iter("procurement/", start_after="procurement/2026-10-01", stop=stop)
    ]
    assert keys == ["procurement/2026-10-01/f.csv", "procurement/2026-10-02/f.csv"]
    assert len(seen) == 3, "the listing reads no key past the first one out of range"
