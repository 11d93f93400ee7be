"""Fixtures for the publication tests (the runtime and validator come from tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def consumer_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """pyarrow's AWS SDK validates response checksums; rclone sends the whole object's CRC32 with
    a ranged GET, so a consumer of the local lake turns that validation down to when_required."""
    monkeypatch.setenv("AWS_RESPONSE_CHECKSUM_VALIDATION", "when_required")
