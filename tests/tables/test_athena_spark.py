"""The Athena DDL of docs/athena/ executed, on Spark SQL with Hive support.

Two weeks are published into the test lake (the hand-built weeks of tests/publish/helpers.py).
The local S3 server is file-backed, so the lake's own folder holds the very bytes consumers
read over S3: each `docs/athena/<table>.sql` runs as it is, with only its LOCATION pointed at
that folder (`file://`). Partitions are registered the documented ways, `ALTER TABLE ... ADD
PARTITION` (the statement `add_partition_ddl` writes) for the first week, then `MSCK REPAIR
TABLE` finds the second; every table is then queried and its rows compared with what pandas
reads over S3 (boto3, through each week's manifest). Spark stores the partition-projection
properties and ignores them (only Athena projects): the test checks they survive intact.

One Spark session (`local[1]`, Derby metastore and warehouse in a temporary folder) for the
module. Its JVM start and per-query overhead dominate: marked slow.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from buildout_tracker import pipeline
from buildout_tracker.devtools.lake_server import LakeServer
from buildout_tracker.tables import KEYS, SCHEMAS, TABLE_NAMES
from buildout_tracker.tables.athena import add_partition_ddl
from buildout_tracker.zones import manifest_key
from tests.consumers.history import arrow_table
from tests.publish.helpers import W37, W38, deliver, ingest_and_publish

ROOT = Path(__file__).resolve().parents[2]
ATHENA_DIR = ROOT / "docs" / "athena"
WEEKS = [W37, W38]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java (a JRE 17)"),
]


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    pytest.importorskip("pyspark")
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    work = tmp_path_factory.mktemp("spark")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    started = time.monotonic()
    session = (
        SparkSession.builder.master("local[1]")
        .appName("athena-ddl")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(work / "warehouse"))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={work}")
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={work}/metastore_db;create=true",
        )
        .enableHiveSupport()
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    # Athena never substitutes ${...}; Spark would turn the projection's template
    # 's3://.../week=${week}/' into '.../week=/' without this.
    session.sql("SET spark.sql.variable.substitute=false")
    print(f"Spark {session.version} with Hive support in {time.monotonic() - started:.1f} s")
    try:
        yield session
    finally:
        session.stop()
        gateway = SparkContext._gateway
        if gateway is not None:  # the JVM this process started
            proc = getattr(gateway, "proc", None)
            gateway.shutdown()
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)
            SparkContext._gateway = None
            SparkContext._jvm = None


def _canon(v: Any) -> Any:
    """One Python value for what Spark and pandas each give (numpy scalars, arrays, NaN)."""
    if v is None:
        return None
    if hasattr(v, "tolist") and not isinstance(v, str):  # numpy scalar or array
        v = v.tolist()
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, list | tuple):
        return tuple(_canon(x) for x in v)
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def _sorted(rows: list[dict[str, Any]], table: str) -> list[dict[str, Any]]:
    keys = ["week", *KEYS[table]]
    canon = [{k: _canon(v) for k, v in r.items()} for r in rows]
    return sorted(canon, key=lambda r: tuple(str(r[k]) for k in keys))


def test_athena_ddl_runs_on_spark_and_reads_what_pandas_reads(
    rt: pipeline.Runtime, lake_server: LakeServer, spark: Any
) -> None:
    started = time.monotonic()
    for week in WEEKS:
        deliver(rt.landing, week)
        ingest_and_publish(rt, week)
    lake = rt.lake
    folder = Path(lake_server.root) / lake.name / "curated"
    assert (folder / "procurement_weekly" / f"week={W38}" / "part-00000.parquet").is_file()
    published = time.monotonic()

    for table in TABLE_NAMES:
        ddl = (ATHENA_DIR / f"{table}.sql").read_text(encoding="utf-8")
        s3_location = f"s3://buildout-lake/curated/{table}/"
        local = f"file://{folder / table}/"
        assert ddl.count(f"LOCATION '{s3_location}'") == 1, table
        spark.sql(ddl.replace(f"LOCATION '{s3_location}'", f"LOCATION '{local}'"))

        # The documented statements: ADD PARTITION for one week, MSCK REPAIR finds the rest.
        spark.sql(add_partition_ddl(table, W37, local))
        assert _partitions(spark, table) == [f"week={W37}"]
        spark.sql(f"MSCK REPAIR TABLE {table}")
        assert _partitions(spark, table) == [f"week={w}" for w in WEEKS]

        props = dict(spark.sql(f"SHOW TBLPROPERTIES {table}").collect())
        assert props["projection.enabled"] == "true"
        assert props["projection.week.type"] == "injected"
        assert props["storage.location.template"] == s3_location + "week=${week}/"

        got = [r.asDict(recursive=True) for r in spark.sql(f"SELECT * FROM {table}").collect()]
        expected: list[dict[str, Any]] = []
        for week in WEEKS:  # what a consumer's pandas reads over S3, through the manifest
            entry = lake.get_json(manifest_key(week))["tables"][table]
            frame = arrow_table(lake.get_bytes(entry["files"][0])).to_pandas()
            assert "week" not in frame, table  # the path carries it, not the file
            frame["week"] = week
            expected.extend(frame.to_dict(orient="records"))
        assert len(got) == len(expected) > 0, table
        assert set(got[0]) == set(SCHEMAS[table].names), table
        assert _sorted(got, table) == _sorted(expected, table), table

    # A week filter reads only that partition (Athena's injected projection needs one).
    one = spark.sql(f"SELECT count(*) FROM program_scorecard WHERE week = '{W38}'").collect()
    assert one[0][0] == lake.get_json(manifest_key(W38))["tables"]["program_scorecard"]["rows"]
    done = time.monotonic()
    print(
        f"publish 2 weeks {published - started:.1f} s; Spark DDL, partitions and queries of "
        f"{len(TABLE_NAMES)} tables {done - published:.1f} s"
    )


def _partitions(spark: Any, table: str) -> list[str]:
    return sorted(r[0] for r in spark.sql(f"SHOW PARTITIONS {table}").collect())
