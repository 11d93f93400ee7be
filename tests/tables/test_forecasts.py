"""Forecasts at completion (site_progress_weekly: eac_usd, etc_usd, vac_usd, tcpi), worked by hand.

The definitions are docs/data-dictionary.md's ("Earned value" and `site_progress_weekly`):
EAC = BAC / CPI (null when CPI is null or 0), ETC = EAC - AC, VAC = BAC - EAC (both null when EAC
is), TCPI = (BAC - EV) / (BAC - AC) (null when BAC - AC <= 0).
"""

from __future__ import annotations

from typing import Any

import pytest

from buildout_tracker.tables import definitions as d
from buildout_tracker.tables import site_progress_weekly

from . import factory as f

# Status date 2026-11-29: the first two baselines are past, the other six to come.
BASELINES = [
    "2026-03-01",
    "2026-05-01",
    "2027-01-01",
    "2027-03-01",
    "2027-05-01",
    "2027-07-01",
    "2027-09-01",
    "2027-11-01",
]


def _site(budget: float, weights: list[float], progress: dict[str, Any], received: float):  # type: ignore[no-untyped-def]
    """One site, S1: its budget, plan weights, report (by milestone) and received USD (one line;
    none at all when `received` is 0, i.e. a site with no PO lines)."""
    lines = (
        [
            {
                "workstream": "data_centers",
                "category": "construction",
                "site_id": "S1",
                "quantity": 1,
                "unit_price": received,
                "received_qty": 1,
                "last_receipt_date": "2026-11-01",
            }
        ]
        if received
        else []
    )
    inputs = f.make_inputs(
        sites=f.sites({"site_id": "S1", "budget_usd": budget}),
        milestone_plan=f.milestone_plan("S1", BASELINES, weights),
        milestones=f.site_report("S1", "2026-11-29", progress),
        po_lines=f.po_lines(*lines),
    )
    (row,) = site_progress_weekly.compute(inputs).to_pylist()
    return row


def test_formulas_by_hand() -> None:
    # BAC 1,000, EV 400, AC 500: CPI 0.8; EAC 1,000 / 0.8 = 1,250; ETC 1,250 - 500 = 750;
    # VAC 1,000 - 1,250 = -250 (an overrun); TCPI (1,000 - 400) / (1,000 - 500) = 600 / 500 = 1.2
    fc = d.forecast(1_000.0, 400.0, 500.0)
    assert fc.cpi == pytest.approx(0.8)
    assert fc.eac == pytest.approx(1_250.0)
    assert fc.etc == pytest.approx(750.0)
    assert fc.vac == pytest.approx(-250.0)
    assert fc.tcpi == pytest.approx(1.2)


def test_cpi_null_or_zero_leaves_eac_etc_vac_null() -> None:
    # AC 0: CPI = EV / 0 is null, so no EAC; TCPI (1,000 - 100) / (1,000 - 0) = 0.9 still stands
    no_cost = d.forecast(1_000.0, 100.0, 0.0)
    assert (no_cost.cpi, no_cost.eac, no_cost.etc, no_cost.vac) == (None, None, None, None)
    assert no_cost.tcpi == pytest.approx(0.9)
    # EV 0, AC 200: CPI 0 / 200 = 0, EAC = BAC / 0 is null; TCPI 1,000 / 800 = 1.25
    no_value = d.forecast(1_000.0, 0.0, 200.0)
    assert no_value.cpi == 0.0
    assert (no_value.eac, no_value.etc, no_value.vac) == (None, None, None)
    assert no_value.tcpi == pytest.approx(1.25)


