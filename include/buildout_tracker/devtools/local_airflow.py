"""A local Airflow for the UI (`make up` / `make down`): the lake, then the api-server,
scheduler, dag-processor and triggerer as separate processes, each the leader of its own
process group with a pid file under `var/run/` and a log under `var/logs/`.

Every server listens on 127.0.0.1 only: the API (UI port 8080 unless taken, or the port
asked for) and the scheduler's health check (8974 unless taken). The scheduler's and the
triggerer's log servers, which Airflow binds to every interface, are not started
(`--skip-serve-logs`): on one machine the API reads task logs from the shared log folder.
A port asked for that another program holds fails `up`, naming the port and the program
(pid, command line); a default port that is taken is replaced by a free one, and `up` says
so. After start, `up` checks every listening socket of its processes.

The UI login is `admin` with the password Airflow's SimpleAuthManager generated into the
Airflow home. `down` stops every group, then scans /proc for anything still pointing at this
Airflow home and kills it, so nothing is orphaned.

Port, home and `.env` can be chosen by argument or environment, so a test can run a second
instance on a free port with a temporary var dir beside a developer's own.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from buildout_tracker.devtools import lake_server, procs
from buildout_tracker.devtools.procs import find_processes, kill_pids, proc_stat, process_family
from buildout_tracker.orchestration.airflow_env import airflow_env
from buildout_tracker.settings import var_dir

# Environment names this module reads (candidates for settings.py).
PORT_ENV = "BUILDOUT_AIRFLOW_PORT"
HOME_ENV = "BUILDOUT_AIRFLOW_HOME"
ENV_FILE_ENV = "BUILDOUT_ENV_FILE"

DEFAULT_PORT = 8080
DEFAULT_HEALTH_PORT = 8974  # Airflow's [scheduler] scheduler_health_check_server_port
NEARBY_PORTS = 20  # a taken default port is replaced by the next free one of these, if any
HOST = "127.0.0.1"
USERNAME = "admin"
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
STATE_FILE = "airflow.json"


@dataclass(frozen=True)
class Layout:
    """Where one local Airflow keeps its home, pid files and logs."""

    home: Path
    run_dir: Path
    log_dir: Path

    @classmethod
    def resolve(cls, home: Path | str | None = None) -> Layout:
        base = var_dir()
        chosen = home or os.environ.get(HOME_ENV) or base / "airflow"
        return cls(Path(chosen).resolve(), (base / "run").resolve(), (base / "logs").resolve())

    def pid_file(self, component: str) -> Path:
        return self.run_dir / f"airflow-{component}.pid"

    def log_file(self, component: str) -> Path:
        return self.log_dir / f"airflow-{component}.log"

    @property
    def state_file(self) -> Path:
        return self.run_dir / STATE_FILE


@dataclass
class UpInfo:
    url: str
    username: str
    password: str | None
    home: Path
    api_port: int
    pids: dict[str, int]
    started: list[str]
    already_running: list[str]
    lake_endpoint: str
    seconds: float
    logs: Path
    scheduler_health_port: int | None = None
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.started:
            how = f"started {', '.join(self.started)} in {self.seconds:.1f} s"
        else:
            how = "already running"
        lines = [
            *(f"note: {note}" for note in self.notes),
            f"Airflow {how} (home {self.home}; logs in {self.logs})",
            f"lake: {self.lake_endpoint}",
            f"UI:   {self.url}",
            f"login: user {self.username!r}, password {self.password!r}"
            if self.password
            else f"login: user {self.username!r}; password not found (see the api-server log)",
        ]
        return "\n".join(lines)


@dataclass
class Status:
    home: Path
    api_port: int | None
    components: dict[str, int | None]
    health: dict[str, object] | None
    lake_running: bool
    lake_endpoint: str
    stragglers: list[int] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return all(self.components.values()) and self.health is not None

    def describe(self) -> str:
        lines = [f"Airflow home {self.home}"]
        for name, pid in self.components.items():
            lines.append(f"  {name:<14} {'running, pgid ' + str(pid) if pid else 'not running'}")
        if self.api_port:
            url = f"http://{HOST}:{self.api_port}"
            lines.append(f"  API {url}: {'answers' if self.health is not None else 'no answer'}")
            if self.health:
                parts = [
                    f"{k} {v.get('status')}" for k, v in self.health.items() if isinstance(v, dict)
                ]
                lines.append(f"  health: {', '.join(parts)}")
        if self.stragglers:
            lines.append(f"  processes using this home outside our groups: {self.stragglers}")
        lines.append(
            f"lake {'running' if self.lake_running else 'not running'}: {self.lake_endpoint}"
        )
        return "\n".join(lines)


# --- state -------------------------------------------------------------------------------


def _our_group(pgid: int | None, home: Path) -> bool:
    """The recorded group is alive and is ours (guards against a reused pid)."""
    return pgid is not None and procs.group_alive(pgid) and procs.group_uses(pgid, home)


def _running(layout: Layout) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for name in COMPONENTS:
        pgid = procs.read_pid(layout.pid_file(name))
        out[name] = pgid if _our_group(pgid, layout.home) else None
    return out


def _read_state(layout: Layout) -> dict[str, object]:
    try:
        data = json.loads(layout.state_file.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _env_file(env_file: Path | str | None) -> Path:
    chosen = env_file or os.environ.get(ENV_FILE_ENV)
    return Path(chosen) if chosen else lake_server.ENV_FILE


def _port(api_port: int | None) -> int:
    requested = _requested_port(api_port)
    return DEFAULT_PORT if requested is None else requested


def _requested_port(api_port: int | None) -> int | None:
    """The UI/API port the user asked for (argument, else BUILDOUT_AIRFLOW_PORT), if any."""
    if api_port is not None:
        return int(api_port)
    value = os.environ.get(PORT_ENV)
    return int(value) if value else None


def choose_port(
    preferred: int, explicit: bool, purpose: str, env_name: str | None = None
) -> tuple[int, str | None]:
    """(port, note) for a server on HOST. A port the user asked for (`explicit`) is used or
    refused (PortInUse, naming the program that holds it); a default that is taken is replaced
    by the next free port after it, else any free port, and the note says so."""
    if procs.port_available(HOST, preferred):
        return preferred, None
    if explicit:
        raise procs.PortInUse(
            HOST,
            preferred,
            f"{purpose} cannot listen on {HOST}:{preferred}",
            "stop that program or ask for another port"
            + (f" ({env_name} or --port)" if env_name else ""),
        )
    nearby = range(preferred + 1, min(preferred + 1 + NEARBY_PORTS, 65536))
    chosen = next((p for p in nearby if procs.port_available(HOST, p)), None) or procs.free_port()
    note = f"{procs.describe_port_holders(HOST, preferred)}: {purpose} uses {chosen} instead"
    return chosen, note + (f" (set {env_name} to choose)" if env_name else "")


def health(api_port: int, timeout: float = 2.0) -> dict[str, object] | None:
    """The API's health document, None while it does not answer."""
    url = f"http://{HOST}:{api_port}/api/v2/monitor/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            data = json.loads(resp.read())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _healthy(doc: dict[str, object] | None) -> bool:
    if not doc:
        return False
    parts = [doc.get(p) for p in ("metadatabase", "scheduler", "triggerer", "dag_processor")]
    return all(isinstance(p, dict) and p.get("status") == "healthy" for p in parts)


