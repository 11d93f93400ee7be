"""The one module that talks to S3.

`Bucket` is a small client over boto3 for one bucket. It is built either from the
environment (command line, tests, benchmarks) or from the Airflow connection
`buildout_s3` (inside tasks), so the same code runs against the local server, MinIO
or AWS by changing configuration only.

**One retry policy** (`RetryPolicy`), for every S3 request the pipeline makes, whichever way
its client was built (`make_client`, `client_from_airflow`):

| environment | default | what |
|---|---|---|
| `BUILDOUT_S3_RETRY_MODE` | `standard` | botocore's retry mode: `standard` (exponential backoff with full jitter, at most 20 s between attempts, and a retry quota) or `adaptive` (the same plus client-side rate limiting after throttling) |
| `BUILDOUT_S3_MAX_ATTEMPTS` | `5` | attempts per request, the first included |
| `BUILDOUT_S3_CONNECT_TIMEOUT` | `5` | seconds to open a connection |
| `BUILDOUT_S3_READ_TIMEOUT` | `60` | seconds without a byte on an open connection |

What botocore retries (standard and adaptive modes alike): HTTP 500, 502, 503, 504; the
throttling codes (`SlowDown`, `Throttling`, `RequestLimitExceeded`, ...); `RequestTimeout`;
connection errors (refused, reset or closed before a response, connect and read timeouts).
Everything else (403 `AccessDenied`, 404 `NoSuchKey`/`NoSuchBucket`, 400s) fails at once.
S3 writes are idempotent here (a PUT or COPY of the same bytes, a DELETE), so retrying one
whose first attempt did reach S3 is safe.

Reads are checked whole. botocore retries a GET only until its headers arrive; the body is
read afterwards, outside its retry loop. `get_bytes` therefore reads the body itself,
checks its length against `Content-Length` (botocore checks that too, and raises
`IncompleteReadError` or `ResponseStreamingError` when a connection drops mid-body), and
its content against the SHA-256 every object this module writes carries as user metadata
(`x-amz-meta-sha256`), else against the ETag when it is a plain MD5 (an object written in
one PUT, not KMS-encrypted): a short body is detected even when whatever sent it also
shortened `Content-Length`. A damaged or incomplete body is read again, with the same
number of attempts and the same kind of backoff; then `get_bytes` fails.

**Many small objects at once** (`concurrently`, `prefetched`): a week of 200 site reports
is about 2,000 small requests, each a round trip that waits on the network, not the CPU.
Independent requests (reads of the week's files, writes of per-file results and receipts)
go through a pool of `BUILDOUT_S3_IO_THREADS` threads (default 8; 1 runs them in turn);
the caller still gets every result in its own order, and the first failure, before it
writes anything that must come after (the ledger record is written last, alone).
Objects a loop makes one by one (a feed-week's validated and refused rows and content index
entries) go into a `WriteBatch` and are written together by its `flush`.

A request that fails for good raises `LakeError`, whose message names the operation, the
object (`s3://bucket/key`), S3's code and message, and the attempts made: that line is what
a task log shows.

**Encryption at rest**: with `BUILDOUT_S3_SSE=aws:kms` (and `BUILDOUT_S3_SSE_KMS_KEY_ID`,
a key id or ARN; without it S3 uses the account's default `aws/s3` key) or
`BUILDOUT_S3_SSE=AES256`, every object the pipeline writes (PutObject, CopyObject,
CreateMultipartUpload) asks for that server-side encryption; unset, none is asked for and
the bucket's default applies.
"""

from __future__ import annotations

import builtins
import hashlib
import io
import json
import logging
import os
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from buildout_tracker.settings import S3_CONN_ID, S3Settings

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

log = logging.getLogger(__name__)

T = TypeVar("T")

# The settings this module reads (documented in the module docstring and `.env.example`).
RETRY_MODE_ENV = "BUILDOUT_S3_RETRY_MODE"
MAX_ATTEMPTS_ENV = "BUILDOUT_S3_MAX_ATTEMPTS"
CONNECT_TIMEOUT_ENV = "BUILDOUT_S3_CONNECT_TIMEOUT"
READ_TIMEOUT_ENV = "BUILDOUT_S3_READ_TIMEOUT"
SSE_ENV = "BUILDOUT_S3_SSE"
SSE_KMS_KEY_ENV = "BUILDOUT_S3_SSE_KMS_KEY_ID"

