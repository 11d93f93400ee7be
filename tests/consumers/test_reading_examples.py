"""docs/reading-the-tables.md, run as a consumer runs it, against a real local S3 lake.

Three weeks of synthetic data go through the real weekly cycle into their own buckets on the
session's lake server. Then every ```python block of the doc marked `# example: <section>/<name>`
runs, a section's blocks in order in one namespace (like notebook cells), with nothing but the
lake's settings in the environment (what `set -a; . ./.env` gives a consumer). The results are
checked against the tables' definitions and against the published files read independently.

The Athena DDL in docs/athena/ is generated from the schemas; to refresh it after a schema
change: UPDATE_GOLDEN=1 .venv/bin/pytest tests/consumers
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from buildout_tracker import pipeline
from buildout_tracker.devtools.lake_server import LakeServer
from buildout_tracker.generator import BucketSink, generate
from buildout_tracker.lake import Bucket, ensure_buckets, make_client, parquet_bytes
from buildout_tracker.pipeline import cycle
from buildout_tracker.publish import publish_week
from buildout_tracker.tables import KEYS, SCHEMAS, TABLE_NAMES
from buildout_tracker.tables.athena import create_table_ddl
from buildout_tracker.zones import manifest_key, table_key

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "reading-the-tables.md"
ATHENA_DIR = ROOT / "docs" / "athena"
WEEKS = ["2026-W46", "2026-W47", "2026-W48"]
# Buckets of their own: other tests share the lake server, and the examples must honour
# BUILDOUT_LAKE_BUCKET rather than assume buildout-lake.
LANDING, LAKE = "consumers-landing", "consumers-lake"
AREAS = {"program", "ai_software", "chip_development", "compute_hardware", "data_centers"}
RAGS = {"green", "amber", "red", "grey"}
# Everything a consumer's environment could carry that the examples read or the AWS SDK obeys.
ENV_NAMES = (
    "BUILDOUT_S3_ENDPOINT", "BUILDOUT_LAKE_BUCKET", "BUILDOUT_LANDING_BUCKET",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION",
    "AWS_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_RESPONSE_CHECKSUM_VALIDATION",
)  # fmt: skip

FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.DOTALL | re.MULTILINE)
MARK = re.compile(r"^# example: (?P<section>\w+)/(?P<name>\w+)$")


def fenced_blocks(language: str) -> list[str]:
    return [
        body for lang, body in FENCE.findall(DOC.read_text(encoding="utf-8")) if lang == language
    ]


def examples() -> dict[str, dict[str, str]]:
    """{section: {name: code}} in document order."""
    out: dict[str, dict[str, str]] = {}
    for code in fenced_blocks("python"):
        m = MARK.match(code.splitlines()[0])
        assert m, f"python block without '# example: <section>/<name>' first line:\n{code[:200]}"
        names = out.setdefault(m["section"], {})
        assert m["name"] not in names, f"example {m['section']}/{m['name']} twice"
        names[m["name"]] = code
    return out


def run_section(
    section: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, upto: str | None = None
) -> dict[str, Any]:
    """Run a section's examples in order in one namespace, with only `env` set."""
    for name in ENV_NAMES:  # set first so that undo restores the name's absence too
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    namespace: dict[str, Any] = {"__name__": f"example_{section}"}
    for name, code in examples()[section].items():
        exec(compile(code, f"{DOC.name}:{section}/{name}", "exec"), namespace)
        if name == upto:
            break
    return namespace


@pytest.fixture(scope="module")
def published(lake_server: LakeServer) -> Iterator[dict[str, Any]]:
    client = make_client(lake_server.settings())
    ensure_buckets(client, (LANDING, LAKE))
    landing, lake = Bucket(LANDING, client), Bucket(LAKE, client)
    landing.delete_prefix("")
    lake.delete_prefix("")
    env = {**lake_server.env(), "BUILDOUT_LANDING_BUCKET": LANDING, "BUILDOUT_LAKE_BUCKET": LAKE}
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        generate(WEEKS, scale="small", seed=7, sink=BucketSink(landing))
        rt = pipeline.Runtime(landing, lake, b"consumer-test-key", notify=False)
        for week in WEEKS:
            outcome = cycle.run_week(rt, week, docs=False)
            assert outcome.published is not None, f"{week} not published: {outcome.error}"
    yield {"lake": lake, "landing": landing, "env": env, "server": lake_server}
    landing.delete_prefix("")
    lake.delete_prefix("")


