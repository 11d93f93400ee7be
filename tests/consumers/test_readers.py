"""Each common reader's natural call on a published table, as a consumer writes it, over S3.

Two layouts of the same published rows (three weeks through the real cycle,
tests/consumers/history.py):

- `published`: what the publisher writes today, `week` inside every file
  (dictionary-encoded) and in the path (`week=2026-W48/`);
- `path_only`: the same files with the `week` column left out, in a bucket of their own: the
  standard Hive layout, where a reader takes `week` from the folder only.

Every call must give every row of every week with its `week`. Today one call fails on the
published layout: `pyarrow.dataset.dataset(root, format="parquet", partitioning="hive")`
types the folder key as string while the files say dictionary ("Unable to merge: Field week
has incompatible types"). No type of `week` inside the files satisfies both pyarrow entry
points (`pq.read_table` / `pandas.read_parquet` type the folder key as a dictionary and then
fail on a plain string column), so the fix is the path-only layout. The tests that describe it
on the published lake are marked xfail(strict=True): they start passing, and must lose their
marker, when the publisher stops writing `week` into the files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from buildout_tracker.devtools.lake_server import LakeServer
from buildout_tracker.lake import Bucket, ensure_buckets, parquet_bytes
from buildout_tracker.zones import manifest_key, table_key
from tests.consumers.history import WEEKS, arrow_table, published_history

TABLE = "program_scorecard"
PATH_ONLY = "consumers-path-only"
MERGE_ERROR = (
    "Unable to merge: Field week has incompatible types: "
    "dictionary<values=string, indices=int32, ordered=0> vs string"
)
LAYOUT_CHANGE = (
    "week is dictionary-encoded inside the published files and a string folder key to "
    "pyarrow.dataset(partitioning='hive'): " + MERGE_ERROR + ". Passes once the publisher "
    "writes week in the path only (docs/reading-the-tables.md, Reader notes)"
)


@pytest.fixture(scope="module")
def lakes(lake_server: LakeServer) -> dict[str, Any]:
    """The published history, and its path-only copy (the same files without `week`)."""
    out = published_history(lake_server)
    lake: Bucket = out["lake"]
    ensure_buckets(lake.client, (PATH_ONLY,))
    copy = Bucket(PATH_ONLY, lake.client)
    copy.delete_prefix("")
    for week in WEEKS:
        key = table_key(TABLE, week)
        table = arrow_table(lake.get_bytes(key))
        kept = [
            c for c in table.column_names if c != "week"
        ]  # (already so once the writer changes)
        copy.put_bytes(key, parquet_bytes(table.select(kept)))
    return {**out, "published": lake.name, "path_only": PATH_ONLY}


@pytest.fixture(scope="module")
def s3(lakes: dict[str, Any]) -> Iterator[pafs.S3FileSystem]:
    server: LakeServer = lakes["server"]
    with pytest.MonkeyPatch.context() as mp:
        # rclone sends a whole object's checksum with a ranged read (docs: Reader notes).
        mp.setenv("AWS_RESPONSE_CHECKSUM_VALIDATION", "when_required")
        yield pafs.S3FileSystem(
            endpoint_override=server.endpoint.split("://", 1)[1], scheme="http",
            access_key=server.access_key, secret_key=server.secret_key, region="us-east-1",
        )  # fmt: skip


def _duckdb(server: LakeServer) -> duckdb.DuckDBPyConnection:
    import duckdb_extensions

    con = duckdb.connect()
    duckdb_extensions.import_extension("httpfs", con=con)
    con.load_extension("httpfs")
    host = server.endpoint.split("://", 1)[1]
    con.execute(
        f"CREATE SECRET lake (TYPE s3, KEY_ID '{server.access_key}', SECRET '{server.secret_key}', "
        f"REGION 'us-east-1', ENDPOINT '{host}', URL_STYLE 'path', USE_SSL false)"
    )
    return con


def _local(server: LakeServer, bucket: str) -> str:
    """The folder of a bucket of the file-backed local lake."""
    return str(Path(server.root) / bucket)


# Each natural call: (bucket, S3 filesystem, lake server) -> a table of some kind.
READERS: dict[str, Callable[[str, pafs.S3FileSystem, LakeServer], Any]] = {
    "pyarrow.dataset(partitioning='hive')": lambda b, fs, _: ds.dataset(
        f"{b}/curated/{TABLE}", filesystem=fs, format="parquet", partitioning="hive"
    ).to_table(),
    "pyarrow.parquet.read_table(root)": lambda b, fs, _: pq.read_table(
        f"{b}/curated/{TABLE}", filesystem=fs
    ),
    "pandas.read_parquet(root)": lambda b, fs, _: pd.read_parquet(
        f"{b}/curated/{TABLE}", filesystem=fs
    ),
    # Over the local lake polars (object_store) fails, "Received non-partial response when
    # range requested": rclone answers its suffix range with the whole object. It reads the
    # lake's own files instead (the same bytes); on AWS S3 the s3:// glob is the call.
    "polars.scan_parquet(glob, hive_partitioning=True)": lambda b, _, server: pl.scan_parquet(
        f"{_local(server, b)}/curated/{TABLE}/**/*.parquet", hive_partitioning=True
    ).collect(),
    "duckdb read_parquet(glob, hive_partitioning = true)": lambda b, _, server: (
        _duckdb(server)
        .sql(
            f"SELECT * FROM read_parquet('s3://{b}/curated/{TABLE}/*/*.parquet', hive_partitioning = true)"
        )
        .df()
    ),
}


def _frame(result: Any) -> pd.DataFrame:
    if isinstance(result, pa.Table):
        return result.to_pandas()
    if isinstance(result, pl.DataFrame):
        return result.to_pandas()
    return result


def _check_every_row_has_its_week(result: Any, lakes: dict[str, Any]) -> None:
    frame = _frame(result)
    assert "week" in frame.columns
    frame["week"] = frame["week"].astype(str)
    got = sorted(zip(frame["week"], frame["area"], frame["rag"], strict=True))
    expected = []
    for week in WEEKS:  # the truth: each week's file, through its manifest, with boto3
        entry = lakes["lake"].get_json(manifest_key(week))["tables"][TABLE]
        t = arrow_table(lakes["lake"].get_bytes(entry["files"][0])).to_pandas()
        expected += [(week, a, r) for a, r in zip(t["area"], t["rag"], strict=True)]
    assert got == sorted(expected)
    assert "status_date" in frame.columns


def _cases(layout: str) -> list[Any]:
    out = []
    for name in READERS:
        marks = []
        if layout == "published" and name == "pyarrow.dataset(partitioning='hive')":
            marks = [pytest.mark.xfail(strict=True, raises=pa.ArrowTypeError, reason=LAYOUT_CHANGE)]
        out.append(pytest.param(name, id=name, marks=marks))
    return out


@pytest.mark.parametrize("reader", _cases("published"))
def test_natural_call_on_the_published_layout(
    reader: str, lakes: dict[str, Any], s3: pafs.S3FileSystem
) -> None:
    result = READERS[reader](lakes["published"], s3, lakes["server"])
    _check_every_row_has_its_week(result, lakes)


@pytest.mark.parametrize("reader", _cases("path_only"))
def test_natural_call_on_the_path_only_layout(
    reader: str, lakes: dict[str, Any], s3: pafs.S3FileSystem
) -> None:
    result = READERS[reader](lakes["path_only"], s3, lakes["server"])
    _check_every_row_has_its_week(result, lakes)


def test_today_the_dataset_call_fails_with_the_merge_error(
    lakes: dict[str, Any], s3: pafs.S3FileSystem
) -> None:
    """What a consumer sees today, word for word (and the documented workaround works)."""
    published = lakes["published"]
    if (
        "week"
        not in pq.read_schema(f"{published}/{table_key(TABLE, WEEKS[-1])}", filesystem=s3).names
    ):
        pytest.skip("the publisher writes week in the path only: the call works (see above)")
    with pytest.raises(
        pa.ArrowTypeError, match=MERGE_ERROR.replace("(", r"\(").replace(")", r"\)")
    ):
        READERS["pyarrow.dataset(partitioning='hive')"](published, s3, lakes["server"])
    workaround = ds.dataset(
        f"{published}/curated/{TABLE}", filesystem=s3, format="parquet",
        partitioning=ds.HivePartitioning.discover(infer_dictionary=True),
    ).to_table()  # fmt: skip
    _check_every_row_has_its_week(workaround, lakes)


@pytest.mark.xfail(strict=True, reason="the contract change: " + LAYOUT_CHANGE)
def test_published_files_carry_week_in_the_path_only(
    lakes: dict[str, Any], s3: pafs.S3FileSystem
) -> None:
    for week in WEEKS:
        schema = pq.read_schema(f"{lakes['published']}/{table_key(TABLE, week)}", filesystem=s3)
        assert "week" not in schema.names and "status_date" in schema.names


def test_path_only_what_a_consumer_loses(lakes: dict[str, Any], s3: pafs.S3FileSystem) -> None:
    """With week in the path only: one file read alone has no `week` (its `status_date` still
    says which week it is), and a reader that does not enable Hive partitioning sees none."""
    copy = lakes["path_only"]
    one = pq.read_table(f"{copy}/{table_key(TABLE, WEEKS[-1])}", filesystem=s3)
    assert "week" not in one.column_names and "status_date" in one.column_names
    glob_only = pl.scan_parquet(
        f"{_local(lakes['server'], copy)}/curated/{TABLE}/**/*.parquet"
    ).collect()  # polars enables hive partitioning by default only for a directory
    assert "week" not in glob_only.columns
