"""`make up` / `make down`: a real local Airflow (four process groups) and lake on free ports
in a temporary var dir; every server of it listens on 127.0.0.1 only (no log servers), a
taken default UI port is replaced and said, the printed password logs in, the DAG list
answers, a task's log reads through the API with its secrets masked and no "too short to
mask" warning, `up` is idempotent, and `down` leaves no process behind."""

from __future__ import annotations

import json
import os
import socket
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from buildout_tracker.devtools import local_airflow, procs
from buildout_tracker.devtools.lake_server import read_env_file
from buildout_tracker.settings import PROJECT_ROOT
from tests.devtools.conftest import Sandbox
from tests.orchestration.probe_dags import MASK_PROBE_DAG, SHORT_SECRET_WARNING

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def _request(
    url: str, data: bytes | None = None, token: str | None = None, timeout: float = 20
) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, {}


def _state(url: str, token: str) -> str | None:
    """A task instance's state while polling; None while the API is too busy to answer (one
    api-server worker, SQLite, a loaded 2-core machine)."""
    try:
        return _request(url, token=token, timeout=30)[1].get("state")
    except (TimeoutError, urllib.error.URLError):
        return None


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of LISTEN sockets on `port`, from /proc/net/tcp{,6} (hex, as stored)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                local, state = line.split()[1], line.split()[3]
                addr, _, hexport = local.rpartition(":")
                if state == "0A" and int(hexport, 16) == port:
                    found.add(addr)
    return found


_LOOPBACK = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1 as /proc shows them


def _airflow_pids(home: Path, pgids: set[int]) -> set[int]:
    """Every live process of this Airflow: in a recorded group, a descendant of one, or with
    the Airflow home in its environment or command line."""
    parents: dict[int, int] = {}
    found: set[int] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[-1].split()
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if stat[0] in (b"Z", b"X"):
            continue
        parents[int(entry)] = int(stat[1])
        if int(stat[2]) in pgids or str(home).encode() in environ + cmdline:
            found.add(int(entry))
    grew = True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in found} - found
        found |= more
        grew = bool(more)
    found.discard(os.getpid())
    return found


