"""program_scorecard on hand-made upstream tables; RAG bands, grey rules, area sums."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from buildout_tracker.tables import program_scorecard

from . import factory as f


def _proc(*rows: tuple[str, float, float, int, int]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "workstream": w,
                "committed_usd": c,
                "received_usd": r,
                "on_time_lines": o,
                "fully_received_lines": fr,
            }
            for w, c, r, o, fr in rows
        ]
    )


PROC = _proc(
    ("compute_hardware", 2000.0, 1360.0, 9, 10),
    ("data_centers", 3000.0, 2400.0, 4, 5),
    ("ai_software", 100.0, 75.0, 0, 0),
)
SITES = pa.Table.from_pylist(
    [
        {"site_id": "S1", "bac_usd": 2000.0, "ev_usd": 900.0, "pv_usd": 1000.0, "ac_usd": 950.0},
        {"site_id": "S2", "bac_usd": 200.0, "ev_usd": 90.0, "pv_usd": 100.0, "ac_usd": 90.0},
    ]
)
HIRING = pa.Table.from_pylist(
    [
        {"workstream": "compute_hardware", "hires_to_date": 19, "planned_hires_to_date": 20.0},
        {"workstream": "data_centers", "hires_to_date": 17, "planned_hires_to_date": 20.0},
        {"workstream": "ai_software", "hires_to_date": 0, "planned_hires_to_date": 0.0},
        {"workstream": "chip_development", "hires_to_date": 1, "planned_hires_to_date": 0.0},
    ]
)
BUDGET = f.budget_plan(
    ("compute_hardware", "2026-Q3", 1000.0),  # ended: 1000
    ("compute_hardware", "2026-Q4", 920.0),  # 920 x 60 / 92 = 600
    ("compute_hardware", "2027-Q1", 100.0),  # 0 to date
    ("data_centers", "2026-Q3", 2000.0),
    ("ai_software", "2026-Q3", 100.0),
)


def _score(sites: pa.Table = SITES, **kw):  # type: ignore[no-untyped-def]
    inputs = f.make_inputs(budget_plan=BUDGET, **kw)
    t = program_scorecard.compute(inputs, PROC, sites, HIRING)
    assert t.schema.equals(program_scorecard.SCHEMA)
    return {r["area"]: r for r in t.to_pylist()}


def test_five_areas_sorted() -> None:
    inputs = f.make_inputs(budget_plan=BUDGET)
    t = program_scorecard.compute(inputs, PROC, SITES, HIRING)
    assert t.column("area").to_pylist() == [
        "ai_software",
        "chip_development",
        "compute_hardware",
        "data_centers",
        "program",
    ]


def test_compute_hardware_all_on_green_boundaries() -> None:
    r = _score()["compute_hardware"]
    assert (r["budget_total_usd"], r["budget_to_date_usd"]) == pytest.approx((2020.0, 1600.0))
    assert r["spend_pace"] == pytest.approx(0.85)  # 1360 / 1600: green (inclusive)
    assert r["otd_rate"] == pytest.approx(0.9)  # 9 / 10: green
    assert r["hiring_attainment"] == pytest.approx(0.95)  # 19 / 20: green
    assert r["spi"] is None and r["cpi"] is None  # not a site workstream
    assert (r["rag"], r["rag_reasons"]) == ("green", [])


def test_data_centers_amber_boundaries() -> None:
    r = _score()["data_centers"]
    # spi = (900 + 90) / (1000 + 100) = 0.90 amber; cpi = 990 / 1040 = 0.952 green
    assert r["spi"] == pytest.approx(0.9)
    assert r["cpi"] == pytest.approx(990 / 1040)
    assert r["spend_pace"] == pytest.approx(1.2)  # 2400 / 2000: amber (1.20 inclusive)
    assert r["hiring_attainment"] == pytest.approx(0.85)  # 17 / 20: amber
    assert r["otd_rate"] == pytest.approx(0.8)  # 4 / 5: amber
    assert r["rag"] == "amber"
    assert r["rag_reasons"] == [
        "spi 0.90 < 0.95 (amber)",
        "spend_pace 1.20 > 1.10 (amber)",
        "hiring_attainment 0.85 < 0.95 (amber)",
        "otd_rate 0.80 < 0.90 (amber)",
    ]


def test_null_measures_not_rated_and_grey_without_measures() -> None:
    rows = _score()
    ai = rows["ai_software"]
    # spend 75 / 100 = 0.75 amber; hiring 0 / 0 and otd 0 / 0 are null: not rated
    assert ai["spend_pace"] == pytest.approx(0.75)
    assert ai["hiring_attainment"] is None and ai["otd_rate"] is None
    assert (ai["rag"], ai["rag_reasons"]) == ("amber", ["spend_pace 0.75 < 0.85 (amber)"])
    chip = rows["chip_development"]
    # no budget (spend null), no lines (otd null), 1 hire over 0 planned (null)
    assert chip["budget_to_date_usd"] == 0.0 and chip["spend_pace"] is None
    assert chip["hiring_attainment"] is None
    assert (chip["rag"], chip["rag_reasons"]) == ("grey", ["no measures"])


def test_program_sums_workstreams() -> None:
    p = _score()["program"]
    assert p["committed_usd"] == pytest.approx(5100.0)
    assert p["received_usd"] == pytest.approx(3835.0)  # 1360 + 2400 + 75
    assert p["budget_total_usd"] == pytest.approx(4120.0)  # 2020 + 2000 + 100
    assert p["budget_to_date_usd"] == pytest.approx(3700.0)  # 1600 + 2000 + 100
    assert p["spend_pace"] == pytest.approx(3835 / 3700)  # 1.036: green
    assert p["hiring_attainment"] == pytest.approx(37 / 40)  # (19 + 17 + 0 + 1) / 40: amber
    assert p["otd_rate"] == pytest.approx(13 / 15)  # (9 + 4) / (10 + 5): amber
    assert p["spi"] == pytest.approx(0.9)
    assert p["rag"] == "amber"
    assert p["rag_reasons"] == [
        "spi 0.90 < 0.95 (amber)",
        "hiring_attainment 0.93 < 0.95 (amber)",
        "otd_rate 0.87 < 0.90 (amber)",
    ]


def test_red_is_worst() -> None:
    assert program_scorecard.rate({"spi": 0.89, "cpi": 0.93, "otd_rate": 0.95}, []) == (
        "red",
        ["spi 0.89 < 0.90 (red)", "cpi 0.93 < 0.95 (amber)"],
    )
    assert program_scorecard.rate({"spend_pace": 1.21}, []) == (
        "red",
        ["spend_pace 1.21 > 1.20 (red)"],
    )
    assert program_scorecard.rate({"spend_pace": 0.74}, []) == (
        "red",
        ["spend_pace 0.74 < 0.75 (red)"],
    )


def test_grey_when_procurement_blocked_whatever_the_numbers() -> None:
    rows = _score(
        feed_status=f.feed_status(
            procurement={"blocked": True, "reason": "po_lines_1.csv: net_value_matches"}
        )
    )
    for area, r in rows.items():
        assert r["rag"] == "grey", area
        assert r["rag_reasons"][0] == "procurement blocked: po_lines_1.csv: net_value_matches"
    # compute_hardware was green on its numbers: only the feed reason
    assert rows["compute_hardware"]["rag_reasons"] == [
        "procurement blocked: po_lines_1.csv: net_value_matches"
    ]


def test_grey_when_hiring_did_not_deliver() -> None:
    rows = _score(feed_status=f.feed_status(hiring={"delivered": False, "files_received": 0}))
    assert {r["rag"] for r in rows.values()} == {"grey"}
    assert rows["compute_hardware"]["rag_reasons"] == ["hiring: no delivery this week"]


def test_milestones_silence_greys_only_site_areas() -> None:
    rows = _score(feed_status=f.feed_status(milestones={"delivered": False}))
    assert rows["data_centers"]["rag"] == "grey"
    assert rows["program"]["rag"] == "grey"
    assert rows["data_centers"]["rag_reasons"][0] == "milestones: no delivery this week"
    assert rows["compute_hardware"]["rag"] == "green"
    assert rows["ai_software"]["rag"] == "amber"


def test_repeated_delivery_counts_as_delivered() -> None:
    rows = _score(
        feed_status=f.feed_status(
            fx_rates={"delivered": True, "files_received": 1, "duplicates_skipped": 1}
        )
    )
    assert rows["compute_hardware"]["rag"] == "green"


def test_missing_feed_status_is_grey() -> None:
    status = f.feed_status()
    del status["fx_rates"]
    rows = _score(feed_status=status)
    assert rows["compute_hardware"]["rag"] == "grey"
    assert rows["compute_hardware"]["rag_reasons"] == ["fx_rates: no feed status for the week"]


FORECASTS = ("bac_usd", "eac_usd", "vac_usd", "tcpi")


def test_forecasts_of_the_site_areas_from_the_sites_sums() -> None:
    rows = _score()
    # sums over S1 and S2: BAC 2,000 + 200 = 2,200; EV 900 + 90 = 990; AC 950 + 90 = 1,040
    # CPI 990 / 1,040 = 0.9519; EAC 2,200 / 0.9519 = 2,200 x 1,040 / 990 = 2,311.11;
    # VAC 2,200 - 2,311.11 = -111.11; TCPI (2,200 - 990) / (2,200 - 1,040) = 1,210 / 1,160 = 1.0431
    for area in ("data_centers", "program"):
        r = rows[area]
        assert r["bac_usd"] == pytest.approx(2200.0), area
        assert r["eac_usd"] == pytest.approx(2200 * 1040 / 990), area
        assert r["vac_usd"] == pytest.approx(2200 - 2200 * 1040 / 990), area
        assert r["tcpi"] == pytest.approx(1210 / 1160), area
    for area in ("ai_software", "chip_development", "compute_hardware"):
        assert all(rows[area][m] is None for m in FORECASTS), area


def test_area_forecast_is_not_the_sum_of_site_forecasts() -> None:
    sites = pa.Table.from_pylist(
        [
            # S1: CPI 400 / 500 = 0.8, its own EAC 1,000 / 0.8 = 1,250
            {"site_id": "S1", "bac_usd": 1000.0, "ev_usd": 400.0, "pv_usd": 400.0, "ac_usd": 500.0},
            # S2: no PO lines yet (AC 0), no EAC of its own
            {"site_id": "S2", "bac_usd": 600.0, "ev_usd": 300.0, "pv_usd": 300.0, "ac_usd": 0.0},
        ]
    )
    r = _score(sites)["data_centers"]
    # area: BAC 1,600, EV 700, AC 500 -> CPI 1.4; EAC 1,600 / 1.4 = 1,142.86 (not 1,250 + nothing);
    # VAC 1,600 - 1,142.86 = 457.14; TCPI (1,600 - 700) / (1,600 - 500) = 900 / 1,100 = 0.8182
    assert r["cpi"] == pytest.approx(1.4)
    assert r["bac_usd"] == pytest.approx(1600.0)
    assert r["eac_usd"] == pytest.approx(1600 / 1.4)
    assert r["vac_usd"] == pytest.approx(1600 - 1600 / 1.4)
    assert r["tcpi"] == pytest.approx(900 / 1100)


def test_area_forecast_nulls() -> None:
    # the sites have spent their whole budget: BAC 1,000 = AC 1,000 -> TCPI null; EV 500 ->
    # CPI 0.5, EAC 1,000 / 0.5 = 2,000, VAC -1,000
    spent = pa.Table.from_pylist(
        [{"site_id": "S1", "bac_usd": 1000.0, "ev_usd": 500.0, "pv_usd": 500.0, "ac_usd": 1000.0}]
    )
    r = _score(spent)["program"]
    assert r["tcpi"] is None
    assert (r["eac_usd"], r["vac_usd"]) == pytest.approx((2000.0, -1000.0))
    # nothing earned yet, money spent: CPI 0 -> EAC and VAC null; TCPI 1,000 / (1,000 - 200)
    unearned = pa.Table.from_pylist(
        [{"site_id": "S1", "bac_usd": 1000.0, "ev_usd": 0.0, "pv_usd": 100.0, "ac_usd": 200.0}]
    )
    r = _score(unearned)["data_centers"]
    assert r["cpi"] == 0.0
    assert (r["eac_usd"], r["vac_usd"]) == (None, None)
    assert r["tcpi"] == pytest.approx(1.25)
    # no site has reported: BAC is a sum over no sites, 0; CPI null, so no EAC; 0 - 0 <= 0: no TCPI
    none = pa.Table.from_pylist(
        [], schema=pa.schema([(c, pa.float64()) for c in ("bac_usd", "ev_usd", "pv_usd", "ac_usd")])
    )
    r = _score(none)["program"]
    assert r["bac_usd"] == 0.0
    assert (r["eac_usd"], r["vac_usd"], r["tcpi"]) == (None, None, None)


def test_forecasts_are_not_rated() -> None:
    # A hundred times the budget moves every forecast but neither SPI nor CPI: no area changes
    # colour or reasons.
    big = pa.Table.from_pylist([{**r, "bac_usd": r["bac_usd"] * 100} for r in SITES.to_pylist()])
    base, scaled = _score(), _score(big)
    assert scaled["data_centers"]["bac_usd"] == pytest.approx(220_000.0)
    assert scaled["data_centers"]["tcpi"] != pytest.approx(base["data_centers"]["tcpi"])
    for area in base:
        assert (scaled[area]["rag"], scaled[area]["rag_reasons"]) == (
            base[area]["rag"],
            base[area]["rag_reasons"],
        ), area


def test_forecast_priors_are_last_weeks_published_values() -> None:
    prior = pd.DataFrame(
        [
            {
                "week": "2026-W47",
                "area": "data_centers",
                "bac_usd": 2100.0,
                "eac_usd": 2500.0,
                "vac_usd": -400.0,
                "tcpi": None,
            },
            # a row published before the forecast columns existed: no value, null prior
            {"week": "2026-W47", "area": "program"},
        ]
    )
    rows = _score(prior={"program_scorecard": prior})
    dc = rows["data_centers"]
    assert (dc["bac_usd_prior"], dc["eac_usd_prior"], dc["vac_usd_prior"]) == (
        2100.0,
        2500.0,
        -400.0,
    )
    assert dc["tcpi_prior"] is None  # last week's tcpi was null
    assert all(rows["program"][f"{m}_prior"] is None for m in FORECASTS)
    assert all(rows["ai_software"][f"{m}_prior"] is None for m in FORECASTS)  # no row last week
