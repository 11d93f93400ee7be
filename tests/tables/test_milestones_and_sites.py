"""milestone_status_weekly and site_progress_weekly on hand-made site reports."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from buildout_tracker.tables import milestone_status_weekly, site_progress_weekly

from . import factory as f

# Status date 2026-11-29.
BASELINES = [
    "2026-03-01",
    "2026-05-01",
    "2026-07-01",
    "2026-09-01",
    "2026-11-01",
    "2027-01-01",
    "2027-03-01",
    "2027-05-01",
]
WEIGHTS = [0.05, 0.05, 0.1, 0.2, 0.2, 0.1, 0.2, 0.1]


def _inputs(**kw):  # type: ignore[no-untyped-def]
    s1 = f.site_report(
        "S1",
        "2026-11-28",
        {
            "LAND_ACQUIRED": {
                "status": "complete",
                "actual_date": "2026-02-25",
            },  # slip -4: complete
            "PERMITS_ISSUED": {
                "status": "complete",
                "actual_date": "2026-05-03",
            },  # slip 2: complete_late
            "GROUNDBREAKING": {
                "status": "complete",
                "actual_date": "2026-07-01",
            },  # slip 0: complete
            # forecast 10-01 is before the status date: late, although slip 30 alone is at_risk
            "SHELL_COMPLETE": {
                "status": "in_progress",
                "forecast_date": "2026-10-01",
                "percent_complete": 90.0,
            },
            "POWER_ENERGIZED": {
                "status": "in_progress",
                "forecast_date": "2026-12-01",
                "percent_complete": 50.0,
            },  # slip 30: at_risk
            "COOLING_COMMISSIONED": {"forecast_date": "2027-02-01"},  # slip 31: late
            "IT_FITOUT_COMPLETE": {"forecast_date": "2027-03-01"},  # slip 0: on_track
            "GO_LIVE": {"forecast_date": "2027-04-20"},  # slip -11: on_track
        },
    )
    # S2: no plan (no baselines); power complete; GO_LIVE forecast in the past; stale.
    s2 = f.site_report(
        "S2",
        "2026-11-08",
        {code: {"status": "complete", "actual_date": "2026-10-01"} for code in f.MILESTONES[:7]}
        | {
            "GO_LIVE": {
                "status": "in_progress",
                "forecast_date": "2026-11-01",
                "percent_complete": 40.0,
            }
        },
        stale=True,
    )
    # S3: all complete, GO_LIVE on 2026-11-20.
    s3 = f.site_report(
        "S3",
        "2026-11-27",
        {code: {"status": "complete", "actual_date": "2026-11-20"} for code in f.MILESTONES},
    )
    po = f.po_lines(
        # S1: received 5 x 80,000 = 400,000 USD
        {
            "workstream": "data_centers",
            "category": "construction",
            "site_id": "S1",
            "quantity": 10,
            "unit_price": 80_000,
            "received_qty": 5,
            "last_receipt_date": "2026-11-01",
        },
        {
            "workstream": "data_centers",
            "category": "construction",
            "site_id": "S1",
            "quantity": 10,
            "unit_price": 80_000,
            "received_qty": 5,
            "last_receipt_date": "2026-11-01",
            "status": "cancelled",
        },
        # S3: 1 x 250,000 received
        {
            "workstream": "data_centers",
            "category": "cooling",
            "site_id": "S3",
            "quantity": 1,
            "unit_price": 250_000,
            "received_qty": 1,
            "last_receipt_date": "2026-11-01",
        },
    )
    return f.make_inputs(
        sites=f.sites(
            {"site_id": "S1", "budget_usd": 1_000_000.0, "planned_mw": 10.0},
            {"site_id": "S2", "planned_mw": 20.0, "region": "emea", "country": "NO"},
            {"site_id": "S3", "budget_usd": 500_000.0, "planned_mw": 5.0},
            {"site_id": "S4"},  # never reported: no rows
        ),
        milestone_plan=f.concat(
            f.milestone_plan("S1", BASELINES, WEIGHTS), f.milestone_plan("S3", BASELINES, WEIGHTS)
        ),
        milestones=f.concat(s1, s2, s3),
        po_lines=po,
        **kw,
    )


def test_milestone_slip_and_health() -> None:
    rows = milestone_status_weekly.compute(_inputs()).to_pylist()
    s1 = {r["milestone_code"]: r for r in rows if r["site_id"] == "S1"}
    assert [(s1[c]["slip_days"], s1[c]["health"]) for c in f.MILESTONES] == [
        (-4, "complete"),
        (2, "complete_late"),
        (0, "complete"),
        (30, "late"),
        (30, "at_risk"),
        (31, "late"),
        (0, "on_track"),
        (-11, "on_track"),
    ]
    assert [s1[c]["milestone_seq"] for c in f.MILESTONES] == list(range(1, 9))
    assert s1["LAND_ACQUIRED"]["baseline_date"] == dt.date(2026, 3, 1)
    assert s1["GO_LIVE"]["report_status_date"] == dt.date(2026, 11, 28)
    assert s1["GO_LIVE"]["status_date"] == dt.date(2026, 11, 29)
    assert not s1["GO_LIVE"]["stale"]


def test_unknown_slip_without_baseline() -> None:
    rows = milestone_status_weekly.compute(_inputs()).to_pylist()
    s2 = {r["milestone_code"]: r for r in rows if r["site_id"] == "S2"}
    assert s2["LAND_ACQUIRED"]["slip_days"] is None
    assert s2["LAND_ACQUIRED"]["health"] is None  # complete, lateness unknown: no guess
    assert s2["GO_LIVE"]["health"] == "late"  # forecast 11-01 before the status date: late anyway
    assert all(r["stale"] for r in s2.values())
    assert s2["GO_LIVE"]["report_status_date"] == dt.date(2026, 11, 8)


def test_rows_only_for_reported_register_sites_sorted() -> None:
    t = milestone_status_weekly.compute(_inputs())
    keys = [(r["site_id"], r["milestone_seq"]) for r in t.to_pylist()]
    assert keys == [(s, i) for s in ("S1", "S2", "S3") for i in range(1, 9)]
    sp = site_progress_weekly.compute(_inputs())
    assert sp.column("site_id").to_pylist() == ["S1", "S2", "S3"]


def test_site_progress_by_hand() -> None:
    rows = {r["site_id"]: r for r in site_progress_weekly.compute(_inputs()).to_pylist()}
    s1 = rows["S1"]
    # PV: baselines on or before 11-29 are the first five: 0.05+0.05+0.1+0.2+0.2 = 0.6 x 1,000,000
    assert s1["pv_usd"] == pytest.approx(600_000.0)
    # EV: 0.05 + 0.05 + 0.1 + 0.2 x 0.9 + 0.2 x 0.5 = 0.48 x 1,000,000
    assert s1["ev_usd"] == pytest.approx(480_000.0)
    assert s1["ac_usd"] == pytest.approx(400_000.0)  # the cancelled twin is not cost
    assert s1["spi"] == pytest.approx(0.8)  # 480 / 600
    assert s1["cpi"] == pytest.approx(1.2)  # 480 / 400
    assert s1["sv_usd"] == pytest.approx(-120_000.0)
    assert s1["cv_usd"] == pytest.approx(80_000.0)
    assert (s1["energized_mw"], s1["live"]) == (0.0, False)
    assert (s1["next_milestone"], s1["next_milestone_forecast"]) == (
        "SHELL_COMPLETE",
        dt.date(2026, 10, 1),
    )
    assert (s1["go_live_baseline"], s1["go_live_forecast"], s1["go_live_slip_days"]) == (
        dt.date(2027, 5, 1),
        dt.date(2027, 4, 20),
        -11,
    )
    assert s1["bac_usd"] == 1_000_000.0
    # forecasts (docs/data-dictionary.md, "Earned value"): CPI 1.2 ->
    # EAC 1,000,000 / 1.2 = 833,333.33; ETC 833,333.33 - 400,000 = 433,333.33;
    # VAC 1,000,000 - 833,333.33 = 166,666.67 (an underrun);
    # TCPI (1,000,000 - 480,000) / (1,000,000 - 400,000) = 520,000 / 600,000 = 0.8667
    assert s1["eac_usd"] == pytest.approx(833_333.333333)
    assert s1["etc_usd"] == pytest.approx(433_333.333333)
    assert s1["vac_usd"] == pytest.approx(166_666.666667)
    assert s1["tcpi"] == pytest.approx(520 / 600)
    assert s1["go_live_slip_change_days"] is None  # no last week at all


def test_site_progress_nulls_and_completion() -> None:
    rows = {r["site_id"]: r for r in site_progress_weekly.compute(_inputs()).to_pylist()}
    s2 = rows["S2"]
    # no plan: weights 0, PV = EV = 0, AC = 0 -> SPI and CPI null
    assert (s2["pv_usd"], s2["ev_usd"], s2["ac_usd"]) == (0.0, 0.0, 0.0)
    assert s2["spi"] is None and s2["cpi"] is None
    assert s2["energized_mw"] == 20.0  # POWER_ENERGIZED complete
    assert s2["live"] is False and s2["next_milestone"] == "GO_LIVE"
    assert s2["go_live_baseline"] is None and s2["go_live_slip_days"] is None
    assert s2["stale"] is True
    # no PO lines: AC 0, CPI null, so no EAC, ETC or VAC; TCPI (1,000,000 - 0) / (1,000,000 - 0) = 1
    assert (s2["eac_usd"], s2["etc_usd"], s2["vac_usd"]) == (None, None, None)
    assert s2["tcpi"] == pytest.approx(1.0)
    s3 = rows["S3"]
    # all complete: EV = 1.0 x 500,000; PV = 0.6 x 500,000 = 300,000; AC = 250,000
    assert s3["ev_usd"] == pytest.approx(500_000.0)
    assert s3["spi"] == pytest.approx(500 / 300)
    assert s3["cpi"] == pytest.approx(2.0)
    assert (
        s3["live"] is True
        and s3["next_milestone"] is None
        and s3["next_milestone_forecast"] is None
    )
    assert s3["go_live_forecast"] == dt.date(2026, 11, 20)  # the actual date once complete
    assert s3["go_live_slip_days"] == (dt.date(2026, 11, 20) - dt.date(2027, 5, 1)).days  # -162
    assert s3["energized_mw"] == 5.0
    # CPI 2: EAC 500,000 / 2 = 250,000 = AC, so ETC 0 (all work done) and VAC 250,000;
    # TCPI (500,000 - 500,000) / (500,000 - 250,000) = 0
    assert (s3["eac_usd"], s3["etc_usd"], s3["vac_usd"]) == pytest.approx(
        (250_000.0, 0.0, 250_000.0)
    )
    assert s3["tcpi"] == 0.0


def _site_prior(*rows: tuple[str, str, float | None]) -> dict:  # type: ignore[type-arg]
    """Last week's site_progress_weekly as the pipeline hands it over: (week, site, go-live slip)."""
    return {
        "site_progress_weekly": pd.DataFrame(
            [{"week": w, "site_id": s, "go_live_slip_days": v} for w, s, v in rows]
        )
    }