def _listening_sockets(pids: set[int]) -> dict[int, list[tuple[str, int]]]:
    """pid -> (address as /proc/net/tcp{,6} print it, port) of each LISTEN socket it holds:
    the tables' inodes matched to the `socket:[inode]` links in /proc/<pid>/fd."""
    by_inode: dict[str, tuple[str, int]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                fields = line.split()
                addr, _, hexport = fields[1].rpartition(":")
                if fields[3] == "0A":
                    by_inode[f"socket:[{fields[9]}]"] = (addr, int(hexport, 16))
    held: dict[int, list[tuple[str, int]]] = {}
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link in by_inode:
                held.setdefault(pid, []).append(by_inode[link])
    return held


def _assert_loopback_only(home: Path, pgids: set[int]) -> set[int]:
    """Every listening socket of every process of this Airflow is on 127.0.0.1 or ::1;
    returns the ports they listen on."""
    held = _listening_sockets(_airflow_pids(home, pgids))
    public = {
        pid: (Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")[:120], socks)
        for pid, socks in held.items()
        if any(addr not in _LOOPBACK for addr, _ in socks)
    }
    assert public == {}, f"listening beyond loopback: {public}"
    return {port for socks in held.values() for _, port in socks}


def _other_address() -> str | None:
    """A non-loopback IPv4 address of this machine, if it has one."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent for UDP connect
            addr = s.getsockname()[0]
    except OSError:
        return None
    return None if addr.startswith("127.") else addr


def _leftovers(home: Path, pgids: set[int]) -> list[str]:
    """Independent of the module's own scan: any live process in a recorded group, or whose
    environment or command line mentions the Airflow home."""
    me = os.getpid()
    left = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[-1].split()
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if stat[0] in (b"Z", b"X"):
            continue
        if int(stat[2]) in pgids or str(home).encode() in environ + cmdline:
            left.append(entry + ": " + cmdline.replace(b"\0", b" ").decode(errors="replace"))
    return left


def _dag_files(folder: Path) -> list[Path]:
    return [
        p
        for p in sorted(folder.glob("**/*.py"))
        if not p.name.startswith("_") and ("@dag" in p.read_text() or "DAG(" in p.read_text())
    ]


def test_up_serves_ui_on_loopback_with_login_then_down_leaves_nothing(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    t0 = time.monotonic()
    info = local_airflow.up(api_port=sandbox.api_port, env_file=sandbox.env_file, timeout=150)
    up_seconds = time.monotonic() - t0
    printed = capsys.readouterr().out
    pgids = set(info.pids.values())
    base = f"http://127.0.0.1:{sandbox.api_port}"

    # What `up` prints: the URL and a login that is the one SimpleAuthManager wrote.
    assert info.url == base and base in printed
    assert set(info.pids) == set(local_airflow.COMPONENTS) and len(pgids) == 4
    assert info.home == sandbox.home
    written = json.loads((sandbox.home / "passwords.json").read_text())
    assert info.password == written["admin"]
    assert f"user 'admin', password '{written['admin']}'" in printed
    for name in local_airflow.COMPONENTS:
        assert (sandbox.var / "run" / f"airflow-{name}.pid").exists()
        assert (sandbox.var / "logs" / f"airflow-{name}.log").exists()

    # Loopback only: the API, and every socket any process of this Airflow listens on (the
    # API and the scheduler's health check; no log server on 8793/8794 or anywhere).
    listening = _listening_addresses(sandbox.api_port)
    assert listening == {"0100007F"}, listening
    ports = _assert_loopback_only(sandbox.home, pgids)
    assert ports == {sandbox.api_port, info.scheduler_health_port}, ports
    lake_pid = procs.read_pid(next((sandbox.var / "run").glob("lake-*.pid")))
    assert lake_pid is not None
    assert _listening_sockets({lake_pid}) == {lake_pid: [("0100007F", sandbox.lake_port)]}
    other = _other_address()
    if other is not None:
        with socket.socket() as s:
            s.settimeout(2)
            assert s.connect_ex((other, sandbox.api_port)) != 0

    # Login with the printed password; the wrong one is refused; the API needs the token.
    login = json.dumps({"username": "admin", "password": info.password}).encode()
    code, body = _request(f"{base}/auth/token", login)
    assert code == 201 and body.get("access_token"), (code, body)
    token = body["access_token"]
    wrong = json.dumps({"username": "admin", "password": "not-" + (info.password or "")}).encode()
    assert _request(f"{base}/auth/token", wrong)[0] == 401
    assert _request(f"{base}/api/v2/dags")[0] == 401
    code, dags = _request(f"{base}/api/v2/dags?limit=100", token=token)
    assert code == 200 and "total_entries" in dags

    # The project's DAG files, if the lead has written some: parsed, no import errors.
    dag_files = _dag_files(PROJECT_ROOT / "dags")
    if dag_files:
        deadline = time.monotonic() + 90
        while True:
            _, dags = _request(f"{base}/api/v2/dags?limit=100", token=token)
            _, errors = _request(f"{base}/api/v2/importErrors", token=token)
            parsed = {d.get("fileloc") for d in dags.get("dags", [])}
            missing = [str(p) for p in dag_files if str(p) not in parsed]
            if errors.get("total_entries") or not missing or time.monotonic() > deadline:
                break
            time.sleep(2)
        assert errors.get("total_entries") == 0, errors
        assert not missing, f"DAG files with no DAG in the API: {missing}"

    # Idempotent: a second `up` starts nothing and keeps the same groups.
    t1 = time.monotonic()
    again = local_airflow.up(
        api_port=sandbox.api_port, env_file=sandbox.env_file, timeout=60, quiet=True
    )
    assert again.started == [] and again.pids == info.pids
    assert time.monotonic() - t1 < 15
    assert local_airflow.status(env_file=sandbox.env_file).running

    t2 = time.monotonic()
    stopped = local_airflow.down(env_file=sandbox.env_file)
    down_seconds = time.monotonic() - t2
    print(f"up {up_seconds:.1f} s, down {down_seconds:.1f} s: {stopped}")

    assert [line.split(" ")[0] for line in stopped[:4]] == list(local_airflow.COMPONENTS)
    assert any(line.startswith("lake") for line in stopped)
    assert not procs.port_open("127.0.0.1", sandbox.api_port)
    assert not procs.port_open("127.0.0.1", sandbox.lake_port)
    assert not list((sandbox.var / "run").glob("*.pid"))
    assert _leftovers(sandbox.home, pgids) == []
    assert local_airflow.down(env_file=sandbox.env_file, quiet=True) == []


SLEEPER_DAG = '''
"""Test DAG: one task whose command forks a child that leaves the task's process group."""
from airflow.sdk import dag, task
import pendulum


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1), catchup=False)
def sleeper():
    @task.bash
    def nap() -> str:
        return "setsid sleep NAP_SECONDS & sleep NAP_SECONDS"

    nap()


