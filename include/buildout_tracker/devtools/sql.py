"""DuckDB on the lake's published tables, with nothing to set up: `make sql`.

    python -m buildout_tracker.devtools.sql "SELECT week, area, rag FROM program_scorecard
        ORDER BY week DESC LIMIT 5"        # runs the SQL, prints the result as a table
    python -m buildout_tracker.devtools.sql   # a prompt: a statement a line (or until `;`)

It loads `.env` (values already in the environment win), checks that the local lake answers,
connects DuckDB with an S3 secret for the lake and creates one view per published table, over
every week (`s3://<lake bucket>/curated/<table>/*/*.parquet`; `week` comes from the folder
names, the files do not carry it), plus `published_weeks`: the weeks whose manifest exists (a
week is published once its manifest is written, which happens last). In a notebook:

    from buildout_tracker.devtools.sql import connect
    con = connect()
    con.sql("SELECT * FROM program_scorecard").df()
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import sys
import warnings
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import duckdb

from buildout_tracker.devtools import procs
from buildout_tracker.devtools.lake_server import ENV_FILE, ensure_env_file, load_env_file
from buildout_tracker.settings import S3Settings
from buildout_tracker.tables import TABLE_NAMES

NOT_RUNNING = "the lake is not running: make lake-up"
PUBLISHED_WEEKS = "published_weeks"
MAX_ROWS = 1000
# Statements whose result is only a count of affected rows, or nothing: print no table.
_NO_RESULT = {
    "CREATE", "DROP", "ALTER", "INSERT", "UPDATE", "DELETE", "SET", "VARIABLE_SET", "LOAD",
    "ATTACH", "DETACH", "TRANSACTION", "COPY", "PREPARE", "EXECUTE", "CREATE_FUNC", "VACUUM",
    "ANALYZE", "EXPORT", "EXTENSION", "COPY_DATABASE", "MERGE_INTO",
}  # fmt: skip
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
HELP = """\
One statement a line, or over several lines until `;` (a blank line also ends one): a line
runs by itself when it is a whole statement (for a SELECT: with its FROM).
Views: one per published table, over every week; published_weeks lists the weeks published.
  .tables   list the views
  .help     this text
  .quit     leave (also .exit, or Ctrl-D)"""


class LakeNotRunning(RuntimeError):
    """Nothing answers at the lake's endpoint."""


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _load_env(env_file: str | Path | None) -> None:
    path = Path(env_file) if env_file else ENV_FILE
    if "BUILDOUT_S3_ENDPOINT" not in os.environ:  # a local setup: the .env `make lake-up` uses
        ensure_env_file(path)
    load_env_file(path)


def check_lake(settings: S3Settings) -> None:
    """Raise LakeNotRunning when a local endpoint is set and nothing listens there."""
    if not settings.endpoint_url:  # AWS: nothing local to check
        return
    url = urlsplit(settings.endpoint_url)
    host = url.hostname or "127.0.0.1"
    port = url.port or (443 if url.scheme == "https" else 80)
    if not procs.port_open(host, port):
        if host in _LOOPBACK:
            raise LakeNotRunning(f"{NOT_RUNNING} (nothing answers at {settings.endpoint_url})")
        raise LakeNotRunning(f"nothing answers at {settings.endpoint_url} (BUILDOUT_S3_ENDPOINT)")


def _load_httpfs(con: duckdb.DuckDBPyConnection) -> None:
    try:  # the project ships httpfs as a Python package (duckdb-extension-httpfs): no download
        import duckdb_extensions

        duckdb_extensions.import_extension("httpfs", con=con)
    except ImportError:  # elsewhere DuckDB downloads it once, into ~/.duckdb/extensions
        con.install_extension("httpfs")
    con.load_extension("httpfs")


def _secret(settings: S3Settings) -> str:
    options = [f"REGION {_quote(settings.region)}"]
    if settings.access_key_id:
        options += [
            f"KEY_ID {_quote(settings.access_key_id)}",
            f"SECRET {_quote(settings.secret_access_key or '')}",
        ]
        token = os.environ.get("AWS_SESSION_TOKEN")
        if token:
            options.append(f"SESSION_TOKEN {_quote(token)}")
    else:  # a profile, SSO or a role, as the AWS CLI finds them (DuckDB's aws extension)
        options.append("PROVIDER credential_chain")
    if settings.endpoint_url:  # the local lake: its address, path-style URLs, HTTP unless https
        url = urlsplit(settings.endpoint_url.rstrip("/"))
        options += [
            f"ENDPOINT {_quote(url.netloc)}",
            "URL_STYLE 'path'",
            f"USE_SSL {str(url.scheme == 'https').lower()}",
        ]
    return f"CREATE OR REPLACE SECRET lake (TYPE s3, {', '.join(options)})"


