"""The local lake: start, buckets, put/get over HTTP with boto3, restart keeps data, stop."""

from __future__ import annotations

from pathlib import Path

from buildout_tracker.devtools import procs
from buildout_tracker.devtools.lake_server import LakeServer, ensure_env_file, read_env_file
from buildout_tracker.lake import Bucket, make_client


def test_lifecycle_put_get_restart_and_stop(tmp_path: Path) -> None:
    server = LakeServer(
        tmp_path / "lake", "127.0.0.1", procs.free_port(), "lifecyclekey", "lifecyclesecret"
    )
    try:
        server.start()
        assert server.running()
        client = make_client(server.settings())
        names = {b["Name"] for b in client.list_buckets()["Buckets"]}
        assert names == {"buildout-landing", "buildout-lake"}
        landing = Bucket("buildout-landing", client)
        landing.put_bytes("procurement/2026-11-23/po_lines_1.csv", b"po_number\n0045000001\n")
        assert (
            landing.get_bytes("procurement/2026-11-23/po_lines_1.csv") == b"po_number\n0045000001\n"
        )
        # File-backed: the object is a file under the served folder.
        assert (
            tmp_path / "lake" / "buildout-landing" / "procurement" / "2026-11-23" / "po_lines_1.csv"
        ).exists()
        pid = procs.read_pid(server.pid_file)
        assert pid is not None

        assert server.stop()
        assert not procs.group_alive(pid)
        assert not procs.port_open(server.host, server.port)

        server.start()
        again = Bucket("buildout-landing", make_client(server.settings()))
        assert (
            again.get_bytes("procurement/2026-11-23/po_lines_1.csv") == b"po_number\n0045000001\n"
        )
    finally:
        server.stop()
    assert not server.running()


def test_wrong_credentials_are_refused(lake_server: LakeServer) -> None:
    from botocore.exceptions import ClientError

    settings = lake_server.settings()
    bad = make_client(
        type(settings)(settings.endpoint_url, "someoneelse", "wrongsecret", "us-east-1", "a", "b")
    )
    try:
        bad.list_buckets()
    except ClientError as exc:
        assert "AccessKey" in str(exc) or "Signature" in str(exc)
    else:
        raise AssertionError("the lake accepted unknown credentials")


def test_env_file_written_once_with_random_credentials(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    ensure_env_file(path)
    first = read_env_file(path)
    ensure_env_file(path)
    assert read_env_file(path) == first, "an existing .env must never be overwritten"
    other = read_env_file(ensure_env_file(tmp_path / "other.env"))
    assert first["AWS_SECRET_ACCESS_KEY"] != other["AWS_SECRET_ACCESS_KEY"]
    assert first["BUILDOUT_LANDING_BUCKET"] == "buildout-landing"
    assert first["BUILDOUT_LAKE_BUCKET"] == "buildout-lake"
    assert first["BUILDOUT_S3_ENDPOINT"].startswith("http://127.0.0.1:")
    assert (path.stat().st_mode & 0o077) == 0
