"""Shared fixtures: a real local S3 server (rclone) on a free loopback port, per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Airflow reads its configuration at import: give the test session its own home, no examples,
# before any test imports it. Tests that run Airflow processes build their own environment.
_AIRFLOW_HOME = Path(
    os.environ.get("BUILDOUT_TEST_AIRFLOW_HOME", "/tmp/buildout-test-airflow-home")
)
os.environ.setdefault("AIRFLOW_HOME", str(_AIRFLOW_HOME))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

from buildout_tracker import pipeline  # noqa: E402 - after the Airflow environment above
from buildout_tracker.devtools import procs  # noqa: E402
from buildout_tracker.devtools.lake_server import LakeServer  # noqa: E402
from buildout_tracker.lake import Bucket, make_client  # noqa: E402


@pytest.fixture(scope="session")
def lake_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LakeServer]:
    root = tmp_path_factory.mktemp("lake") / "data"
    server = LakeServer(
        root=root,
        host="127.0.0.1",
        port=procs.free_port(),
        access_key="testkey" + os.urandom(4).hex(),
        secret_key="testsecret" + os.urandom(8).hex(),
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_env(lake_server: LakeServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point the environment at the test lake (what the code reads, nothing patched)."""
    env = lake_server.env()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def fresh_buckets(lake_server: LakeServer, s3_env: dict[str, str]) -> tuple[Bucket, Bucket]:
    """Empty landing and lake buckets for one test."""
    client = make_client(lake_server.settings())
    landing, lake = Bucket(lake_server.buckets[0], client), Bucket(lake_server.buckets[1], client)
    landing.delete_prefix("")
    lake.delete_prefix("")
    return landing, lake


@pytest.fixture(scope="module")
def validator():  # type: ignore[no-untyped-def]
    """One GX validator (one ephemeral GX context) per test module."""
    from buildout_tracker.feeds.gx_suite import GxValidator

    return GxValidator()


@pytest.fixture
def rt(fresh_buckets: tuple[Bucket, Bucket], validator) -> pipeline.Runtime:  # type: ignore[no-untyped-def]
    """A pipeline runtime on empty buckets of the test lake."""
    landing, lake = fresh_buckets
    runtime = pipeline.Runtime(landing, lake, b"test-hmac-key", run_id="test")
    runtime._validator = validator
    return runtime


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"buildout var dir: {os.environ.get('BUILDOUT_VAR_DIR', Path('var').resolve())}"]