def test_tcpi_null_once_the_budget_is_spent() -> None:
    # AC = BAC: BAC - AC = 0 -> null; AC > BAC: 1,000 - 1,200 = -200 <= 0 -> null.
    spent = d.forecast(1_000.0, 800.0, 1_000.0)
    assert spent.tcpi is None
    assert spent.eac == pytest.approx(1_250.0)  # CPI 0.8: 1,000 / 0.8
    over = d.forecast(1_000.0, 900.0, 1_200.0)
    assert over.tcpi is None
    assert over.eac == pytest.approx(1_000.0 / 0.75)  # CPI 900 / 1,200 = 0.75: 1,333.33
    assert over.vac == pytest.approx(-1_000.0 / 3)  # 1,000 - 1,333.33
    # one cent of budget left: defined, (1,000 - 900) / 0.01 = 10,000
    assert d.forecast(1_000.0, 900.0, 999.99).tcpi == pytest.approx(10_000.0)


def test_site_row_by_hand() -> None:
    # BAC 2,000,000; weights 0.1 (complete) and 0.3 at 50 %: EV = 2,000,000 x (0.1 + 0.15) =
    # 500,000; AC 625,000. CPI 500 / 625 = 0.8; EAC 2,000,000 / 0.8 = 2,500,000;
    # ETC 2,500,000 - 625,000 = 1,875,000; VAC 2,000,000 - 2,500,000 = -500,000;
    # TCPI (2,000,000 - 500,000) / (2,000,000 - 625,000) = 1,500,000 / 1,375,000 = 1.0909
    row = _site(
        2_000_000.0,
        [0.1, 0.3, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1],
        {
            "LAND_ACQUIRED": {"status": "complete", "actual_date": "2026-02-20"},
            "PERMITS_ISSUED": {
                "status": "in_progress",
                "percent_complete": 50.0,
                "forecast_date": "2026-12-15",
            },
        },
        625_000.0,
    )
    assert row["ev_usd"] == pytest.approx(500_000.0)
    assert row["ac_usd"] == pytest.approx(625_000.0)
    assert row["cpi"] == pytest.approx(0.8)
    assert row["eac_usd"] == pytest.approx(2_500_000.0)
    assert row["etc_usd"] == pytest.approx(1_875_000.0)
    assert row["vac_usd"] == pytest.approx(-500_000.0)
    assert row["tcpi"] == pytest.approx(1_500_000 / 1_375_000)


def test_site_without_po_lines() -> None:
    # no PO line charged to the site: AC 0, CPI null, no EAC / ETC / VAC; EV 0.1 x 800,000 =
    # 80,000 so TCPI = (800,000 - 80,000) / (800,000 - 0) = 0.9
    row = _site(
        800_000.0,
        [0.1] * 8,
        {"LAND_ACQUIRED": {"status": "complete", "actual_date": "2026-02-20"}},
        0.0,
    )
    assert (row["ac_usd"], row["cpi"]) == (0.0, None)
    assert (row["eac_usd"], row["etc_usd"], row["vac_usd"]) == (None, None, None)
    assert row["tcpi"] == pytest.approx(0.9)


def test_site_with_cost_but_nothing_earned() -> None:
    # nothing started: EV 0; AC 300,000 -> CPI 0 / 300,000 = 0, EAC null (BAC / 0);
    # TCPI (1,000,000 - 0) / (1,000,000 - 300,000) = 1.4286
    row = _site(1_000_000.0, [0.125] * 8, {}, 300_000.0)
    assert (row["ev_usd"], row["cpi"]) == (0.0, 0.0)
    assert (row["eac_usd"], row["etc_usd"], row["vac_usd"]) == (None, None, None)
    assert row["tcpi"] == pytest.approx(1_000_000 / 700_000)


def test_site_over_budget_has_no_tcpi() -> None:
    # AC 1,100,000 >= BAC 1,000,000: no budget left, TCPI null. EV 0.125 x 1,000,000 = 125,000,
    # CPI 125 / 1,100 = 0.11364; EAC 1,000,000 / 0.11364 = 8,800,000; ETC 8,800,000 - 1,100,000 =
    # 7,700,000; VAC 1,000,000 - 8,800,000 = -7,800,000
    row = _site(
        1_000_000.0,
        [0.125] * 8,
        {"LAND_ACQUIRED": {"status": "complete", "actual_date": "2026-02-20"}},
        1_100_000.0,
    )
    assert row["tcpi"] is None
    assert row["eac_usd"] == pytest.approx(8_800_000.0)
    assert row["etc_usd"] == pytest.approx(7_700_000.0)
    assert row["vac_usd"] == pytest.approx(-7_800_000.0)
    # exactly on budget (AC = BAC) is not "budget left" either
    assert _site(1_000_000.0, [0.125] * 8, {}, 1_000_000.0)["tcpi"] is None