def connect(env_file: str | Path | None = None, *, check: bool = True) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with a view per published table of the lake (and published_weeks).

    Loads `env_file` (default: the project's `.env`) without overriding the environment, and
    raises LakeNotRunning when the local lake does not answer. A table with no week published
    yet has no view (a warning names it: `make run` publishes a history).
    """
    _load_env(env_file)
    settings = S3Settings.from_env()
    if check:
        check_lake(settings)
    con = duckdb.connect()
    _load_httpfs(con)
    con.execute(_secret(settings))
    curated = f"s3://{settings.lake_bucket}/curated"
    missing = []
    for table in TABLE_NAMES:
        pattern = f"{curated}/{table}/*/*.parquet"
        found = con.execute("SELECT count(*) FROM glob(?)", [pattern]).fetchone()
        if not found or not found[0]:
            missing.append(table)
            continue
        con.execute(
            f'CREATE VIEW "{table}" AS SELECT * FROM '
            f"read_parquet({_quote(pattern)}, hive_partitioning = true)"
        )
    con.execute(
        f"CREATE VIEW {PUBLISHED_WEEKS} AS SELECT regexp_extract(file, 'week=([^/]*)[.]json$', 1) "
        f"AS week FROM glob({_quote(curated + '/_manifests/week=*.json')}) ORDER BY week"
    )
    if missing:
        warnings.warn(
            f"not published yet in {curated}/ (make run publishes a history): "
            + ", ".join(missing),
            stacklevel=2,
        )
    return con


def views(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY view_name"
    ).fetchall()
    return [r[0] for r in rows]


# ----------------------------------------------------------------------------------- output


def cell(value: Any) -> str:
    """One value as text: NULL, ISO dates, 12 significant digits, lists in brackets."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else format(value, ".12g")
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(cell(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {cell(v)}" for k, v in value.items()) + "}"
    return str(value).replace("\n", " ")


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], more: bool = False) -> str:
    """Columns separated by ` | `, a rule under the header, numbers right-aligned."""
    text = [[cell(v) for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in text)]) for i, c in enumerate(columns)]
    right = [
        bool(rows) and all(_numeric(r[i]) or r[i] is None for r in rows)
        for i in range(len(columns))
    ]

    def line(values: Sequence[str]) -> str:
        parts = (
            v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right, strict=True)
        )
        return " | ".join(parts).rstrip()

    n = len(rows)
    footer = (
        f"(first {n} rows; --max-rows to show more)"
        if more
        else f"({n} row{'s' if n != 1 else ''})"
    )
    return "\n".join([line(columns), "-+-".join("-" * w for w in widths), *map(line, text), footer])


def run_sql(
    con: duckdb.DuckDBPyConnection, sql: str, out: IO[str], max_rows: int = MAX_ROWS
) -> None:
    """Run every statement of `sql`, printing the result of each that returns rows."""
    for statement in con.extract_statements(sql):
        con.execute(statement)
        if statement.type.name in _NO_RESULT or con.description is None:
            continue
        columns = [d[0] for d in con.description]
        rows = con.fetchmany(max_rows + 1) if max_rows > 0 else con.fetchall()
        more = max_rows > 0 and len(rows) > max_rows
        print(format_table(columns, rows[:max_rows] if more else rows, more), file=out)


def _error(exc: BaseException) -> str:
    lines = [ln for ln in str(exc).splitlines() if ln.strip()]
    return "error: " + (" ".join(lines[:1]) or type(exc).__name__)


# ----------------------------------------------------------------------------------- prompt


def _incomplete(con: duckdb.DuckDBPyConnection, text: str) -> bool:
    """Whether `text` is the start of a statement: DuckDB's parser wants more input."""
    try:
        con.extract_statements(text)
    except duckdb.ParserException as exc:
        message = str(exc)
        return "end of input" in message or "unterminated" in message
    return False


def _stands_alone(con: duckdb.DuckDBPyConnection, line: str) -> bool:
    """Whether a line without `;` is a statement by itself. DuckDB's grammar accepts a lot
    (`SELECT week, area,` parses, and so does `FROM program_scorecard`), so a query's first
    line usually parses: a SELECT must also bind (`con.sql` binds without running it), which
    `SELECT week, area` does not until its FROM line comes."""
    if line.rstrip().endswith(",") or _incomplete(con, line):  # DuckDB allows `SELECT 1,`
        return False
    try:
        parsed = con.extract_statements(line)
        if len(parsed) == 1 and parsed[0].type.name == "SELECT":
            con.sql(line)
    except duckdb.BinderException:
        return False
    except duckdb.Error:  # a real error (a missing table, a typo): run it and say so
        return True
    return True


