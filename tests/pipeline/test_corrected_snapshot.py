"""A corrected ATS snapshot delivered later in the week whose requisitions repeat the earlier
file's bytes: the repeat is a duplicate, and it still stands for its rows in its own
delivery, so the corrected offers are checked against them (not refused as orphans)."""

from __future__ import annotations

from buildout_tracker import pipeline
from buildout_tracker.pipeline import steps
from tests.ingest import builders as b
from tests.publish import helpers as h

W37 = h.W37


def test_offers_of_a_delivery_whose_requisitions_repeat_earlier_bytes(
    rt: pipeline.Runtime,
) -> None:
    reqs, offers = h.hiring_files(W37)
    bad = b.offers_csv([{"offer_id": f"O-{i}", "req_id": f"R-{i}", "status": "maybe"}
                        for i in range(1, 8)])  # fmt: skip
    rt.landing.put_bytes("hiring/2026-09-08/requisitions_2026-09-08.csv", reqs)
    rt.landing.put_bytes("hiring/2026-09-08/offers_2026-09-08.csv", bad)
    first = steps.ingest_feed(rt, "hiring", W37)
    assert first.blocked

    rt.landing.put_bytes("hiring/2026-09-10/requisitions_2026-09-10.csv", reqs)  # same bytes
    rt.landing.put_bytes("hiring/2026-09-10/offers_2026-09-10.csv", offers)
    again = steps.ingest_feed(rt, "hiring", W37)
    by_key = {f.key: f for f in again.files}
    assert by_key["hiring/2026-09-10/requisitions_2026-09-10.csv"].outcome == "duplicate"
    fixed = by_key["hiring/2026-09-10/offers_2026-09-10.csv"]
    assert (fixed.outcome, fixed.rows_quarantined, fixed.rows_valid) == ("ingested", 0, 7)