def test_textbook_forecast_kloppenborg() -> None:
    """A published textbook example of the forecasts, reproduced by site_progress_weekly.

    Source: Timothy J. Kloppenborg, *Contemporary Project Management*, Cengage Learning, Part 3
    "Performing Projects", section "Estimates" (earned value forecasting), printed page 404, as
    published online at https://fliphtml5.com/qkuqc/mpnf/Contemporary_Project_Management/430
    (the page shown there does not print which edition it is). The page states, for a project
    with a budget at completion of $750,000 and an earned value of $200,000: "we have only
    received $0.50 worth of results for every dollar we have spent" (CPI = 50 %), and, when
    past performance is expected to continue, "ETC = (BAC - EV) / CPI = ($750,000 - $200,000) /
    50% = $1,100,000" (quoted from the copy's text layer, whose symbols are garbled; the
    second method, ETC = BAC - EV = $550,000, is not the CPI method and not published here). It
    defines EAC as AC + ETC.

    Stated and asserted: CPI 0.50 and ETC $1,100,000. Worked by hand from the stated inputs (the
    page shown does not print them): AC = EV / CPI = $400,000; EAC = AC + ETC = $1,500,000
    (= BAC / CPI = 750,000 / 0.5); VAC = BAC - EAC = -$750,000; TCPI = (750,000 - 200,000) /
    (750,000 - 400,000) = 550,000 / 350,000 = 1.5714.
    """
    # EV: LAND_ACQUIRED, weight 0.2, complete: 0.2 x 750,000 = 150,000; PERMITS_ISSUED, weight
    # 0.1, two thirds done: 0.1 x 2/3 x 750,000 = 50,000; total 200,000. AC: one line, 400,000.
    row = _site(
        750_000.0,
        [0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.1],
        {
            "LAND_ACQUIRED": {"status": "complete", "actual_date": "2026-02-20"},
            "PERMITS_ISSUED": {
                "status": "in_progress",
                "percent_complete": 200 / 3,
                "forecast_date": "2026-12-15",
            },
        },
        400_000.0,
    )
    assert (row["bac_usd"], row["ev_usd"], row["ac_usd"]) == pytest.approx(
        (750_000.0, 200_000.0, 400_000.0)
    )
    # stated by the source
    assert round(row["cpi"], 2) == 0.50
    assert round(row["etc_usd"], 2) == 1_100_000.00
    # worked by hand from its inputs
    assert round(row["eac_usd"], 2) == 1_500_000.00
    assert round(row["vac_usd"], 2) == -750_000.00
    assert round(row["tcpi"], 4) == 1.5714


