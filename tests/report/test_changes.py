"""What changed: the pure summary of two small published weeks (tests/report/scenario.py has
every number worked out by hand)."""

from __future__ import annotations

import json

import pytest

from buildout_tracker.lake import json_bytes
from buildout_tracker.report.changes import SCHEMA, what_changed
from buildout_tracker.report.history import History, history_from_tables
from tests.report import scenario as sc


def history(weeks: tuple[str, ...] = (sc.W47, sc.W48), week: str = sc.W48) -> History:
    return history_from_tables(
        week, {w: sc.tables(w) for w in weeks}, {w: sc.compact(w) for w in weeks}
    )


@pytest.fixture(scope="module")
def summary() -> dict:
    return what_changed(history())


def area(summary: dict, name: str) -> dict:
    return next(a for a in summary["areas"] if a["area"] == name)


def test_the_week_and_its_publication(summary: dict) -> None:
    assert summary["schema"] == SCHEMA
    assert (summary["week"], summary["status_date"]) == ("2026-W48", "2026-11-29")
    assert summary["previous_week"] == "2026-W47" and summary["previous_week_published"]
    assert summary["run_id"] == "test-run"
    assert summary["manifest"] == "curated/_manifests/week=2026-W48.json"
    assert [a["area"] for a in summary["areas"]] == [
        "program", "ai_software", "chip_development", "compute_hardware", "data_centers"
    ]  # fmt: skip


def test_a_rule_that_turned_red_with_its_role_families(summary: dict) -> None:
    chip = area(summary, "chip_development")
    assert (chip["rag"], chip["rag_prior"], chip["rag_changed"]) == ("red", "amber", True)
    assert chip["rule_changes"] == [
        {"rule": "hiring_attainment", "from": "amber", "to": "red", "value": 0.818182,
         "prior": 0.86, "drivers": "hiring_attainment"}
    ]  # fmt: skip
    # (dH - 0.86 dP) / 55: chip_design (1 - 3.44) / 55, ml_engineering (1 - 0.86) / 55
    assert chip["drivers"]["hiring_attainment"] == [
        {"workstream": "chip_development", "role_family": "chip_design", "hires_change": 1,
         "plan_change": 4.0, "contribution": pytest.approx(-2.44 / 55, abs=1e-9)},
        {"workstream": "chip_development", "role_family": "ml_engineering", "hires_change": 1,
         "plan_change": 1.0, "contribution": pytest.approx(0.14 / 55, abs=1e-9)},
    ]  # fmt: skip
    total = sum(d["contribution"] for d in chip["drivers"]["hiring_attainment"])
    assert total == pytest.approx(45 / 55 - 0.86, abs=1e-8)  # the contributions add up
    assert chip["sentence"] == (
        "chip_development turned red (was amber): hiring_attainment red at 0.82 (was 0.86, "
        "amber) — role families chip_design (chip_development) -0.0444 (+1 hires against +4.0 "
        "planned), ml_engineering (chip_development) +0.0025 (+1 hires against +1.0 planned)."
    )
    measures = {m["measure"]: m for m in chip["measures"]}
    assert measures["hiring_attainment"]["change"] == pytest.approx(45 / 55 - 0.86, abs=1e-6)
    assert "spi" not in measures  # no sites: no earned value for a workstream without sites


def test_on_time_delivery_moved_by_categories(summary: dict) -> None:
    hw = area(summary, "compute_hardware")
    assert [(c["rule"], c["from"], c["to"]) for c in hw["rule_changes"]] == [
        ("otd_rate", "green", "amber")
    ]
    otd = hw["drivers"]["otd_rate"]
    assert [(d["category"], d["on_time_change"], d["fully_received_change"]) for d in otd] == [
        ("gpu_accelerators", 5, 15),
        ("servers", 9, 10),
    ]
    assert otd[0]["contribution"] == pytest.approx(-8.65 / 225, abs=1e-9)
    assert otd[1]["contribution"] == pytest.approx(-0.1 / 225, abs=1e-9)
    assert [(d["category"], d["contribution"]) for d in hw["drivers"]["committed_usd"]] == [
        ("gpu_accelerators", 100.0),
        ("servers", -50.0),
    ]  # largest change first, whatever its sign
    assert [(d["category"], d["contribution"]) for d in hw["drivers"]["received_usd"]] == [
        ("gpu_accelerators", 50.0)
    ]  # servers received nothing more: not a driver
    assert hw["sentence"] == (
        "compute_hardware turned amber (was green): otd_rate amber at 0.87 (was 0.91, green) — "
        "categories compute_hardware/gpu_accelerators -0.0384 (+5 on time of +15 received in "
        "full), compute_hardware/servers -0.0004 (+9 on time of +10 received in full)."
    )


