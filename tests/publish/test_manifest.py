"""The manifest of a published week: what made it, from which inputs, and per table the files,
rows, checksums and schema, checked against the objects themselves; written last."""

from __future__ import annotations

from typing import Any

import pyarrow.parquet as pq
import pytest

from buildout_tracker import pipeline
from buildout_tracker.lake import Bucket
from buildout_tracker.publish import publish_week
from buildout_tracker.publish.lease import lease_key
from buildout_tracker.publish.write import row_content_sha256
from buildout_tracker.tables import TABLE_NAMES
from buildout_tracker.zones import manifest_key, table_key
from tests.publish import helpers as h

W37, W38 = h.W37, h.W38


def test_manifest_describes_inputs_tables_and_data_quality(rt: pipeline.Runtime) -> None:
    h.deliver(rt.landing, W37)
    # Every outcome a landing file can have: a duplicate, a quarantined file, and a file the
    # feed does not accept (refused too, by its name).
    rt.landing.put_bytes(
        "procurement/2026-09-10/po_lines_again.csv",
        rt.landing.get_bytes("procurement/2026-09-08/po_lines_2026-09-08.csv"),
    )
    rt.landing.put_bytes("procurement/2026-09-10/po_lines_empty.csv", b"")
    rt.landing.put_bytes("procurement/2026-09-10/notes.txt", b"not a feed file\n")
    h.ingest(rt, W37)
    result = publish_week(rt.lake, rt.landing, W37, run_id="scheduled__2026-09-14T06:00:00+00:00")

    m = h.check_manifest(rt.lake, rt.landing, W37)
    assert m["run_id"] == "scheduled__2026-09-14T06:00:00+00:00"
    assert m["status_date"] == "2026-09-13"
    outcomes = {i["key"].rsplit("/", 1)[1]: i["outcome"] for i in m["inputs"]}
    assert outcomes["po_lines_again.csv"] == "duplicate"
    assert outcomes["po_lines_empty.csv"] == "quarantined"
    assert outcomes["notes.txt"] == "quarantined"
    assert outcomes["sites.csv"] == outcomes["offers_2026-09-08.csv"] == "ingested"
    proc = m["data_quality"]["procurement"]
    assert (proc["files_received"], proc["duplicates_skipped"], proc["files_quarantined"]) == (
        4,
        1,
        2,
    )
    assert proc["rows_in"] == len(h.po_rows(W37)) and not proc["blocked"]
    ref = m["data_quality"]["reference"]  # reference has its delivery row too
    assert (ref["files_received"], ref["rows_quarantined"]) == (4, 0) and ref["rows_in"] > 0
    dq = pq.read_table(h.arrow_buffer(rt.lake.get_bytes(table_key("data_quality_weekly", W37))))
    delivery = dq.to_pandas().query("rule == 'delivery'")
    assert sorted(delivery["feed"]) == [
        "fx_rates",
        "hiring",
        "milestones",
        "procurement",
        "reference",
    ]
    assert result.manifest_uri == rt.lake.uri(manifest_key(W37))
    assert {n: m["tables"][n]["rows"] for n in TABLE_NAMES} == result.rows

    # The next week's manifest lists only that week's files: nothing of W37 is an input of W38.
    h.deliver(rt.landing, W38)
    h.ingest_and_publish(rt, W38, run_id="run-w38")
    m38 = h.check_manifest(rt.lake, rt.landing, W38)
    assert all(i["key"].split("/")[1] >= "2026-09-14" for i in m38["inputs"])
    assert {i["outcome"] for i in m38["inputs"] if i["feed"] == "hiring"} == {"duplicate"}


def test_manifest_is_written_last(
    rt: pipeline.Runtime, fresh_buckets: tuple[Bucket, Bucket]
) -> None:
    h.deliver(rt.landing, W37)
    h.ingest(rt, W37)
    recorder = h.RecordingClient(rt.lake.client)
    lake = Bucket(rt.lake.name, recorder)
    publish_week(lake, rt.landing, W37, run_id="run-1")

    writes = recorder.writes
    done = writes.index(("put_object", manifest_key(W37)))
    assert all(op == "delete_objects" for op, _ in writes[done + 1 :]), (
        "after the manifest only clean-up (staging, the lease) happens",
        writes[done + 1 :],
    )
    assert writes[0] == ("put_object", lease_key(W37)), "the week's lease is taken first"
    assert ("delete_objects", lease_key(W37)) == writes[-1], "and given back last"
    assert [k for op, k in writes if k == manifest_key(W37)] == [manifest_key(W37)]
    copies = [k for op, k in writes if op == "copy_object"]
    assert sorted(copies) == sorted(table_key(t, W37) for t in TABLE_NAMES)
    staged = [k for op, k in writes if op == "put_object" and "/_staging/" in k]
    assert len(staged) == len(TABLE_NAMES)
    assert writes.index(("put_object", staged[-1])) < writes.index(("copy_object", copies[0])), (
        "every table is staged before the first one is put in place"
    )
    assert [
        k
        for op, k in writes
        if op == "put_object" and not k.startswith(("curated/_staging/", "curated/_publishing/"))
    ] == [manifest_key(W37)], (
        "tables reach their place by copy only; the manifest is the one direct write"
    )
    h.check_manifest(rt.lake, rt.landing, W37)


@pytest.fixture
def published_w37(rt: pipeline.Runtime) -> dict[str, Any]:
    h.deliver(rt.landing, W37)
    h.ingest_and_publish(rt, W37)
    return rt.lake.get_json(manifest_key(W37))


def _read_back(rt: pipeline.Runtime, name: str) -> pq.ParquetFile:
    return pq.ParquetFile(h.arrow_buffer(rt.lake.get_bytes(table_key(name, W37))))


def test_manifest_schema_is_the_schema_of_the_published_file(
    rt: pipeline.Runtime, published_w37: dict[str, Any]
) -> None:
    for name, t in published_w37["tables"].items():
        schema = _read_back(rt, name).schema_arrow
        assert t["schema"] == [{"name": f.name, "type": str(f.type)} for f in schema], name


def test_row_content_checksum_can_be_verified_from_the_published_file(
    rt: pipeline.Runtime, published_w37: dict[str, Any]
) -> None:
    """A consumer who reads the rows back must be able to recompute the row checksum."""
    nulls = 0
    for name, t in published_w37["tables"].items():
        table = _read_back(rt, name).read()
        nulls += sum(c.null_count for c in table.columns)
        assert t["row_content_sha256"] == row_content_sha256(table), name
    assert nulls, "the week must hold nulls (ratios with a zero denominator) to mean anything"