sleeper()
'''


def _trigger(base: str, dag_id: str, token: str, deadline: float) -> str:
    while _request(f"{base}/api/v2/dags/{dag_id}", token=token)[0] != 200:
        assert time.monotonic() < deadline, f"{dag_id} DAG never parsed"
        time.sleep(1)
    run = json.dumps({"logical_date": None}).encode()
    code, body = _request(f"{base}/api/v2/dags/{dag_id}/dagRuns", run, token=token)
    assert code == 200, (code, body)
    return str(body["dag_run_id"])


def _log_text(body: dict) -> str:
    """The log endpoint's JSON: `content` is a list of structured entries (or a string)."""
    content = body.get("content")
    if isinstance(content, str):
        return content
    return "\n".join(
        json.dumps(entry) if isinstance(entry, dict) else str(entry) for entry in content or []
    )


@pytest.mark.timeout(480)
def test_taken_default_port_task_logs_through_the_api_then_down_kills_running_tasks(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No UI port asked for and the default one taken: `up` picks another and says so. A task
    that reads both connections runs; its log, read through the API (no log server: from the
    shared log folder), masks the secrets and never warns of one too short to mask. Then a
    running task whose command forked an escaped child: `down` kills them all."""
    dags = tmp_path / "dags"
    dags.mkdir()
    # A duration no other process on the machine sleeps for: this test's sleeps are told
    # from anyone else's `sleep 600` by their command line alone.
    nap = f"600.{int.from_bytes(os.urandom(3), 'big') % 10**6:06d}"
    (dags / "sleeper.py").write_text(textwrap.dedent(SLEEPER_DAG).replace("NAP_SECONDS", nap))
    (dags / "mask_probe.py").write_text(MASK_PROBE_DAG)
    monkeypatch.setenv("MASK_PROBE_LOG_SECRETS", "1")  # reaches the tasks' environment
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        default = taken.getsockname()[1]
        monkeypatch.setattr(local_airflow, "DEFAULT_PORT", default)
        info = local_airflow.up(
            env_file=sandbox.env_file, timeout=150, quiet=True, dags_folder=dags
        )
    assert info.api_port != default
    [note] = info.notes
    assert f"port {default}" in note and f"pid {os.getpid()}" in note
    assert f"uses {info.api_port} instead" in note and note in info.describe()
    base = info.url
    login = json.dumps({"username": "admin", "password": info.password}).encode()
    token = _request(f"{base}/auth/token", login)[1]["access_token"]

    deadline = time.monotonic() + 90
    probe_run = _trigger(base, "mask_probe", token, deadline)
    probe_url = f"{base}/api/v2/dags/mask_probe/dagRuns/{probe_run}/taskInstances/probe"
    state = None
    while state not in ("success", "failed", "upstream_failed"):
        assert time.monotonic() < deadline + 90, f"mask_probe never finished (state {state})"
        time.sleep(2)
        state = _state(probe_url, token)
    code, body = _request(f"{probe_url}/logs/1", token=token)
    assert code == 200, (code, body)
    log = _log_text(body)
    assert state == "success", log[-3000:]
    secrets = read_env_file(sandbox.env_file)
    assert "PROBE buckets buildout-lake,buildout-landing" in log, log[-3000:]
    assert "PROBE hmac ***" in log and secrets["BUILDOUT_PII_HMAC_KEY"] not in log
    assert "PROBE s3 secret ***" in log and secrets["AWS_SECRET_ACCESS_KEY"] not in log
    assert SHORT_SECRET_WARNING not in log, log[-3000:]
    run_id = _trigger(base, "sleeper", token, deadline + 90)

    def sleepers() -> list[int]:
        out = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
                except OSError:
                    continue
                if cmd == f"sleep\x00{nap}\x00".encode():
                    out.append(int(entry))
        return out

    task_url = f"{base}/api/v2/dags/sleeper/dagRuns/{run_id}/taskInstances/nap"
    while len(sleepers()) < 2:
        state = _state(task_url, token)
        assert state in (None, "scheduled", "queued", "running"), state
        assert time.monotonic() < deadline + 150, f"task never started its sleeps (state {state})"
        time.sleep(1)
    naps = sleepers()
    # With a task running (executor workers, task supervisor, task): still loopback only.
    ports = _assert_loopback_only(sandbox.home, set(info.pids.values()))
    assert ports == {info.api_port, info.scheduler_health_port}, ports

    stopped = local_airflow.down(env_file=sandbox.env_file, quiet=True)
    print(stopped)
    assert [line.split(" ")[0] for line in stopped[:4]] == list(local_airflow.COMPONENTS)
    assert [pid for pid in naps if procs._alive(pid)] == []
    assert _leftovers(sandbox.home, set(info.pids.values())) == []


@pytest.mark.timeout(480)
def test_backfill_create_runs_one_ingest_per_week_of_the_range(sandbox: Sandbox) -> None:
    """`airflow backfill create` over a date range: one run per ISO week, each processing
    the week of its data interval (never the clock), executed by the real scheduler."""
    from buildout_tracker import registry
    from buildout_tracker.lake import Bucket, make_client
    from buildout_tracker.settings import S3Settings
    from tests.ingest import builders as b
    from tests.pipeline.test_scheduled_publication import Api, scheduled_runs_done, wait_for

    info = local_airflow.up(
        api_port=sandbox.api_port, env_file=sandbox.env_file, timeout=150, quiet=True
    )
    landing = Bucket("buildout-landing", make_client(S3Settings.from_env()))
    lake = Bucket("buildout-lake", make_client(S3Settings.from_env()))
    # The runs the scheduler starts on its own (the wall clock's latest week) end first: a
    # `backfill create` retried on a busy SQLite file removes its half-made runs, and a
    # scheduler loop holding them then stopped on a StaleDataError (CI, 2026-12-04).
    api = Api(info.url, info.password or "")
    api.wait_parsed((*registry.INGEST_DAGS, registry.PUBLISH_DAG))
    wait_for("the scheduled runs of the latest week done", lambda: scheduled_runs_done(api))
    # Mondays of 2026-W45 and 2026-W46 (closed weeks); the second delivery adds a site.
    landing.put_bytes("reference/2026-11-02/sites.csv", b.sites_csv(["DC-SG-01"]))
    landing.put_bytes("reference/2026-11-09/sites.csv", b.sites_csv(["DC-SG-01", "DC-SG-02"]))
    # What `make backfill WEEKS=2026-W45:2026-W46` does: `airflow backfill create` per DAG.
    done = local_airflow.backfill(
        ["2026-W45", "2026-W46"], ("ingest_reference_weekly",), env_file=sandbox.env_file
    )
    assert done == ["ingest_reference_weekly"]

    login = json.dumps({"username": "admin", "password": info.password}).encode()
    token = _request(f"{info.url}/auth/token", login)[1]["access_token"]
    deadline = time.monotonic() + 150
    runs: list[dict] = []
    while time.monotonic() < deadline:
        _, body = _request(
            f"{info.url}/api/v2/dags/ingest_reference_weekly/dagRuns?limit=20", token=token
        )
        runs = [r for r in body.get("dag_runs", []) if r.get("run_type") == "backfill"]
        if len(runs) == 2 and all(r["state"] in ("success", "failed") for r in runs):
            break
        time.sleep(3)
    assert sorted(r["logical_date"][:10] for r in runs) == ["2026-11-02", "2026-11-09"], runs
    assert all(r["state"] == "success" for r in runs), runs
    for week, day in (("2026-W45", "2026-11-02"), ("2026-W46", "2026-11-09")):
        report = lake.get_json(f"reports/feeds/week={week}/reference.json")
        assert [(f["key"], f["outcome"]) for f in report["files"]] == [
            (f"reference/{day}/sites.csv", "ingested")
        ]
