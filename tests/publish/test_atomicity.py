"""Write-audit-publish on a real local S3 server: an interrupted publication leaves every
partition whole and readable, no manifest naming bytes it does not describe (the previous one
is taken down, and kept aside, before the first changed table is put in place), and staging
invisible to consumers; the next successful publication makes everything consistent again."""

from __future__ import annotations

import pytest

from buildout_tracker import pipeline
from buildout_tracker.devtools.lake_server import LakeServer
from buildout_tracker.publish import lease, publish_week
from buildout_tracker.tables import TABLE_NAMES
from buildout_tracker.weeks import status_date
from buildout_tracker.zones import manifest_key, table_key
from tests.ingest import builders as b
from tests.publish import helpers as h

W37 = h.W37


def late_delivery(rt: pipeline.Runtime) -> None:
    """A late W37 procurement file with five new, bigger lines: W37's numbers change."""
    rows = [
        b.po_line(
            100 + i,
            change_ts="2026-09-12T08:00:00Z",
            quantity="10",
            unit_price="900.00",
            net_value="9000.00",
        )
        for i in range(5)
    ]
    rt.landing.put_bytes("procurement/2026-09-12/po_lines_late.csv", b.po_lines_csv(rows))
    h.ingest(rt, W37)


@pytest.fixture
def published(rt: pipeline.Runtime) -> dict[str, bytes]:
    h.deliver(rt.landing, W37)
    h.ingest_and_publish(rt, W37, run_id="run-1")
    before = h.curated(rt.lake)
    assert set(before) == {manifest_key(W37), *(table_key(t, W37) for t in TABLE_NAMES)}
    return before


def test_interrupted_publication_leaves_whole_partitions_and_the_old_manifest(
    rt: pipeline.Runtime,
    published: dict[str, bytes],
    lake_server: LakeServer,
    consumer_env: None,
) -> None:
    before = published
    old_manifest = rt.lake.get_json(manifest_key(W37))
    late_delivery(rt)

    with pytest.raises(RuntimeError, match="interrupted after 2 tables"):
        publish_week(rt.lake, rt.landing, W37, run_id="run-2", fail_after=2)

    after = h.curated(rt.lake)
    assert manifest_key(W37) not in after, (
        "a manifest must never name a partition whose bytes another run replaced"
    )
    assert rt.lake.get_json(lease.previous_manifest_key(W37)) == old_manifest, (
        "the manifest taken down is kept aside, for the next run's withheld tables"
    )
    assert set(after) == set(before) - {manifest_key(W37)}, (
        "no table object appears or disappears outside staging"
    )
    assert rt.lake.list(lease.publishing_prefix(W37)) and not rt.lake.exists(
        lease.lease_key(W37)
    ), "a failed run gives the lease back at once"
    for i, name in enumerate(TABLE_NAMES):
        key = table_key(name, W37)
        assert h.partition_objects(rt.lake, name, W37) == [key], "one object per partition"
        table = h.read_parquet_bytes(after[key])  # a complete Parquet file, footer included
        # `week` is the partition path's (`week=2026-W37/`), not a column of the file.
        assert key.startswith(f"curated/{name}/week={W37}/") and "week" not in table.schema.names
        assert table.num_rows >= 1
        assert table.column("status_date").to_pylist() == [status_date(W37)] * table.num_rows
        if i >= 2:  # not reached: the previous publication, as the manifest describes it
            assert after[key] == before[key], f"{name} was not due to be replaced"
            assert h.sha(after[key]) == old_manifest["tables"][name]["sha256"]
            assert table.num_rows == old_manifest["tables"][name]["rows"]
    assert (
        after[table_key("procurement_weekly", W37)] != before[table_key("procurement_weekly", W37)]
    ), "the late delivery must change W37's procurement numbers, or this test proves nothing"

    # The failed run's staged objects are still there, and a consumer's dataset read skips them.
    staged = [o.key for o in rt.lake.list(f"curated/_staging/week={W37}/")]
    assert staged, "the interrupted run staged its tables"
    visible = h.dataset_files(lake_server, rt.lake, "curated/")
    assert visible and not [f for f in visible if "/_" in f], visible
    assert sorted(visible) == sorted(f"{rt.lake.name}/{table_key(t, W37)}" for t in TABLE_NAMES)
    for name in TABLE_NAMES:
        read = h.read_table_dataset(lake_server, rt.lake, name)
        assert read.num_rows == h.read_parquet_bytes(after[table_key(name, W37)]).num_rows

    # The next successful publication brings every table and the manifest together.
    result = publish_week(rt.lake, rt.landing, W37, run_id="run-3")
    final = h.curated(rt.lake)
    manifest = rt.lake.get_json(manifest_key(W37))
    assert manifest["run_id"] == "run-3" and manifest != old_manifest
    for i, name in enumerate(TABLE_NAMES):
        key = table_key(name, W37)
        assert manifest["tables"][name]["files"] == [key]
        assert h.sha(final[key]) == manifest["tables"][name]["sha256"]
        assert h.read_parquet_bytes(final[key]).num_rows == manifest["tables"][name]["rows"]
        assert result.rows[name] == manifest["tables"][name]["rows"]
        if i < 2:  # what the interrupted run put in place was already the new publication
            assert final[key] == after[key]
    assert (
        manifest["tables"]["program_scorecard"]["sha256"]
        != (old_manifest["tables"]["program_scorecard"]["sha256"])
    )
    assert rt.lake.list(lease.publishing_prefix(W37)) == [], "the kept manifest goes with success"


def test_failure_after_staging_leaves_every_published_object_byte_identical(
    rt: pipeline.Runtime, published: dict[str, bytes]
) -> None:
    late_delivery(rt)
    with pytest.raises(RuntimeError, match="interrupted after 0 tables"):
        publish_week(rt.lake, rt.landing, W37, run_id="run-2", fail_after=0)
    assert h.curated(rt.lake) == published
    assert len(rt.lake.list(f"curated/_staging/week={W37}/run-2/")) == len(TABLE_NAMES)


def test_successful_publication_leaves_no_staging_behind(
    rt: pipeline.Runtime, published: dict[str, bytes]
) -> None:
    """Staging is scratch space: a failed run's leftovers go when the week is next published."""
    assert rt.lake.list("curated/_staging/") == []
    late_delivery(rt)
    with pytest.raises(RuntimeError):
        publish_week(rt.lake, rt.landing, W37, run_id="run-2", fail_after=1)
    publish_week(rt.lake, rt.landing, W37, run_id="run-3")
    left = [o.key for o in rt.lake.list("curated/_staging/")]
    assert left == [], f"staging objects left behind after a successful publication: {left}"
