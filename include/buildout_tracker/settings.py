"""Every name the project reads from its environment, with its default, in one place.

Nothing here touches the network or the disk: importing it is free, so DAG files may.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Airflow connection ids: the only way DAG tasks reach S3 and the PII key.
S3_CONN_ID = "buildout_s3"
HMAC_CONN_ID = "buildout_pii_hmac"
ALERT_CONN_ID = "buildout_alerts"

DEFAULT_QUARANTINE_THRESHOLD = 0.05


def _env(name: str, default: str | None = None, env: Mapping[str, str] | None = None) -> str | None:
    value = (os.environ if env is None else env).get(name)
    return value if value not in (None, "") else default


def var_dir() -> Path:
    """Git-ignored folder for local state: the lake's files, Airflow's home, logs, defect logs."""
    return Path(_env("BUILDOUT_VAR_DIR", str(PROJECT_ROOT / "var")) or "var")


@dataclass(frozen=True)
class S3Settings:
    endpoint_url: str | None
    access_key_id: str | None
    secret_access_key: str | None
    region: str
    landing_bucket: str
    lake_bucket: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> S3Settings:
        """From `env` (default: the process environment)."""
        return cls(
            endpoint_url=_env("BUILDOUT_S3_ENDPOINT", env=env),
            access_key_id=_env("AWS_ACCESS_KEY_ID", env=env),
            secret_access_key=_env("AWS_SECRET_ACCESS_KEY", env=env),
            region=_env("AWS_DEFAULT_REGION", "us-east-1", env) or "us-east-1",
            landing_bucket=_env("BUILDOUT_LANDING_BUCKET", "buildout-landing", env)
            or "buildout-landing",
            lake_bucket=_env("BUILDOUT_LAKE_BUCKET", "buildout-lake", env) or "buildout-lake",
        )


def landing_bucket() -> str:
    return S3Settings.from_env().landing_bucket


def lake_bucket() -> str:
    return S3Settings.from_env().lake_bucket


def quarantine_threshold(feed: str) -> float:
    """Share of quarantined rows above which a feed's week is blocked (per feed override)."""
    raw = _env(f"BUILDOUT_QUARANTINE_THRESHOLD_{feed.upper()}") or _env(
        "BUILDOUT_QUARANTINE_THRESHOLD"
    )
    return float(raw) if raw else DEFAULT_QUARANTINE_THRESHOLD


def late_lookback_weeks() -> int:
    """How many earlier, already-run weeks each feed-week run scans for files that landed
    after their own week ran (BUILDOUT_LATE_LOOKBACK_WEEKS, default 8)."""
    return int(_env("BUILDOUT_LATE_LOOKBACK_WEEKS", "8") or 8)


DEFAULT_DELIVERY_DEADLINE_HOURS = 5.0  # Monday 05:00 UTC: an hour before the weekly run


def delivery_deadline_hours(feed: str) -> float:
    """When a feed's delivery for week W is due, in hours after W closes (the next Monday
    00:00 UTC): BUILDOUT_DELIVERY_DEADLINE_HOURS_<FEED>, else BUILDOUT_DELIVERY_DEADLINE_HOURS,
    default 5 (Monday 05:00 UTC, an hour before the weekly run at 06:00)."""
    raw = _env(f"BUILDOUT_DELIVERY_DEADLINE_HOURS_{feed.upper()}") or _env(
        "BUILDOUT_DELIVERY_DEADLINE_HOURS"
    )
    return float(raw) if raw else DEFAULT_DELIVERY_DEADLINE_HOURS


def decision_timeout_hours() -> float:
    """How long a blocked feed-week waits for a person's decision in the Airflow UI before it
    stays blocked (BUILDOUT_DECISION_TIMEOUT_HOURS, default 48)."""
    return float(_env("BUILDOUT_DECISION_TIMEOUT_HOURS", "48") or 48)


def human_decisions() -> bool:
    """Whether a blocked feed-week waits for a person's decision in the Airflow UI
    (BUILDOUT_HUMAN_DECISIONS, default on; `make run-week` runs with dag.test() and nobody to
    ask, so a blocked week fails there at once, as it does without this)."""
    return (_env("BUILDOUT_HUMAN_DECISIONS", "on") or "on").lower() not in ("0", "off", "false")


def task_retries() -> int:
    """Retries of every task that touches S3 (BUILDOUT_TASK_RETRIES, default 3)."""
    return int(_env("BUILDOUT_TASK_RETRIES", "3") or 3)


def retry_delay_seconds() -> float:
    """First retry delay; doubles at each retry (BUILDOUT_RETRY_DELAY_SECONDS, default 30)."""
    return float(_env("BUILDOUT_RETRY_DELAY_SECONDS", "30") or 30)


def hmac_key_from_env(env: Mapping[str, str] | None = None) -> bytes | None:
    raw = _env("BUILDOUT_PII_HMAC_KEY", env=env)
    return raw.encode() if raw else None


def alert_webhook_url(env: Mapping[str, str] | None = None) -> str | None:
    return _env("BUILDOUT_ALERT_WEBHOOK", env=env)


def code_version() -> str:
    """Version recorded in manifests: the package version plus the git commit when known."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        base = version("buildout-tracker")
    except PackageNotFoundError:
        base = "0+unknown"
    commit = _env("BUILDOUT_GIT_COMMIT")
    if commit is None:
        head = PROJECT_ROOT / ".git" / "HEAD"
        try:
            ref = head.read_text().strip()
            if ref.startswith("ref: "):
                ref_file = PROJECT_ROOT / ".git" / ref[5:]
                commit = ref_file.read_text().strip() if ref_file.exists() else None
            else:
                commit = ref
        except OSError:
            commit = None
    return f"{base}+{commit[:12]}" if commit else base
