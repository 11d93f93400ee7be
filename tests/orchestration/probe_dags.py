"""Test DAGs written into a temporary DAG folder by the tests that run Airflow."""

SHORT_SECRET_WARNING = "Skipping masking for a secret as it's too short"

# Reads both project connections the way the pipeline does (S3 through `buildout_s3`, the
# HMAC key through `buildout_pii_hmac`). With MASK_PROBE_LOG_SECRETS set it also logs the two
# secrets, so that a real task run's log can show them masked.
MASK_PROBE_DAG = """
import logging
import os

import pendulum
from airflow.sdk import dag, task

log = logging.getLogger("mask_probe")

@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1), catchup=False)
def mask_probe():
    @task
    def probe() -> int:
        from airflow.sdk import Connection

        from buildout_tracker.lake import client_from_airflow

        names = sorted(b["Name"] for b in client_from_airflow().list_buckets()["Buckets"])
        log.warning("PROBE buckets %s", ",".join(names))
        key = Connection.get("buildout_pii_hmac").password
        log.warning("PROBE hmac read (%d characters)", len(key))
        if os.environ.get("MASK_PROBE_LOG_SECRETS"):
            log.warning("PROBE hmac %s", key)
            log.warning("PROBE s3 secret %s", os.environ["AWS_SECRET_ACCESS_KEY"])
        return len(names)

    probe()


mask_probe()
"""
