"""Taking a published week back: its manifest and table partitions leave `curated/` (so
consumers' latest week is right again), copies of them and a record of who, when and why
stay under `curated/_withdrawn/` (readers skip `_` names), and automatic publication leaves
the week alone until an operator publishes it again explicitly.

Order, for a crash at any point: the record first, then the manifest (readers who trust the
manifest see the week gone at once), then the partitions. Running the withdrawal again
finishes what an interrupted one left.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from buildout_tracker import zones
from buildout_tracker.lake import Bucket


class NotPublished(ValueError):
    """There is nothing to withdraw."""


class WeekWithdrawn(RuntimeError):
    """Automatic publication of a week an operator withdrew."""


def _now() -> str:
    """When the operator acted: metadata of the event, never an input of a published number."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def history(lake: Bucket, week: str) -> list[dict[str, Any]]:
    """Every withdrawal and re-publication of the week, oldest first."""
    return list((lake.get_json_or_none(zones.withdrawals(week)) or {}).get("events", []))


def withdrawal_in_force(lake: Bucket, week: str) -> dict[str, Any] | None:
    """The withdrawal that keeps the week out of `curated/`, if the last event is one."""
    events = history(lake, week)
    return events[-1] if events and events[-1]["action"] == "withdrawn" else None


def _record(lake: Bucket, week: str, event: dict[str, Any]) -> None:
    lake.put_json(zones.withdrawals(week), {"week": week, "events": [*history(lake, week), event]})


def withdraw_week(lake: Bucket, week: str, reason: str, by: str) -> dict[str, Any]:
    """Withdraw a published week; returns the withdrawal event recorded."""
    if not reason.strip():
        raise ValueError("a withdrawal needs a reason (REASON=...)")
    manifest = lake.get_json_or_none(zones.manifest_key(week))
    partitions = [
        o.key
        for table in _tables(lake, manifest)
        for o in lake.iter(zones.table_prefix(table, week))
    ]
    unfinished = withdrawal_in_force(lake, week)
    if manifest is None and not partitions:
        if unfinished is not None:
            return unfinished
        raise NotPublished(f"{week} is not published: nothing to withdraw")
    at = _now()
    keep = zones.withdrawn_copy_prefix(week, at)
    if manifest is not None:
        lake.put_json(f"{keep}manifest.json", manifest)
    for key in partitions:
        lake.copy_from(lake, key, keep + key.removeprefix("curated/"))
    event = unfinished or {
        "action": "withdrawn",
        "by": by,
        "at": at,
        "reason": reason,
        "run_id": (manifest or {}).get("run_id"),
        "copies": keep,
        "tables": sorted(_tables(lake, manifest)),
    }
    if unfinished is None:
        _record(lake, week, event)
    lake.delete([zones.manifest_key(week)])
    lake.delete(partitions)
    return event


def note_republished(lake: Bucket, week: str, by: str, run_id: str) -> None:
    """An explicit publication brings a withdrawn week back; the history says so."""
    if withdrawal_in_force(lake, week) is not None:
        _record(lake, week, {"action": "republished", "by": by, "at": _now(), "run_id": run_id})


def _tables(lake: Bucket, manifest: dict[str, Any] | None) -> list[str]:
    if manifest is not None:
        return list(manifest.get("tables", {}))
    from buildout_tracker.tables import TABLE_NAMES

    return list(TABLE_NAMES)
