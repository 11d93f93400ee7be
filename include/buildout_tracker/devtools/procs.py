"""Background processes the project starts itself: each in its own process group,
recorded in a pid file, stopped as a whole group (no orphans); the /proc scans that find
what is left of them; and who holds a TCP port (/proc/net/tcp{,6} socket inodes matched to
/proc/<pid>/fd), so a port conflict can name the program."""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def port_available(host: str, port: int) -> bool:
    """A server could bind `host:port` now: nothing listens there or on the wildcard address.
    Tried the way servers bind (SO_REUSEADDR, so a closed server's TIME_WAIT connections do
    not count), plus a connect for good measure."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return not port_open(host, port)


def wait_for_port(
    host: str, port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(
                f"process exited with {proc.returncode} before listening on {host}:{port}"
            )
        time.sleep(0.1)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout:.0f} s")


def spawn(
    argv: Sequence[str],
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    pid_file: Path | None = None,
) -> subprocess.Popen:
    """Start a process as the leader of a new process group, output to a log file."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        list(argv),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=dict(env) if env is not None else None,
        cwd=str(cwd) if cwd else None,
        start_new_session=True,
    )
    log.close()
    if pid_file is not None:
        pid_file.parent.mkdir(parents=True, exist_ok=True)
        pid_file.write_text(str(proc.pid))
    return proc


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_group(pgid: int, timeout: float = 10.0) -> None:
    """SIGTERM the whole group, then SIGKILL what is left after `timeout` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pgid)
        if not group_alive(pgid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    for _ in range(50):
        _reap(pgid)
        if not group_alive(pgid):
            return
        time.sleep(0.1)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def stop_pid_file(pid_file: Path, timeout: float = 10.0) -> bool:
    """Stop the group recorded in a pid file; True when something was running."""
    pid = read_pid(pid_file)
    if pid is None:
        return False
    running = group_alive(pid)
    if running:
        stop_group(pid, timeout)
    with contextlib.suppress(FileNotFoundError):
        pid_file.unlink()
    return running


# --- finding processes through /proc: what `make down` uses to leave nothing behind ---------


def _proc_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def proc_stat(pid: int) -> tuple[str, int, int, int] | None:
    """(state, ppid, pgid, start time) of a process, None when it is gone."""
    raw = _read(f"/proc/{pid}/stat")
    if not raw:
        return None
    fields = raw.rsplit(b")", 1)[-1].split()
    return fields[0].decode(), int(fields[1]), int(fields[2]), int(fields[19])


def _alive(pid: int, started: int | None = None) -> bool:
    st = proc_stat(pid)
    return st is not None and st[0] not in ("Z", "X") and started in (None, st[3])


def process_family(pgids: set[int]) -> dict[int, int]:
    """Members of `pgids` and all their descendants (even those that left the group with
    setsid): pid -> start time, so a pid reused later is not mistaken for one of them."""
    stats = {pid: st for pid in _proc_pids() if (st := proc_stat(pid)) is not None}
    children: dict[int, list[int]] = {}
    for pid, st in stats.items():
        children.setdefault(st[1], []).append(pid)
    todo = [pid for pid, st in stats.items() if st[2] in pgids]
    found: dict[int, int] = {}
    while todo:
        pid = todo.pop()
        if pid in found or pid not in stats:
            continue
        found[pid] = stats[pid][3]
        todo.extend(children.get(pid, []))
    return found


def _ancestors() -> set[int]:
    """This process and its parents: never kill the caller, even if it shares the home."""
    seen, pid = set(), os.getpid()
    while pid > 1 and pid not in seen:
        seen.add(pid)
        st = proc_stat(pid)
        pid = st[1] if st else 0
    return seen


def _references_home(pid: int, home: Path) -> bool:
    marker = f"AIRFLOW_HOME={home}".encode()
    env = b"\0" + _read(f"/proc/{pid}/environ") + b"\0"
    if b"\0" + marker + b"\0" in env:
        return True
    text = str(home)
    for arg in _read(f"/proc/{pid}/cmdline").decode(errors="replace").split("\0"):
        if arg == text or arg.startswith(text + "/") or f"={text}" in arg or f" {text}/" in arg:
            return True
    return False


def find_processes(
    home: Path,
    pgids: set[int] | frozenset[int] = frozenset(),
    known: dict[int, int] | None = None,
) -> dict[int, str]:
    """Live processes (not zombies) in one of `pgids`, referring to `home`, or among `known`
    (pid -> start time, from `_family`): pid -> cmdline."""
    home = home.resolve()
    skip = _ancestors()
    known = known or {}
    found: dict[int, str] = {}
    for pid in _proc_pids():
        if pid in skip:
            continue
        st = proc_stat(pid)
        if st is None or st[0] in ("Z", "X"):
            continue
        if st[2] in pgids or known.get(pid) == st[3] or _references_home(pid, home):
            cmd = _read(f"/proc/{pid}/cmdline").replace(b"\0", b" ").decode(errors="replace")
            found[pid] = cmd.strip()
    return found


def kill_pids(pids: list[int], timeout: float = 5.0) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for pid in pids:
                with contextlib.suppress(ChildProcessError, OSError):
                    os.waitpid(pid, os.WNOHANG)
            alive = [p for p in pids if _alive(p)]
            if not alive:
                return
            time.sleep(0.1)
        pids = alive


def group_uses(pgid: int, home: Path) -> bool:
    """A live member of the group refers to `home` (its environment or its arguments)."""
    return any(
        (st := proc_stat(pid)) is not None and st[2] == pgid and _references_home(pid, home)
        for pid in _proc_pids()
    )


# --- who listens where: /proc/net/tcp{,6} and /proc/<pid>/fd ----------------------------------

_TCP_LISTEN = "0A"


@dataclass(frozen=True)
class Listener:
    """A listening TCP socket: its local address, port and socket inode."""

    address: str
    port: int
    inode: int

    @property
    def loopback(self) -> bool:
        ip = ipaddress.ip_address(self.address)
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return ip.is_loopback

    def __str__(self) -> str:
        return (
            f"[{self.address}]:{self.port}"
            if ":" in self.address
            else f"{self.address}:{self.port}"
        )


def _proc_net_address(hexaddr: str) -> str:
    """/proc/net/tcp{,6} print an address as 32-bit words in host byte order, in hex."""
    raw = b"".join(
        int(hexaddr[i : i + 8], 16).to_bytes(4, sys.byteorder) for i in range(0, len(hexaddr), 8)
    )
    ip = ipaddress.ip_address(raw)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return f"::ffff:{ip.ipv4_mapped}"
    return str(ip)


def listeners() -> list[Listener]:
    """Every listening TCP socket of this network namespace (IPv4 and IPv6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in _read(table).decode(errors="replace").splitlines()[1:]:
            fields = line.split()
            if len(fields) < 10 or fields[3] != _TCP_LISTEN:
                continue
            hexaddr, _, hexport = fields[1].rpartition(":")
            found.append(Listener(_proc_net_address(hexaddr), int(hexport, 16), int(fields[9])))
    return found


def socket_owners(inodes: Iterable[int], pids: Iterable[int] | None = None) -> dict[int, set[int]]:
    """inode -> pids (among `pids`, default all) holding that socket open, from the
    /proc/<pid>/fd links this user may read (another user's are invisible unless root)."""
    wanted = {f"socket:[{inode}]": inode for inode in inodes}
    owners: dict[int, set[int]] = {inode: set() for inode in wanted.values()}
    if not wanted:
        return owners
    for pid in _proc_pids() if pids is None else pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link in wanted:
                owners[wanted[link]].add(pid)
    return owners


def listening_by(pids: Iterable[int]) -> dict[int, list[Listener]]:
    """pid -> the listening sockets it holds open, for the given pids."""
    by_inode = {lst.inode: lst for lst in listeners()}
    out: dict[int, list[Listener]] = {}
    for inode, holders in socket_owners(by_inode, set(pids)).items():
        for pid in holders:
            out.setdefault(pid, []).append(by_inode[inode])
    return out


def cmdline(pid: int) -> str:
    return _read(f"/proc/{pid}/cmdline").replace(b"\0", b" ").decode(errors="replace").strip()


@dataclass(frozen=True)
class PortHolder:
    """A process holding a listening socket on a port (pid None: not visible to this user)."""

    pid: int | None
    command: str
    listener: Listener

    def __str__(self) -> str:
        if self.pid is None:
            return f"a process this user cannot see (socket inode {self.listener.inode} on {self.listener})"
        return f"pid {self.pid} ({self.command or '?'}) listening on {self.listener}"


def port_holders(port: int) -> list[PortHolder]:
    """Who listens on `port`, on any address."""
    on_port = [lst for lst in listeners() if lst.port == port]
    owners = socket_owners(lst.inode for lst in on_port)
    found = []
    for lst in on_port:
        pids = sorted(owners.get(lst.inode, ()))
        found += [PortHolder(pid, cmdline(pid), lst) for pid in pids] or [PortHolder(None, "", lst)]
    return found


def describe_port_holders(host: str, port: int) -> str:
    """One sentence naming what holds `host:port`: for an error message."""
    holders = port_holders(port)
    if not holders:
        return (
            f"port {port} on {host} is taken, but no process listens on it (a socket bound "
            "without listening, or one in another network namespace)"
        )
    return f"port {port} on {host} is taken by " + "; ".join(str(h) for h in holders)


class PortInUse(RuntimeError):
    """A port a local server needs is held by another program."""

    def __init__(self, host: str, port: int, purpose: str, advice: str = "") -> None:
        self.host, self.port, self.purpose = host, port, purpose
        self.holders = port_holders(port)
        text = f"{purpose}: {describe_port_holders(host, port)}"
        super().__init__(text + (f"; {advice}" if advice else ""))
