"""The environment every local Airflow process gets (`make up`, `make run-week`, the tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from buildout_tracker.devtools.lake_server import LakeServer
from buildout_tracker.orchestration.airflow_env import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    airflow_env,
    connection_env,
)
from buildout_tracker.settings import S3_CONN_ID, S3Settings
from tests.orchestration.probe_dags import MASK_PROBE_DAG, SHORT_SECRET_WARNING

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


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


_MINIO = S3Settings("http://minio:9000", "minioadmin1", "miniosecret123", "us-east-1", "l", "k")


def test_no_connection_value_is_too_short_for_the_secrets_masker() -> None:
    """Airflow masks every string of a connection's extra as it reads it, and for one shorter
    than [logging] min_length_masked_secret (5) writes 'Skipping masking for a secret as it's
    too short' into the task's log (it was "path", of s3.addressing_style)."""
    env = connection_env(_MINIO, base={"BUILDOUT_PII_HMAC_KEY": "ab" * 32})
    for name, value in env.items():
        conn = json.loads(value)
        short = [s for s in _strings(conn.get("extra", {})) if len(s) < 5]
        assert short == [], (name, short)
        assert len(conn.get("password") or "-----") >= 5, name


def test_s3_connection_addresses_buckets_by_path_at_a_named_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without `addressing_style` in the extra, a client built from the connection still puts
    the bucket in the path (MinIO at http://minio:9000 has no per-bucket host names)."""
    for name, value in connection_env(_MINIO, base={}).items():
        monkeypatch.setenv(name, value)
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    client = S3Hook(aws_conn_id=S3_CONN_ID).get_conn()
    url = client.generate_presigned_url(
        "get_object", Params={"Bucket": "buildout-lake", "Key": "a"}
    )
    assert url.startswith("http://minio:9000/buildout-lake/a?")
    assert client.meta.config.request_checksum_calculation == "when_required"


def test_health_check_server_listens_on_loopback(tmp_path: Path) -> None:
    env = airflow_env(tmp_path / "airflow", scheduler_health_port=18974)
    assert env["AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST"] == "127.0.0.1"
    assert env["AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT"] == "18974"
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"


_DAG_TEST = """
import sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors
run = bag.dags["mask_probe"].test()
print("RUN STATE", run.state)
"""


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_dag_test_task_log_has_no_short_secret_warning(
    tmp_path: Path, lake_server: LakeServer
) -> None:
    """What `make run-week` does (dag.test() in one process), with the project's connections
    against a real lake: the task reads S3 through `buildout_s3` and the HMAC key through
    `buildout_pii_hmac`, and its log never warns about a secret too short to mask.

    (Masking itself is checked on a real task run, in tests/devtools/test_local_airflow.py:
    under dag.test() Airflow 3.3.2 registers the secrets with the Task SDK's masker while the
    console handler of the process does not redact, so nothing is masked there.)"""
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "mask_probe.py").write_text(MASK_PROBE_DAG)
    hmac_key = "hmac-" + os.urandom(16).hex()
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "BUILDOUT_", "AWS_"))
    }
    base.update(lake_server.env())
    base.update({"BUILDOUT_PII_HMAC_KEY": hmac_key, "BUILDOUT_VAR_DIR": str(tmp_path / "var")})
    env = airflow_env(tmp_path / "airflow", base=base)
    env["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags)
    migrate = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert migrate.returncode == 0, migrate.stdout[-2000:] + migrate.stderr[-2000:]
    out = subprocess.run(
        [sys.executable, "-c", _DAG_TEST, str(dags)],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    log = out.stdout + out.stderr
    assert out.returncode == 0 and "RUN STATE success" in log, log[-4000:]
    assert "PROBE buckets buildout-lake,buildout-landing" in log, log[-4000:]
    assert "PROBE hmac read" in log
    assert SHORT_SECRET_WARNING not in log, [x for x in log.splitlines() if "too short" in x]
