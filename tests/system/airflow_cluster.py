"""The production topology, natively: PostgreSQL 15 (metadata DB and Celery results), Redis
(broker), the local S3 server, and Airflow's api-server, scheduler, dag-processor, triggerer
and two Celery workers as separate processes, all on 127.0.0.1 and free ports, under one temp
folder. Every process is the leader of its own process group (procs.spawn) and `stop()` stops
every group it started, whatever happened before.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import requests

from buildout_tracker.devtools import procs
from buildout_tracker.devtools.lake_server import LakeServer
from buildout_tracker.orchestration.airflow_env import airflow_env, connection_env

AIRFLOW = str(Path(sys.executable).parent / "airflow")
PG_BIN = Path(os.environ.get("BUILDOUT_PG_BIN", "/usr/lib/postgresql/15/bin"))
HOST = "127.0.0.1"

# Test-only cluster policy, loaded by every Airflow process from $AIRFLOW_HOME/config. When
# BUILDOUT_SYSTEM_TEST_HOLD names "<dag_id>.<task_id>", that task's first try in a run
# triggered with conf {"system_test_hold": true} does its real work, then holds for BUILDOUT_SYSTEM_TEST_HOLD_SECONDS before reporting success: the window
# in which the test kills its worker. Later tries are not held. The worker's name for the task
# instance's hostname comes from BUILDOUT_SYSTEM_TEST_WORKER (hostname_callable below), so the
# test knows which worker runs a task.
LOCAL_SETTINGS = """
import functools
import os
import socket
import time


def worker_hostname():
    return os.environ.get("BUILDOUT_SYSTEM_TEST_WORKER") or socket.getfqdn()


def task_policy(task):
    target = os.environ.get("BUILDOUT_SYSTEM_TEST_HOLD", "")
    if not target or target != f"{task.dag_id}.{task.task_id}":
        return
    seconds = float(os.environ.get("BUILDOUT_SYSTEM_TEST_HOLD_SECONDS", "60"))
    real = task.python_callable

    @functools.wraps(real)
    def held(*args, **kwargs):
        from airflow.sdk import get_current_context

        result = real(*args, **kwargs)
        context = get_current_context()
        conf = getattr(context.get("dag_run"), "conf", None) or {}
        if conf.get("system_test_hold") and context["ti"].try_number == 1:
            print(f"BUILDOUT_SYSTEM_TEST_HOLD: work done, holding {seconds:.0f} s", flush=True)
            time.sleep(seconds)
        return result

    task.python_callable = held
