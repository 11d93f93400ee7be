"""The one module that talks to S3.

`Bucket` is a small client over boto3 for one bucket. It is built either from the
environment (command line, tests, benchmarks) or from the Airflow connection
`buildout_s3` (inside tasks), so the same code runs against the local server, MinIO
or AWS by changing configuration only.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from buildout_tracker.settings import S3_CONN_ID, S3Settings

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


def make_client(settings: S3Settings | None = None) -> Any:
    import boto3
    from botocore.config import Config

    s = settings or S3Settings.from_env()
    return boto3.session.Session().client(
        "s3",
        endpoint_url=s.endpoint_url,
        aws_access_key_id=s.access_key_id,
        aws_secret_access_key=s.secret_access_key,
        region_name=s.region,
        config=Config(
            s3={"addressing_style": "path"},
            # Store no whole-object CRC with each PUT: rclone's S3 server returns it on ranged
            # reads too, and pyarrow's SDK (reading a Parquet footer) then rejects the read.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"max_attempts": 5, "mode": "standard"},
            connect_timeout=10,
            read_timeout=120,
        ),
    )


def client_from_airflow(conn_id: str = S3_CONN_ID) -> Any:
    """A boto3 S3 client from the Airflow connection (endpoint_url in its extra for local S3)."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id=conn_id).get_conn()


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str


class Bucket:
    def __init__(self, name: str, client: Any | None = None) -> None:
        self.name = name
        self.client = client if client is not None else make_client()

    def __repr__(self) -> str:
        return f"Bucket({self.name!r})"

    def uri(self, key: str = "") -> str:
        return f"s3://{self.name}/{key}"

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        extra = {"ContentType": content_type} if content_type else {}
        self.client.put_object(Bucket=self.name, Key=key, Body=data, **extra)

    def upload_file(self, key: str, path: str) -> None:
        """Upload a local file, with the content type a browser needs to show it (Data Docs
        pages served from S3 would otherwise be downloaded, not displayed)."""
        import mimetypes

        ctype = mimetypes.guess_type(path)[0]
        if ctype and ctype.startswith("text/"):
            ctype += "; charset=utf-8"
        extra = {"ContentType": ctype} if ctype else None
        self.client.upload_file(path, self.name, key, ExtraArgs=extra)

    def get_bytes(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()

    def get_bytes_or_none(self, key: str) -> bytes | None:
        try:
            return self.get_bytes(key)
        except self.client.exceptions.NoSuchKey:
            return None

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.name, Key=key)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        return sorted(self.iter(prefix), key=lambda o: o.key)

    def iter(self, prefix: str = "") -> Iterator[ObjectInfo]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.name, Prefix=prefix):
            for obj in page.get("Contents", []):
                yield ObjectInfo(obj["Key"], int(obj["Size"]), obj.get("ETag", "").strip('"'))

    def exists_bucket(self) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.name)
            return True
        except ClientError:
            return False

    def copy_from(self, source: Bucket, key: str, dest_key: str | None = None) -> None:
        """Server-side copy of `source`'s object `key` (same endpoint) to `dest_key`."""
        self.client.copy_object(
            Bucket=self.name, Key=dest_key or key, CopySource={"Bucket": source.name, "Key": key}
        )

    def iter_top(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """The objects directly under `prefix`, not in any sub-folder."""
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.name, Prefix=prefix, Delimiter="/"):
            for obj in page.get("Contents", []):
                yield ObjectInfo(obj["Key"], int(obj["Size"]), obj.get("ETag", "").strip('"'))

    def folders(self, prefix: str) -> Sequence[str]:
        """The names of the "folders" directly under `prefix` (a delimiter listing: one entry
        per folder, however many objects each holds)."""
        paginator = self.client.get_paginator("list_objects_v2")
        names = []
        for page in paginator.paginate(Bucket=self.name, Prefix=prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                names.append(common["Prefix"][len(prefix) :].rstrip("/"))
        return sorted(names)

    def delete(self, keys: Iterable[str]) -> None:
        batch: list[dict[str, str]] = []
        for key in keys:
            batch.append({"Key": key})
            if len(batch) == 1000:
                self.client.delete_objects(Bucket=self.name, Delete={"Objects": batch})
                batch = []
        if batch:
            self.client.delete_objects(Bucket=self.name, Delete={"Objects": batch})

    def delete_prefix(self, prefix: str) -> None:
        self.delete(o.key for o in self.iter(prefix))

    def put_json(self, key: str, obj: Any) -> None:
        self.put_bytes(key, json_bytes(obj), "application/json")

    def get_json(self, key: str) -> Any:
        return json.loads(self.get_bytes(key))

    def get_json_or_none(self, key: str) -> Any:
        raw = self.get_bytes_or_none(key)
        return None if raw is None else json.loads(raw)

    def put_parquet(self, key: str, table: pa.Table) -> bytes:
        """Write a table as one Parquet object; returns the bytes written (for checksums)."""
        data = parquet_bytes(table)
        self.put_bytes(key, data, "application/vnd.apache.parquet")
        return data

    def read_parquet(self, key: str) -> pa.Table:
        import pyarrow.parquet as pq

        return pq.read_table(io.BytesIO(self.get_bytes(key)))

    def read_frame(self, key: str) -> pd.DataFrame:
        return self.read_parquet(key).to_pandas()


def json_bytes(obj: Any) -> bytes:
    """Canonical JSON: sorted keys, so the same content always gives the same bytes."""
    return json.dumps(obj, sort_keys=True, indent=1, default=str).encode()


def parquet_bytes(table: pa.Table) -> bytes:
    """Deterministic Parquet bytes: no created_by drift between runs of the same code."""
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    # Snappy, Parquet's default: the fastest to write and read, which the weekly ingest of
    # large extracts needs more than the last 20 % of size.
    pq.write_table(table, sink, compression="snappy", write_statistics=True, store_schema=True)
    return sink.getvalue()


def frame_parquet_bytes(frame: pd.DataFrame) -> bytes:
    """A frame's deterministic Parquet bytes (no index)."""
    import pyarrow as pa

    return parquet_bytes(pa.Table.from_pandas(frame, preserve_index=False))


def ensure_buckets(client: Any, names: Iterable[str]) -> None:
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    for name in names:
        if name not in existing:
            client.create_bucket(Bucket=name)
