"""The local lake: start, buckets, put/get over HTTP with boto3, restart keeps data, stop;
credentials out of `ps`; a taken port named; `status` an error only when something is wrong."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from buildout_tracker.devtools import lake_server, procs
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


def test_credentials_stay_off_the_command_line(tmp_path: Path) -> None:
    """`ps` shows every user a process's arguments: rclone gets the key in its environment."""
    server = LakeServer(
        tmp_path / "lake", "127.0.0.1", procs.free_port(), "cmdlinekey42", "cmdline-secret-0123"
    )
    try:
        server.start()
        pid = procs.read_pid(server.pid_file)
        assert pid is not None
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        assert b"rclone" in cmdline and b"serve" in cmdline
        assert b"cmdline-secret-0123" not in cmdline and b"cmdlinekey42" not in cmdline
        assert b"--auth-key" not in cmdline
        # The owner alone can read the environment (0400 files under /proc/<pid>/).
        assert b"RCLONE_AUTH_KEY=" in Path(f"/proc/{pid}/environ").read_bytes()

        good = make_client(server.settings())
        assert {b["Name"] for b in good.list_buckets()["Buckets"]} == set(server.buckets)
        settings = server.settings()
        for key, secret in (("cmdlinekey42", "wrong-secret-0123"), ("otherkey42", "cmdline-secret-0123")):  # fmt: skip
            bad = make_client(
                type(settings)(settings.endpoint_url, key, secret, "us-east-1", "a", "b")
            )
            with pytest.raises(ClientError) as caught:
                bad.list_buckets()
            assert caught.value.response["Error"]["Code"] in (
                "SignatureDoesNotMatch",
                "InvalidAccessKeyId",
            )
    finally:
        server.stop()


def test_start_on_a_taken_port_names_the_program(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        server = LakeServer(tmp_path / "lake", "127.0.0.1", port, "takenkey42", "taken-secret-0123")
        with pytest.raises(procs.PortInUse) as caught:
            server.start()
    assert f"127.0.0.1:{port}" in str(caught.value) and f"pid {os.getpid()}" in str(caught.value)
    assert procs.read_pid(server.pid_file) is None


@pytest.fixture
def lake_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """`python -m buildout_tracker.devtools.lake_server` on a temporary .env and var dir,
    with the developer's .env and environment kept out."""
    for name in ("BUILDOUT_S3_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BUILDOUT_VAR_DIR", str(tmp_path / "var"))
    env_file = ensure_env_file(tmp_path / ".env", port=procs.free_port())
    monkeypatch.setenv("BUILDOUT_ENV_FILE", str(env_file))
    saved = dict(os.environ)
    yield env_file
    lake_server.main(["down"])
    os.environ.clear()
    os.environ.update(saved)


def test_status_of_a_lake_that_is_not_running_is_not_an_error(
    lake_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert lake_server.main(["status"]) == 0
    out = capsys.readouterr().out
    endpoint = read_env_file(lake_env)["BUILDOUT_S3_ENDPOINT"]
    assert out.startswith(f"lake not running: `make lake-up` serves {endpoint} from ")


def test_status_without_any_env_file_writes_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("BUILDOUT_S3_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BUILDOUT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("BUILDOUT_ENV_FILE", str(tmp_path / "none.env"))
    monkeypatch.setenv("BUILDOUT_S3_ENDPOINT", f"http://127.0.0.1:{procs.free_port()}")
    assert lake_server.main(["status"]) == 0
    assert "lake not running" in capsys.readouterr().out
    assert not (tmp_path / "none.env").exists()


def test_status_running_then_refusing_our_credentials(
    lake_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert lake_server.main(["up"]) == 0
    capsys.readouterr()
    assert lake_server.main(["status"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("lake running: ") and "buckets: buildout-lake, buildout-landing" in out

    # The .env changed under a running lake: it answers, but not to us.
    os.environ["AWS_SECRET_ACCESS_KEY"] = "not-the-secret-it-started-with"
    assert lake_server.main(["status"]) == lake_server.STATUS_REFUSED
    err = capsys.readouterr().err
    assert "refuses our credentials (SignatureDoesNotMatch" in err and "make lake-down" in err
