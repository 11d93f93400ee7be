"""A person's decisions about a blocked feed-week (keep it blocked; supersede a refused file
by a correction) are recorded in the ledger and listed in the week's next manifest, with who,
when, how and why; the same record whether it came from the Airflow UI or `make supersede`.
On a real local S3 server, through the same functions the decision task calls."""

from __future__ import annotations

import pytest

from buildout_tracker import pipeline, zones
from buildout_tracker.ingest import ledger
from buildout_tracker.pipeline import decisions
from buildout_tracker.publish import publish_week
from tests.ingest import builders as b
from tests.publish import helpers as h

W37 = h.W37
REFUSED = "procurement/2026-09-08/po_lines_2026-09-08.csv"
CORRECTION = "procurement/2026-09-09/po_lines_2026-09-08_fixed.csv"


def test_keep_then_supersede_are_listed_in_the_manifest(rt: pipeline.Runtime) -> None:
    rows = h.po_rows(W37)
    bad = [dict(r) for r in rows]
    for r in bad[:3]:  # 3 of 20 rows refused (lower-case currency): 15 % > 5 %, blocked
        r["currency"] = "usd"
    h.deliver(rt.landing, W37, po=bad)
    assert rt.landing.exists(REFUSED), "the helper's delivery name changed: fix REFUSED"
    reports = h.ingest(rt, W37)
    assert reports["procurement"].blocked
    summaries = [reports["procurement"].summary()]

    # Keep: recorded per blocked feed, then the task fails (the week stays blocked).
    keep = decisions.Decision(decisions.KEEP, None, None, "waiting for the ERP team", "alice")
    with pytest.raises(decisions.KeptBlocked, match="decided by alice"):
        decisions.apply(rt, W37, summaries, keep)
    timeout = decisions.Decision.from_hitl({})  # nobody answered: the default, by nobody
    with pytest.raises(decisions.KeptBlocked, match="nobody decided in time"):
        decisions.apply(rt, W37, summaries, timeout)
    publish_week(rt.lake, rt.landing, W37, run_id="run-1")
    manifest = rt.lake.get_json(zones.manifest_key(W37))
    assert "procurement" in manifest["tables"]["procurement_weekly"]["withheld"]
    kept = [d for d in manifest["decisions"] if d["decision"] == "kept_blocked"]
    assert [(d["feed"], d["by"], d["via"], d["reason"]) for d in kept] == [
        ("procurement", "alice", "Airflow UI", "waiting for the ERP team"),
        ("procurement", None, "Airflow UI", "no answer before the timeout"),
    ]
    assert all(d["at"] for d in kept)

    # A correction lands; a bad decision is refused with a reason, a good one re-runs the week.
    rt.landing.put_bytes(CORRECTION, b.po_lines_csv(rows))
    wrong = decisions.Decision(decisions.SUPERSEDE, REFUSED, "procurement/2026-09-09/nope.csv",
                               "x", "bob")  # fmt: skip
    with pytest.raises(decisions.BadDecision, match="has not landed"):
        decisions.apply(rt, W37, summaries, wrong)
    good = decisions.Decision(decisions.SUPERSEDE, REFUSED, CORRECTION, "ERP re-export", "bob")
    feed, after = decisions.apply(rt, W37, summaries, good)
    assert feed == "procurement" and not after[0]["blocked"]
    publish_week(rt.lake, rt.landing, W37, run_id="run-2")
    manifest = rt.lake.get_json(zones.manifest_key(W37))
    assert "withheld" not in manifest["tables"]["procurement_weekly"]
    superseded = [d for d in manifest["decisions"] if d["decision"] == "superseded"]
    assert len(superseded) == 1
    s = superseded[0]
    assert (s["feed"], s["file"], s["by"], s["via"], s["reason"], s["correction"]) == (
        "procurement", REFUSED, "bob", "Airflow UI", "ERP re-export", CORRECTION,
    )  # fmt: skip
    assert len([d for d in manifest["decisions"] if d["decision"] == "kept_blocked"]) == 2
    outcomes = {i["key"]: i["outcome"] for i in manifest["inputs"]}
    assert outcomes[REFUSED] == "superseded" and outcomes[CORRECTION] == "ingested"

    # Publishing again changes nothing: the decisions are inputs, not the clock.
    again = publish_week(rt.lake, rt.landing, W37, run_id="run-2")
    assert rt.lake.get_json(zones.manifest_key(W37)) == manifest, again


def test_make_supersede_writes_the_same_record(
    rt: pipeline.Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from buildout_tracker import cli

    h.deliver(rt.landing, W37)
    monkeypatch.setenv("BUILDOUT_LANDING_BUCKET", rt.landing.name)
    monkeypatch.setenv("BUILDOUT_LAKE_BUCKET", rt.lake.name)
    assert cli.main(["supersede", "--file", REFUSED, "--reason", "replaced"]) == 0
    record = ledger.superseded_files(rt.lake, "procurement", W37)[REFUSED]
    assert set(record) == {"reason", "by", "at", "via"} and record["via"] == "make supersede"
    listed = ledger.week_decisions(rt.lake, W37, ("procurement",))
    assert listed == [{"feed": "procurement", "decision": "superseded", "file": REFUSED, **record}]
