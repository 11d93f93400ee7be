"""The publication lease of a week: one object, `curated/_publishing/week=W/lease.json`
(hidden from readers: `_` names), naming its owner and when it expires.

A publisher takes the week's lease before it writes anything of the week (staging
included), checks it before each write and renews it as it goes (`check`), and gives it
back when the manifest is written (`release`). A second publisher of the same week waits
for the lease (up to `BUILDOUT_PUBLISH_LEASE_WAIT_SECONDS`, default the lease's length),
then publishes again: the same inputs give the same bytes. A writer that was paused past its
lease's expiry (a zombie whose task was retried elsewhere) finds at its next check that the
lease is another's, or gone, and stops (`LeaseLost`) without writing the manifest.

Taking a lease without conditional writes (the local S3 server ignores If-None-Match):
write the lease, wait `BUILDOUT_PUBLISH_LEASE_SETTLE_SECONDS` (default 0.5), read it back;
of two publishers that both found the week free, only the last writer reads its own lease
back, provided neither was paused for longer than the settle time between reading and
writing. The lease's times are the writers' clocks (hosts kept in time by NTP).

| environment | default | what |
|---|---|---|
| `BUILDOUT_PUBLISH_LEASE_SECONDS` | 300 | how long a lease lasts unless renewed (a check renews it when half is gone) |
| `BUILDOUT_PUBLISH_LEASE_WAIT_SECONDS` | the lease's length | how long a publisher waits for another's lease before failing (`PublicationBusy`, retryable) |
| `BUILDOUT_PUBLISH_LEASE_SETTLE_SECONDS` | 0.5 | the wait between writing a lease and reading it back |

A lease whose owner is a process of this host that no longer exists (killed) is free at
once; anyone else's is free when it expires.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from buildout_tracker.lake import Bucket

log = logging.getLogger(__name__)

LEASE_SECONDS_ENV = "BUILDOUT_PUBLISH_LEASE_SECONDS"
LEASE_WAIT_ENV = "BUILDOUT_PUBLISH_LEASE_WAIT_SECONDS"
LEASE_SETTLE_ENV = "BUILDOUT_PUBLISH_LEASE_SETTLE_SECONDS"
_POLL_SECONDS = 0.5


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def lease_seconds() -> float:
    return _seconds(LEASE_SECONDS_ENV, 300.0)


def publishing_prefix(week: str) -> str:
    """The publication's own objects for a week (lease, previous manifest), never data."""
    return f"curated/_publishing/week={week}/"


def lease_key(week: str) -> str:
    return f"{publishing_prefix(week)}lease.json"


def previous_manifest_key(week: str) -> str:
    """Where a publication keeps the manifest it took down while replacing changed tables."""
    return f"{publishing_prefix(week)}previous-manifest.json"


class LeaseLost(RuntimeError):
    """This publisher's lease expired and another took it (or it was given back): stop."""


class PublicationBusy(RuntimeError):
    """Another publisher holds the week's lease (retry later)."""


def _owner(run_id: str) -> str:
    return f"{run_id}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _dead_here(owner: str) -> bool:
    """The owner is a process of this host that no longer exists."""
    try:
        where = owner.rsplit("@", 1)[1]
        host, pid, _ = where.rsplit(":", 2)
    except (IndexError, ValueError):
        return False
    if host != socket.gethostname():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):
        return False
    return False


def read(lake: Bucket, week: str) -> dict[str, Any] | None:
    record = lake.get_json_or_none(lease_key(week))
    return record if isinstance(record, dict) else None


def held_by_other(lake: Bucket, week: str, owner: str | None = None) -> dict[str, Any] | None:
    """The week's lease when someone (other than `owner`) holds it now."""
    record = read(lake, week)
    if record is None or record.get("owner") == owner:
        return None
    if float(record.get("expires_at", 0)) <= time.time() or _dead_here(str(record.get("owner"))):
        return None
    return record


def wait_until_free(lake: Bucket, week: str, timeout: float | None = None) -> bool:
    """Wait while another publisher holds the week's lease; True when it is free."""
    deadline = time.monotonic() + (lease_seconds() if timeout is None else timeout)
    while held_by_other(lake, week) is not None:
        if time.monotonic() > deadline:
            return False
        time.sleep(_POLL_SECONDS)
    return True


@dataclass
class Lease:
    lake: Bucket
    week: str
    owner: str
    seconds: float
    expires_at: float = 0.0
    released: bool = field(default=False, repr=False)

    @classmethod
    def acquire(cls, lake: Bucket, week: str, run_id: str, wait: float | None = None) -> Lease:
        """Take the week's lease, waiting for another's to be given back or to expire."""
        seconds = lease_seconds()
        lease = cls(lake, week, _owner(run_id), seconds)
        settle = _seconds(LEASE_SETTLE_ENV, 0.5)
        patience = _seconds(LEASE_WAIT_ENV, seconds) if wait is None else wait
        deadline = time.monotonic() + patience
        said = False
        while True:
            other = held_by_other(lake, week, lease.owner)
            if other is None:
                lease._write()
                time.sleep(settle)
                if (read(lake, week) or {}).get("owner") == lease.owner:
                    log.info("%s: publication lease taken (%s)", week, lease.owner)
                    return lease
                other = read(lake, week) or {}
            if time.monotonic() > deadline:
                raise PublicationBusy(
                    f"publication of {week} is held by {other.get('owner')} (until "
                    f"{time.strftime('%H:%M:%S', time.gmtime(float(other.get('expires_at', 0))))}"
                    f" UTC, {lease_key(week)}): not published by this run; retry later"
                )
            if not said:
                log.warning(
                    "%s: another publication holds the week (%s): waiting", week, other.get("owner")
                )
                said = True
            time.sleep(_POLL_SECONDS)

    def _write(self) -> None:
        now = time.time()
        self.expires_at = now + self.seconds
        self.lake.put_json(
            lease_key(self.week),
            {
                "week": self.week,
                "owner": self.owner,
                "taken_or_renewed_at": now,
                "expires_at": self.expires_at,
            },
        )

    def check(self) -> None:
        """Before a write: the lease is still this publisher's (renewed when half gone)."""
        record = read(self.lake, self.week)
        if record is None or record.get("owner") != self.owner:
            holder = "nobody" if record is None else record.get("owner")
            raise LeaseLost(
                f"publication of {self.week} by {self.owner} stopped: its lease expired and "
                f"is now held by {holder}; nothing more written (the manifest is the holder's)"
            )
        if self.expires_at - time.time() < self.seconds / 2:
            self._write()

    def release(self) -> None:
        """Give the lease back (only if it is still this publisher's)."""
        if self.released:
            return
        self.released = True
        record = read(self.lake, self.week)
        if record is not None and record.get("owner") == self.owner:
            self.lake.delete([lease_key(self.week)])
