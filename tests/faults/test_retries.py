"""The S3 client's one retry policy (lake.py), through the fault proxy: each fault kind alone
is retried to success; a permanent fault, or one that outlasts the attempts, fails with a
message naming the object; and a body that is not the whole object is never returned."""

from __future__ import annotations

import hashlib
import os

import pytest

from buildout_tracker.devtools.s3_faults import FaultProxy, Rule
from buildout_tracker.lake import Bucket, LakeError, RetryPolicy, client_config, make_client
from buildout_tracker.settings import S3Settings

DATA = os.urandom(200_000)
KEY = "faults/object.bin"

# Each transient fault, and the request kind it is injected into.
TRANSIENT = [
    ("slowdown", "PutObject"),
    ("internal_error", "PutObject"),
    ("reset_before_response", "PutObject"),  # the PUT did reach S3: its retry repeats it
    ("slowdown", "GetObject"),
    ("internal_error", "GetObject"),
    ("reset_before_response", "GetObject"),
    ("reset_mid_body", "GetObject"),
    ("truncated_body", "GetObject"),
    ("short_body", "GetObject"),  # Content-Length shortened too: only the checksum sees it
    ("slowdown", "HeadObject"),
    ("internal_error", "ListObjectsV2"),
    ("reset_before_response", "ListObjectsV2"),
    ("slowdown", "CopyObject"),
    ("internal_error", "DeleteObjects"),
    ("reset_before_response", "DeleteObjects"),
]


def _exercise(lake: Bucket, action: str) -> None:
    """Make the request kind `action` through `lake`, and check what it did."""
    if action == "PutObject":
        lake.put_bytes(KEY, DATA)
    elif action == "GetObject":
        assert lake.get_bytes(KEY) == DATA
    elif action == "HeadObject":
        assert lake.exists(KEY)
    elif action == "ListObjectsV2":
        assert [o.key for o in lake.list("faults/")] == [KEY]
    elif action == "CopyObject":
        lake.copy(KEY, KEY + ".copy")
        assert lake.get_bytes(KEY + ".copy") == DATA
    elif action == "DeleteObjects":
        lake.delete([KEY])
        assert lake.list("faults/") == []


@pytest.mark.parametrize(("fault", "action"), TRANSIENT, ids=[f"{f}-{a}" for f, a in TRANSIENT])
def test_each_transient_fault_alone_is_retried_to_success(
    proxy: FaultProxy,
    through_proxy: tuple[Bucket, Bucket],
    fresh_buckets: tuple[Bucket, Bucket],
    fault: str,
    action: str,
) -> None:
    _, lake = through_proxy
    direct = fresh_buckets[1]
    if action != "PutObject":
        lake.put_bytes(KEY, DATA)
    proxy.add(Rule(fault, action=action, nth=1))
    _exercise(lake, action)
    hit = [r for r in proxy.requests if r.action == action]
    assert [r.fault for r in hit][:2] == [fault, None], "faulted once, then answered"
    if action == "PutObject":
        assert direct.get_bytes(KEY) == DATA, "the object written is the whole object"


def test_latency_under_the_read_timeout_costs_only_time(
    proxy: FaultProxy, through_proxy: tuple[Bucket, Bucket]
) -> None:
    _, lake = through_proxy
    lake.put_bytes(KEY, DATA)
    proxy.add(Rule("latency", action="GetObject", latency=0.5, max_faults=None))
    assert lake.get_bytes(KEY) == DATA
    assert [r.fault for r in proxy.requests if r.action == "GetObject"] == ["latency"]


