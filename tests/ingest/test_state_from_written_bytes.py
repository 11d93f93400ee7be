"""The state update after an ingest reads the valid rows from the Parquet bytes the ingest
has just written (`FeedWeekReport.validated_bytes`), not back from the lake: no GET of a
`validated/` object, the same state as one built from the lake, and the bytes let go of
once the state is written. Against the real local S3 server; the requests are seen through
botocore's own event hooks."""

from __future__ import annotations

from typing import Any

from buildout_tracker import pipeline, zones
from buildout_tracker.ingest import state
from buildout_tracker.ingest.report import read_report
from buildout_tracker.pipeline import steps
from tests.ingest import builders as b
from tests.ingest.steps import seed_reference

W37 = "2026-W37"  # Monday 2026-09-07


def _gets(rt: pipeline.Runtime) -> list[str]:
    """Every key read by GetObject from the lake bucket from now on."""
    keys: list[str] = []

    def seen(params: dict[str, Any], **_: Any) -> None:
        if params.get("Bucket") == rt.lake.name:
            keys.append(str(params.get("Key")))

    rt.lake.client.meta.events.register("before-parameter-build.s3.GetObject", seen)
    return keys


def test_state_is_built_from_the_bytes_just_written(rt: pipeline.Runtime) -> None:
    seed_reference(rt.landing)
    for site in ("DC-SG-01", "DC-SG-02"):
        rt.landing.put_bytes(
            f"milestones/2026-09-09/{site}.jsonl", b.milestone_report(site, "2026-09-09")
        )
    steps.ingest_feed(rt, "reference", W37)
    gets = _gets(rt)
    report = steps.ingest_feed(rt, "milestones", W37)

    validated = [f.validated_key for f in report.files if f.validated_key]
    assert len(validated) == 2
    assert gets, "the hook sees the lake's reads (the state in force, the ledger)"
    assert not [k for k in gets if k.startswith("validated/")], gets
    assert report.validated_bytes == {}, "let go of once the state is written"

    # The same state as one built from the lake: the report read back has no bytes, so the
    # update reads every validated file (and writes the same state object again).
    written = rt.lake.get_bytes(zones.state_table("milestones", W37))
    meta = rt.lake.get_json(zones.state_meta("milestones", W37))
    stored = read_report(rt.lake, "milestones", W37)
    assert stored is not None and stored.validated_bytes == {}
    gets.clear()
    state.update_milestones(rt.lake, W37, stored)
    assert sorted(k for k in gets if k.startswith("validated/")) == sorted(validated)
    assert rt.lake.get_bytes(zones.state_table("milestones", W37)) == written
    assert rt.lake.get_json(zones.state_meta("milestones", W37))["sha256"] == meta["sha256"]
    frame = rt.lake.read_frame(zones.state_table("milestones", W37))
    assert sorted(frame["site_id"].unique()) == ["DC-SG-01", "DC-SG-02"]
    assert len(frame) == 16  # eight milestones for each of the two sites


def test_validated_frame_is_the_lakes_frame(rt: pipeline.Runtime) -> None:
    """From the kept bytes or from the lake: the same frame (same bytes, same decoding)."""
    seed_reference(rt.landing)
    rt.landing.put_bytes(
        "milestones/2026-09-09/DC-SG-01.jsonl", b.milestone_report("DC-SG-01", "2026-09-09")
    )
    steps.ingest_feed(rt, "reference", W37)
    from buildout_tracker.ingest.feed_week import ingest_feed_week

    report = ingest_feed_week(
        "milestones", W37, landing=rt.landing, lake=rt.lake, hmac_key=rt.hmac_key,
        validator=rt.validator, run_id="test", commit=False,
    )  # fmt: skip
    (key,) = [f.validated_key for f in report.files if f.validated_key]
    assert report.validated_bytes[key] == rt.lake.get_bytes(key)
    kept = report.validated_frame(rt.lake, key)
    report.validated_bytes.clear()
    read = report.validated_frame(rt.lake, key)
    assert kept.equals(read) and list(kept.dtypes) == list(read.dtypes)
