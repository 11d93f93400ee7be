"""Where a run reads and writes, with which key, and whether it alerts: built from the
environment (command line, tests, benchmarks) or from the Airflow connections (tasks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from buildout_tracker import settings
from buildout_tracker.lake import Bucket, client_from_airflow, make_client


@dataclass
class Runtime:
    landing: Bucket
    lake: Bucket
    hmac_key: bytes
    run_id: str = "manual"
    notify: bool = True  # send alerts (benchmarks turn them off)
    _validator: Any = field(default=None, repr=False)
    # (feed, week) ingested by this runtime: a step that needs another feed in force for the
    # week (procurement and milestones need the reference) does not run it twice.
    ingested: set[tuple[str, str]] = field(default_factory=set, repr=False)

    @classmethod
    def from_env(cls, run_id: str = "manual") -> Runtime:
        client = make_client()
        key = settings.hmac_key_from_env()
        if key is None:
            raise RuntimeError(
                "no PII HMAC key: set BUILDOUT_PII_HMAC_KEY (make lake-up writes one into .env)"
            )
        return cls._on(client, key, run_id)

    @classmethod
    def _on(cls, client: Any, key: bytes, run_id: str) -> Runtime:
        """The configured landing and lake buckets through one S3 client."""
        return cls(
            Bucket(settings.landing_bucket(), client), Bucket(settings.lake_bucket(), client),
            key, run_id,
        )  # fmt: skip

    @classmethod
    def from_airflow(cls, run_id: str) -> Runtime:
        """Inside a task: S3 through the `buildout_s3` connection, the key from `buildout_pii_hmac`."""
        from airflow.sdk import BaseHook

        client = client_from_airflow()
        try:
            key = (BaseHook.get_connection(settings.HMAC_CONN_ID).password or "").encode()
        except Exception:  # connection absent: fall back to the environment (local default)
            key = settings.hmac_key_from_env() or b""
        if not key:
            raise RuntimeError(
                f"no PII HMAC key: create the Airflow connection {settings.HMAC_CONN_ID}"
            )
        return cls._on(client, key, run_id)

    @property
    def validator(self) -> Any:
        if self._validator is None:
            from buildout_tracker.feeds.gx_suite import GxValidator

            self._validator = GxValidator()
        return self._validator
