"""`python -m buildout_tracker.devtools.sql` (`make sql`): DuckDB on the published tables.

Run as a user runs it, a fresh process whose environment has no lake settings: it must find
them in the .env file, reach the session's test lake, and print what the published files hold
(read independently, with boto3 and pandas, through the manifests).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from buildout_tracker.devtools import procs, sql
from buildout_tracker.devtools.lake_server import LakeServer
from buildout_tracker.tables import TABLE_NAMES
from tests.consumers.history import WEEKS, published_history, truth


@pytest.fixture(scope="module")
def published(lake_server: LakeServer) -> dict[str, Any]:
    return published_history(lake_server)


def env_file(tmp_path: Path, values: dict[str, str]) -> Path:
    path = tmp_path / ".env"
    path.write_text(
        "# as `make lake-up` writes it\n" + "".join(f"{k}={v}\n" for k, v in values.items())
    )
    return path


def run_module(
    args: list[str], dotenv: Path, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    basics = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    return subprocess.run(
        [sys.executable, "-m", "buildout_tracker.devtools.sql", "--env-file", str(dotenv), *args],
        env={**basics, **(env or {})},
        cwd=dotenv.parent,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=120,
    )


def parse_table(text: str) -> list[tuple[list[str], list[list[str]]]]:
    """The tables printed (` | ` between columns, a rule under the header, a row count last)."""
    lines, out, i = text.splitlines(), [], 0
    while i < len(lines):
        if i + 1 < len(lines) and set(lines[i + 1]) <= set("-+") and lines[i + 1]:
            header = [c.strip() for c in lines[i].split(" | ")]
            rows, i = [], i + 2
            while not lines[i].startswith("("):
                rows.append([c.strip() for c in lines[i].split(" | ")])
                i += 1
            assert lines[i] == f"({len(rows)} row{'s' if len(rows) != 1 else ''})", lines[i]
            out.append((header, rows))
        i += 1
    return out


def same(text: str, value: Any) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return text == "NULL"
    if isinstance(value, float):
        return math.isclose(float(text), value, rel_tol=1e-11, abs_tol=1e-9)
    return text == str(value)


def test_a_query_prints_the_published_rows(published: dict[str, Any], tmp_path: Path) -> None:
    query = "SELECT week, area, rag, committed_usd, spi FROM program_scorecard ORDER BY week, area"
    proc = run_module([query], env_file(tmp_path, published["env"]))  # nothing in the env
    assert proc.returncode == 0, proc.stderr
    ((header, rows),) = parse_table(proc.stdout)
    assert header == ["week", "area", "rag", "committed_usd", "spi"]

    expected = []
    for week in WEEKS:
        frame = truth(published["lake"], "program_scorecard", week).sort_values("area")
        expected += frame[header].astype(object).values.tolist()
    assert len(rows) == len(expected) == 5 * len(WEEKS)
    for got, want in zip(rows, expected, strict=True):
        assert all(same(g, w) for g, w in zip(got, want, strict=True)), (got, want)


def test_the_prompt_runs_statements_from_stdin_until_quit(
    published: dict[str, Any], tmp_path: Path
) -> None:
    lake = published["lake"]
    stdin = (
        "SELECT count(*) AS n FROM procurement_weekly\n"  # one line, no `;`
        "SELECT week,\n  count(*) AS areas\nFROM program_scorecard\nGROUP BY week ORDER BY week;\n"
        ".tables\n"
        ".quit\n"
        "SELECT 'after quit' AS never\n"
    )
    proc = run_module([], env_file(tmp_path, published["env"]), stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    (count_header, count_rows), (week_header, week_rows) = parse_table(proc.stdout)
    rows = sum(len(truth(lake, "procurement_weekly", w)) for w in WEEKS)
    assert count_header == ["n"] and count_rows == [[str(rows)]]
    assert week_header == ["week", "areas"] and week_rows == [[w, "5"] for w in WEEKS]
    listed = proc.stdout.split("(3 rows)\n", 1)[1].split()
    assert listed == sorted([*TABLE_NAMES, "published_weeks"])
    assert "after quit" not in proc.stdout


def test_the_prompt_reports_a_bad_statement_and_goes_on(
    published: dict[str, Any], tmp_path: Path
) -> None:
    stdin = "SELECT * FROM no_such_table\nSELECT max(week) AS latest FROM published_weeks\n"
    proc = run_module([], env_file(tmp_path, published["env"]), stdin=stdin)  # ends at EOF
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: Catalog Error: Table with name no_such_table")
    assert parse_table(proc.stdout) == [(["latest"], [[WEEKS[-1]]])]


def test_not_running_says_so_in_one_line(tmp_path: Path) -> None:
    port = procs.free_port()  # nothing listens there
    values = {
        "BUILDOUT_S3_ENDPOINT": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "nobody",
        "AWS_SECRET_ACCESS_KEY": "nothing",
    }
    proc = run_module(["SELECT 1"], env_file(tmp_path, values))
    assert proc.returncode == 3
    assert proc.stdout == ""
    assert proc.stderr.startswith("the lake is not running: make lake-up")
    assert proc.stderr.count("\n") == 1, proc.stderr


def test_connect_gives_a_view_per_table(
    published: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in published["env"].items():
        monkeypatch.setenv(name, value)
    con = sql.connect(Path("/nonexistent/.env"))  # the environment says it all
    assert sql.views(con) == sorted([*TABLE_NAMES, "published_weeks"])
    weeks = [r[0] for r in con.sql("SELECT week FROM published_weeks").fetchall()]
    assert weeks == WEEKS
    scorecard = con.sql("SELECT * FROM program_scorecard WHERE week = ?", params=[WEEKS[-1]]).df()
    assert len(scorecard) == 5


def test_a_lake_with_nothing_published_yet_has_no_views_and_says_so(
    lake_server: LakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from buildout_tracker.lake import Bucket, ensure_buckets, make_client

    client = make_client(lake_server.settings())
    ensure_buckets(client, ["sql-empty-lake"])
    Bucket("sql-empty-lake", client).delete_prefix("")
    for name, value in {**lake_server.env(), "BUILDOUT_LAKE_BUCKET": "sql-empty-lake"}.items():
        monkeypatch.setenv(name, value)
    with pytest.warns(UserWarning, match="not published yet in s3://sql-empty-lake/curated/"):
        con = sql.connect(Path("/nonexistent/.env"))
    assert sql.views(con) == ["published_weeks"]
    assert con.sql("SELECT * FROM published_weeks").fetchall() == []
    assert sql.format_table(["week"], []).splitlines() == ["week", "----", "(0 rows)"]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["SELECT 1", "SELECT 2;"], ["SELECT 1", "SELECT 2;"]),
        # DuckDB parses `SELECT a,` and `FROM t`: a query's first line still waits for the rest
        (["SELECT a,", "  b", "FROM t;"], ["SELECT a,\n  b\nFROM t;"]),
        (["SELECT a, b", "FROM t", "WHERE a > 0;"], ["SELECT a, b\nFROM t\nWHERE a > 0;"]),
        (["SELECT a FROM", "t", "", "SELECT 3"], ["SELECT a FROM\nt", "SELECT 3"]),
        (["", ".tables", "  .quit  "], [".tables", ".quit"]),
        (["SELECT 'two", "lines';"], ["SELECT 'two\nlines';"]),
        (["SELECT * FROM missing"], ["SELECT * FROM missing"]),  # an error to show, not a wait
        (["SELECT a FROM t WHERE"], ["SELECT a FROM t WHERE"]),  # the end of input ends it
    ],
)
def test_statements_a_line_or_until_semicolon(lines: list[str], expected: list[str]) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 1 AS a, 2 AS b")
    assert sql.statements(con, lines) == expected


def test_format_table() -> None:
    text = sql.format_table(["a", "n", "x"], [("w", 1, None), ("long", 12, [1.5, "r"])])
    assert text.splitlines() == [
        "a    |  n | x",
        "-----+----+---------",
        "w    |  1 | NULL",
        "long | 12 | [1.5, r]",
        "(2 rows)",
    ]
