"""A blocked or silent feed publishes the week with the areas that depend on it grey,
whatever their numbers. A blocked feed's tables are not published for the week (docs/feeds.md:
"nothing built on it is published for that week"): the manifest names them withheld and why;
a silent feed's tables are published from the state carried forward."""

from __future__ import annotations

from buildout_tracker import pipeline
from buildout_tracker.pipeline import steps
from buildout_tracker.publish import read_published
from tests.ingest import builders as b
from tests.publish import helpers as h

W37, W38 = h.W37, h.W38
ALL_AREAS = {"program", "ai_software", "chip_development", "compute_hardware", "data_centers"}
SITE_AREAS = {"program", "data_centers"}


def scorecard(rt: pipeline.Runtime, week: str) -> dict[str, dict]:  # type: ignore[type-arg]
    card = read_published(rt.lake, week)["program_scorecard"]
    return {
        r["area"]: {**r, "rag_reasons": list(r["rag_reasons"])} for r in card.to_dict("records")
    }


def publish_w37_then(rt: pipeline.Runtime, **w38: object) -> dict[str, dict]:  # type: ignore[type-arg]
    h.deliver(rt.landing, W37)
    h.ingest_and_publish(rt, W37)
    assert {r["rag"] for r in scorecard(rt, W37).values()} - {"green", "amber", "red"} == set(), (
        "W37 has every feed: no area may be grey"
    )
    h.deliver(rt.landing, W38, **w38)  # type: ignore[arg-type]
    h.ingest_and_publish(rt, W38, run_id="run-w38")
    return scorecard(rt, W38)


def test_procurement_blocked_greys_every_area_and_keeps_its_rows_out(
    rt: pipeline.Runtime,
) -> None:
    # 20 of 22 lines change (bigger quantities), 2 break rules: 9 % > 5 %, the week is blocked.
    rows = [
        {**r, "quantity": "20", "net_value": "2000.00"} if r["workstream"] != "data_centers" else r
        for r in h.po_rows(W38)
    ]
    rows[0] = {**rows[0], "po_number": "4.5E+09"}
    rows[1] = {**rows[1], "quantity": "0", "net_value": "0.00"}
    card = publish_w37_then(rt, po=rows)

    assert {a: r["rag"] for a, r in card.items()} == dict.fromkeys(ALL_AREAS, "grey")
    for area, r in card.items():
        assert r["rag_reasons"][0].startswith("procurement blocked"), (area, r["rag_reasons"])
        assert "po_lines_2026-09-15.csv" in r["rag_reasons"][0]
    w37 = read_published(rt.lake, W37)["procurement_weekly"]
    published = read_published(rt.lake, W38)
    assert set(published) == {
        "milestone_status_weekly",
        "hiring_weekly",
        "program_scorecard",
        "data_quality_weekly",
    }
    assert not rt.lake.list("curated/procurement_weekly/week=2026-W38/")
    assert not rt.lake.list("curated/site_progress_weekly/week=2026-W38/")
    manifest = rt.lake.get_json("curated/_manifests/week=2026-W38.json")
    for name in ("procurement_weekly", "site_progress_weekly"):
        entry = manifest["tables"][name]
        assert entry["files"] == [] and entry["withheld"].startswith("procurement blocked"), entry
    # The scorecard's measures come from the state carried from W37: the blocked rows stay out.
    assert card["program"]["committed_usd"] == w37["committed_usd"].sum(), "blocked rows leaked"
    dq = published["data_quality_weekly"]
    delivery = dq[(dq["feed"] == "procurement") & (dq["rule"] == "delivery")].iloc[0]
    assert bool(delivery["blocked"]) and not bool(delivery["success"])
    assert delivery["blocked_reason"].startswith("procurement blocked")


