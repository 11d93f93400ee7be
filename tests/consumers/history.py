"""A published history on the session's test lake, for the tests that read the tables as a
consumer does (tests/consumers, tests/devtools/test_sql.py).

Three weeks of synthetic data go through the real weekly cycle into buckets of their own (other
tests share the lake server, and readers must honour BUILDOUT_LAKE_BUCKET rather than assume
buildout-lake). Built once per session and lake server: the buckets are left as they are at
the end of a module so that the next module reading them does not build them again (the
session's lake is a temporary folder, removed with the session).
"""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from buildout_tracker import pipeline
from buildout_tracker.devtools.lake_server import LakeServer
from buildout_tracker.generator import BucketSink, generate
from buildout_tracker.lake import Bucket, arrow_reader, ensure_buckets, make_client
from buildout_tracker.pipeline import cycle
from buildout_tracker.zones import manifest_key

WEEKS = ["2026-W46", "2026-W47", "2026-W48"]
LANDING, LAKE = "consumers-landing", "consumers-lake"
_BUILT: set[str] = set()  # endpoints of the lake servers holding the history


def published_history(lake_server: LakeServer) -> dict[str, Any]:
    """{"lake", "landing": Bucket, "env": the consumer's environment, "server"}."""
    client = make_client(lake_server.settings())
    ensure_buckets(client, (LANDING, LAKE))
    landing, lake = Bucket(LANDING, client), Bucket(LAKE, client)
    env = {**lake_server.env(), "BUILDOUT_LANDING_BUCKET": LANDING, "BUILDOUT_LAKE_BUCKET": LAKE}
    out = {"lake": lake, "landing": landing, "env": env, "server": lake_server}
    if lake_server.endpoint in _BUILT and all(lake.exists(manifest_key(w)) for w in WEEKS):
        return out
    landing.delete_prefix("")
    lake.delete_prefix("")
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        generate(WEEKS, scale="small", seed=7, sink=BucketSink(landing))
        rt = pipeline.Runtime(landing, lake, b"consumer-test-key", notify=False)
        for week in WEEKS:
            outcome = cycle.run_week(rt, week, docs=False)
            assert outcome.published is not None, f"{week} not published: {outcome.error}"
    _BUILT.add(lake_server.endpoint)
    return out


def arrow_table(data: bytes) -> pa.Table:
    """Parquet bytes as a table, parsed from Arrow memory (`lake.arrow_reader`): over Python
    memory, `pq.read_table` can abort the process at exit (exit 134, "terminate called without
    an active exception": docs/reading-the-tables.md, Reader notes)."""
    return pq.read_table(arrow_reader(data))


def truth(lake: Bucket, table: str, week: str) -> pd.DataFrame:
    """A week of a table as published, through its manifest with boto3: no reader under test.
    The file does not carry `week` (the partition path does): it is added here, as the
    partition key pandas reads from a folder (a categorical)."""
    entry = lake.get_json(manifest_key(week))["tables"][table]
    data = lake.get_bytes(entry["files"][0])
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    frame = arrow_table(data).to_pandas()
    assert "week" not in frame, f"{table} {week}: week in the file, not only in its path"
    frame.insert(0, "week", pd.Categorical([week] * len(frame)))
    return frame
