"""procurement_weekly on hand-made PO lines; every expected number is worked out below."""

from __future__ import annotations

import pandas as pd
import pytest

from buildout_tracker.tables import definitions as d
from buildout_tracker.tables import procurement_weekly

from . import factory as f

SERVERS = {"workstream": "compute_hardware", "category": "servers"}


def _inputs(**kw):  # type: ignore[no-untyped-def]
    po = f.po_lines(
        # L1: USD 10 x 100 = 1000, fully received 11-10 before requested 11-15: on time. Supplier A.
        {
            **SERVERS,
            "po_number": "0000000001",
            "supplier_id": "A",
            "received_qty": 10,
            "last_receipt_date": "2026-11-10",
            "requested_delivery_date": "2026-11-15",
            "status": "received",
        },
        # L1 again, same version (sent twice): must count once.
        {
            **SERVERS,
            "po_number": "0000000001",
            "supplier_id": "A",
            "received_qty": 10,
            "last_receipt_date": "2026-11-10",
            "requested_delivery_date": "2026-11-15",
            "status": "received",
        },
        # L2: EUR 4 x 500 = 2000 EUR x 1.10 = 2200 USD, fully received 11-20 after 11-15: not on time. B.
        {
            **SERVERS,
            "po_number": "0000000002",
            "supplier_id": "B",
            "currency": "EUR",
            "quantity": 4,
            "unit_price": 500,
            "received_qty": 4,
            "last_receipt_date": "2026-11-20",
            "requested_delivery_date": "2026-11-15",
            "status": "received",
        },
        # L3: USD 5 x 200 = 1000, received 2 x 200 = 400, requested 11-01 before the status date: late. A.
        {
            **SERVERS,
            "po_number": "0000000003",
            "supplier_id": "A",
            "quantity": 5,
            "unit_price": 200,
            "received_qty": 2,
            "last_receipt_date": "2026-11-05",
            "requested_delivery_date": "2026-11-01",
            "status": "partially_received",
        },
        # L4: USD 5 x 100 = 500, nothing received, past due but closed: live, not late. C.
        {
            **SERVERS,
            "po_number": "0000000004",
            "supplier_id": "C",
            "quantity": 5,
            "unit_price": 100,
            "requested_delivery_date": "2026-11-01",
            "status": "closed",
        },
        # L5: deleted, L6: cancelled: commit nothing, their suppliers do not count.
        {
            **SERVERS,
            "po_number": "0000000005",
            "supplier_id": "D",
            "quantity": 100,
            "unit_price": 100,
            "deleted": True,
        },
        {
            **SERVERS,
            "po_number": "0000000006",
            "supplier_id": "E",
            "quantity": 100,
            "unit_price": 100,
            "status": "cancelled",
            "currency": "JPY",
        },
        # L8: USD 1 x 300, requested on the status date itself: not before it, so not late. A.
        {
            **SERVERS,
            "po_number": "0000000008",
            "supplier_id": "A",
            "quantity": 1,
            "unit_price": 300,
            "requested_delivery_date": "2026-11-29",
        },
        # data_centers / land: only a deleted line -> a row of zeros.
        {
            "workstream": "data_centers",
            "category": "land",
            "site_id": "S1",
            "po_number": "0000000009",
            "deleted": True,
        },
    )
    fx = f.fx_rates(
        ("EUR", "2026-11-20", 1.10), ("EUR", "2026-11-30", 5.0)
    )  # the later rate is ignored
    return f.make_inputs(po_lines=po, fx_rates=fx, **kw)


def _rows(table):  # type: ignore[no-untyped-def]
    return {(r["workstream"], r["category"]): r for r in table.to_pylist()}


def test_servers_row_by_hand() -> None:
    rows = _rows(procurement_weekly.compute(_inputs()))
    r = rows[("compute_hardware", "servers")]
    # committed = 1000 + 2200 + 1000 + 500 + 300 = 5000 (L1 once, L5/L6 excluded)
    assert r["committed_usd"] == pytest.approx(5000.0)
    # received = 1000 + 2200 + 400 + 0 + 0 = 3600
    assert r["received_usd"] == pytest.approx(3600.0)
    assert r["open_commitment_usd"] == pytest.approx(1400.0)
    assert r["live_lines"] == 5  # L1, L2, L3, L4, L8
    assert r["late_lines"] == 1  # L3
    assert r["fully_received_lines"] == 2  # L1, L2
    assert r["on_time_lines"] == 1  # L1
    assert r["otd_rate"] == pytest.approx(0.5)
    assert r["suppliers"] == 3  # A, B, C
    # A = 1000 + 1000 + 300 = 2300 of 5000
    assert r["top_supplier_share"] == pytest.approx(0.46)
    assert r["committed_change_usd"] is None  # no prior at all


def test_row_for_key_with_only_non_live_lines_has_zeros_and_null_ratios() -> None:
    r = _rows(procurement_weekly.compute(_inputs()))[("data_centers", "land")]
    assert (r["committed_usd"], r["received_usd"], r["live_lines"], r["suppliers"]) == (
        0.0,
        0.0,
        0,
        0,
    )
    assert r["otd_rate"] is None  # 0 fully received
    assert r["top_supplier_share"] is None  # 0 committed


def test_rows_sorted_by_grain_and_schema() -> None:
    t = procurement_weekly.compute(_inputs())
    assert t.schema.equals(procurement_weekly.SCHEMA)
    assert [(r["workstream"], r["category"]) for r in t.to_pylist()] == [
        ("compute_hardware", "servers"),
        ("data_centers", "land"),
    ]
    assert set(t.column("week").to_pylist()) == {"2026-W48"}
    assert set(map(str, t.column("status_date").to_pylist())) == {"2026-11-29"}


def test_committed_change_against_last_week_only() -> None:
    prior = pd.DataFrame(
        [
            {
                "week": "2026-W47",
                "workstream": "compute_hardware",
                "category": "servers",
                "committed_usd": 4500.0,
            },
            # an older week is not "last week" and must be ignored
            {
                "week": "2026-W46",
                "workstream": "data_centers",
                "category": "land",
                "committed_usd": 99.0,
            },
        ]
    )
    rows = _rows(procurement_weekly.compute(_inputs(prior={"procurement_weekly": prior})))
    assert rows[("compute_hardware", "servers")]["committed_change_usd"] == pytest.approx(
        500.0
    )  # 5000 - 4500
    assert rows[("data_centers", "land")]["committed_change_usd"] is None


def test_live_line_without_rate_stops_the_week() -> None:
    po = f.po_lines({**SERVERS, "currency": "MYR"})
    fx = f.fx_rates(("MYR", "2026-12-01", 0.22))  # only after the status date
    with pytest.raises(d.MissingFxRate, match="MYR"):
        procurement_weekly.compute(f.make_inputs(po_lines=po, fx_rates=fx))


def test_empty_week() -> None:
    t = procurement_weekly.compute(f.make_inputs())
    assert t.num_rows == 0 and t.schema.equals(procurement_weekly.SCHEMA)
