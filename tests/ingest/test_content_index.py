"""The content index (`ledger.ContentIndex`) on a real lake server: both of its forms found by
one listing, the older one read only when it is there, and a delivery recorded in either form
owning later deliveries of the same bytes."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import date
from typing import Any

from buildout_tracker import zones
from buildout_tracker.ingest.landing import Delivery
from buildout_tracker.ingest.ledger import ContentIndex
from buildout_tracker.lake import Bucket, WriteBatch

SHA = hashlib.sha256(b"the same bytes").hexdigest()
OTHER = hashlib.sha256(b"other bytes").hexdigest()  # another file, same two-letter folder?


def _counting(lake: Bucket) -> Counter[str]:
    calls: Counter[str] = Counter()

    def count(event_name: str, **_: Any) -> None:
        calls[event_name.rsplit(".", 1)[-1]] += 1

    lake.client.meta.events.register("before-parameter-build.s3", count)
    return calls


def test_new_form_alone_costs_one_listing_and_no_read(fresh_buckets: tuple[Bucket, Bucket]) -> None:
    _, lake = fresh_buckets
    index = ContentIndex(lake)
    first = Delivery("milestones", "milestones/2026-11-24/DC-SG-01.jsonl", date(2026, 11, 24), 9)
    assert index.owner(SHA, first, "2026-W48")["key"] == first.key
    long_key = "milestones/2026-11-25/" + "x" * 300 + ".jsonl"  # named by its hash
    ContentIndex(lake).owner(
        SHA, Delivery("milestones", long_key, date(2026, 11, 25), 9), "2026-W48"
    )
    calls = _counting(lake)
    got = ContentIndex(lake).deliveries(SHA)
    assert [d["key"] for d in got] == [first.key, long_key]
    assert calls["ListObjectsV2"] == 1
    assert calls["GetObject"] == 1  # the long key's body only: no read of an older form
    assert ContentIndex(lake).deliveries(OTHER) == []


def test_older_form_is_read_when_listed_and_owns_later_deliveries(
    fresh_buckets: tuple[Bucket, Bucket],
) -> None:
    _, lake = fresh_buckets
    older = {"key": "milestones/2026-11-17/DC-SG-01.jsonl", "delivery_date": "2026-11-17",
             "week": "2026-W47", "sha256": SHA}  # fmt: skip
    lake.put_json(zones.ledger_content(SHA), {"sha256": SHA, "deliveries": [older]})
    later = Delivery("milestones", "milestones/2026-11-24/DC-SG-01.jsonl", date(2026, 11, 24), 9)
    assert ContentIndex(lake).owner(SHA, later, "2026-W48") == older
    calls = _counting(lake)
    got = ContentIndex(lake).deliveries(SHA)
    assert [d["key"] for d in got] == [older["key"], later.key]
    assert (calls["ListObjectsV2"], calls["GetObject"]) == (1, 1)


def test_entries_recorded_into_a_batch_are_written_by_its_flush(
    fresh_buckets: tuple[Bucket, Bucket],
) -> None:
    """With a `WriteBatch`, an entry costs no request when recorded: the index itself still
    sees it (a run's second file of the same bytes is a duplicate), and the flush writes
    it, the same bytes and content type as the entry written at once."""
    _, lake = fresh_buckets
    writes = WriteBatch(lake)
    index = ContentIndex(lake, writes)
    first = Delivery("milestones", "milestones/2026-11-24/DC-SG-01.jsonl", date(2026, 11, 24), 9)
    again = Delivery("milestones", "milestones/2026-11-25/DC-SG-01.jsonl", date(2026, 11, 25), 9)
    calls = _counting(lake)
    assert index.owner(SHA, first, "2026-W48", listed=[])["key"] == first.key
    assert index.owner(SHA, again, "2026-W48", listed=[])["key"] == first.key
    assert calls["PutObject"] == 0 and len(writes) == 2
    assert ContentIndex(lake).deliveries(SHA) == []  # not in the lake before the flush
    writes.flush()
    assert calls["PutObject"] == 2 and len(writes) == 0
    assert [d["key"] for d in ContentIndex(lake).deliveries(SHA)] == [first.key, again.key]

    ContentIndex(lake).owner(OTHER, first, "2026-W48")  # written at once, without a batch
    batched, direct = (
        lake.client.head_object(Bucket=lake.name, Key=ContentIndex(lake)._key(s, "2026-11-24", first.key))
        for s in (SHA, OTHER)
    )  # fmt: skip
    assert batched["ContentType"] == direct["ContentType"] == "application/json"
