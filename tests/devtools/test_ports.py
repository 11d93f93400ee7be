"""Port conflicts are loud: who holds a port is read from /proc (socket inodes matched to
/proc/<pid>/fd); `up` refuses a port asked for that another program holds, naming the port,
the pid and the command line, before it starts anything, and replaces a taken default port
with a free one, saying so."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from buildout_tracker.devtools import local_airflow, procs
from tests.devtools.conftest import Sandbox


def _me() -> str:
    """This process's command line as /proc shows it (what the message must name)."""
    return Path(f"/proc/{os.getpid()}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()


@pytest.fixture
def occupied() -> Iterator[int]:
    """A port held by a plain listening socket of this process, on every interface (as the
    log servers of Airflow bind), which also takes it from 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("0.0.0.0", 0))
        s.listen()
        yield s.getsockname()[1]


def test_holders_of_a_port_are_named_from_proc(occupied: int) -> None:
    assert not procs.port_available("127.0.0.1", occupied)
    [holder] = procs.port_holders(occupied)
    assert holder.pid == os.getpid() and holder.command == _me()
    assert holder.listener.address == "0.0.0.0" and not holder.listener.loopback
    text = procs.describe_port_holders("127.0.0.1", occupied)
    assert f"port {occupied}" in text and f"pid {os.getpid()}" in text and _me() in text


def test_loopback_and_ipv6_listeners_are_decoded() -> None:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as v6, socket.socket() as v4:
        v6.bind(("::1", 0))
        v6.listen()
        v4.bind(("127.0.0.1", 0))
        v4.listen()
        mine = procs.listening_by([os.getpid()])[os.getpid()]
        by_port = {sock.port: sock for sock in mine}
        assert by_port[v6.getsockname()[1]].address == "::1"
        assert by_port[v4.getsockname()[1]].address == "127.0.0.1"
        assert all(sock.loopback for sock in by_port.values())
    assert procs.port_available("127.0.0.1", procs.free_port())


def test_up_refuses_an_asked_port_another_program_holds_and_starts_nothing(
    sandbox: Sandbox, occupied: int, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(procs.PortInUse) as caught:
        local_airflow.up(api_port=occupied, env_file=sandbox.env_file, quiet=True)
    text = str(caught.value)
    assert f"127.0.0.1:{occupied}" in text and f"pid {os.getpid()}" in text and _me() in text
    assert caught.value.holders[0].pid == os.getpid()
    # Refused before anything started: no lake, no pid file, no state.
    assert not procs.port_open("127.0.0.1", sandbox.lake_port)
    assert not (sandbox.var / "run").exists() or not list((sandbox.var / "run").iterdir())

    # The same through BUILDOUT_AIRFLOW_PORT and the command line `make up` runs: exit 1,
    # the reason on stderr.
    os.environ[local_airflow.PORT_ENV] = str(occupied)
    os.environ[local_airflow.ENV_FILE_ENV] = str(sandbox.env_file)
    assert local_airflow.main(["up"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("up failed: the UI/API cannot listen on 127.0.0.1:")
    assert f"port {occupied}" in err and f"pid {os.getpid()}" in err and _me() in err


def test_a_taken_default_port_is_replaced_by_a_free_one_and_said(occupied: int) -> None:
    port, note = local_airflow.choose_port(occupied, False, "the UI/API", local_airflow.PORT_ENV)
    assert port != occupied and procs.port_available("127.0.0.1", port)
    assert note is not None
    assert f"port {occupied}" in note and f"pid {os.getpid()}" in note and _me() in note
    assert f"uses {port} instead" in note and local_airflow.PORT_ENV in note
    assert local_airflow.choose_port(port, True, "the UI/API") == (port, None)


def test_up_chooses_both_ports_when_their_defaults_are_taken(
    sandbox: Sandbox, occupied: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No port asked for, 8080 and 8974 taken (here: the defaults pointed at a held port)."""
    monkeypatch.setattr(local_airflow, "DEFAULT_PORT", occupied)
    monkeypatch.setattr(local_airflow, "DEFAULT_HEALTH_PORT", occupied)
    layout = local_airflow.Layout.resolve()
    notes: list[str] = []
    running = dict.fromkeys(local_airflow.COMPONENTS)
    api, health = local_airflow._ports(layout, running, {}, None, notes)
    assert occupied not in (api, health) and api != health
    assert len(notes) == 2 and all(f"pid {os.getpid()}" in n for n in notes)
    assert "the UI/API uses" in notes[0] and "health check uses" in notes[1]

    # Components still running keep their ports; a different one asked for is refused.
    running["scheduler"] = 1
    state = {"api_port": api, "scheduler_health_port": health}
    assert local_airflow._ports(layout, running, state, None, []) == (api, health)
    with pytest.raises(RuntimeError, match="already running on port"):
        local_airflow._ports(layout, running, state, api + 1, [])
