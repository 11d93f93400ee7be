"""Three weeks in a row, each fed the previous week's output as `prior`, as the pipeline does."""

from __future__ import annotations

import pytest

from buildout_tracker.tables import compute_all
from buildout_tracker.tables.audit import audit_week

from . import factory as f

SERVERS = {"workstream": "compute_hardware", "category": "servers", "received_qty": 0}


def _week(week: str, servers_qty: float, go_live_forecast: str, land: bool, prior):  # type: ignore[no-untyped-def]
    lines = [{**SERVERS, "quantity": servers_qty, "unit_price": 100.0}]
    if land:
        lines.append(
            {
                "workstream": "data_centers",
                "category": "land",
                "site_id": "S1",
                "quantity": 1,
                "unit_price": 700.0,
                "po_number": "0000000077",
            }
        )
    return f.make_inputs(
        week,
        po_lines=f.po_lines(*lines),
        sites=f.sites({"site_id": "S1"}),
        milestone_plan=f.milestone_plan("S1", ["2027-05-01"] * 8, [0.125] * 8),
        milestones=f.site_report(
            "S1", "2026-11-20", {"GO_LIVE": {"forecast_date": go_live_forecast}}
        ),
        budget_plan=f.budget_plan(("compute_hardware", "2026-Q4", 92_000.0)),
        prior=prior or {},
    )


def test_three_weeks() -> None:
    # W47 (status 11-22): servers 10 x 100 = 1000; GO_LIVE forecast 05-11 vs baseline 05-01: slip 10
    w47_in = _week("2026-W47", 10, "2027-05-11", land=False, prior=None)
    w47 = compute_all(w47_in)
    # W48: servers 15 x 100 = 1500; slip 20
    w48_in = _week("2026-W48", 15, "2027-05-21", land=False, prior=f.as_prior(w47))
    w48 = compute_all(w48_in)
    # W49: servers 12 x 100 = 1200; a new key data_centers/land 700; slip 5
    w49_in = _week("2026-W49", 12, "2027-05-06", land=True, prior=f.as_prior(w48))
    w49 = compute_all(w49_in)

    def proc(t):  # type: ignore[no-untyped-def]
        return {
            (r["workstream"], r["category"]): r["committed_change_usd"]
            for r in t["procurement_weekly"].to_pylist()
        }

    assert proc(w47) == {("compute_hardware", "servers"): None}
    assert proc(w48) == {("compute_hardware", "servers"): pytest.approx(500.0)}  # 1500 - 1000
    assert proc(w49) == {
        ("compute_hardware", "servers"): pytest.approx(-300.0),  # 1200 - 1500
        ("data_centers", "land"): None,  # no row last week
    }

    def go_live(t):  # type: ignore[no-untyped-def]
        r = next(
            r for r in t["milestone_status_weekly"].to_pylist() if r["milestone_code"] == "GO_LIVE"
        )
        return r["slip_days"], r["slip_change_days"]

    assert go_live(w47) == (10, None)
    assert go_live(w48) == (20, 10)
    assert go_live(w49) == (5, -15)

    def site(t):  # type: ignore[no-untyped-def]
        (r,) = t["site_progress_weekly"].to_pylist()
        return r["go_live_slip_days"], r["go_live_slip_change_days"]

    # the site's go-live slip changes as its GO_LIVE milestone's does: 10, 20 (+10), 5 (-15)
    assert [site(w) for w in (w47, w48, w49)] == [(10, None), (20, 10), (5, -15)]

    def card(t):  # type: ignore[no-untyped-def]
        return {r["area"]: r for r in t["program_scorecard"].to_pylist()}

    ch47, ch48, ch49 = (
        card(w47)["compute_hardware"],
        card(w48)["compute_hardware"],
        card(w49)["compute_hardware"],
    )
    assert ch47["committed_usd_prior"] is None and ch47["rag_prior"] is None
    assert ch48["committed_usd_prior"] == pytest.approx(1000.0)
    assert ch49["committed_usd_prior"] == pytest.approx(1500.0)
    # budget to date: 92,000 x days elapsed / 92 = 1,000 a day of Q4;
    # W47 status 11-22 = day 31 + 22 = 53 -> 53,000; W48 (11-29) 60,000
    assert ch47["budget_to_date_usd"] == pytest.approx(53_000.0)
    assert ch48["budget_to_date_usd_prior"] == pytest.approx(53_000.0)
    assert ch49["budget_to_date_usd_prior"] == pytest.approx(60_000.0)
    assert ch49["rag_prior"] == ch48["rag"]
    assert ch48["spend_pace_prior"] == ch47["spend_pace"]  # both 0 (nothing received)
    # S1 (budget 1,000,000): nothing received, nothing earned -> BAC 1,000,000, CPI null so no
    # EAC or VAC, TCPI (1,000,000 - 0) / (1,000,000 - 0) = 1; each week carries last week's
    dc47, dc48 = card(w47)["data_centers"], card(w48)["data_centers"]
    assert (dc47["bac_usd"], dc47["eac_usd"], dc47["vac_usd"], dc47["tcpi"]) == (
        1_000_000.0,
        None,
        None,
        1.0,
    )
    assert dc47["bac_usd_prior"] is None and dc47["tcpi_prior"] is None
    assert (dc48["bac_usd_prior"], dc48["eac_usd_prior"], dc48["tcpi_prior"]) == (
        1_000_000.0,
        None,
        1.0,
    )

    for inputs, tables in ((w47_in, w47), (w48_in, w48), (w49_in, w49)):
        assert audit_week(tables, inputs) == []


def test_a_gap_week_is_not_last_week() -> None:
    w47 = compute_all(_week("2026-W47", 10, "2027-05-11", land=False, prior=None))
    # W49 handed W47's tables: W48 published nothing, so there is no "last week" value
    w49 = compute_all(_week("2026-W49", 12, "2027-05-06", land=False, prior=f.as_prior(w47)))
    assert w49["procurement_weekly"].column("committed_change_usd").to_pylist() == [None]
    assert {r["committed_usd_prior"] for r in w49["program_scorecard"].to_pylist()} == {None}
    assert {r["bac_usd_prior"] for r in w49["program_scorecard"].to_pylist()} == {None}
    # W47's go-live slip (10) is not last week's for W49: no change
    assert w49["site_progress_weekly"].column("go_live_slip_change_days").to_pylist() == [None]