def test_go_live_slip_change_against_last_week() -> None:
    # this week (W48): S1 GO_LIVE slip -11, S2 unknown (no baseline), S3 -162
    prior = _site_prior(("2026-W47", "S1", -20.0), ("2026-W47", "S2", 5.0))
    rows = {r["site_id"]: r for r in site_progress_weekly.compute(_inputs(prior=prior)).to_pylist()}
    assert rows["S1"]["go_live_slip_change_days"] == 9  # -11 - (-20)
    assert rows["S2"]["go_live_slip_change_days"] is None  # unknown this week
    assert rows["S3"]["go_live_slip_change_days"] is None  # no row for S3 last week


def test_go_live_slip_change_null_when_last_week_unknown_or_older() -> None:
    unknown = _site_prior(("2026-W47", "S1", None), ("2026-W47", "S3", -150.0))
    rows = {
        r["site_id"]: r for r in site_progress_weekly.compute(_inputs(prior=unknown)).to_pylist()
    }
    assert rows["S1"]["go_live_slip_change_days"] is None  # last week's slip unknown
    assert rows["S3"]["go_live_slip_change_days"] == -12  # -162 - (-150)
    # W46's rows are not last week's: W47 published nothing, so nothing to compare with
    older = _site_prior(("2026-W46", "S1", -20.0), ("2026-W46", "S3", -150.0))
    t = site_progress_weekly.compute(_inputs(prior=older))
    assert t.column("go_live_slip_change_days").to_pylist() == [None, None, None]


def test_slip_change_against_last_week() -> None:
    prior = pd.DataFrame(
        [
            {"week": "2026-W47", "site_id": "S1", "milestone_code": "GO_LIVE", "slip_days": -20.0},
            {
                "week": "2026-W47",
                "site_id": "S1",
                "milestone_code": "SHELL_COMPLETE",
                "slip_days": None,
            },
        ]
    )
    rows = milestone_status_weekly.compute(
        _inputs(prior={"milestone_status_weekly": prior})
    ).to_pylist()
    s1 = {r["milestone_code"]: r for r in rows if r["site_id"] == "S1"}
    assert s1["GO_LIVE"]["slip_change_days"] == 9  # -11 - (-20)
    assert s1["SHELL_COMPLETE"]["slip_change_days"] is None  # last week unknown
    assert s1["LAND_ACQUIRED"]["slip_change_days"] is None  # no row last week
