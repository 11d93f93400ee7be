"""Hand-built weeks for the publication tests, and ways to look at the lake as a consumer does."""

from __future__ import annotations

import hashlib
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from buildout_tracker import pipeline
from buildout_tracker.devtools.lake_server import LakeServer
from buildout_tracker.lake import Bucket
from buildout_tracker.pipeline import steps
from buildout_tracker.publish import PublishResult, publish_week
from tests.ingest import builders as b

W37, W38, W39 = "2026-W37", "2026-W38", "2026-W39"  # Mondays 09-07, 09-14, 09-21
SITES = ["DC-SG-01", "DC-SG-02"]
# Delivery days inside each week (the Monday is the reference day of W37).
DAYS = {W37: ("2026-09-08", "2026-09-11"), W38: ("2026-09-15", "2026-09-18")}
FEED_ORDER = ("reference", "fx_rates", "procurement", "milestones", "hiring")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def po_rows(week: str, n: int = 20) -> list[dict[str, Any]]:
    """n valid lines: compute_hardware servers, half received on time; two data-center lines."""
    day = DAYS[week][0]
    rows = []
    for i in range(1, n + 1):
        over: dict[str, Any] = {"change_ts": f"{day}T08:00:00Z", "po_date": "2026-08-01"}
        if i % 2 == 0:
            over.update(
                received_qty="10",
                last_receipt_date="2026-08-20",
                status="received",
                requested_delivery_date="2026-09-01",
            )
        rows.append(b.po_line(i, **over))
    for j, site in enumerate(SITES, start=n + 1):
        rows.append(
            b.po_line(
                j,
                change_ts=f"{day}T08:00:00Z",
                po_date="2026-08-01",
                workstream="data_centers",
                category="construction",
                site_id=site,
                quantity="1",
                uom="LOT",
                unit_price="50000.00",
                net_value="50000.00",
                received_qty="1",
                last_receipt_date="2026-08-25",
                status="received",
            )
        )
    return rows


def hiring_files(week: str) -> tuple[bytes, bytes]:
    reqs = [{"req_id": f"R-{i}"} for i in range(1, 11)]
    for r in reqs[:4]:
        r.update(status="filled", closed_date="2026-09-05")
    offers = [
        {
            "offer_id": f"O-{i}",
            "req_id": f"R-{i}",
            "candidate_id": f"C-{i}",
            "candidate_name": f"Candidate Number{i}",
            "candidate_email": f"candidate{i}@example.org",
            **(
                {"status": "accepted", "resolved_date": "2026-09-04", "start_date": "2026-10-01"}
                if i <= 4
                else {}
            ),
        }
        for i in range(1, 8)
    ]
    return b.requisitions_csv(reqs), b.offers_csv(offers)


def deliver(
    landing: Bucket,
    week: str,
    *,
    skip: tuple[str, ...] = (),
    po: list[dict[str, Any]] | None = None,
    milestone_reports: dict[str, bytes] | None = None,
) -> None:
    """A complete, valid week of deliveries for the two sites (reference only in W37)."""
    first, last = DAYS[week]
    if week == W37 and "reference" not in skip:
        landing.put_bytes("reference/2026-09-07/sites.csv", b.sites_csv(SITES))
        landing.put_bytes("reference/2026-09-07/milestone_plan.csv", b.milestone_plan_csv(SITES))
        landing.put_bytes("reference/2026-09-07/budget_plan.csv", b.budget_plan_csv())
        landing.put_bytes("reference/2026-09-07/hiring_plan.csv", b.hiring_plan_csv())
    if "fx_rates" not in skip:
        landing.put_bytes(
            f"fx_rates/{first}/fx_rates_{first}.csv", b.fx_csv([("EUR", first, "1.10")])
        )
    if "procurement" not in skip:
        landing.put_bytes(
            f"procurement/{first}/po_lines_{first}.csv",
            b.po_lines_csv(po if po is not None else po_rows(week)),
        )
    if "milestones" not in skip:
        reports = milestone_reports or {
            s: b.milestone_report(s, last, done=3 if week == W38 else 2) for s in SITES
        }
        for site, body in reports.items():
            landing.put_bytes(f"milestones/{last}/{site}.jsonl", body)
    if "hiring" not in skip:
        reqs, offers = hiring_files(week)
        landing.put_bytes(f"hiring/{first}/requisitions_{first}.csv", reqs)
        landing.put_bytes(f"hiring/{first}/offers_{first}.csv", offers)


def ingest(rt: pipeline.Runtime, week: str) -> dict[str, Any]:
    return {feed: steps.ingest_feed(rt, feed, week) for feed in FEED_ORDER}


def ingest_and_publish(rt: pipeline.Runtime, week: str, run_id: str = "run-1") -> PublishResult:
    ingest(rt, week)
    return publish_week(rt.lake, rt.landing, week, run_id=run_id)


def objects(bucket: Bucket, prefix: str) -> dict[str, bytes]:
    return {o.key: bucket.get_bytes(o.key) for o in bucket.list(prefix)}


def curated(lake: Bucket) -> dict[str, bytes]:
    """Every published object (tables and manifests); staging and the publication's own
    objects (`_publishing/`: lease, a manifest kept aside) excluded."""
    return {
        k: v
        for k, v in objects(lake, "curated/").items()
        if not k.startswith(("curated/_staging/", "curated/_publishing/"))
    }


def partition_objects(lake: Bucket, table: str, week: str) -> list[str]:
    return [o.key for o in lake.list(f"curated/{table}/week={week}/")]


