"""hiring_weekly on a hand-made ATS snapshot. Week 2026-W48: Mon 11-23 .. Sun 11-29."""

from __future__ import annotations

import pytest

from buildout_tracker.tables import hiring_weekly

from . import factory as f

SWE = {"workstream": "ai_software", "role_family": "software_eng"}


def _inputs():  # type: ignore[no-untyped-def]
    return f.make_inputs(
        hiring_plan=f.hiring_plan(
            # 3 (Q3 ended) + 23 x 60 / 92 = 15 (Q4: 60 of 92 days) -> 18 planned to date
            ("ai_software", "software_eng", "2026-Q3", 3),
            ("ai_software", "software_eng", "2026-Q4", 23),
            ("data_centers", "dc_operations", "2027-Q1", 5),  # not begun: 0
        ),
        requisitions=f.requisitions(
            {
                **SWE,
                "req_id": "R1",
                "status": "filled",
                "opened_date": "2026-09-01",
                "closed_date": "2026-10-11",
            },
            {
                **SWE,
                "req_id": "R2",
                "status": "filled",
                "opened_date": "2026-10-01",
                "closed_date": "2026-11-25",
            },
            {
                **SWE,
                "req_id": "R3",
                "status": "filled",
                "opened_date": "2026-08-01",
                "closed_date": "2026-09-30",
            },
            {
                **SWE,
                "req_id": "R4",
                "status": "filled",
                "opened_date": "2026-08-01",
                "closed_date": "2026-09-30",
            },  # no hire
            {
                **SWE,
                "req_id": "R5",
                "status": "open",
                "opened_date": "2026-08-31",
            },  # 90 days: not over 90
            {
                **SWE,
                "req_id": "R6",
                "status": "open",
                "opened_date": "2026-08-30",
            },  # 91 days: over 90
            {**SWE, "req_id": "R7", "status": "on_hold"},
            {
                **SWE,
                "req_id": "R8",
                "status": "cancelled",
                "opened_date": "2025-01-01",
                "closed_date": "2025-06-01",
            },
            {
                "req_id": "R10",
                "workstream": "chip_development",
                "role_family": "chip_design",
                "status": "open",
                "opened_date": "2026-11-01",
            },
        ),
        offers=f.offers(
            # O1: v1 accepted but v2 declined -> the highest version is declined: not a hire
            {
                "offer_id": "O1",
                "req_id": "R1",
                "version": 1,
                "status": "accepted",
                "resolved_date": "2026-09-10",
            },
            {
                "offer_id": "O1",
                "req_id": "R1",
                "version": 2,
                "status": "declined",
                "resolved_date": "2026-09-15",
            },
            # O2: v2 accepted 10-11 -> hire; R1 time to fill 09-01 -> 10-11 = 40 days
            {"offer_id": "O2", "req_id": "R1", "version": 1, "status": "deprecated"},
            {
                "offer_id": "O2",
                "req_id": "R1",
                "version": 2,
                "status": "accepted",
                "resolved_date": "2026-10-11",
            },
            # O3: hire on 11-25, inside the week; R2: 10-01 -> 11-25 = 55 days. Extended 11-22 (last week).
            {
                "offer_id": "O3",
                "req_id": "R2",
                "status": "accepted",
                "extended_date": "2026-11-22",
                "resolved_date": "2026-11-25",
            },
            # R3: hires 09-30 and 10-10; earliest counts: 08-01 -> 09-30 = 60 days
            {"offer_id": "O4", "req_id": "R3", "status": "accepted", "resolved_date": "2026-09-30"},
            {"offer_id": "O5", "req_id": "R3", "status": "accepted", "resolved_date": "2026-10-10"},
            # extended inside the week (Monday and Sunday), unresolved
            {"offer_id": "O6", "req_id": "R5", "status": "extended", "extended_date": "2026-11-23"},
            {
                "offer_id": "O7",
                "req_id": "R6",
                "version": 1,
                "status": "deprecated",
                "extended_date": "2026-11-20",
            },
            {
                "offer_id": "O7",
                "req_id": "R6",
                "version": 2,
                "status": "extended",
                "extended_date": "2026-11-29",
            },
            # rescinded: neither accepted nor declined
            {
                "offer_id": "O9",
                "req_id": "R6",
                "status": "rescinded",
                "resolved_date": "2026-11-01",
            },
        ),
    )


def _rows():  # type: ignore[no-untyped-def]
    return {
        (r["workstream"], r["role_family"]): r for r in hiring_weekly.compute(_inputs()).to_pylist()
    }


def test_software_eng_by_hand() -> None:
    r = _rows()[("ai_software", "software_eng")]
    assert r["planned_hires_to_date"] == pytest.approx(18.0)
    assert r["hires_to_date"] == 4  # O2, O3, O4, O5
    assert r["hires_this_week"] == 1  # O3 on 11-25
    assert r["attainment"] == pytest.approx(4 / 18)
    assert (r["open_reqs"], r["on_hold_reqs"], r["open_reqs_over_90_days"]) == (2, 1, 1)
    assert r["offers_extended_this_week"] == 2  # O6 (Mon), O7 v2 (Sun)
    # resolved highest versions: O1 declined, O2 O3 O4 O5 accepted -> 4 / 5
    assert r["offer_acceptance_rate"] == pytest.approx(0.8)
    # time to fill 40, 55, 60 (R4 filled without a hire is left out):
    # p50 = 55; p90 at rank 0.9 x 2 = 1.8 -> 55 + 0.8 x (60 - 55) = 59
    assert r["time_to_fill_p50_days"] == pytest.approx(55.0)
    assert r["time_to_fill_p90_days"] == pytest.approx(59.0)


def test_pairs_from_plan_or_requisitions_with_nulls() -> None:
    rows = _rows()
    assert list(rows) == [
        ("ai_software", "software_eng"),
        ("chip_development", "chip_design"),  # requisitions only
        ("data_centers", "dc_operations"),  # plan only
    ]
    dc = rows[("data_centers", "dc_operations")]
    assert dc["planned_hires_to_date"] == 0.0
    assert dc["attainment"] is None  # nothing planned to date
    assert dc["offer_acceptance_rate"] is None
    assert dc["time_to_fill_p50_days"] is None and dc["time_to_fill_p90_days"] is None
    chip = rows[("chip_development", "chip_design")]
    assert (chip["open_reqs"], chip["hires_to_date"], chip["planned_hires_to_date"]) == (1, 0, 0.0)


def test_hires_to_date_helper_matches_table() -> None:
    assert hiring_weekly.hires_to_date(_inputs()) == 4