def test_procurement_block_reason_is_not_doubled(rt: pipeline.Runtime) -> None:
    rows = h.po_rows(W38)
    rows[0] = {**rows[0], "po_number": "4.5E+09"}
    rows[1] = {**rows[1], "quantity": "0", "net_value": "0.00"}
    card = publish_w37_then(rt, po=rows)
    reason = card["program"]["rag_reasons"][0]
    assert not reason.startswith("procurement blocked: procurement blocked"), reason


def test_hiring_silent_greys_every_area(rt: pipeline.Runtime) -> None:
    card = publish_w37_then(rt, skip=("hiring",))
    assert {a: r["rag"] for a, r in card.items()} == dict.fromkeys(ALL_AREAS, "grey")
    for r in card.values():
        assert "hiring: no delivery this week" in r["rag_reasons"]
        assert r["rag_reasons"][0] == "hiring: no delivery this week"
    # The last ATS snapshot stays in force: hiring_weekly still has its W37 numbers.
    hw37 = read_published(rt.lake, W37)["hiring_weekly"]
    hw38 = read_published(rt.lake, W38)["hiring_weekly"]
    assert hw38["hires_to_date"].tolist() == hw37["hires_to_date"].tolist()


def test_milestones_blocked_greys_only_data_centers_and_program(rt: pipeline.Runtime) -> None:
    # DC-SG-01 reports seven of its eight milestones: the critical all_eight_milestones rule.
    partial = b"".join(b.milestone_report("DC-SG-01", "2026-09-18", done=3).splitlines(True)[:7])
    reports = {"DC-SG-01": partial, "DC-SG-02": b.milestone_report("DC-SG-02", "2026-09-18")}
    card = publish_w37_then(rt, milestone_reports=reports)

    for area in SITE_AREAS:
        assert card[area]["rag"] == "grey"
        assert card[area]["rag_reasons"][0].startswith("milestones blocked"), card[area]
        assert "all_eight_milestones" in card[area]["rag_reasons"][0]
    for area in ALL_AREAS - SITE_AREAS:
        assert card[area]["rag"] != "grey", (area, card[area]["rag_reasons"])
        assert not [x for x in card[area]["rag_reasons"] if "milestones" in x]
        # Its own measures still rate it; W38's hiring files repeat W37's bytes and count.
        assert card[area]["rag_reasons"] == scorecard(rt, W37)[area]["rag_reasons"]
    hiring = steps.ingest_feed(rt, "hiring", W38)
    assert {f.outcome for f in hiring.files} == {"duplicate"} and hiring.delivered
    published = read_published(rt.lake, W38)
    assert "site_progress_weekly" not in published and "milestone_status_weekly" not in published
    assert len(published["procurement_weekly"]) and len(published["hiring_weekly"])


def test_a_week_published_then_blocked_on_rerun_keeps_its_last_good_tables(
    rt: pipeline.Runtime,
) -> None:
    """A late bad file blocks a week that was already published: its procurement tables are
    not replaced (the last good publication stays as it was, and the manifest still lists
    it, saying which run made it); the scorecard is republished grey."""
    h.deliver(rt.landing, W37)
    h.ingest_and_publish(rt, W37, run_id="run-good")
    good = rt.lake.get_bytes("curated/procurement_weekly/week=2026-W37/part-00000.parquet")
    rows = [{**r, "po_number": "4.5E+09"} for r in h.po_rows(W37)[:5]]
    rt.landing.put_bytes("procurement/2026-09-12/po_lines_late.csv", b.po_lines_csv(rows))
    h.ingest_and_publish(rt, W37, run_id="run-late")
    assert rt.lake.get_bytes("curated/procurement_weekly/week=2026-W37/part-00000.parquet") == good
    entry = rt.lake.get_json("curated/_manifests/week=2026-W37.json")["tables"][
        "procurement_weekly"
    ]
    assert (
        entry["kept_from_run"] == "run-good"
        and entry["files"]
        and "po_lines_late.csv" in entry["withheld"]
    )
    assert read_published(rt.lake, W37)["program_scorecard"]["rag"].eq("grey").all()
