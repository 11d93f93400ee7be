"""Great Expectations results are each file's own, against the real local S3 server: a
clean file is never marked failed for another file's rows, a site reported in two files
passes `all_eight_milestones` in each, and a passing group's result is recounted per file."""

from __future__ import annotations

import pytest

from buildout_tracker import pipeline, zones
from buildout_tracker.pipeline import steps
from tests.ingest import builders as b
from tests.ingest.steps import seed_reference

W37 = "2026-W37"  # Monday 2026-09-07


def _milestones(rt: pipeline.Runtime, week: str):  # type: ignore[no-untyped-def]
    steps.ingest_feed(rt, "reference", week)
    return steps.ingest_feed(rt, "milestones", week)


def test_gx_results_are_each_files_own(
    rt: pipeline.Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GX ran once per file kind and every file of the group recorded the group's outcome:
    clean files were gx_success=False when another failed, and a site reported in two files
    failed the grouped `all_eight_milestones` although each file passed it."""
    monkeypatch.setenv("BUILDOUT_QUARANTINE_THRESHOLD_MILESTONES", "0.9")
    seed_reference(rt.landing)
    rt.landing.put_bytes(
        "milestones/2026-09-09/DC-SG-01.jsonl", b.milestone_report("DC-SG-01", "2026-09-09")
    )
    rt.landing.put_bytes(  # the same site again, two days later: each file has its eight
        "milestones/2026-09-11/DC-SG-01.jsonl", b.milestone_report("DC-SG-01", "2026-09-11", 3)
    )
    rt.landing.put_bytes(
        "milestones/2026-09-11/DC-SG-02.jsonl", b.milestone_report("DC-SG-02", "2026-09-11")
    )
    bad = {"GO_LIVE": {"percent_complete": 140}}  # percent_in_range fails in GX too
    rt.landing.put_bytes(
        "milestones/2026-09-11/DC-SG-02_bad.jsonl",
        b.milestone_report("DC-SG-02", "2026-09-10", **bad),
    )
    report = _milestones(rt, W37)
    by = {f.key.split("/", 1)[1]: f for f in report.files}
    assert {k: f.gx_success for k, f in by.items()} == {
        "2026-09-09/DC-SG-01.jsonl": True,
        "2026-09-11/DC-SG-01.jsonl": True,
        "2026-09-11/DC-SG-02.jsonl": True,
        "2026-09-11/DC-SG-02_bad.jsonl": False,
    }
    stored = {o.key for o in rt.lake.list(f"reports/validation/milestones/week={W37}/")}
    assert stored == {zones.validation_result("milestones", W37, f.fid) for f in report.files}
    for f in report.files:
        saved = rt.lake.get_json(zones.validation_result("milestones", W37, f.fid))
        assert saved["files"] == [f.key] and saved["result"]["meta"]["file_key"] == f.key
        assert saved["result"]["success"] is f.gx_success
        counts = {r["result"].get("element_count") for r in saved["result"]["results"]}
        assert 8 in counts and not counts - set(range(9)), "counted on the file's 8 rows"
    failed = rt.lake.get_json(
        zones.validation_result("milestones", W37, by["2026-09-11/DC-SG-02_bad.jsonl"].fid)
    )
    rules = {
        r["expectation_config"]["meta"]["rule"]
        for r in failed["result"]["results"]
        if not r["success"]
    }
    assert rules == {"percent_in_range", "percent_below_100_while_incomplete"}


def test_all_clean_files_of_a_kind_get_their_own_counts(rt: pipeline.Runtime) -> None:
    """Validated together once (GX's fixed cost), each clean file's result is recounted on
    its own rows: the same result GX gives the file alone."""
    from buildout_tracker.feeds import GxValidator, RuleContext, parse_file
    from buildout_tracker.feeds.hiring import REQUISITIONS
    from buildout_tracker.weeks import status_date

    files = {
        "hiring/2026-09-09/requisitions_1.csv": b.requisitions_csv(
            [{"req_id": "R-1"}, {"req_id": "R-2", "status": "filled", "closed_date": "2026-09-01"}]
        ),
        "hiring/2026-09-09/requisitions_2.csv": b.requisitions_csv(
            [{"req_id": "R-3", "team": "", "level": ""}]
        ),
    }
    ctx = RuleContext(W37, status_date(W37))
    frames = [(k, parse_file(REQUISITIONS, k, v, b"k").frame) for k, v in files.items()]
    gx = GxValidator()
    together = gx.validate_files(REQUISITIONS, frames, ctx)
    alone = [gx.validate(REQUISITIONS, f, k, ctx) for k, f in frames]
    assert gx._runs == 3, "one run for the two files together, one for each alone"
    for t, a in zip(together, alone, strict=True):
        assert t.file_key == a.file_key and t.success and a.success
        assert t.element_count == a.element_count
        assert [r["result"] for r in t.results["results"]] == [
            r["result"] for r in a.results["results"]
        ]


def _comparable(result: dict) -> dict:  # type: ignore[type-arg]
    """A stored result without what names its run (the run's and the batch's times)."""
    meta = {k: v for k, v in result["meta"].items() if k not in ("run_id", "validation_time")}
    meta["batch_markers"] = {k: v for k, v in meta["batch_markers"].items() if k != "ge_load_time"}
    return {**result, "meta": meta}


def test_a_failing_group_is_split_and_every_file_gets_what_it_gets_alone() -> None:
    """Eight site reports, two bad: validated together, the group fails; GX's complete
    result names the files holding the unexpected rows, which are validated alone, and the
    others together again; every file's result (success, failed rules, counts, the
    whole stored result but its run time) is the one GX gives that file alone, in fewer
    validations than one per file plus one."""
    from buildout_tracker.feeds import GxValidator, RuleContext, parse_file
    from buildout_tracker.feeds.milestones import MILESTONES
    from buildout_tracker.weeks import status_date

    sites = [f"DC-SG-0{i}" for i in range(1, 9)]
    files = {}
    for i, site in enumerate(sites):
        over = {"GO_LIVE": {"percent_complete": 140}} if i in (2, 7) else {}
        files[f"milestones/2026-09-11/{site}.jsonl"] = b.milestone_report(
            site, "2026-09-11", **over
        )
    ctx = RuleContext(W37, status_date(W37), known_site_ids=frozenset(sites))
    frames = [(k, parse_file(MILESTONES, k, v, b"k").frame) for k, v in files.items()]
    grouped = GxValidator()
    together = grouped.validate_files(MILESTONES, frames, ctx)
    runs_grouped = grouped._runs
    alone = [grouped.validate(MILESTONES, f, k, ctx) for k, f in frames]
    assert [t.success for t in together] == [i not in (2, 7) for i in range(8)]
    for t, a in zip(together, alone, strict=True):
        assert (t.file_key, t.success, t.element_count) == (a.file_key, a.success, a.element_count)
        assert t.failed_rules == a.failed_rules and t.max_severity_failure == a.max_severity_failure
        assert _comparable(t.results) == _comparable(a.results)
    # together (fails), together in full (names the rows), the two bad files alone, the six
    # others together (pass, recounted): 5 validations, not one for each file after the first
    assert runs_grouped == 5
