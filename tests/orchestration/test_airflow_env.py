"""The environment every local Airflow process gets (`make up`, `make run-week`, the tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from buildout_tracker.orchestration.airflow_env import SQLITE_BUSY_TIMEOUT_SECONDS, airflow_env

# Read back from the connections Airflow itself opens: the sync engine's and the async one's.
_PROBE = """
import asyncio
from sqlalchemy import text
from airflow import settings
settings.configure_orm()
with settings.engine.connect() as conn:
    print(conn.execute(text("PRAGMA busy_timeout")).scalar())
async def probe():
    async with settings.async_engine.connect() as conn:
        print((await conn.execute(text("PRAGMA busy_timeout"))).scalar())
    await settings.async_engine.dispose()
asyncio.run(probe())
"""


def test_sqlite_metadata_db_waits_for_a_writer_instead_of_failing(tmp_path: Path) -> None:
    """Scheduler, dag-processor, api-server and a CLI command (`airflow backfill create`) write
    the same SQLite file; sqlite3's default 5 s busy timeout made the CLI fail with
    'database is locked' on a busy 2-core machine."""
    env = airflow_env(tmp_path / "airflow")
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    expected = str(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)
    assert out.stdout.split() == [expected, expected]


def test_no_sqlite_connect_args_for_postgres(tmp_path: Path) -> None:
    env = airflow_env(tmp_path / "airflow", sql_alchemy_conn="postgresql+psycopg2://u:p@h/db")
    assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS" not in env
