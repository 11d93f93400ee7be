"""A sandbox for `make up` / `make down`: a temporary var dir, its own .env (lake on a free
port), the developer's environment kept out, and `down` plus the environment put back after."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from buildout_tracker.devtools import local_airflow, procs
from buildout_tracker.devtools.lake_server import ensure_env_file

# What `up` reads from the environment: cleared so the developer's shell cannot leak in.
ISOLATE = (
    "BUILDOUT_S3_ENDPOINT",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "BUILDOUT_LANDING_BUCKET",
    "BUILDOUT_LAKE_BUCKET",
    "BUILDOUT_PII_HMAC_KEY",
    "BUILDOUT_ALERT_WEBHOOK",
    "AIRFLOW_HOME",
    local_airflow.PORT_ENV,
    local_airflow.HOME_ENV,
    local_airflow.ENV_FILE_ENV,
)


@dataclass
class Sandbox:
    var: Path
    env_file: Path
    api_port: int
    lake_port: int

    @property
    def home(self) -> Path:
        return (self.var / "airflow").resolve()


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    saved = dict(os.environ)  # `up` loads .env into os.environ: put it back afterwards
    for name in ISOLATE:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BUILDOUT_VAR_DIR", str(tmp_path / "var"))
    # Not Airflow's 8974: a developer's `make up` (or another test run) may hold it.
    monkeypatch.setattr(local_airflow, "DEFAULT_HEALTH_PORT", procs.free_port())
    lake_port = procs.free_port()
    env_file = ensure_env_file(tmp_path / ".env", port=lake_port)
    box = Sandbox(tmp_path / "var", env_file, procs.free_port(), lake_port)
    try:
        yield box
    finally:
        local_airflow.down(env_file=env_file, timeout=10, quiet=True)
        os.environ.clear()
        os.environ.update(saved)
