"""Two small published weeks for the UI tests: W37 clean; W38 with a refused procurement file
(a required column missing), one refused PO line (its currency), and one refused offer (its
status), beside the candidates' names and e-mails the parser drops."""

from __future__ import annotations

from typing import Any

from buildout_tracker.lake import Bucket
from tests.ingest import builders as b
from tests.publish import helpers as h

W37, W38 = h.W37, h.W38
BAD_FILE = "procurement/2026-09-15/po_lines_2026-09-15_extra.csv"
BAD_ROW = 7  # the refused PO line's data row (1 = the first row after the header)
BAD_OFFER_ROW = 3
PERSONAL = ("Candidate Number", "@example.org", "boss@example.com")
HIRING_THRESHOLD_ENV = {"BUILDOUT_QUARANTINE_THRESHOLD_HIRING": "0.5"}  # one bad offer of 7


def w38_po_rows() -> list[dict[str, Any]]:
    rows = h.po_rows(W38, n=40)
    rows[BAD_ROW - 1] = {**rows[BAD_ROW - 1], "currency": "US DOLLARS"}
    return rows


def deliver_w38(landing: Bucket, feeds: tuple[str, ...] | None = None) -> None:
    """W38's deliveries (of `feeds` only, when given)."""
    every = ("fx_rates", "procurement", "milestones", "hiring")
    h.deliver(landing, W38, skip=tuple(f for f in every if feeds and f not in feeds),
              po=w38_po_rows())  # fmt: skip
    if not feeds or "procurement" in feeds:
        cols = [c for c in b.PO_COLUMNS if c != "net_value"]
        landing.put_bytes(BAD_FILE, b.csv_bytes(cols, h.po_rows(W38, n=3)))
    if not feeds or "hiring" in feeds:
        landing.put_bytes("hiring/2026-09-15/offers_2026-09-15.csv", b.offers_csv(w38_offers()))
        landing.put_bytes(
            "hiring/2026-09-15/requisitions_2026-09-15.csv", b.requisitions_csv(w38_requisitions())
        )


def w38_requisitions() -> list[dict[str, Any]]:
    """W37's requisitions and one more (new bytes: the offers are checked against them)."""
    reqs: list[dict[str, Any]] = [{"req_id": f"R-{i}"} for i in range(1, 12)]
    for r in reqs[:4]:
        r.update(status="filled", closed_date="2026-09-05")
    return reqs


def w38_offers() -> list[dict[str, Any]]:
    """The offers of `h.hiring_files`, the BAD_OFFER_ROW-th with a status no rule accepts."""
    offers = [
        {
            "offer_id": f"O-{i}",
            "req_id": f"R-{i}",
            "candidate_id": f"C-{i}",
            "candidate_name": f"Candidate Number{i}",
            "candidate_email": f"candidate{i}@example.org",
            **(
                {"status": "accepted", "resolved_date": "2026-09-04", "start_date": "2026-10-01"}
                if i <= 4
                else {}
            ),
        }
        for i in range(1, 8)
    ]
    offers[BAD_OFFER_ROW - 1]["status"] = "maybe"
    return offers
