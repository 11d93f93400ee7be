"""docs/reading-the-tables.md, run as a consumer runs it, against a real local S3 lake.

Three weeks of synthetic data go through the real weekly cycle into their own buckets on the
session's lake server (tests/consumers/history.py). Then every ```python block of the doc marked
`# example: <section>/<name>` runs, a section's blocks in order in one namespace (like notebook
cells), with nothing but the lake's settings in the environment (what `set -a; . ./.env` gives a
consumer; the quick start's `connect()` reads them from a .env file instead). The results are
checked against the tables' definitions and against the published files read independently.
The pyarrow manifest example also runs as a scheduled job would, in fresh Python processes,
which must exit 0 every time.

The Athena DDL in docs/athena/ is generated from the schemas; to refresh it after a schema
change: UPDATE_GOLDEN=1 .venv/bin/pytest tests/consumers
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from buildout_tracker.devtools import sql
from buildout_tracker.devtools.lake_server import LakeServer
from buildout_tracker.lake import Bucket, arrow_reader, parquet_bytes
from buildout_tracker.publish import publish_week
from buildout_tracker.tables import KEYS, SCHEMAS, TABLE_NAMES
from buildout_tracker.tables.athena import create_table_ddl
from buildout_tracker.zones import manifest_key, table_key
from tests.consumers.history import LAKE, WEEKS, arrow_table, published_history, truth

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "reading-the-tables.md"
ATHENA_DIR = ROOT / "docs" / "athena"
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
def published(lake_server: LakeServer) -> dict[str, Any]:
    return published_history(lake_server)


def close(a: Any, b: Any, tol: float) -> bool:
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
        return (a is None or math.isnan(a)) and (b is None or math.isnan(b))
    return abs(a - b) <= tol


def test_every_python_block_is_a_named_example() -> None:
    sections = examples()
    assert list(sections) == ["quickstart", "duckdb", "pyarrow"]
    assert list(sections["quickstart"]) == ["connect"]
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
        t = arrow_table(lake.get_bytes(entry["files"][0]))  # no `week`: the folder says it
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

    # Dataset API, partitioning="hive" (week from the folders), filtered to one week.
    sites = ns["site_progress_latest"]
    assert sites.num_rows == len(truth(lake, "site_progress_weekly", latest)) > 0

    # Manifest: all six tables, verified, with the manifest's row counts.
    manifest = lake.get_json(manifest_key(latest))
    assert set(ns["verified"]) == set(TABLE_NAMES)
    for name, table in ns["verified"].items():
        assert table.num_rows == manifest["tables"][name]["rows"]
        file_columns = [c["name"] for c in manifest["tables"][name]["schema"]]
        assert table.schema.names == file_columns  # the file, as its manifest describes it
        assert set(SCHEMAS[name].names) - set(file_columns) == {"week"}  # week: the folder's


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


def test_quickstart_example_reads_the_settings_from_the_env_file(
    published: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The quick start as pasted: nothing in the environment, connect() loads the .env file."""
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in published["env"].items()))
    monkeypatch.setattr(sql, "ENV_FILE", env_file)
    ns = run_section("quickstart", {}, monkeypatch)  # every name it loads is in ENV_NAMES
    assert os.environ["BUILDOUT_LAKE_BUCKET"] == LAKE  # loaded from the file, undone after

    latest = WEEKS[-1]
    card = truth(published["lake"], "program_scorecard", latest).sort_values("area")
    got = ns["latest_scorecard"]
    assert list(got["week"]) == [latest] * 5
    assert list(got["area"]) == list(card["area"])
    assert list(got["rag"]) == list(card["rag"])
    assert [list(r) for r in got["rag_reasons"]] == [list(r) for r in card["rag_reasons"]]
    views = {r[0] for r in ns["con"].sql("SELECT view_name FROM duckdb_views()").fetchall()}
    assert views >= {*TABLE_NAMES, "published_weeks"}


def consumer_env(env: dict[str, str]) -> dict[str, str]:
    """A consumer's shell after `set -a; . ./.env`: the basics and the lake's settings only."""
    basics = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    return {**{k: os.environ[k] for k in basics if k in os.environ}, **env}