def truth(lake: Bucket, table: str, week: str) -> pd.DataFrame:
    """A week of a table as published, through its manifest with boto3: no reader under test."""
    entry = lake.get_json(manifest_key(week))["tables"][table]
    data = lake.get_bytes(entry["files"][0])
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    return pq.read_table(pa.BufferReader(data)).to_pandas()


def close(a: Any, b: Any, tol: float) -> bool:
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
        return (a is None or math.isnan(a)) and (b is None or math.isnan(b))
    return abs(a - b) <= tol


def test_every_python_block_is_a_named_example() -> None:
    sections = examples()
    assert list(sections) == ["duckdb", "pyarrow"]
    assert list(sections["duckdb"]) == [
        "connect", "latest_scorecard", "procurement_trend", "sites_late", "hiring_attainment",
    ]  # fmt: skip
    assert list(sections["pyarrow"]) == ["connect", "one_week", "all_weeks", "dataset", "manifest"]


def test_doc_links_the_data_dictionary_and_every_ddl_file() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "(data-dictionary.md)" in text
    for name in TABLE_NAMES:
        assert f"`{name}.sql`" in text, name
        assert (ATHENA_DIR / f"{name}.sql").exists(), name


@pytest.mark.parametrize("name", TABLE_NAMES)
def test_athena_ddl_files_are_generated_from_the_schemas(name: str) -> None:
    path = ATHENA_DIR / f"{name}.sql"
    expected = create_table_ddl(name, f"s3://buildout-lake/curated/{name}/") + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(expected, encoding="utf-8")
    assert path.exists() and path.read_text(encoding="utf-8") == expected, (
        f"{path.relative_to(ROOT)} is not the DDL the code generates: "
        "refresh with UPDATE_GOLDEN=1 .venv/bin/pytest tests/consumers and commit the result"
    )


def test_ddl_shown_in_the_doc_is_the_committed_file() -> None:
    shown = [b for b in fenced_blocks("sql") if b.startswith("CREATE EXTERNAL TABLE")]
    assert len(shown) == 1
    table = re.match(r"CREATE EXTERNAL TABLE IF NOT EXISTS `(\w+)`", shown[0])
    assert table
    assert shown[0] == (ATHENA_DIR / f"{table[1]}.sql").read_text(encoding="utf-8"), (
        "the DDL in docs/reading-the-tables.md differs from docs/athena/: paste the file again"
    )


def interrupted_week(lake: Bucket, week: str, tables: tuple[str, ...]) -> list[str]:
    """Folders of a week whose publication stopped half-way: some tables, no manifest."""
    keys = []
    for table in tables:
        entry = lake.get_json(manifest_key(WEEKS[-1]))["tables"][table]
        t = pq.read_table(pa.BufferReader(lake.get_bytes(entry["files"][0])))
        column = pa.array([week] * t.num_rows).dictionary_encode()
        t = t.set_column(t.schema.get_field_index("week"), "week", column)
        keys.append(table_key(table, week))
        lake.put_bytes(keys[-1], parquet_bytes(t))
    return keys


