"""Fixtures of the ingest tests: one GX validator per module, a runtime on empty buckets."""

from __future__ import annotations

import pytest

from buildout_tracker import pipeline
from buildout_tracker.lake import Bucket


@pytest.fixture(scope="module")
def validator():  # type: ignore[no-untyped-def]
    from buildout_tracker.feeds.gx_suite import GxValidator

    return GxValidator()


@pytest.fixture
def rt(fresh_buckets: tuple[Bucket, Bucket], validator) -> pipeline.Runtime:  # type: ignore[no-untyped-def]
    landing, lake = fresh_buckets
    runtime = pipeline.Runtime(landing, lake, b"test-hmac-key", run_id="test")
    runtime._validator = validator
    return runtime