def arrow_buffer(data: bytes) -> pa.BufferReader:
    """Parquet bytes in Arrow memory: parsed over Python memory (io.BytesIO), a pyarrow scan
    thread can let go of it during interpreter exit and abort the process (exit 134; see
    docs/reading-the-tables.md, Reader notes)."""
    sink = pa.BufferOutputStream()
    sink.write(data)
    return pa.BufferReader(sink.getvalue())


def read_parquet_bytes(data: bytes) -> pa.Table:
    return pq.read_table(arrow_buffer(data))


def arrow_fs(server: LakeServer) -> pafs.S3FileSystem:
    """pyarrow's own S3 client on the test lake.

    rclone answers a ranged GET with the whole object's CRC32, which the AWS SDK inside pyarrow
    rejects ("Response checksums mismatch"); the `consumer_env` fixture sets
    AWS_RESPONSE_CHECKSUM_VALIDATION=when_required, as a consumer of the local lake must.
    """
    host = server.endpoint.split("://", 1)[1]
    return pafs.S3FileSystem(
        access_key=server.access_key,
        secret_key=server.secret_key,
        endpoint_override=host,
        scheme="http",
        region="us-east-1",
    )


def dataset_files(server: LakeServer, lake: Bucket, prefix: str) -> list[str]:
    """The files a pyarrow dataset read of s3://lake/<prefix> would use (default discovery)."""
    return sorted(ds.dataset(f"{lake.name}/{prefix}", filesystem=arrow_fs(server)).files)


def read_table_dataset(server: LakeServer, lake: Bucket, table: str) -> pa.Table:
    """A consumer's read of a table's folder, as pandas.read_parquet does it (Hive partitions)."""
    return pq.read_table(f"{lake.name}/curated/{table}/", filesystem=arrow_fs(server))


def landing_files_of_week(landing: Bucket, week: str) -> dict[str, bytes]:
    """Every file that landed under <feed>/<a day of the week>/."""
    from buildout_tracker.weeks import week_dates

    days = {d.isoformat() for d in week_dates(week)}
    return {
        o.key: landing.get_bytes(o.key)
        for o in landing.list("")
        if len(o.key.split("/")) == 3 and o.key.split("/")[1] in days
    }


def check_manifest(lake: Bucket, landing: Bucket, week: str) -> dict[str, Any]:
    """Assert that the week's manifest describes exactly what is published; returns it."""
    from buildout_tracker import settings
    from buildout_tracker.ingest.report import read_report
    from buildout_tracker.registry import STATUS_FEEDS
    from buildout_tracker.tables import SCHEMAS, TABLE_NAMES
    from buildout_tracker.tables.arrow import file_schema
    from buildout_tracker.weeks import status_date
    from buildout_tracker.zones import manifest_key, table_key

    m = lake.get_json(manifest_key(week))
    assert m["week"] == week
    assert m["status_date"] == status_date(week).isoformat()
    assert m["run_id"]
    assert m["code_version"] == settings.code_version() and m["code_version"]

    landed = landing_files_of_week(landing, week)
    assert sorted(i["key"] for i in m["inputs"]) == sorted(landed), "every file of the week"
    for i in m["inputs"]:
        assert i["sha256"] == sha(landed[i["key"]]), i["key"]
        assert i["feed"] == i["key"].split("/", 1)[0]

    assert sorted(m["tables"]) == sorted(TABLE_NAMES)
    for name, t in m["tables"].items():
        key = table_key(name, week)
        assert t["files"] == [key] and t["uris"] == [lake.uri(key)]
        data = lake.get_bytes(key)
        assert t["sha256"] == sha(data), f"{name}: manifest sha256 is not the object's"
        parquet = pq.ParquetFile(arrow_buffer(data))
        assert t["rows"] == parquet.metadata.num_rows
        # The file holds every column of the table but `week`, which is its partition path.
        written = file_schema(SCHEMAS[name])
        assert "week" not in written.names and f"/week={week}/" in key
        assert [f["name"] for f in t["schema"]] == parquet.schema_arrow.names == written.names
        # A list's item name is storage detail (Arrow says item, Parquet element): the exact
        # strings are test_manifest_schema_is_the_schema_of_the_published_file's business.
        types = [f["type"].replace("list<element: ", "list<item: ") for f in t["schema"]]
        assert types == [str(f.type) for f in written], name
        assert len(t["row_content_sha256"]) == 64

    assert sorted(m["data_quality"]) == sorted((*STATUS_FEEDS, "reference"))
    for feed, dq in m["data_quality"].items():
        report = read_report(lake, feed, week)
        assert report is not None
        s = report.summary()
        assert dq["feed"] == feed
        assert dq["delivered"] == report.delivered and dq["blocked"] == s["blocked"]
        assert dq["reason"] == s["block_reason"]
        for k in ("files_received", "duplicates_skipped", "files_quarantined"):
            assert dq[k] == s[k], (feed, k)
        assert (dq["rows_in"], dq["rows_quarantined"]) == (s["rows_in"], s["rows_quarantined"])
    return m


class RecordingClient:
    """The real boto3 client, with a log of the writes made through it (for ordering checks)."""

    WRITES = ("put_object", "copy_object", "delete_objects", "upload_file")

    def __init__(self, client: Any) -> None:
        self._client = client
        self.writes: list[tuple[str, str]] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name not in self.WRITES:
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if name == "delete_objects":
                for obj in kwargs["Delete"]["Objects"]:
                    self.writes.append((name, obj["Key"]))
            else:
                self.writes.append((name, kwargs.get("Key") or args[2]))
            return attr(*args, **kwargs)

        return call
