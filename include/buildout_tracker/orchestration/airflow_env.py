"""The environment Airflow runs with locally: where its home, DAGs and plugins are, and the
connections (`buildout_s3`, `buildout_pii_hmac`, `buildout_alerts`) built from the project's
settings. One function, used by `make up`, by the in-process weekly cycle and by the system
test, so the three agree.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from buildout_tracker.settings import (
    ALERT_CONN_ID,
    HMAC_CONN_ID,
    PROJECT_ROOT,
    S3_CONN_ID,
    S3Settings,
    alert_webhook_url,
    hmac_key_from_env,
    var_dir,
)


def connection_env(
    s3: S3Settings | None = None, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """AIRFLOW_CONN_* variables for the project's connections, from `base` (default: the
    process environment)."""
    s = s3 or S3Settings.from_env(base)
    extra: dict[str, object] = {"region_name": s.region}
    if s.endpoint_url:
        extra["endpoint_url"] = s.endpoint_url
        # The same client settings as lake.make_client: no whole-object CRC stored with each
        # PUT (rclone returns it on ranged reads). Path-style addressing needs no setting:
        # botocore uses it for any endpoint_url unless told "virtual". Do not add
        # {"s3": {"addressing_style": "path"}}: Airflow's secrets masker walks every value of
        # a connection's extra and warns "Skipping masking for a secret as it's too short"
        # in every task log for one under 5 characters ("path").
        extra["config_kwargs"] = {
            "request_checksum_calculation": "when_required",
            "response_checksum_validation": "when_required",
        }
    s3_conn: dict[str, object] = {"conn_type": "aws", "extra": extra}
    if s.access_key_id:
        s3_conn["login"] = s.access_key_id
        s3_conn["password"] = s.secret_access_key or ""
    env = {f"AIRFLOW_CONN_{S3_CONN_ID.upper()}": json.dumps(s3_conn)}
    key = hmac_key_from_env(base)
    if key:
        env[f"AIRFLOW_CONN_{HMAC_CONN_ID.upper()}"] = json.dumps(
            {"conn_type": "generic", "password": key.decode()}
        )
    url = alert_webhook_url(base)
    if url:
        env[f"AIRFLOW_CONN_{ALERT_CONN_ID.upper()}"] = json.dumps(
            {"conn_type": "http", "host": url}
        )
    return env


SQLITE_BUSY_TIMEOUT_SECONDS = 60
SQLITE_CONNECT_ARGS = {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
"""Imported by Airflow (``[database] sql_alchemy_connect_args``) when the metadata DB is SQLite."""


def airflow_env(
    home: Path | None = None,
    base: Mapping[str, str] | None = None,
    api_port: int = 8080,
    executor: str = "LocalExecutor",
    sql_alchemy_conn: str | None = None,
    scheduler_health_port: int | None = None,
) -> dict[str, str]:
    """A complete environment for an Airflow process of this project. Every server an
    Airflow process opens listens on 127.0.0.1: the API (`api_port`) and the scheduler's
    health check (`scheduler_health_port`, else Airflow's 8974). The log servers of the
    scheduler and the triggerer bind every interface (Airflow hard-codes it): start those
    with `--skip-serve-logs` where the API reads the task logs from the shared log folder."""
    env = dict(os.environ if base is None else base)
    home = (home or var_dir() / "airflow").resolve()
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": executor,
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sql_alchemy_conn
            or f"sqlite:///{home}/airflow.db",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "127.0.0.1",
            "AIRFLOW__CORE__PARALLELISM": "8",
            # Keep /proc/<pid>/environ readable after setproctitle, so `make down` and the
            # system test can find every process of this home.
            "SPT_NOENV": "1",
            "GX_ANALYTICS_ENABLED": "False",
            "PYTHONWARNINGS": "ignore::DeprecationWarning",
        }
    )
    if scheduler_health_port is not None:
        env["AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT"] = str(scheduler_health_port)
    if env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("sqlite"):
        # Scheduler, dag-processor, api-server and a CLI command share one SQLite file;
        # wait for a writer's lock instead of failing after sqlite3's default 5 s.
        for key in ("SQL_ALCHEMY_CONNECT_ARGS", "SQL_ALCHEMY_CONNECT_ARGS_ASYNC"):
            env[f"AIRFLOW__DATABASE__{key}"] = f"{__name__}.SQLITE_CONNECT_ARGS"
    env.setdefault("AIRFLOW__CORE__FERNET_KEY", _stable_secret(home / "fernet.key", fernet=True))
    env.setdefault("AIRFLOW__API_AUTH__JWT_SECRET", _stable_secret(home / "jwt.secret"))
    env.update(connection_env(base=env))
    return env


def _stable_secret(path: Path, fernet: bool = False) -> str:
    """A random secret generated once per Airflow home and kept there (git-ignored)."""
    if path.exists():
        return path.read_text().strip()
    if fernet:
        from cryptography.fernet import Fernet

        value = Fernet.generate_key().decode()
    else:
        value = os.urandom(32).hex()
    path.write_text(value)
    path.chmod(0o600)
    return value