IO_THREADS_ENV = "BUILDOUT_S3_IO_THREADS"
SHA256_METADATA = "sha256"  # x-amz-meta-sha256: the hex SHA-256 of the object's bytes
SSE_MODES = ("AES256", "aws:kms", "aws:kms:dsse")
_MAX_BACKOFF_SECONDS = 20.0  # botocore's, for the body re-reads of `get_bytes`


def _env(name: str, default: str, env: Mapping[str, str] | None) -> str:
    value = (os.environ if env is None else env).get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class RetryPolicy:
    """The retry policy of every S3 client the pipeline builds (module docstring)."""

    mode: str = "standard"
    max_attempts: int = 5
    connect_timeout: float = 5.0
    read_timeout: float = 60.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RetryPolicy:
        mode = _env(RETRY_MODE_ENV, cls.mode, env)
        if mode not in ("standard", "adaptive"):
            raise ValueError(f"{RETRY_MODE_ENV} must be standard or adaptive, not {mode!r}")
        attempts = int(_env(MAX_ATTEMPTS_ENV, str(cls.max_attempts), env))
        if attempts < 1:
            raise ValueError(f"{MAX_ATTEMPTS_ENV} must be at least 1, not {attempts}")
        return cls(
            mode=mode,
            max_attempts=attempts,
            connect_timeout=float(_env(CONNECT_TIMEOUT_ENV, str(cls.connect_timeout), env)),
            read_timeout=float(_env(READ_TIMEOUT_ENV, str(cls.read_timeout), env)),
        )

    def describe(self) -> str:
        return f"{self.mode} mode, {self.max_attempts} attempts"

    def backoff(self, attempt: int) -> float:
        """Seconds before attempt `attempt + 1` (full jitter, as botocore's standard mode)."""
        return random.random() * min(_MAX_BACKOFF_SECONDS, 2.0 ** (attempt - 1))


