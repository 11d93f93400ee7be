"""Landing listings at the ingest level, against the real local S3 server: a file above the
size limit is refused from the listing, unparsed; zero-byte "folder" objects are not files."""

from __future__ import annotations

import pytest

from buildout_tracker import pipeline
from buildout_tracker.ingest import state
from buildout_tracker.pipeline import steps
from tests.ingest import builders as b
from tests.ingest.s3_listing import WithFolderMarkers
from tests.ingest.steps import po_state, run_procurement, seed_reference

W37, W38 = "2026-W37", "2026-W38"  # Mondays 09-07, 09-14


def test_a_file_above_the_size_limit_is_refused_from_the_listing(
    rt: pipeline.Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 1.5 GB po_lines file was accepted with a peak RSS of 7.6 GB: a file whose listed
    size is above BUILDOUT_MAX_FILE_BYTES is refused (`file_too_large`) and never parsed;
    it stays in landing, the rest of the delivery goes on, and a re-run says the same."""
    from buildout_tracker import feeds

    seed_reference(rt.landing)
    big = b.po_lines_csv([b.po_line(i) for i in range(1, 200)])
    monkeypatch.setenv("BUILDOUT_MAX_FILE_BYTES", str(len(big) - 1))
    rt.landing.put_bytes("procurement/2026-09-08/po_lines_full.csv", big)
    rt.landing.put_bytes(
        "procurement/2026-09-08/po_lines_delta.csv", b.po_lines_csv([b.po_line(500)])
    )
    parsed: list[str] = []
    real = feeds.parse_file
    monkeypatch.setattr(
        feeds, "parse_file", lambda spec, key, *a: parsed.append(key) or real(spec, key, *a)
    )
    report = run_procurement(rt, W37)
    by = {f.key.rsplit("/", 1)[1]: f for f in report.files}
    full = by["po_lines_full.csv"]
    assert (full.outcome, full.rule) == ("quarantined", "file_too_large")
    assert (
        f"({len(big):,} bytes), above the limit" in full.reason
        and "BUILDOUT_MAX_FILE_BYTES" in full.reason
    )
    assert (
        "left in landing" in full.reason
        and full.quarantine_key is None
        and full.validated_key is None
    )
    assert "procurement/2026-09-08/po_lines_full.csv" not in parsed
    assert by["po_lines_delta.csv"].outcome == "ingested" and len(po_state(rt, W37)) == 1
    assert "procurement/2026-09-08/po_lines_full.csv" in report.processed  # alerted once
    again = run_procurement(rt, W37)
    assert again.processed == [] and again.summary() == report.summary()


def test_a_file_ingested_before_the_limit_was_lowered_stands_on_a_rerun(
    rt: pipeline.Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_reference(rt.landing)
    body = b.po_lines_csv([b.po_line(i) for i in range(1, 50)])
    rt.landing.put_bytes("procurement/2026-09-08/po_lines_full.csv", body)
    first = run_procurement(rt, W37)
    monkeypatch.setenv("BUILDOUT_MAX_FILE_BYTES", "1000")
    again = run_procurement(rt, W37)
    assert [(f.outcome, f.rule) for f in again.files if f.kind == "po_lines"] == [
        ("ingested", None)
    ]
    assert again.summary() == first.summary() and len(po_state(rt, W37)) == 49


def test_zero_byte_folder_objects_are_not_files(rt: pipeline.Runtime) -> None:
    """`hiring/2026-09-16/requisitions_dir.csv/`, what an S3 console's "Create folder" writes,
    was an empty requisitions file that froze the ATS snapshot; `milestones/2026-09-16/` and
    the feed folders' own markers were reported as files outside a delivery folder. A folder
    marker is never read, refused or announced; the snapshot of its day is used."""
    markers = {
        "hiring/",
        "hiring/2026-09-16/",
        "hiring/2026-09-16/requisitions_dir.csv/",
        "milestones/",
        "milestones/2026-09-16/",
        "procurement/2026-09-16/archive/",
        "reference/",
    }
    rt.landing = WithFolderMarkers(rt.landing, markers)
    seed_reference(rt.landing)
    reqs = [{"req_id": f"R-{i}"} for i in range(1, 4)]
    rt.landing.put_bytes("hiring/2026-09-16/requisitions_1.csv", b.requisitions_csv(reqs))
    rt.landing.put_bytes(
        "hiring/2026-09-16/offers_1.csv", b.offers_csv([{"offer_id": "O-1", "req_id": "R-1"}])
    )
    rt.landing.put_bytes(
        "milestones/2026-09-16/DC-SG-01.jsonl", b.milestone_report("DC-SG-01", "2026-09-16")
    )
    reports = {
        feed: steps.ingest_feed(rt, feed, W38) for feed in ("reference", "hiring", "milestones")
    }
    reports["procurement"] = run_procurement(rt, W38)
    for feed, report in reports.items():
        assert report.misplaced_new == [], feed
        assert not [w for w in report.stray_warnings if "delivery folder" in w], feed
        assert not any(f.key.endswith("/") for f in report.files), feed
        assert not report.blocked, feed
    assert not set(rt.landing.reads) & markers, "a marker is never read"
    hiring = {f.key: f.outcome for f in reports["hiring"].files}
    assert hiring == {
        "hiring/2026-09-16/requisitions_1.csv": "ingested",
        "hiring/2026-09-16/offers_1.csv": "ingested",
    }
    reqs_state = state.read_state_at(rt.lake, "requisitions", W38)
    assert reqs_state is not None and sorted(reqs_state["req_id"]) == ["R-1", "R-2", "R-3"]