"""


def missing_binaries() -> list[str]:
    missing = [f"{PG_BIN}/{b}" for b in ("initdb", "postgres") if not (PG_BIN / b).exists()]
    if not shutil.which("redis-server"):
        missing.append("redis-server")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        missing.append("runuser")
    return missing


@dataclass
class Cluster:
    dags_folder: Path
    extra_env: Mapping[str, str] = field(default_factory=dict)
    workers: tuple[str, ...] = ("w1", "w2")
    worker_concurrency: int = 4
    root: Path = field(init=False)
    env: dict[str, str] = field(init=False, default_factory=dict)
    api_port: int = field(init=False, default=0)
    lake: LakeServer | None = field(init=False, default=None)
    procs: dict[str, subprocess.Popen] = field(init=False, default_factory=dict)
    killed: set[str] = field(init=False, default_factory=set)
    _token: str | None = field(init=False, default=None)
    _admin_password: str = field(init=False, default_factory=lambda: secrets.token_urlsafe(12))

    # --- lifecycle --------------------------------------------------------------------

    def start(self, airflow: bool = True) -> None:
        # Under /tmp (not pytest's 0700 folder) so the postgres user can reach its data dir.
        self.root = Path(tempfile.mkdtemp(prefix="buildout-system-"))
        self.root.chmod(0o755)
        t0 = time.monotonic()
        db_url = self._start_postgres()
        broker = self._start_redis()
        self._start_lake()
        self._airflow_env(db_url, broker)
        self._run([AIRFLOW, "db", "migrate"], "db-migrate", timeout=300)
        if airflow:
            self.start_airflow()
        self.timings = {"startup_s": round(time.monotonic() - t0, 1)}

    def stop(self) -> None:
        """Stop every process group started, Airflow first, then the services under it."""
        order = [n for n in self.procs if n not in ("postgres", "redis")] + ["redis", "postgres"]
        if "postgres" in self.procs and self.procs["postgres"].poll() is None:
            # Fast shutdown through pg_ctl: the postmaster's children are in their own sessions.
            with contextlib.suppress(Exception):
                stop_airflow = [n for n in order if n not in ("redis", "postgres")]
                for name in stop_airflow:
                    procs.stop_group(self.procs[name].pid, timeout=15)
                subprocess.run(
                    self._as_postgres(
                        [
                            str(PG_BIN / "pg_ctl"),
                            "-D",
                            str(self.root / "pg" / "data"),
                            "stop",
                            "-m",
                            "fast",
                            "-w",
                            "-t",
                            "30",
                        ]
                    ),
                    capture_output=True,
                    timeout=60,
                    check=False,
                )
        for name in order:
            proc = self.procs.get(name)
            if proc is None:
                continue
            with contextlib.suppress(Exception):
                procs.stop_group(proc.pid, timeout=15)
        if self.lake is not None:
            with contextlib.suppress(Exception):
                self.lake.stop()

    def leftover_processes(self) -> list[str]:
        alive = [n for n, p in self.procs.items() if procs.group_alive(p.pid)]
        if self.lake is not None and self.lake.running():
            alive.append("lake")
        return alive

    def cleanup(self) -> None:
        keep = os.environ.get("BUILDOUT_SYSTEM_TEST_KEEP") == "1"
        if not keep:
            shutil.rmtree(self.root, ignore_errors=True)

    # --- services ---------------------------------------------------------------------

    def _as_postgres(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv

    def _start_postgres(self) -> str:
        pg = self.root / "pg"
        (pg / "run").mkdir(parents=True)
        password = secrets.token_hex(16)
        pwfile = pg / "pwfile"
        pwfile.write_text(password + "\n")
        if os.geteuid() == 0:
            shutil.chown(pg, "postgres", "postgres")
            shutil.chown(pg / "run", "postgres", "postgres")
            shutil.chown(pwfile, "postgres", "postgres")
        pwfile.chmod(0o600)
        self._run(
            self._as_postgres(
                [str(PG_BIN / "initdb"), "-D", str(pg / "data"), "-U", "airflow",
                 "--auth=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8", "--no-sync"]
            ),
            "initdb",
            timeout=120,
            env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C.UTF-8"},
        )  # fmt: skip
        port = procs.free_port()
        argv = self._as_postgres(
            [str(PG_BIN / "postgres"), "-D", str(pg / "data"), "-p", str(port), "-h", HOST,
             "-k", str(pg / "run"), "-c", "fsync=off", "-c", "max_connections=200"]
        )  # fmt: skip
        self.procs["postgres"] = procs.spawn(argv, self.root / "logs" / "postgres.log")
        procs.wait_for_port(HOST, port, 60, self.procs["postgres"])
        import psycopg2

        deadline = time.monotonic() + 30
        while True:
            try:
                conn = psycopg2.connect(
                    host=HOST, port=port, user="airflow", password=password, dbname="postgres"
                )
                break
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE airflow")
        conn.close()
        self.pg = {"port": port, "password": password}
        return f"postgresql+psycopg2://airflow:{password}@{HOST}:{port}/airflow"

    def _start_redis(self) -> str:
        port = procs.free_port()
        password = secrets.token_hex(16)
        argv = ["redis-server", "--port", str(port), "--bind", HOST, "--save", "",
                "--appendonly", "no", "--requirepass", password, "--dir", str(self.root)]  # fmt: skip
        self.procs["redis"] = procs.spawn(argv, self.root / "logs" / "redis.log")
        procs.wait_for_port(HOST, port, 30, self.procs["redis"])
        return f"redis://:{password}@{HOST}:{port}/0"

    def _start_lake(self) -> None:
        self.lake = LakeServer(
            root=self.root / "lake" / "data",
            host=HOST,
            port=procs.free_port(),
            access_key="sys" + secrets.token_hex(6),
            secret_key=secrets.token_urlsafe(18),
        )
        self.lake.start()

    # --- Airflow ----------------------------------------------------------------------

    def _airflow_env(self, db_url: str, broker: str) -> None:
        home = self.root / "airflow"
        (home / "config").mkdir(parents=True)
        (home / "config" / "airflow_local_settings.py").write_text(LOCAL_SETTINGS)
        self.api_port = procs.free_port()
        assert self.lake is not None
        project_env = {
            **self.lake.env(),
            "BUILDOUT_PII_HMAC_KEY": secrets.token_hex(32),
            "BUILDOUT_ALERT_WEBHOOK": "",
            "BUILDOUT_VAR_DIR": str(self.root / "var"),
        }
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AIRFLOW", "BUILDOUT_", "AWS_"))
        }
        base.update(project_env)
        # connection_env reads os.environ: give it the test's values, not the developer's .env.
        with mock.patch.dict(os.environ, project_env):
            env = airflow_env(
                home,
                base=base,
                api_port=self.api_port,
                executor="CeleryExecutor",
                sql_alchemy_conn=db_url,
            )
            env.update(connection_env(self.lake.settings()))
        env.update(
            {
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "airflow_local_settings.worker_hostname",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
                "AIRFLOW__CELERY__BROKER_URL": broker,
                "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + db_url,
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.worker_concurrency),
                "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(procs.free_port()),
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_SEC": "2",
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
                "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(procs.free_port()),
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(procs.free_port()),
                "AIRFLOW__API__WORKERS": "2",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
        env.update(self.extra_env)
        (home / "passwords.json").write_text(json.dumps({"admin": self._admin_password}))
        self.env = env

    def _run(
        self, argv: list[str], name: str, timeout: float, env: Mapping[str, str] | None = None
    ) -> None:
        log = self.root / "logs" / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            proc = subprocess.run(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=dict(env or self.env),
                timeout=timeout,
                check=False,
                cwd=self.root,
            )
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}:\n{tail(log)}")

    def _spawn(self, name: str, argv: list[str], env: Mapping[str, str] | None = None) -> None:
        self.procs[name] = procs.spawn(
            argv, self.root / "logs" / f"{name}.log", env=env or self.env, cwd=self.root
        )

    def start_airflow(self) -> None:
        self._spawn(
            "api-server", [AIRFLOW, "api-server", "--host", HOST, "--port", str(self.api_port)]
        )
        procs.wait_for_port(HOST, self.api_port, 120, self.procs["api-server"])
        self._spawn("scheduler", [AIRFLOW, "scheduler", "--skip-serve-logs"])
        self._spawn("dag-processor", [AIRFLOW, "dag-processor"])
        self._spawn("triggerer", [AIRFLOW, "triggerer", "--skip-serve-logs"])
        for name in self.workers:
            self.start_worker(name)
        self.wait_until(
            self._components_healthy, 180, "scheduler, dag-processor and triggerer healthy"
        )
        for name in self.workers:
            self.wait_until(
                lambda n=name: "ready." in self.log(n), 120, f"Celery worker {name} ready"
            )

    def start_worker(self, name: str) -> None:
        env = {**self.env, "BUILDOUT_SYSTEM_TEST_WORKER": name}
        self._spawn(
            name,
            [AIRFLOW, "celery", "worker", "--celery-hostname", f"{name}@%h", "--queues", "default",
             "--concurrency", str(self.worker_concurrency), "--skip-serve-logs", "--without-gossip"],
            env,
        )  # fmt: skip

    def kill_worker(self, name: str) -> None:
        """SIGKILL the worker's whole process group: the Celery parent, its pool, the task."""
        import signal

        proc = self.procs[name]
        self.killed.add(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        self.wait_until(lambda: not procs.group_alive(proc.pid), 10, f"{name}'s processes gone")

    def _components_healthy(self) -> bool:
        try:
            health = self.get("/api/v2/monitor/health")
        except (requests.RequestException, RuntimeError):
            return False
        for part in ("metadatabase", "scheduler", "triggerer", "dag_processor"):
            if (health.get(part) or {}).get("status") != "healthy":
                return False
        return True

    # --- REST API ---------------------------------------------------------------------

    @property
    def api(self) -> str:
        return f"http://{HOST}:{self.api_port}"

    def token(self) -> str:
        if self._token is None:
            r = requests.post(
                f"{self.api}/auth/token",
                json={"username": "admin", "password": self._admin_password},
                timeout=30,
            )
            r.raise_for_status()
            self._token = r.json()["access_token"]
        return self._token

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        self.check_alive()
        headers = {"Authorization": f"Bearer {self.token()}"}
        return requests.request(method, f"{self.api}{path}", headers=headers, timeout=30, **kwargs)

    def get(self, path: str, **params: Any) -> Any:
        r = self.request("GET", path, params=params)
        if r.status_code >= 400:
            raise RuntimeError(f"GET {path}: {r.status_code} {r.text[:500]}")
        return r.json()

    def post(self, path: str, body: Any) -> Any:
        r = self.request("POST", path, json=body)
        if r.status_code >= 400:
            raise RuntimeError(f"POST {path}: {r.status_code} {r.text[:500]}")
        return r.json()

    def patch(self, path: str, body: Any) -> Any:
        r = self.request("PATCH", path, json=body)
        if r.status_code >= 400:
            raise RuntimeError(f"PATCH {path}: {r.status_code} {r.text[:500]}")
        return r.json()

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns", order_by="run_after", limit=100)[
            "dag_runs"
        ]

    # --- helpers ----------------------------------------------------------------------

    def check_alive(self, allow: tuple[str, ...] = ()) -> None:
        """Fail fast, with its log, when a process we did not kill has died."""
        for name, proc in self.procs.items():
            if name in self.killed or name in allow:
                continue
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {proc.returncode}:\n{tail(self.root / 'logs' / f'{name}.log')}"
                )

    def log(self, name: str) -> str:
        path = self.root / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_until(
        self, predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.5
    ) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"gave up after {timeout:.0f} s waiting for: {what}\n{self.diagnostics()}"
                )
            time.sleep(interval)

    def diagnostics(self) -> str:
        parts = []
        for name in self.procs:
            state = (
                "running"
                if self.procs[name].poll() is None
                else f"exited {self.procs[name].returncode}"
            )
            parts.append(
                f"--- {name} ({state}) ---\n{tail(self.root / 'logs' / f'{name}.log', 15)}"
            )
        return "\n".join(parts)


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no {path})"


@contextlib.contextmanager
def running_cluster(
    dags_folder: Path, start_airflow: bool = True, **kwargs: Any
) -> Iterator[Cluster]:
    """A started cluster (Airflow too unless start_airflow=False: then call start_airflow())."""
    cluster = Cluster(dags_folder, **kwargs)
    try:
        cluster.start(airflow=start_airflow)
        yield cluster
    finally:
        cluster.stop()
        left = cluster.leftover_processes() if hasattr(cluster, "root") else []
        if hasattr(cluster, "root"):
            cluster.cleanup()
        assert not left, f"processes still alive after stop: {left}"