def test_schedule_cost_and_eac_moved_by_sites(summary: dict) -> None:
    prog = area(summary, "program")
    assert (prog["rag"], prog["rag_prior"]) == ("red", "amber")
    assert [(c["rule"], c["from"], c["to"]) for c in prog["rule_changes"]] == [
        ("spi", "green", "amber"),
        ("cpi", "green", "amber"),
        ("hiring_attainment", "amber", "red"),
        ("otd_rate", "green", "amber"),
    ]
    d = prog["drivers"]
    # SPI: (dEV - 0.96 dPV) / 220; CPI: (dEV - 1.0 dAC) / 224.6 (S1 moved neither EV nor AC)
    assert [(x["site_id"], x["contribution"]) for x in d["spi"]] == [
        (sc.S1, pytest.approx(-9.6 / 220, abs=1e-9)),
        (sc.S2, pytest.approx(3 / 220, abs=1e-9)),
    ]
    assert [(x["site_id"], x["contribution"]) for x in d["cpi"]] == [
        (sc.S2, pytest.approx(-20 / 224.6, abs=1e-9))
    ]
    assert d["spi"][0] | {"contribution": 0} == {
        "site_id": sc.S1, "site_name": "Alpha Campus A", "ev_change_usd": 0.0,
        "pv_change_usd": 10.0, "ac_change_usd": 0.0, "go_live_slip_change_days": 30,
        "contribution": 0,
    }  # fmt: skip
    # EAC = BAC x AC / EV: 2000 -> 2195.50, all of it S2's
    assert [(x["site_id"], x["contribution"]) for x in d["eac_usd"]] == [(sc.S2, 195.5)]
    assert [(x["site_id"], x["contribution"]) for x in d["go_live_slip_days"]] == [(sc.S1, 30)]
    assert summary["forecast"]["change"] == pytest.approx(2000 * 224.6 / 204.6 - 2000, abs=0.01)
    assert summary["forecast"]["sentence"] == (
        "Program EAC $2.2K, +$196 since last week (BAC $2.0K, VAC -$196) — sites DC-BB-01 +$196 "
        "(EV +$13, AC +$33)."
    )
    assert area(summary, "data_centers")["drivers"]["spi"] == d["spi"]


def test_an_area_that_did_not_move_says_nothing(summary: dict) -> None:
    ai = area(summary, "ai_software")
    assert (ai["rag"], ai["rag_prior"], ai["rag_changed"]) == ("green", "green", False)
    assert ai["rule_changes"] == [] and ai["sentence"] is None


def test_milestones_that_turned_late_or_at_risk(summary: dict) -> None:
    got = [(m["site_id"], m["milestone_code"], m["health_prior"], m["health"], m["slip_days"])
           for m in summary["milestones"]]  # fmt: skip
    assert got == [
        (sc.S1, "GO_LIVE", "at_risk", "late", 40),  # late first
        (sc.S1, "SHELL_COMPLETE", "on_track", "at_risk", 12),
    ]
    assert summary["milestones"][0]["sentence"] == (
        "DC-AA-01 Alpha Campus A: GO_LIVE turned late, forecast 2027-07-11 is 40 days after "
        "its baseline 2027-06-01 (was at_risk, 10 days)."
    )


def test_a_site_that_went_stale(summary: dict) -> None:
    assert summary["stale_sites"] == [
        {"site_id": sc.S2, "site_name": "Beta Campus A", "report_status_date": "2026-11-15",
         "sentence": "DC-BB-01 Beta Campus A went stale: no report this week; its figures are "
         "carried from its report of 2026-11-15."}
    ]  # fmt: skip


def test_feeds_blocked_and_late(summary: dict) -> None:
    assert [(f["feed"], f["problem"]) for f in summary["feeds"]] == [
        ("reference", "blocked"),
        ("procurement", "late"),
    ]
    blocked, late = summary["feeds"]
    assert blocked["sentence"] == "reference blocked: sites.csv: required:site_id."
    assert late["files"] == ["procurement/2026-11-20/po_lines_late.csv"]
    assert late["sentence"] == (
        "procurement: 1 file(s) delivered for 2026-W47 landed after that week ran and were "
        "taken this week: procurement/2026-11-20/po_lines_late.csv."
    )
    dq = {r["feed"]: r for r in summary["data_quality"]}
    assert dq["reference"]["blocked"] and dq["reference"]["share_refused"] == 0.07
    assert dq["procurement"]["files_taken_late"] == 1
    assert dq["hiring"]["files_taken_late"] == 0 and dq["hiring"]["delivered"]


