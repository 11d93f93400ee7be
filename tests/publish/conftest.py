"""Fixtures for the publication tests: one GX validator per session, a runtime on fresh buckets."""

from __future__ import annotations

import pytest

from buildout_tracker import pipeline
from buildout_tracker.lake import Bucket


@pytest.fixture(scope="session")
def validator():  # type: ignore[no-untyped-def]
    from buildout_tracker.feeds.gx_suite import GxValidator

    return GxValidator()


@pytest.fixture
def rt(fresh_buckets: tuple[Bucket, Bucket], validator) -> pipeline.Runtime:  # type: ignore[no-untyped-def]
    landing, lake = fresh_buckets
    runtime = pipeline.Runtime(landing, lake, b"test-hmac-key", run_id="test")
    runtime._validator = validator
    return runtime


@pytest.fixture
def consumer_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """pyarrow's AWS SDK validates response checksums; rclone sends the whole object's CRC32 with
    a ranged GET, so a consumer of the local lake turns that validation down to when_required."""
    monkeypatch.setenv("AWS_RESPONSE_CHECKSUM_VALIDATION", "when_required")