def test_latency_over_the_read_timeout_is_a_timeout_and_retried(
    proxy: FaultProxy, through_proxy: tuple[Bucket, Bucket], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUILDOUT_S3_READ_TIMEOUT", "1")
    _, lake = through_proxy
    lake = Bucket(lake.name, make_client(S3Settings.from_env()))
    proxy.add(Rule("latency", action="PutObject", latency=2.5, nth=1))
    lake.put_bytes(KEY, DATA)  # the first attempt times out (and lands late): same bytes
    assert [r.fault for r in proxy.requests if r.action == "PutObject"][:2] == ["latency", None]
    assert lake.get_bytes(KEY) == DATA


def test_a_permanent_fault_fails_at_once_naming_the_object(
    proxy: FaultProxy, through_proxy: tuple[Bucket, Bucket]
) -> None:
    _, lake = through_proxy
    proxy.add(Rule("access_denied", action="PutObject", key="denied", max_faults=None))
    with pytest.raises(LakeError) as caught:
        lake.put_bytes("reports/denied.json", b"{}")
    message = str(caught.value)
    assert f"s3://{lake.name}/reports/denied.json" in message, message
    assert "PutObject" in message and "AccessDenied" in message and "403" in message, message
    assert caught.value.attempts == 1, "no retry can fix a refusal"
    assert len([r for r in proxy.requests if r.action == "PutObject"]) == 1


def test_a_fault_that_outlasts_the_attempts_fails_naming_the_object(
    proxy: FaultProxy, through_proxy: tuple[Bucket, Bucket], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUILDOUT_S3_MAX_ATTEMPTS", "3")
    _, lake = through_proxy
    lake = Bucket(lake.name, make_client(S3Settings.from_env()))
    lake.put_bytes(KEY, DATA)
    proxy.add(Rule("internal_error", action="GetObject", max_faults=None))
    with pytest.raises(LakeError) as caught:
        lake.get_bytes(KEY)
    message = str(caught.value)
    assert f"GetObject s3://{lake.name}/{KEY} failed: InternalError (HTTP 500)" in message
    assert "3 attempt(s)" in message, message
    assert len([r for r in proxy.requests if r.action == "GetObject"]) == 3


def test_a_body_that_never_arrives_whole_fails_and_is_never_returned(
    proxy: FaultProxy, through_proxy: tuple[Bucket, Bucket], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUILDOUT_S3_MAX_ATTEMPTS", "3")
    _, lake = through_proxy
    lake = Bucket(lake.name, make_client(S3Settings.from_env()))
    lake.put_bytes(KEY, DATA)
    proxy.add(Rule("short_body", action="GetObject", max_faults=None, keep=0.9))
    with pytest.raises(LakeError, match=f"GetObject s3://{lake.name}/{KEY} failed: body"):
        lake.get_bytes(KEY)
    assert len([r for r in proxy.requests if r.action == "GetObject"]) == 3


def test_what_boto3_itself_detects_in_a_short_body(
    proxy: FaultProxy, through_proxy: tuple[Bucket, Bucket]
) -> None:
    """Verified, not assumed: boto3 compares the bytes read with Content-Length (a dropped
    connection raises), but a body shortened together with its Content-Length reads as
    whole. `get_bytes` checks the content (x-amz-meta-sha256, else a plain-MD5 ETag)."""
    from botocore.exceptions import IncompleteReadError, ResponseStreamingError

    _, lake = through_proxy
    lake.put_bytes(KEY, DATA)
    raw = lake.client
    proxy.add(Rule("truncated_body", action="GetObject", nth=1))
    with pytest.raises((IncompleteReadError, ResponseStreamingError)):
        raw.get_object(Bucket=lake.name, Key=KEY)["Body"].read()
    proxy.add(Rule("short_body", action="GetObject", nth=1))
    short = raw.get_object(Bucket=lake.name, Key=KEY)["Body"].read()
    assert 0 < len(short) < len(DATA), "boto3 returned a short body as if it were whole"
    assert lake.get_bytes(KEY) == DATA
    assert hashlib.sha256(DATA).hexdigest() == (
        raw.head_object(Bucket=lake.name, Key=KEY)["Metadata"].get("sha256")
        or raw.head_object(Bucket=lake.name, Key=KEY)["Metadata"].get("Sha256")
    )


def test_a_short_body_of_a_file_written_elsewhere_is_caught_by_its_md5_etag(
    proxy: FaultProxy, through_proxy: tuple[Bucket, Bucket]
) -> None:
    """A landing file (written by a source system, without our SHA-256 metadata)."""
    landing, _ = through_proxy
    landing.client.put_object(Bucket=landing.name, Key="procurement/x.csv", Body=DATA)
    proxy.add(Rule("short_body", action="GetObject", nth=1))
    assert landing.get_bytes("procurement/x.csv") == DATA
    assert [r.fault for r in proxy.requests if r.action == "GetObject"] == ["short_body", None]


def test_one_policy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUILDOUT_S3_RETRY_MODE", "adaptive")
    monkeypatch.setenv("BUILDOUT_S3_MAX_ATTEMPTS", "7")
    monkeypatch.setenv("BUILDOUT_S3_CONNECT_TIMEOUT", "2")
    monkeypatch.setenv("BUILDOUT_S3_READ_TIMEOUT", "30")
    policy = RetryPolicy.from_env()
    assert policy == RetryPolicy("adaptive", 7, 2.0, 30.0)
    config = client_config()
    assert config.retries == {"total_max_attempts": 7, "mode": "adaptive"}
    assert (config.connect_timeout, config.read_timeout) == (2.0, 30.0)
    monkeypatch.setenv("BUILDOUT_S3_RETRY_MODE", "legacy")
    with pytest.raises(ValueError, match="BUILDOUT_S3_RETRY_MODE"):
        RetryPolicy.from_env()


def test_the_airflow_client_has_the_same_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside a task the client comes from the `buildout_s3` connection: same retries and
    timeouts, and the connection's own config_kwargs kept where ours say nothing."""
    import json

    from buildout_tracker.lake import client_from_airflow

    monkeypatch.setenv("BUILDOUT_S3_MAX_ATTEMPTS", "4")
    extra = {
        "endpoint_url": "http://127.0.0.1:1",
        "region_name": "us-east-1",
        "config_kwargs": {"request_checksum_calculation": "when_required", "user_agent_extra": "x"},
    }
    monkeypatch.setenv(
        "AIRFLOW_CONN_BUILDOUT_S3",
        json.dumps({"conn_type": "aws", "login": "k", "password": "s", "extra": extra}),
    )
    client = client_from_airflow()
    config = client.meta.config
    assert config.retries == {"total_max_attempts": 4, "mode": "standard"}
    assert (config.connect_timeout, config.read_timeout) == (5.0, 60.0)
    assert config.response_checksum_validation == "when_required"
    assert "x" in (config.user_agent_extra or "")


def test_a_task_that_cannot_write_fails_naming_the_object(
    proxy: FaultProxy, through_proxy: tuple[Bucket, Bucket], validator: object
) -> None:
    """What the task log shows: the error names the object, the code, the attempts; and it
    is not a RuntimeError, so the task's own no-retry refusals do not swallow it."""
    from buildout_tracker import pipeline
    from buildout_tracker.pipeline import steps
    from tests.publish import helpers as h

    landing, lake = through_proxy
    h.deliver(landing, h.W37, skip=("reference", "procurement", "milestones", "hiring"))
    rt = pipeline.Runtime(landing, lake, b"test-hmac-key", run_id="denied")
    rt._validator = validator
    proxy.add(Rule("access_denied", action="PutObject", key=r"^state/fx_rates/", max_faults=None))
    with pytest.raises(LakeError) as caught:
        steps.run_ingest_task("fx_rates", h.W37, "denied", rt)
    assert str(caught.value).startswith(
        f"S3 PutObject s3://{lake.name}/state/fx_rates/week={h.W37}/fx_rates.parquet failed: "
        "AccessDenied (HTTP 403)"
    ), caught.value
    assert not isinstance(caught.value, RuntimeError)