def test_duckdb_examples(published: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    lake: Bucket = published["lake"]
    partial = interrupted_week(lake, "2026-W49", ("procurement_weekly", "program_scorecard"))
    try:
        ns = run_section("duckdb", published["env"], monkeypatch)
    finally:
        lake.delete(partial)
    latest = WEEKS[-1]
    assert ns["latest"] == latest
    card = truth(lake, "program_scorecard", latest).set_index("area")

    # Latest scorecard: five areas, known bands, reasons exactly when not green.
    sc = ns["scorecard"]
    assert sc["area"].iloc[0] == "program" and set(sc["area"]) == AREAS and len(sc) == 5
    assert set(sc["rag"]) <= RAGS
    for row in sc.itertuples():
        assert (len(row.rag_reasons) == 0) == (row.rag == "green"), row
        assert row.rag == card.loc[row.area, "rag"]
        assert list(row.rag_reasons) == list(card.loc[row.area, "rag_reasons"])
        if row.area not in ("program", "data_centers"):
            assert pd.isna(row.spi) and pd.isna(row.cpi), row.area
    per_week = (
        ns["con"]
        .sql(
            "SELECT week, count(*), count(DISTINCT area), bool_and(rag IN ('green', 'amber', 'red', 'grey')) "
            "FROM program_scorecard WHERE week <= ? GROUP BY week ORDER BY week",
            params=[latest],
        )
        .fetchall()
    )
    assert per_week == [(w, 5, 5, True) for w in WEEKS]

    # Procurement trend: every week; totals are the program row of the scorecard.
    trend = ns["procurement_trend"]
    assert list(trend["week"]) == WEEKS
    for row in trend.itertuples():
        program = truth(lake, "program_scorecard", row.week).set_index("area").loc["program"]
        assert abs(row.committed_usd - program["committed_usd"]) <= 0.01, row.week
        assert abs(row.received_usd - program["received_usd"]) <= 0.01, row.week
        assert close(row.otd_rate, program["otd_rate"], 1e-9), row.week
        assert abs(row.open_commitment_usd - (row.committed_usd - row.received_usd)) <= 0.01
        assert str(row.status_date)[:10] == str(program["status_date"])

    # Sites late: exactly the sites with a late milestone this week, every late milestone counted.
    milestones = truth(lake, "milestone_status_weekly", latest)
    late = milestones[milestones["health"] == "late"]
    assert len(late) > 0, "the generated history should have late milestones"
    sites = ns["sites_late"]
    assert set(sites["site_id"]) == set(late["site_id"])
    assert sites["late_milestones"].sum() == len(late)
    assert (sites["late_milestones"] >= 1).all()
    expected_counts = late.groupby("site_id").size()
    for row in sites.itertuples():
        assert row.late_milestones == expected_counts[row.site_id]

    # Hiring: each workstream's attainment is its scorecard hiring_attainment.
    hiring = ns["hiring_attainment"]
    assert set(hiring["workstream"]) == AREAS - {"program"}
    for row in hiring.itertuples():
        assert close(row.attainment, card.loc[row.workstream, "hiring_attainment"], 1e-9)
    hires = truth(lake, "hiring_weekly", latest)
    assert hiring["hires_to_date"].sum() == hires["hires_to_date"].sum()


def test_pyarrow_examples(published: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    lake: Bucket = published["lake"]
    ns = run_section("pyarrow", published["env"], monkeypatch)
    latest = WEEKS[-1]
    assert ns["weeks"] == WEEKS and ns["latest"] == latest

    # One week: the published rows, as published.
    one = ns["scorecard_week"].sort_values("area").reset_index(drop=True)
    expected = truth(lake, "program_scorecard", latest).sort_values("area").reset_index(drop=True)
    assert set(one["area"]) == AREAS
    assert list(one["rag"]) == list(expected["rag"])
    assert [list(r) for r in one["rag_reasons"]] == [list(r) for r in expected["rag_reasons"]]
    pd.testing.assert_series_equal(one["committed_usd"], expected["committed_usd"])

    # All weeks: every published week, every row; the filter keeps the last two.
    proc = ns["procurement"]
    assert sorted(proc["week"].unique()) == WEEKS
    assert len(proc) == sum(len(truth(lake, "procurement_weekly", w)) for w in WEEKS)
    for week, total in ns["by_week"]["committed_usd"].items():
        program = truth(lake, "program_scorecard", week).set_index("area").loc["program"]
        assert abs(total - program["committed_usd"]) <= 0.01, week
    assert sorted(ns["last_two"]["week"].astype(str).unique()) == WEEKS[-2:]

    # Dataset API with a dictionary-typed partition key, filtered to one week.
    sites = ns["site_progress_latest"]
    assert sites.num_rows == len(truth(lake, "site_progress_weekly", latest)) > 0

    # Manifest: all six tables, verified, with the manifest's row counts.
    manifest = lake.get_json(manifest_key(latest))
    assert set(ns["verified"]) == set(TABLE_NAMES)
    for name, table in ns["verified"].items():
        assert table.num_rows == manifest["tables"][name]["rows"]
        assert table.schema.names == SCHEMAS[name].names


def test_manifest_example_rejects_a_file_that_is_not_the_published_one(
    published: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checksum check of the example can fail: a manifest whose SHA-256 does not match."""
    lake: Bucket = published["lake"]
    ns = run_section("pyarrow", published["env"], monkeypatch, upto="connect")
    manifest = lake.get_json(manifest_key(WEEKS[-1]))
    manifest["tables"]["program_scorecard"]["sha256"] = "0" * 64
    fake = "2099-W01"
    lake.put_bytes(manifest_key(fake), json.dumps(manifest).encode(), "application/json")
    try:
        ns["latest"] = fake
        with pytest.raises(ValueError, match="changed since the manifest of 2099-W01"):
            exec(compile(examples()["pyarrow"]["manifest"], "manifest", "exec"), ns)
    finally:
        lake.delete([manifest_key(fake)])


def duckdb_over_http(server: LakeServer) -> duckdb.DuckDBPyConnection:
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


@pytest.mark.parametrize("table", ["program_scorecard", "procurement_weekly"])
def test_duckdb_and_pyarrow_read_the_same_rows(
    published: dict[str, Any], monkeypatch: pytest.MonkeyPatch, table: str
) -> None:
    server: LakeServer = published["server"]
    names = SCHEMAS[table].names
    keys = ["week", *KEYS[table]]  # KEYS is the grain within a week
    cols = ", ".join(f'"{c}"' for c in names)
    via_duckdb = (
        duckdb_over_http(server)
        .sql(
            f"SELECT {cols} FROM read_parquet('s3://{LAKE}/curated/{table}/*/*.parquet', "
            f"hive_partitioning = true) ORDER BY {', '.join(keys)}"
        )
        .fetch_arrow_table()
    )

    monkeypatch.setenv("AWS_RESPONSE_CHECKSUM_VALIDATION", "when_required")  # see the doc
    fs = pafs.S3FileSystem(
        endpoint_override=server.endpoint.split("://", 1)[1], scheme="http",
        access_key=server.access_key, secret_key=server.secret_key, region="us-east-1",
    )  # fmt: skip
    via_pyarrow = pq.read_table(f"{LAKE}/curated/{table}/", filesystem=fs)
    week = via_pyarrow.schema.get_field_index("week")
    via_pyarrow = via_pyarrow.set_column(week, "week", via_pyarrow["week"].cast(pa.string()))
    via_pyarrow = via_pyarrow.select(names).sort_by([(k, "ascending") for k in keys])

    assert via_duckdb.num_rows == via_pyarrow.num_rows > 0
    assert sorted(set(via_duckdb["week"].to_pylist())) == WEEKS
    for field in SCHEMAS[table]:  # DuckDB gives the published types (week as plain text)
        expected = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        assert via_duckdb.schema.field(field.name).type.equals(expected), field.name
    duck_rows, arrow_rows = via_duckdb.to_pylist(), via_pyarrow.to_pylist()
    for i, (a, b) in enumerate(zip(duck_rows, arrow_rows, strict=True)):
        assert a == b or _equal_with_nan(a, b), f"row {i} differs: {a} != {b}"


def _equal_with_nan(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(
        x == y
        or (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y))
        for x, y in ((a[k], b[k]) for k in a)
    )


def test_republishing_a_week_writes_identical_bytes(published: dict[str, Any]) -> None:
    lake, landing = published["lake"], published["landing"]
    week = WEEKS[-1]
    before = lake.get_json(manifest_key(week))
    files = {
        n: hashlib.sha256(lake.get_bytes(t["files"][0])).hexdigest()
        for n, t in before["tables"].items()
    }
    with pytest.MonkeyPatch.context() as mp:
        for name, value in published["env"].items():
            mp.setenv(name, value)
        publish_week(lake, landing, week, run_id="manual")
    after = lake.get_json(manifest_key(week))
    assert {n: t["sha256"] for n, t in after["tables"].items()} == {
        n: t["sha256"] for n, t in before["tables"].items()
    }
    for name, table in after["tables"].items():
        data = lake.get_bytes(table["files"][0])
        assert hashlib.sha256(data).hexdigest() == files[name] == table["sha256"], name
    assert not [o.key for o in lake.list("curated/_staging/")], "staging left behind"