def _wait_api(port: int, proc: subprocess.Popen, deadline: float, layout: Layout) -> None:
    while health(port) is None:
        if proc.poll() is not None:
            raise RuntimeError(
                f"api-server exited with {proc.returncode}; end of its log:\n"
                + _tail(layout.log_file("api-server"))
            )
        if time.monotonic() > deadline:
            raise TimeoutError(f"the api-server does not answer on {HOST}:{port}")
        time.sleep(0.3)


def read_password(passwords_file: Path, username: str = USERNAME) -> str | None:
    """SimpleAuthManager keeps {"user": "password"} as JSON in its passwords file."""
    try:
        data = json.loads(passwords_file.read_text() or "{}")
    except (OSError, ValueError):
        return None
    value = data.get(username) if isinstance(data, dict) else None
    return str(value) if value else None


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- up / down / status ------------------------------------------------------------------


def up(
    api_port: int | None = None,
    home: Path | str | None = None,
    env_file: Path | str | None = None,
    timeout: float = 180.0,
    wait_healthy: bool = True,
    quiet: bool = False,
    dags_folder: Path | str | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> UpInfo:
    """Start the lake and Airflow's four components; a component already running is kept.
    `extra_env` is added to every component's environment (tests: other users, settings).

    Returns once the API answers (and, with `wait_healthy`, once the health endpoint reports
    the scheduler, triggerer and dag-processor healthy). On failure, what this call started
    is stopped again. `dags_folder` replaces the project's `dags/` (for tests).
    """
    t0 = time.monotonic()
    say = (lambda _msg: None) if quiet else (lambda msg: print(msg, flush=True))
    layout = Layout.resolve(home)
    requested = _requested_port(api_port)

    # Ports first: a conflict fails before anything starts.
    running = _running(layout)
    state = _read_state(layout)
    notes: list[str] = []
    port, health_port = _ports(layout, running, state, requested, notes)  # notes: describe()

    path = lake_server.ensure_env_file(_env_file(env_file))
    lake_server.load_env_file(path)
    lake = lake_server.from_env()
    lake.start()
    say(f"lake up: {lake.endpoint}")

    env = airflow_env(home=layout.home, api_port=port, scheduler_health_port=health_port)
    env.update(extra_env or {})
    env["PYTHONUNBUFFERED"] = "1"
    # Lineage of every task to a local file (OpenLineage's file transport), unless the
    # environment configures another transport, or BUILDOUT_LINEAGE=off.
    if (os.environ.get("BUILDOUT_LINEAGE") or "on").lower() not in ("0", "off", "false"):
        (var_dir() / "lineage").mkdir(parents=True, exist_ok=True)
        env.setdefault("AIRFLOW__OPENLINEAGE__TRANSPORT", json.dumps({
            "type": "file", "log_file_path": str(var_dir() / "lineage" / "events.jsonl"),
            "append": True}))  # fmt: skip
        env.setdefault(
            "AIRFLOW__OPENLINEAGE__EXTRACTORS",
            "buildout_tracker.orchestration.lineage.BuildoutTaskExtractor",
        )
        env.setdefault("AIRFLOW__OPENLINEAGE__NAMESPACE", "buildout-tracker-local")
    # Airflow renames its processes with setproctitle, which by default overwrites the
    # environment block /proc/PID/environ shows; SPT_NOENV keeps it, so `down` can find
    # every process of this home by its AIRFLOW_HOME.
    env["SPT_NOENV"] = "1"
    if dags_folder is not None:
        env["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(dags_folder).resolve())
    passwords_file = Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    layout.run_dir.mkdir(parents=True, exist_ok=True)
    layout.log_dir.mkdir(parents=True, exist_ok=True)
    layout.state_file.write_text(
        json.dumps(
            {
                "api_port": port,
                "scheduler_health_port": health_port,
                "home": str(layout.home),
                "lake_pid_file": str(lake.pid_file),
            }
        )
    )

    airflow = [sys.executable, "-m", "airflow"]
    argv = {
        "api-server": [
            *airflow,
            "api-server",
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        # No log servers: they bind 0.0.0.0 (Airflow hard-codes it), and the API reads the
        # task logs of this one machine from the shared log folder.
        "scheduler": [*airflow, "scheduler", "--skip-serve-logs"],
        "dag-processor": [*airflow, "dag-processor"],
        "triggerer": [*airflow, "triggerer", "--skip-serve-logs"],
    }
    to_start = [name for name in COMPONENTS if running[name] is None]
    started: list[str] = []
    popen: dict[str, subprocess.Popen] = {}
    try:
        if to_start:
            say(f"airflow db migrate (log {layout.log_file('db-migrate')})")
            with open(layout.log_file("db-migrate"), "ab") as log:
                migrated = subprocess.run(
                    [*airflow, "db", "migrate"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    timeout=max(30.0, timeout - (time.monotonic() - t0)),
                )
            if migrated.returncode != 0:
                raise RuntimeError(
                    f"airflow db migrate exited with {migrated.returncode}; end of its log:\n"
                    + _tail(layout.log_file("db-migrate"))
                )
        for name in to_start:
            proc = procs.spawn(
                argv[name], layout.log_file(name), env=env, pid_file=layout.pid_file(name)
            )
            popen[name] = proc
            started.append(name)
            say(f"started {name} (pgid {proc.pid}, log {layout.log_file(name)})")
            if name == "api-server":
                # Tasks report to the api-server's execution API: a scheduler started before
                # it listens launches tasks that fail on "connection refused" and retry.
                _wait_api(port, proc, t0 + timeout, layout)

        deadline = t0 + timeout
        doc: dict[str, object] | None = None
        while time.monotonic() < deadline:
            for name, proc in popen.items():
                if proc.poll() is not None:
                    if name == "api-server" and procs.port_holders(port):
                        raise procs.PortInUse(  # taken since we looked: name who took it
                            HOST, port, f"the api-server exited ({proc.returncode})"
                        )
                    raise RuntimeError(
                        f"{name} exited with {proc.returncode}; end of its log:\n"
                        + _tail(layout.log_file(name))
                    )
            doc = health(port)
            if doc is not None and (not wait_healthy or _healthy(doc)):
                break
            time.sleep(0.5)
        else:
            raise TimeoutError(
                f"Airflow not {'healthy' if doc else 'answering'} on {HOST}:{port} after "
                f"{timeout:.0f} s; last health: {doc}; see {layout.log_dir}"
            )
        if started:
            expected = {port: "api-server"} if "api-server" in started else {}
            if "scheduler" in started and wait_healthy:
                expected[health_port] = "scheduler"
            _check_listeners(layout, expected)
        password = None
        for _ in range(50):
            password = read_password(passwords_file)
            if password:
                break
            time.sleep(0.2)
    except BaseException:
        for name in started:
            procs.stop_pid_file(layout.pid_file(name), timeout=5.0)
        raise

    info = UpInfo(
        url=f"http://{HOST}:{port}",
        username=USERNAME,
        password=password,
        home=layout.home,
        api_port=port,
        pids={name: pgid for name, pgid in _running(layout).items() if pgid},
        started=started,
        already_running=[n for n in COMPONENTS if n not in started],
        lake_endpoint=lake.endpoint,
        seconds=time.monotonic() - t0,
        logs=layout.log_dir,
        scheduler_health_port=health_port,
        notes=notes,
    )
    say(info.describe())
    return info


def _ports(
    layout: Layout,
    running: dict[str, int | None],
    state: dict[str, object],
    requested: int | None,
    notes: list[str],
) -> tuple[int, int]:
    """(API port, scheduler health-check port) for `up`: those of the components already
    running, else chosen (see `choose_port`)."""
    recorded = state.get("api_port")
    recorded_health = state.get("scheduler_health_port")
    alive = [name for name, pgid in running.items() if pgid]
    if alive:
        port = recorded if isinstance(recorded, int) else _port(requested)
        if requested is not None and requested != port:
            raise RuntimeError(
                f"Airflow from {layout.home} is already running on port {port}: "
                "run `down` first to change the port"
            )
        # The running components were started with this port: it cannot change alone.
        if running["api-server"] is None and not procs.port_available(HOST, port):
            raise procs.PortInUse(
                HOST,
                port,
                f"the api-server cannot restart on {HOST}:{port}, the port the running "
                f"{', '.join(alive)} use",
                "stop that program, or `make down` then `make up`",
            )
    else:
        port, note = choose_port(
            DEFAULT_PORT if requested is None else requested,
            requested is not None,
            "the UI/API",
            PORT_ENV,
        )
        if note:
            notes.append(note)
    if running["scheduler"] is not None and isinstance(recorded_health, int):
        return port, recorded_health
    health_port, note = choose_port(DEFAULT_HEALTH_PORT, False, "the scheduler's health check")
    if health_port == port:  # the API's port was just chosen but is not bound yet
        health_port = procs.free_port()
    if note:
        notes.append(note)
    return port, health_port


def _check_listeners(layout: Layout, expected: dict[int, str], timeout: float = 15.0) -> None:
    """Every listening socket of this Airflow's processes is on loopback, and each port of
    `expected` (port -> component) is listened on by this Airflow: a server that could not
    bind (say, `[Errno 98]` in a subprocess that Airflow does not watch) fails `up`, naming
    the program that holds its port."""
    deadline = time.monotonic() + timeout
    while True:
        groups = {pgid: name for name, pgid in _running(layout).items() if pgid}
        family = process_family(set(groups))
        held = procs.listening_by(family)
        for pid, sockets in held.items():
            public = [str(sock) for sock in sockets if not sock.loopback]
            if public:
                st = proc_stat(pid)
                name = groups.get(st[2], "a process of this Airflow") if st else "?"
                raise RuntimeError(
                    f"{name} (pid {pid}: {procs.cmdline(pid)[:200]}) listens on "
                    f"{', '.join(public)}, reachable from other machines: every local server "
                    f"must bind {HOST}"
                )
        ours = {sock.port for sockets in held.values() for sock in sockets}
        missing = {p: name for p, name in expected.items() if p not in ours}
        if not missing:
            return
        if time.monotonic() > deadline:
            p, name = next(iter(missing.items()))
            if procs.port_holders(p):
                raise procs.PortInUse(
                    HOST, p, f"the {name} could not listen on {HOST}:{p}", "stop that program"
                )
            raise RuntimeError(
                f"the {name} does not listen on {HOST}:{p} after {timeout:.0f} s; end of its "
                f"log:\n{_tail(layout.log_file(name))}"
            )
        time.sleep(0.5)


def down(
    home: Path | str | None = None,
    env_file: Path | str | None = None,
    stop_lake: bool = True,
    timeout: float = 10.0,
    quiet: bool = False,
) -> list[str]:
    """Stop what `up` started: each component's whole process group (SIGTERM, then SIGKILL
    after `timeout` s), then any process still using this Airflow home, then the lake.
    Returns one line per thing stopped."""
    say = (lambda _msg: None) if quiet else (lambda msg: print(msg, flush=True))
    layout = Layout.resolve(home)
    stopped: list[str] = []

    groups: dict[str, int] = {}
    for name in COMPONENTS:
        pgid = procs.read_pid(layout.pid_file(name))
        if pgid is not None and _our_group(pgid, layout.home):
            groups[name] = pgid
    family = process_family(set(groups.values()))

    def stop(pgid: int) -> str:
        t = time.monotonic()
        procs.stop_group(pgid, timeout)
        took = time.monotonic() - t
        return f"{took:.1f} s" + (", SIGKILL" if took >= timeout else "")

    if groups:
        with ThreadPoolExecutor(max_workers=len(groups)) as pool:
            how = list(pool.map(stop, groups.values()))
        stopped += [f"{n} (pgid {g}; {h})" for (n, g), h in zip(groups.items(), how, strict=True)]
    for name in COMPONENTS:
        with contextlib.suppress(FileNotFoundError):
            layout.pid_file(name).unlink()

    left = find_processes(layout.home, set(groups.values()), family)
    if left:
        kill_pids(list(left))
        stopped += [f"straggler pid {pid}: {cmd[:100]}" for pid, cmd in left.items()]
    still = find_processes(layout.home, set(groups.values()), family)
    if still:
        raise RuntimeError(f"processes survived SIGKILL: {still}")

    if stop_lake:
        path = _env_file(env_file)
        if path.exists():
            lake_server.load_env_file(path)
        lake = lake_server.from_env()
        pid_files = {lake.pid_file}
        recorded = _read_state(layout).get("lake_pid_file")
        if isinstance(recorded, str):
            pid_files.add(Path(recorded))
        for pid_file in pid_files:
            if procs.stop_pid_file(pid_file):
                stopped.append(f"lake ({pid_file.name})")
    with contextlib.suppress(FileNotFoundError):
        layout.state_file.unlink()

    for line in stopped:
        say(f"stopped {line}")
    if not stopped:
        say("nothing was running")
    return stopped


def backfill(
    weeks: list[str],
    dag_ids: tuple[str, ...] | None = None,
    home: Path | str | None = None,
    env_file: Path | str | None = None,
    attempts: int = 6,
    quiet: bool = False,
) -> list[str]:
    """`airflow backfill create` for each ingest DAG over the ISO weeks `weeks` (first to last):
    one run per week, logical date the week's Monday 06:00 UTC; the running scheduler executes
    them and the asset events start the publisher. Returns the DAG ids backfilled.

    SQLite (the local metadata DB) refuses a write outright, without waiting, when another
    process (the scheduler) wrote since this transaction's snapshot: Airflow then removes
    the half-made backfill and reports 'database is locked'. That is retried here, with
    backoff; any other failure is raised with Airflow's own message.
    """
    from buildout_tracker.registry import INGEST_DAGS
    from buildout_tracker.weeks import status_date, week_start

    say = (lambda _msg: None) if quiet else (lambda msg: print(msg, flush=True))
    layout = Layout.resolve(home)
    path = _env_file(env_file)
    if path.exists():
        lake_server.load_env_file(path)
    port = _read_state(layout).get("api_port")
    env = airflow_env(home=layout.home, api_port=port if isinstance(port, int) else _port(None))
    done = []
    for dag_id in dag_ids or INGEST_DAGS:
        cmd = [str(Path(sys.executable).parent / "airflow"), "backfill", "create",
               "--dag-id", dag_id, "--from-date", week_start(weeks[0]).isoformat(),
               "--to-date", status_date(weeks[-1]).isoformat()]  # fmt: skip
        for attempt in range(1, attempts + 1):
            out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
            if out.returncode == 0:
                break
            if "database is locked" not in out.stderr or attempt == attempts:
                raise RuntimeError(f"backfill of {dag_id} failed: {out.stderr[-2000:]}")
            say(f"  {dag_id}: metadata DB busy, retrying ({attempt}/{attempts - 1})")
            time.sleep(2.0 * attempt)
        say(f"backfill created: {dag_id} {weeks[0]}..{weeks[-1]} ({len(weeks)} weeks)")
        done.append(dag_id)
    return done


def status(home: Path | str | None = None, env_file: Path | str | None = None) -> Status:
    layout = Layout.resolve(home)
    running = _running(layout)
    port = _read_state(layout).get("api_port")
    api_port = int(port) if isinstance(port, int) else None
    path = _env_file(env_file)
    if path.exists():
        lake_server.load_env_file(path)
    lake = lake_server.from_env()
    ours = {p for p in running.values() if p}
    stragglers = sorted(
        pid
        for pid in find_processes(layout.home)
        if (st := proc_stat(pid)) is not None and st[2] not in ours
    )
    return Status(
        home=layout.home,
        api_port=api_port,
        components=running,
        health=health(api_port) if api_port else None,
        lake_running=lake.running(),
        lake_endpoint=lake.endpoint,
        stragglers=stragglers,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="buildout-airflow", description="A local Airflow (UI on 127.0.0.1) plus the lake."
    )
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"API/UI port (env {PORT_ENV}, default {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--home", default=None, help=f"AIRFLOW_HOME (env {HOME_ENV}, default var/airflow)"
    )
    parser.add_argument("--env-file", default=None, help=f"the .env to load (env {ENV_FILE_ENV})")
    parser.add_argument(
        "--timeout", type=float, default=180.0, help="seconds `up` waits for health"
    )
    args = parser.parse_args(argv)
    if args.action == "up":
        try:
            up(api_port=args.port, home=args.home, env_file=args.env_file, timeout=args.timeout)
        except (RuntimeError, TimeoutError) as exc:
            print(f"up failed: {exc}", file=sys.stderr, flush=True)
            return 1
    elif args.action == "down":
        down(home=args.home, env_file=args.env_file)
    else:
        st = status(home=args.home, env_file=args.env_file)
        print(st.describe())
        return 0 if st.running else 3
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
