"""Fixtures for the fault tests: the fault proxy in front of the session's local S3 server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from buildout_tracker.devtools.lake_server import LakeServer
from buildout_tracker.devtools.s3_faults import FaultProxy
from buildout_tracker.lake import Bucket, make_client
from buildout_tracker.settings import S3Settings


@pytest.fixture
def proxy(lake_server: LakeServer) -> Iterator[FaultProxy]:
    with FaultProxy(upstream=lake_server.endpoint, seed=12) as p:
        yield p


@pytest.fixture
def through_proxy(
    proxy: FaultProxy,
    fresh_buckets: tuple[Bucket, Bucket],
    monkeypatch: pytest.MonkeyPatch,
    s3_env: dict[str, str],
) -> tuple[Bucket, Bucket]:
    """Empty landing and lake buckets, reached through the proxy (the pipeline's client)."""
    env = proxy.env(s3_env)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    client = make_client(S3Settings.from_env(env))
    landing, lake = fresh_buckets
    return Bucket(landing.name, client), Bucket(lake.name, client)