def test_a_silent_feed_is_named_and_the_reference_is_not() -> None:
    h = history()
    dq = h.manifests[sc.W48]["data_quality"]
    dq["milestones"] = {**dq["milestones"], "delivered": False, "files_received": 0}
    h.parts["delivery"] = h.parts["delivery"][h.parts["delivery"]["feed"] != "milestones"]
    h._by_week.clear()
    feeds = what_changed(h)["feeds"]
    silent = [f for f in feeds if f["problem"] == "silent"]
    assert [f["feed"] for f in silent] == ["milestones"]
    assert silent[0]["sentence"] == (
        "milestones silent: no delivery this week; its tables carry the state in force and "
        "areas program and data_centers are grey."
    )


def test_sentences_in_order(summary: dict) -> None:
    assert summary["sentences"] == [
        area(summary, "program")["sentence"],
        area(summary, "chip_development")["sentence"],
        area(summary, "compute_hardware")["sentence"],
        area(summary, "data_centers")["sentence"],
        summary["forecast"]["sentence"],
        *(m["sentence"] for m in summary["milestones"]),
        *(s["sentence"] for s in summary["stale_sites"]),
        *(f["sentence"] for f in summary["feeds"]),
    ]


def test_no_comparison_when_last_week_was_not_published() -> None:
    s = what_changed(history(weeks=(sc.W48,)))
    assert s["previous_week_published"] is False
    for a in s["areas"]:
        assert a["rag_prior"] is None and a["rule_changes"] == [] and a["drivers"] == {}
        assert all(m["prior"] is None and m["change"] is None for m in a["measures"])
    assert s["milestones"] == [] and s["stale_sites"] == []
    assert s["sentences"] == [f["sentence"] for f in s["feeds"]]


def test_an_older_week_is_not_last_week() -> None:
    """W46 published, W47 not: W48 compares with nothing (the previous ISO week only)."""
    w46 = "2026-W46"
    tables = {w46: sc.tables(sc.W47), sc.W48: sc.tables(sc.W48)}
    manifests = {w46: {**sc.compact(sc.W47), "week": w46}, sc.W48: sc.compact(sc.W48)}
    s = what_changed(history_from_tables(sc.W48, tables, manifests))
    assert s["previous_week_published"] is False
    assert all(a["rag_prior"] is None for a in s["areas"])


def test_deterministic_and_without_personal_data(summary: dict) -> None:
    again = what_changed(history())
    assert json_bytes(again) == json_bytes(summary)
    text = json.dumps(summary)
    for word in ("@", "candidate", "reported_by", "notes"):
        assert word not in text


def test_columns_not_published_yet_are_read_as_null() -> None:
    """Weeks published before the forecast columns existed: no EAC, nothing breaks."""
    old = {}
    for w in (sc.W47, sc.W48):
        t = dict(sc.tables(w))
        t["program_scorecard"] = t["program_scorecard"].drop_columns(
            ["bac_usd", "eac_usd", "vac_usd", "tcpi"]
        )
        t["site_progress_weekly"] = t["site_progress_weekly"].drop_columns(["eac_usd", "vac_usd"])
        old[w] = t
    h = history_from_tables(sc.W48, old, {w: sc.compact(w) for w in old})
    s = what_changed(h)
    prog = area(s, "program")
    measures = {m["measure"]: m for m in prog["measures"]}
    assert measures["eac_usd"]["value"] is None and s["forecast"] is None
    assert [c["rule"] for c in prog["rule_changes"]] == [
        "spi", "cpi", "hiring_attainment", "otd_rate"
    ]  # fmt: skip


def test_the_digest_for_the_alert_channel(summary: dict) -> None:
    from buildout_tracker.report.changes import digest

    text = digest(summary, limit=2)
    lines = text.splitlines()
    assert lines[0] == (
        "2026-W48: program red (was amber): 4 area(s) changed colour; 2 milestone(s) turned "
        "late or at risk; 1 site(s) went stale; 2 feed problem(s)."
    )
    assert lines[1:3] == [f"- {s}" for s in summary["sentences"][:2]]
    assert lines[3] == f"- and {len(summary['sentences']) - 2} more in the report"