def test_textbook_indices_john_s_move() -> None:
    """A published textbook example of the indices, reproduced by site_progress_weekly.

    Source: Adrienne Watt, *Project Management*, 2nd edition, BCcampus Open Education, 2014
    (CC BY 4.0), chapter 12 "Budget Planning", section "Managing the Budget", examples "Schedule
    Variance on John's Move" and "Cost Variance on John's Move" (with Figure 12.6, "Planned Value,
    Earned Value, and Actual Cost", printed page 177 of the copy at
    https://fliphtml5.com/uthux/ogak/Project_Management_15694/187/); the book's home is
    https://opentextbc.ca/projectmanagement/chapter/chapter-12-budget-planning-project-management/
    and the same passage is at https://www.opentextbooks.org.hk/node/15891, where it was read.
    Stated: planned value $261.65 by day six, earned value $162.10, actual cost $154.50;
    "SV = $162.10 - $261.65 = ($99.55)", "CV = $162.10 - $154.50 = $7.60",
    "SPI = $162.10/$261.65 = 0.62". The example's budget at completion is not in the passages
    read, so its ETC ($1,371.90) and EAC ($1,526.40 = $154.50 + $1,371.90) are not asserted here;
    CPI = 162.10 / 154.50 = 1.0492 is worked by hand.
    """
    # A site whose BAC is 1,000 (any BAC gives the same indices): PV from LAND_ACQUIRED (weight
    # 0.1621) and PERMITS_ISSUED (weight 0.09955), both baselined before the status date:
    # (0.1621 + 0.09955) x 1,000 = 261.65. EV: LAND_ACQUIRED complete, 0.1621 x 1,000 = 162.10.
    # AC: one line received for 154.50.
    rest = (1 - 0.1621 - 0.09955) / 6
    row = _site(
        1_000.0,
        [0.1621, 0.09955, *([rest] * 6)],
        {"LAND_ACQUIRED": {"status": "complete", "actual_date": "2026-02-20"}},
        154.50,
    )
    assert (row["pv_usd"], row["ev_usd"], row["ac_usd"]) == pytest.approx((261.65, 162.10, 154.50))
    assert round(row["sv_usd"], 2) == -99.55
    assert round(row["cv_usd"], 2) == 7.60
    assert round(row["spi"], 2) == 0.62
    assert round(row["cpi"], 4) == 1.0492


def test_worked_example_with_every_figure() -> None:
    """The only example found that prints all six figures with their inputs (a secondary
    training source, not a textbook: its author is not stated).

    Source: "EVM — Forecasting (EAC/ETC/VAC/TCPI)", poster 15 of the Wiki Slate project-control
    posters, section 5 "Earned Value Management — Forecasting", table "Worked Example (same
    numbers)", https://wikislate.com/view.php?p=15-evm-forecasting.html. Stated, in $k:
    "BAC / EV / AC 100 / 40 / 45", "CPI / SPI 0.89 / 0.80", "EAC = BAC/CPI $112.5k",
    "ETC = EAC−AC $67.5k", "VAC = BAC−EAC −$12.5k", "TCPI→BAC 1.09". PV is not printed; SPI 0.80
    gives PV = 40 / 0.80 = 50.

    By hand: CPI 40 / 45 = 0.8889 -> 0.89; SPI 40 / 50 = 0.80; EAC 100 / (40 / 45) = 112.5;
    ETC 112.5 - 45 = 67.5; VAC 100 - 112.5 = -12.5; TCPI (100 - 40) / (100 - 45) = 60 / 55 =
    1.0909 -> 1.09.
    """
    # In dollars: BAC 100,000. PV: LAND_ACQUIRED (0.3) and PERMITS_ISSUED (0.2) baselined before the
    # status date: 0.5 x 100,000 = 50,000. EV: LAND_ACQUIRED complete, PERMITS_ISSUED half done:
    # (0.3 + 0.2 x 0.5) x 100,000 = 40,000. AC: one line received for 45,000.
    row = _site(
        100_000.0,
        [0.3, 0.2, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05],
        {
            "LAND_ACQUIRED": {"status": "complete", "actual_date": "2026-02-20"},
            "PERMITS_ISSUED": {
                "status": "in_progress",
                "percent_complete": 50.0,
                "forecast_date": "2026-12-15",
            },
        },
        45_000.0,
    )
    assert (row["pv_usd"], row["ev_usd"], row["ac_usd"]) == pytest.approx(
        (50_000.0, 40_000.0, 45_000.0)
    )
    assert round(row["cpi"], 2) == 0.89
    assert round(row["spi"], 2) == 0.80
    assert round(row["eac_usd"] / 1000, 1) == 112.5
    assert round(row["etc_usd"] / 1000, 1) == 67.5
    assert round(row["vac_usd"] / 1000, 1) == -12.5
    assert round(row["tcpi"], 2) == 1.09
