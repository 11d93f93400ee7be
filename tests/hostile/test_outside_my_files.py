"""Hostile cases whose fix is in files another engineer owns: each test states what must
hold and is marked `xfail(strict=True)` until that change lands (the reason names it). When
it lands the test passes, the strict marker turns that into a failure, and the marker is
removed: the test then guards the fix like any other."""

from __future__ import annotations

import re

import pytest

from buildout_tracker import pipeline
from buildout_tracker.pipeline import steps
from tests.ingest import builders as b
from tests.ingest.s3_listing import WithFolderMarkers
from tests.ingest.steps import run_procurement, seed_reference

W37 = "2026-W37"


def test_a_file_above_the_size_limit_is_never_read(
    rt: pipeline.Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_reference(rt.landing)
    big = b.po_lines_csv([b.po_line(i) for i in range(1, 100)])
    monkeypatch.setenv("BUILDOUT_MAX_FILE_BYTES", str(len(big) - 1))
    rt.landing = WithFolderMarkers(rt.landing, [])  # records every read
    rt.landing.put_bytes("procurement/2026-09-08/po_lines_full.csv", big)
    report = run_procurement(rt, W37)
    [f] = [f for f in report.files if f.kind == "po_lines"]
    assert f.rule == "file_too_large" and f.size == len(big)
    assert "procurement/2026-09-08/po_lines_full.csv" not in rt.landing.reads
    assert f.sha256 == "" and "left in landing" in (f.reason or "")
    again = run_procurement(rt, W37)  # a re-run refuses it the same way, still unread
    assert [g.rule for g in again.files if g.kind == "po_lines"] == ["file_too_large"]
    assert "procurement/2026-09-08/po_lines_full.csv" not in rt.landing.reads


_SAFE_KEY = re.compile(r"^[A-Za-z0-9._=/-]+$")


def test_keys_derived_from_odd_landing_names_are_safe(rt: pipeline.Runtime) -> None:
    """A name the feed accepts may hold anything: the lake keys made from it (validated rows,
    quarantine, GX results) keep to plain characters, stay short, and never start a
    segment with a dot; a 240-byte name (the local lake's limit is 255 per segment) no
    longer stops the whole feed-week when a key derived from it is written, nor do 35 Chinese
    characters (percent-encoded in the ledger: 9 bytes each)."""
    seed_reference(rt.landing)
    names = [
        "po_lines_ spaced Zürich ünïcödé.csv",
        "po_lines_%2F..%2F#?&=+.csv",
        "po_lines_\u202etxt.csv",
        "po_lines_采购订单明细_华东区_二〇二六年十一月第四周_导出.csv",
        "po_lines_" + "x" * 231 + ".csv",
    ]
    for i, name in enumerate(names):
        rows = [b.po_line(10 * i + 1), b.po_line(10 * i + 2, quantity="0", net_value="0.00")]
        rt.landing.put_bytes(f"procurement/2026-09-08/{name}", b.po_lines_csv(rows))
    steps.ingest_feed(rt, "reference", W37)
    steps.ingest_feed(rt, "fx_rates", W37)
    outcome = steps.ingest(rt, "procurement", W37)  # with its Data Docs, as a task runs it
    assert outcome.data_docs
    files = [f for f in outcome.report.files if f.kind == "po_lines"]
    assert len(files) == len(names) and {f.outcome for f in files} == {"ingested"}
    for f in files:
        for key in (f.validated_key, f.quarantine_key):
            assert key and _SAFE_KEY.match(key), key
            assert len(key) < 200 and not any(s.startswith(".") for s in key.split("/")), key


def test_a_week_whose_ats_snapshot_was_not_used_is_grey(rt: pipeline.Runtime) -> None:
    from buildout_tracker import tables
    from buildout_tracker.publish import load_week_inputs

    seed_reference(rt.landing, day="2026-08-31")
    reqs = [{"req_id": f"R-{i}"} for i in range(1, 4)]
    offers = [{"offer_id": f"O-{i}", "req_id": f"R-{i}"} for i in range(1, 4)]
    rt.landing.put_bytes("hiring/2026-09-02/requisitions_1.csv", b.requisitions_csv(reqs))
    rt.landing.put_bytes("hiring/2026-09-02/offers_1.csv", b.offers_csv(offers))
    # W37's only snapshot, with a zero-byte requisitions file beside the real one: what a
    # console's folder marker `requisitions_dir.csv/` becomes on the local lake
    more = [*reqs, {"req_id": "R-4"}]
    rt.landing.put_bytes("hiring/2026-09-10/requisitions_2.csv", b.requisitions_csv(more))
    rt.landing.put_bytes("hiring/2026-09-10/requisitions_dir.csv", b"")
    rt.landing.put_bytes("hiring/2026-09-10/offers_2.csv", b.offers_csv(offers[:2]))
    for week in ("2026-W36", W37):
        for feed in ("reference", "fx_rates", "procurement", "milestones", "hiring"):
            report = steps.ingest_feed(rt, feed, week)
    assert not report.blocked, report.block_reason
    assert any("hiring snapshot of 2026-09-10 not used" in w for w in report.stray_warnings)
    card = tables.compute_all(load_week_inputs(rt.lake, W37))["program_scorecard"].to_pandas()
    program = card[card["area"] == "program"].iloc[0]
    assert program["rag"] == "grey"
    assert any("snapshot" in r for r in program["rag_reasons"]), program["rag_reasons"]
