"""Each common reader's natural call on a published table, as a consumer writes it, over S3.

The published rows of three weeks through the real cycle (tests/consumers/history.py), in the
layout the publisher writes: the standard Hive layout, `week` in the path only
(`curated/<table>/week=2026-W48/part-00000.parquet`), not inside the files. Every call must give
every row of every week with its `week`.

With `week` in the files as well (dictionary-encoded, as the publisher once wrote it),
`pyarrow.dataset.dataset(root, format="parquet", partitioning="hive")` failed: it types the
folder key as string while the files said dictionary ("Unable to merge: Field week has
incompatible types"), and no type of `week` inside the files satisfies both pyarrow entry
points (`pq.read_table` / `pandas.read_parquet` type the folder key as a dictionary and then
fail on a plain string column). Hence the path-only layout (docs/reading-the-tables.md, Reader
notes).
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
from buildout_tracker.zones import manifest_key, table_key
from tests.consumers.history import WEEKS, arrow_table, published_history

TABLE = "program_scorecard"


@pytest.fixture(scope="module")
def lakes(lake_server: LakeServer) -> dict[str, Any]:
    """The published history ("published": its lake bucket's name)."""
    out = published_history(lake_server)
    return {**out, "published": out["lake"].name}


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


@pytest.mark.parametrize("reader", list(READERS))
def test_natural_call_on_the_published_layout(
    reader: str, lakes: dict[str, Any], s3: pafs.S3FileSystem
) -> None:
    result = READERS[reader](lakes["published"], s3, lakes["server"])
    _check_every_row_has_its_week(result, lakes)


def test_published_files_carry_week_in_the_path_only(
    lakes: dict[str, Any], s3: pafs.S3FileSystem
) -> None:
    for week in WEEKS:
        schema = pq.read_schema(f"{lakes['published']}/{table_key(TABLE, week)}", filesystem=s3)
        assert "week" not in schema.names and "status_date" in schema.names


def test_the_former_workaround_still_works(lakes: dict[str, Any], s3: pafs.S3FileSystem) -> None:
    """What consumers passed while the files carried `week` too: a dictionary-typed folder key."""
    table = ds.dataset(
        f"{lakes['published']}/curated/{TABLE}", filesystem=s3, format="parquet",
        partitioning=ds.HivePartitioning.discover(infer_dictionary=True),
    ).to_table()  # fmt: skip
    assert pa.types.is_dictionary(table.schema.field("week").type)
    _check_every_row_has_its_week(table, lakes)


def test_path_only_what_a_consumer_loses(lakes: dict[str, Any], s3: pafs.S3FileSystem) -> None:
    """With week in the path only: one file read alone has no `week` (its `status_date` still
    says which week it is), and a reader that does not enable Hive partitioning sees none."""
    published = lakes["published"]
    one = pq.read_table(f"{published}/{table_key(TABLE, WEEKS[-1])}", filesystem=s3)
    assert "week" not in one.column_names and "status_date" in one.column_names
    glob_only = pl.scan_parquet(
        f"{_local(lakes['server'], published)}/curated/{TABLE}/**/*.parquet"
    ).collect()  # polars enables hive partitioning by default only for a directory
    assert "week" not in glob_only.columns