def run_scripts(script: Path, env: dict[str, str], runs: int) -> list[tuple[int, str, str, float]]:
    """`python script` `runs` times, two at a time: (exit code, stdout, stderr, seconds)."""

    def one(_: int) -> tuple[int, str, str, float]:
        start = time.monotonic()
        proc = subprocess.run(
            [sys.executable, str(script)],
            env=consumer_env(env),
            cwd=script.parent,
            capture_output=True,
            text=True,
            timeout=180,
        )
        return proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(one, range(runs)))


MANIFEST_JOB_RUNS = 20


def test_pyarrow_manifest_example_exits_0_every_time(
    published: dict[str, Any], tmp_path: Path
) -> None:
    """The manifest check as a scheduled job runs it: a fresh `python` each time, with the
    documented environment. It used to abort at exit (exit 134, "terminate called without an
    active exception"), which a scheduler reads as a failure: in about a third of the runs
    when it parsed `f.read()`, and still 1 to 5 in 400 on a busy machine when it called
    `read_buffer()` on a stream, which is Python memory too (the next test)."""
    code = examples()["pyarrow"]
    script = tmp_path / "board_pack_check.py"
    script.write_text(code["connect"] + "\n" + code["manifest"], encoding="utf-8")
    manifest = published["lake"].get_json(manifest_key(WEEKS[-1]))
    rows = {n: t["rows"] for n, t in manifest["tables"].items()}

    results = run_scripts(script, published["env"], MANIFEST_JOB_RUNS)
    failed = [(i, rc, err.strip()[-300:]) for i, (rc, _, err, _) in enumerate(results) if rc]
    assert not failed, f"{len(failed)} of {len(results)} runs failed: {failed}"
    for _, out, err, _ in results:
        assert "terminate called" not in err and "Aborted" not in err
        assert out.splitlines()[-1].endswith(str(rows)), out[-300:]
    seconds = sorted(r[3] for r in results)
    print(f"{len(results)} runs, {seconds[0]:.1f}-{seconds[-1]:.1f} s each")


def test_manifest_example_parses_arrow_memory(
    published: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cause of the abort (Reader notes): pyarrow letting go of Python memory on a worker
    thread at exit. The example's last parsed file is a buffer Arrow allocated (mutable), not
    Python bytes (immutable); `read_buffer()` on a stream would have been bytes, and
    `lake.arrow_reader`, the product's own reads, copies bytes into Arrow memory."""
    ns = run_section("pyarrow", published["env"], monkeypatch)
    data = ns["data"]
    assert isinstance(data, pa.Buffer) and data.is_mutable, "the example parses Python memory"
    key = next(iter(ns["manifest"]["tables"].values()))["files"][0]
    with ns["s3"].open_input_stream(f"{ns['bucket']}/{key}") as f:
        assert not f.read_buffer().is_mutable  # a stream's read_buffer(): py_buffer(f.read())
    raw = published["lake"].get_bytes(key)
    python_memory = pa.py_buffer(raw).address  # zero-copy: where the bytes object's data is
    assert pa.BufferReader(raw).read_buffer().address == python_memory  # the control
    assert arrow_reader(raw).read_buffer().address != python_memory  # a copy, Arrow's own
    assert pq.read_table(arrow_reader(raw)).equals(pq.read_table(pa.BufferReader(raw)))


@pytest.mark.parametrize("section", ["quickstart", "duckdb", "pyarrow"])
def test_each_section_runs_as_a_script(
    published: dict[str, Any], tmp_path: Path, section: str
) -> None:
    """A section's blocks pasted into one file and run with `python`: exit 0, no abort."""
    env = dict(published["env"])
    code = "\n".join(examples()[section].values())
    if section == "quickstart":  # connect() reads a .env file: this one, not the project's
        env_file = tmp_path / ".env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        code = code.replace("connect()", f"connect({str(env_file)!r})", 1)
        env = {}
    script = tmp_path / f"example_{section}.py"  # not duckdb.py: it would shadow the package
    script.write_text(code, encoding="utf-8")
    ((rc, out, err, _),) = run_scripts(script, env, 1)
    assert rc == 0 and "terminate called" not in err, err[-500:]
    assert out.strip()


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