class StatementReader:
    """Lines in, statements and dot commands out. A line that is a statement by itself is one
    (see _stands_alone); otherwise lines are joined until one ends with `;`, or a blank line."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.buffer: list[str] = []

    def feed(self, line: str) -> str | None:
        line = line.rstrip("\n")
        if not self.buffer:
            if not line.strip():
                return None
            if line.strip().startswith("."):
                return line.strip()
        elif not line.strip():  # a blank line ends a statement that is still open
            return self.flush()
        self.buffer.append(line)
        text = "\n".join(self.buffer)
        if text.rstrip().endswith(";"):
            return None if _incomplete(self.con, text) else self.flush()
        if len(self.buffer) == 1 and _stands_alone(self.con, text):
            return self.flush()
        return None

    def flush(self) -> str | None:
        text, self.buffer = "\n".join(self.buffer), []
        return text if text.strip() else None


def statements(con: duckdb.DuckDBPyConnection, lines: Iterable[str]) -> list[str]:
    """Every statement and dot command that `lines` make up, in order."""
    reader, out = StatementReader(con), []
    for line in lines:
        item = reader.feed(line)
        if item is not None:
            out.append(item)
    last = reader.flush()
    return [*out, last] if last is not None else out


def prompt(
    con: duckdb.DuckDBPyConnection,
    stdin: IO[str] | None = None,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
    max_rows: int = MAX_ROWS,
    interactive: bool | None = None,
) -> int:
    """Read statements from stdin and run them until `.quit` or the end of input; 1 if any
    failed, else 0. With a terminal: a prompt, line editing and history."""
    stdin, out, err = stdin or sys.stdin, out or sys.stdout, err or sys.stderr
    if interactive is None:
        interactive = stdin.isatty()
    reader = StatementReader(con)

    def lines() -> Iterable[str]:
        if not interactive:
            yield from stdin
            return
        import readline  # noqa: F401 - line editing and history for input()

        print(f"DuckDB on the lake; views: {', '.join(views(con))}. .help for help.", file=out)
        while True:
            try:
                yield input("  ...> " if reader.buffer else "lake> ")
            except EOFError:
                print(file=out)
                return
            except KeyboardInterrupt:  # Ctrl-C drops the statement being typed
                print(file=out)
                reader.buffer = []

    failed = False
    for line in lines():
        item = reader.feed(line)
        if item is None:
            continue
        if item.startswith("."):
            command = item.split()[0].lower()
            if command in (".quit", ".exit", ".q"):
                return 1 if failed else 0
            if command == ".tables":
                print("\n".join(views(con)), file=out)
            elif command == ".help":
                print(HELP, file=out)
            else:
                print(f"error: unknown command {command} (.help lists them)", file=err)
                failed = True
            continue
        failed = not _run_reporting(con, item, out, err, max_rows) or failed
    last = reader.flush()
    if last is not None:
        failed = not _run_reporting(con, last, out, err, max_rows) or failed
    return 1 if failed else 0


def _run_reporting(
    con: duckdb.DuckDBPyConnection, sql: str, out: IO[str], err: IO[str], max_rows: int
) -> bool:
    try:
        run_sql(con, sql, out, max_rows)
    except KeyboardInterrupt:
        print("interrupted", file=err)
    except duckdb.Error as exc:
        print(_error(exc), file=err)
        return False
    finally:
        out.flush()
    return True


# ------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m buildout_tracker.devtools.sql",
        description="DuckDB on the lake's published tables: runs SQL given as arguments, "
        "else a prompt reading statements from stdin.",
    )
    parser.add_argument("sql", nargs="*", help="SQL to run (several words are joined)")
    parser.add_argument(
        "--env-file", type=Path, default=None, help=f"the settings to load (default: {ENV_FILE})"
    )
    parser.add_argument(
        "--max-rows",
        type=int,
        default=MAX_ROWS,
        help=f"rows printed per result (0: all; default {MAX_ROWS})",
    )
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            con = connect(args.env_file)
        for w in caught:
            print(f"note: {w.message}", file=sys.stderr)
    except LakeNotRunning as exc:
        print(exc, file=sys.stderr)
        return 3
    except duckdb.Error as exc:
        print(_error(exc), file=sys.stderr)
        return 1
    try:
        if args.sql:
            try:
                run_sql(con, " ".join(args.sql), sys.stdout, args.max_rows)
            except duckdb.Error as exc:
                print(_error(exc), file=sys.stderr)
                return 1
            return 0
        return prompt(con, max_rows=args.max_rows)
    finally:
        con.close()


if __name__ == "__main__":
    raise SystemExit(main())
