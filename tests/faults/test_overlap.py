"""Overlapping runs (docs/architecture.md states the guarantee): two publishers of one week
started together; a zombie publisher resumed after its retry published a changed week; a
re-run of week W (after a late file) while W+1 runs for the first time. Each step runs in a
child process through the fault proxy (`devtools/chaos.py`); a reader looks at `curated/`
before every write into it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from buildout_tracker import registry
from buildout_tracker.devtools import chaos
from buildout_tracker.devtools.lake_server import LakeServer
from buildout_tracker.lake import Bucket

W37, W38 = "2026-W37", "2026-W38"
SEED = 4242


@pytest.fixture(scope="module")
def h(lake_server: LakeServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[chaos.Harness]:
    with chaos.harness(
        work=tmp_path_factory.mktemp("overlap"), seed=SEED, server=lake_server
    ) as harness:
        chaos.generate_landing(harness, [W37, W38])
        yield harness


@pytest.fixture(scope="module")
def w37_ingested(h: chaos.Harness) -> Iterator[Bucket]:
    """A lake with W37 ingested (every feed), not published."""
    lake = h.new_lake("w37-ingested")
    h.run(
        lake,
        {"kind": "ingest", "weeks": [W37], "feeds": list(registry.NAMES), "run_id": "history"},
        proxied=False,
    )
    yield lake
    h.drop(lake)


def test_two_publishers_of_one_week_end_as_one_publication(
    h: chaos.Harness, w37_ingested: Bucket
) -> None:
    result = chaos.two_publishers(h, [W37], ingested=w37_ingested)
    assert result.ok, "\n".join(result.notes)
    assert "exit codes (0, 0)" in result.notes[0], result.notes


def test_a_zombie_publisher_resumed_after_its_retry_stops_without_writing(
    h: chaos.Harness, w37_ingested: Bucket
) -> None:
    """A is paused while it stages W37; a late file changes W37 and B publishes it; A is
    resumed, finds its lease gone, and writes nothing more: the end is B's publication."""
    late = chaos.late_po_file(h, W37)
    try:
        result = chaos.zombie_publisher(h, [W37], late, ingested=w37_ingested)
    finally:
        h.bucket(h.landing_name).delete([late[0]])
    note = result.notes[0]
    assert "LeaseLost" in note and "A exit 1" in note, note
    assert "A's writes after resuming: []" in note, note
    assert result.ok, "\n".join(result.notes)


def test_a_rerun_of_a_week_beside_the_next_weeks_run_loses_and_mixes_nothing(
    h: chaos.Harness,
) -> None:
    """W37 run again after a late file landed for it, while W38 runs for the first time:
    the late file counted once, no delivery lost from the content index, W38 built on W37's
    final state or named by the staleness check, and a reader never sees a broken table.
    (`make chaos` also compares the end with both serial orders.)"""
    late = chaos.late_po_file(h, W37)
    result = chaos.rerun_beside_next_week(h, [W37, W38], late, serial=False)
    assert result.ok, "\n".join(result.notes)