def sse_args(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The server-side encryption arguments of every write (empty: none asked for)."""
    mode = _env(SSE_ENV, "", env)
    if not mode:
        return {}
    if mode not in SSE_MODES:
        raise ValueError(f"{SSE_ENV} must be one of {', '.join(SSE_MODES)} or empty, not {mode!r}")
    args = {"ServerSideEncryption": mode}
    key_id = _env(SSE_KMS_KEY_ENV, "", env)
    if key_id:
        if not mode.startswith("aws:kms"):
            raise ValueError(f"{SSE_KMS_KEY_ENV} is set but {SSE_ENV} is {mode}, not aws:kms")
        args["SSEKMSKeyId"] = key_id
    return args


def client_config(policy: RetryPolicy | None = None, addressing_style: str | None = "path") -> Any:
    """The botocore configuration of every client: the retry policy, timeouts, checksums."""
    from botocore.config import Config

    p = policy or RetryPolicy.from_env()
    options: dict[str, Any] = {
        # Store no whole-object CRC with each PUT: rclone's S3 server returns it on ranged
        # reads too, and pyarrow's SDK (reading a Parquet footer) then rejects the read.
        "request_checksum_calculation": "when_required",
        "response_checksum_validation": "when_required",
        # total_max_attempts counts the first attempt; botocore reads a bare max_attempts in a
        # Config as retries (one more attempt than it says).
        "retries": {"total_max_attempts": p.max_attempts, "mode": p.mode},
        "connect_timeout": p.connect_timeout,
        "read_timeout": p.read_timeout,
        # The project builds every request itself (`Bucket`), so botocore's client-side check
        # of each request's parameters against the API model finds nothing; skipping it saves
        # about an eighth of the CPU time of a small request (`make bench WHAT=floors`).
        "parameter_validation": False,
    }
    if addressing_style:
        options["s3"] = {"addressing_style": addressing_style}
    return Config(**options)


def make_client(settings: S3Settings | None = None) -> Any:
    import boto3

    s = settings or S3Settings.from_env()
    return boto3.session.Session().client(
        "s3",
        endpoint_url=s.endpoint_url,
        aws_access_key_id=s.access_key_id,
        aws_secret_access_key=s.secret_access_key,
        region_name=s.region,
        config=client_config(),
    )


def client_from_airflow(conn_id: str = S3_CONN_ID) -> Any:
    """A boto3 S3 client from the Airflow connection (endpoint_url in its extra for local S3),
    with this module's retry policy and timeouts merged over the connection's own
    `config_kwargs` (which would otherwise replace them)."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    ours = client_config(addressing_style=None)
    theirs = S3Hook(aws_conn_id=conn_id).conn_config.botocore_config
    config = theirs.merge(ours) if theirs is not None else ours
    return S3Hook(aws_conn_id=conn_id, config=config).get_conn()


class LakeError(OSError):
    """An S3 request that failed for good (not retryable, or retried as far as the policy
    allows); the message names the operation and the object. An I/O error, not a
    `RuntimeError`: a task catching its own refusals (`except RuntimeError`: a blocked week,
    a failed audit) to fail without retries lets this one fail with retries."""

    def __init__(
        self,
        operation: str,
        bucket: str,
        key: str | None,
        reason: str,
        code: str | None = None,
        status: int | None = None,
        attempts: int | None = None,
    ) -> None:
        self.operation, self.bucket, self.key = operation, bucket, key
        self.code, self.status, self.attempts = code, status, attempts
        where = f"s3://{bucket}/{key}" if key is not None else f"s3://{bucket}"
        tried = f"; {attempts} attempt(s)" if attempts else ""
        super().__init__(f"S3 {operation} {where} failed: {reason}{tried}")

    @property
    def missing(self) -> bool:
        """The object (or bucket) is not there: a 404, not a fault."""
        return self.code in ("NoSuchKey", "404", "NotFound") or self.status == 404


class _DamagedBody(Exception):
    """A GET whose body is not the whole object."""


def _wrap(
    operation: str, bucket: str, key: str | None, exc: BaseException, policy: RetryPolicy
) -> LakeError:
    """The project's error for a botocore (or s3transfer) exception."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, ClientError):  # s3transfer wraps it
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, ClientError):
        error = cause.response.get("Error", {})
        meta = cause.response.get("ResponseMetadata", {})
        code, status = error.get("Code"), meta.get("HTTPStatusCode")
        if meta.get("MaxAttemptsReached"):
            attempts: int | None = policy.max_attempts
        else:
            attempts = int(meta.get("RetryAttempts") or 0) + 1
        message = error.get("Message") or ""
        reason = f"{code} (HTTP {status}){': ' + message if message else ''}"
        return LakeError(
            operation, bucket, key, reason, str(code) if code else None, status, attempts
        )
    # botocore retries connection errors (reset, closed, timeouts) up to the policy's
    # maximum before raising them.
    tried = policy.max_attempts if isinstance(exc, ConnectionError | HTTPClientError) else None
    return LakeError(operation, bucket, key, f"{type(exc).__name__}: {exc}", attempts=tried)


def _metadata_sha256(metadata: Mapping[str, str] | None) -> str | None:
    for name, value in (metadata or {}).items():
        if name.lower() == SHA256_METADATA:
            return value
    return None


_PLAIN_MD5 = re.compile(r"^[0-9a-f]{32}$")


def _check_body(response: Mapping[str, Any], data: bytes) -> None:
    """Raise `_DamagedBody` unless `data` is the whole object the response describes."""
    expected = response.get("ContentLength")
    if expected is not None and int(expected) != len(data):
        raise _DamagedBody(f"{len(data)} bytes read, Content-Length {expected}")
    sha = _metadata_sha256(response.get("Metadata"))
    if sha is not None:
        if hashlib.sha256(data).hexdigest() != sha.lower():
            raise _DamagedBody(f"SHA-256 of the {len(data)} bytes read is not x-amz-meta-sha256")
        return
    etag = str(response.get("ETag", "")).strip('"').lower()
    if (
        _PLAIN_MD5.match(etag)
        and response.get("ServerSideEncryption") in (None, "AES256")
        and not response.get("SSECustomerAlgorithm")
        and hashlib.md5(data, usedforsecurity=False).hexdigest() != etag
    ):
        raise _DamagedBody(f"MD5 of the {len(data)} bytes read is not the ETag")


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str


class Bucket:
    def __init__(self, name: str, client: Any | None = None) -> None:
        self.name = name
        self.client = client if client is not None else make_client()
        self.policy = RetryPolicy.from_env()
        self.sse = sse_args()

    def __repr__(self) -> str:
        return f"Bucket({self.name!r})"

    def uri(self, key: str = "") -> str:
        return f"s3://{self.name}/{key}"

    def _call(self, operation: str, key: str | None, fn: Callable[..., T], **kwargs: Any) -> T:
        """One request through botocore's retries; a failure becomes a `LakeError`."""
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            result = fn(**kwargs)
        except (ClientError, BotoCoreError, Boto3Error) as exc:
            raise _wrap(operation, self.name, key, exc, self.policy) from exc
        meta = result.get("ResponseMetadata", {}) if isinstance(result, dict) else {}
        if meta.get("RetryAttempts"):
            log.warning(
                "S3 %s %s: succeeded after %d retries",
                operation, self.uri(key or ""), meta["RetryAttempts"],
            )  # fmt: skip
        return result

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        extra: dict[str, Any] = {"Metadata": {SHA256_METADATA: hashlib.sha256(data).hexdigest()}}
        if content_type:
            extra["ContentType"] = content_type
        self._call(
            "PutObject", key, self.client.put_object,
            Bucket=self.name, Key=key, Body=data, **extra, **self.sse,
        )  # fmt: skip

    def upload_file(self, key: str, path: str) -> None:
        """Upload a local file, with the content type a browser needs to show it (Data Docs
        pages served from S3 would otherwise be downloaded, not displayed)."""
        import mimetypes

        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        ctype = mimetypes.guess_type(path)[0]
        if ctype and ctype.startswith("text/"):
            ctype += "; charset=utf-8"
        with open(path, "rb") as f:
            sha = hashlib.file_digest(f, "sha256").hexdigest()
        extra: dict[str, Any] = {"Metadata": {SHA256_METADATA: sha}, **self.sse}
        if ctype:
            extra["ContentType"] = ctype
        try:
            self.client.upload_file(path, self.name, key, ExtraArgs=extra)
        except (ClientError, BotoCoreError, Boto3Error) as exc:
            raise _wrap("PutObject", self.name, key, exc, self.policy) from exc

    def get_bytes(self, key: str) -> bytes:
        """The whole object, checked (module docstring); `LakeError` when it cannot be read."""
        from botocore.exceptions import BotoCoreError

        attempt = 0
        while True:
            attempt += 1
            response = self._call(
                "GetObject", key, self.client.get_object, Bucket=self.name, Key=key
            )
            try:
                data = response["Body"].read()
                _check_body(response, data)
                return data
            except (_DamagedBody, BotoCoreError, OSError) as exc:
                if attempt >= self.policy.max_attempts:
                    raise LakeError(
                        "GetObject", self.name, key,
                        f"body incomplete or damaged: {type(exc).__name__}: {exc}",
                        attempts=attempt,
                    ) from exc  # fmt: skip
                log.warning(
                    "S3 GetObject %s: body incomplete or damaged (%s); reading again (%d/%d)",
                    self.uri(key), exc, attempt + 1, self.policy.max_attempts,
                )  # fmt: skip
                time.sleep(self.policy.backoff(attempt))
            finally:
                response["Body"].close()

    def get_bytes_or_none(self, key: str) -> bytes | None:
        try:
            return self.get_bytes(key)
        except LakeError as exc:
            if exc.missing and exc.code != "NoSuchBucket":
                return None
            raise

    def exists(self, key: str) -> bool:
        try:
            self._call("HeadObject", key, self.client.head_object, Bucket=self.name, Key=key)
            return True
        except LakeError as exc:
            if exc.missing:
                return False
            raise

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        return sorted(self.iter(prefix), key=lambda o: o.key)

    def _pages(self, prefix: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        from botocore.exceptions import BotoCoreError, ClientError

        paginator = self.client.get_paginator("list_objects_v2")
        try:
            yield from paginator.paginate(Bucket=self.name, Prefix=prefix, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise _wrap("ListObjectsV2", self.name, prefix, exc, self.policy) from exc

    def iter(
        self,
        prefix: str = "",
        start_after: str | None = None,
        stop: Callable[[str], bool] | None = None,
    ) -> Iterator[ObjectInfo]:
        """Objects under `prefix` in key order; from the first key after `start_after`, and up
        to (not including) the first key for which `stop(key)` is true: no later page is
        requested (a range of a listing in one request, not one listing per folder)."""
        extra = {"StartAfter": start_after} if start_after else {}
        for page in self._pages(prefix, **extra):
            for obj in page.get("Contents", []):
                if stop is not None and stop(obj["Key"]):
                    return
                yield ObjectInfo(obj["Key"], int(obj["Size"]), obj.get("ETag", "").strip('"'))

    def last_modified(self, prefix: str) -> dict[str, Any]:
        """Key -> LastModified (the server's clock) of every object under `prefix`."""
        return {
            obj["Key"]: obj["LastModified"]
            for page in self._pages(prefix)
            for obj in page.get("Contents", [])
        }

    def exists_bucket(self) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.name)
            return True
        except ClientError:
            return False

    def copy_from(self, source: Bucket, key: str, dest_key: str | None = None) -> None:
        """Server-side copy of `source`'s object `key` (same endpoint) to `dest_key`; the
        object's metadata (its SHA-256) goes with it, the encryption is this bucket's."""
        self._call(
            "CopyObject", dest_key or key, self.client.copy_object,
            Bucket=self.name, Key=dest_key or key,
            CopySource={"Bucket": source.name, "Key": key}, **self.sse,
        )  # fmt: skip

    def copy(self, key: str, dest_key: str) -> None:
        """Server-side copy within this bucket."""
        self.copy_from(self, key, dest_key)

    def iter_top(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """The objects directly under `prefix`, not in any sub-folder."""
        for page in self._pages(prefix, Delimiter="/"):
            for obj in page.get("Contents", []):
                yield ObjectInfo(obj["Key"], int(obj["Size"]), obj.get("ETag", "").strip('"'))

    def folders(self, prefix: str) -> Sequence[str]:
        """The names of the "folders" directly under `prefix` (a delimiter listing: one entry
        per folder, however many objects each holds)."""
        names = []
        for page in self._pages(prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                names.append(common["Prefix"][len(prefix) :].rstrip("/"))
        return sorted(names)

    def delete(self, keys: Iterable[str]) -> None:
        batch: builtins.list[dict[str, str]] = []
        for key in keys:
            batch.append({"Key": key})
            if len(batch) == 1000:
                self._delete_batch(batch)
                batch = []
        if batch:
            self._delete_batch(batch)

    def _delete_batch(self, batch: builtins.list[dict[str, str]]) -> None:
        response = self._call(
            "DeleteObjects", batch[0]["Key"], self.client.delete_objects,
            Bucket=self.name, Delete={"Objects": batch, "Quiet": True},
        )  # fmt: skip
        errors = [e for e in response.get("Errors", []) if e.get("Code") != "NoSuchKey"]
        if errors:  # S3 answers 200 and lists the keys it could not delete
            first = errors[0]
            raise LakeError(
                "DeleteObjects", self.name, first.get("Key"),
                f"{first.get('Code')}: {first.get('Message')} ({len(errors)} of {len(batch)} keys)",
                code=first.get("Code"),
            )  # fmt: skip

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
        return parquet_table(self.get_bytes(key))

    def read_frame(self, key: str) -> pd.DataFrame:
        return self.read_parquet(key).to_pandas()


def json_bytes(obj: Any) -> bytes:
    """Canonical JSON: sorted keys, so the same content always gives the same bytes."""
    return json.dumps(obj, sort_keys=True, indent=1, default=str).encode()


def arrow_reader(data: bytes) -> pa.BufferReader:
    """`data` copied once into Arrow memory, as a file for pyarrow to parse. Over Python memory
    (`pa.BufferReader(bytes)`, `io.BytesIO`), the last of pyarrow's worker threads can let go
    of the bytes after the read returned; that needs Python's lock, and if the interpreter is
    shutting down by then the process aborts (exit 134, "terminate called without an active
    exception": docs/reading-the-tables.md, Reader notes). A command that ends right after a
    read (`make report`) is exposed; the copy costs a memcpy."""
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    sink.write(data)
    return pa.BufferReader(sink.getvalue())


def parquet_table(data: bytes) -> pa.Table:
    """The table in one Parquet object's bytes (`Bucket.read_parquet` without the read)."""
    import pyarrow.parquet as pq

    # One object's bytes: `ParquetFile` reads them directly; `read_table` would build a
    # dataset for them first (about 1 ms more per object, and a week reads thousands).
    return pq.ParquetFile(arrow_reader(data)).read()


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


def io_threads() -> int:
    """Threads for independent S3 requests (module docstring)."""
    try:
        return max(1, int(os.environ.get(IO_THREADS_ENV, "8")))
    except ValueError:
        return 8


def concurrently(fn: Callable[[Any], T], items: Iterable[Any]) -> builtins.list[T]:
    """`[fn(x) for x in items]`, the calls on `io_threads()` threads (independent S3
    requests): results in the order of `items`; the first failure is raised once every
    call has ended."""
    todo = builtins.list(items)
    workers = min(io_threads(), len(todo))
    if workers <= 1:
        return [fn(x) for x in todo]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="s3-io") as pool:
        futures = [pool.submit(fn, x) for x in todo]
    return [f.result() for f in futures]


def folder_waves(keys: Iterable[str]) -> builtins.list[builtins.list[int]]:
    """The positions of `keys` in waves to write one after another, each wave's writes at
    once, so that no two writes of a wave make the same new folder: the file-backed local
    lake (`rclone serve s3`) makes a key's folders on the first write into them, and writes
    racing to make a folder fail once (a 500, then retried). Wave `d` writes one key for each
    folder `d` levels deep that no earlier wave made; the last wave, everything left."""
    todo = builtins.list(keys)
    chains = [k.split("/")[:-1] for k in todo]
    made: set[tuple[str, ...]] = set()
    taken: set[int] = set()
    waves: builtins.list[builtins.list[int]] = []
    for depth in range(1, max((len(c) for c in chains), default=0) + 1):
        wave = []
        for i, chain in enumerate(chains):
            folder = tuple(chain[:depth])
            if i in taken or len(chain) < depth or folder in made:
                continue
            made.update(tuple(chain[:d]) for d in range(1, len(chain) + 1))
            wave.append(i)
        taken.update(wave)
        if wave:
            waves.append(wave)
    rest = [i for i in range(len(todo)) if i not in taken]
    return waves + ([rest] if rest else [])


def put_json_many(bucket: Bucket, items: Iterable[tuple[str, Any]]) -> None:
    """`bucket.put_json(key, obj)` for each item, `concurrently`, in `folder_waves` (the
    first write into each new folder before the others into it)."""
    todo = builtins.list(items)
    for wave in folder_waves(key for key, _ in todo):
        concurrently(lambda i: bucket.put_json(*todo[i]), wave)


class WriteBatch:
    """Objects written together by `flush`, `concurrently` in `folder_waves`, not one by one
    as a loop makes them: a feed-week's per-file objects (validated rows, refused rows,
    content index entries) are each a round trip that would otherwise wait in turn. What is
    not flushed is not in the lake: a run flushes before anything that reads them or commits
    (the ledger record). The same key put twice keeps the last bytes."""

    def __init__(self, bucket: Bucket) -> None:
        self.bucket = bucket
        self._items: dict[str, tuple[bytes, str | None]] = {}

    def __len__(self) -> int:
        return len(self._items)

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        self._items[key] = (data, content_type)

    def put_json(self, key: str, obj: Any) -> None:
        self.put_bytes(key, json_bytes(obj), "application/json")

    def flush(self) -> None:
        """Write every object put so far; the first failure is raised once the wave it is in
        has ended (what it did not reach stays unwritten, and the batch keeps it)."""
        keys = builtins.list(self._items)
        for wave in folder_waves(keys):

            def put(i: int) -> None:
                data, content_type = self._items[keys[i]]
                self.bucket.put_bytes(keys[i], data, content_type)

            concurrently(put, wave)
            for i in wave:
                del self._items[keys[i]]


def prefetched(
    fn: Callable[[Any], T], items: Iterable[Any], ahead: int | None = None
) -> Iterator[tuple[Any, T]]:
    """`(x, fn(x))` for each of `items`, in order, with up to `ahead` (default
    `io_threads()`) calls running before they are needed: reading the next files while
    this one is processed. A call's failure is raised when its item is reached."""
    todo = builtins.list(items)
    ahead = io_threads() if ahead is None else ahead
    if ahead <= 1 or len(todo) <= 1:
        for x in todo:
            yield x, fn(x)
        return
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=ahead, thread_name_prefix="s3-read") as pool:
        queue: deque[Any] = deque()
        pending = deque(todo)
        while pending and len(queue) < ahead:
            x = pending.popleft()
            queue.append((x, pool.submit(fn, x)))
        while queue:
            x, future = queue.popleft()
            if pending:
                nxt = pending.popleft()
                queue.append((nxt, pool.submit(fn, nxt)))
            yield x, future.result()


def ensure_buckets(client: Any, names: Iterable[str]) -> None:
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    for name in names:
        if name not in existing:
            client.create_bucket(Bucket=name)
