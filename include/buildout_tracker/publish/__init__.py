"""Write, audit, publish: a week's six tables become visible whole or not at all.

1. Load the validated state in force for the week (`inputs.load_week_inputs`).
2. Compute the six tables (`tables.compute_all`) and audit them (`tables.audit.audit_week`).
   A failed audit publishes nothing and raises `AuditFailed` with the reasons.
3. Stage, verify and copy each table into place, one object per week partition, and write
   the manifest last (`write.write_week`).

Parquet bytes are deterministic for the same rows and code, so a re-run or a backfill writes
byte-identical tables; the manifest's per-table SHA-256 proves it.
"""

from __future__ import annotations

import logging
from typing import Any

import pyarrow as pa

from buildout_tracker.lake import Bucket
from buildout_tracker.model import WeekInputs
from buildout_tracker.publish.inputs import load_week_inputs, read_published
from buildout_tracker.publish.write import PublishResult, write_week
from buildout_tracker.timing import phase

log = logging.getLogger(__name__)


class AuditFailed(RuntimeError):
    def __init__(self, week: str, failures: list[Any]) -> None:
        self.week, self.failures = week, failures
        lines = "; ".join(f"{f.table}: {f.check}: {f.message}" for f in failures[:10])
        super().__init__(f"audit failed for {week}, nothing published: {lines}")


def compute_and_audit(inputs: WeekInputs) -> tuple[dict[str, pa.Table], list[Any]]:
    from buildout_tracker.tables import compute_all
    from buildout_tracker.tables.audit import audit_week

    with phase("compute"):
        tables = compute_all(inputs)
    with phase("audit"):
        failures = audit_week(tables, inputs)
    return tables, failures


def publish_week(
    lake: Bucket, landing: Bucket, week: str, run_id: str = "manual", fail_after: int | None = None
) -> PublishResult:
    """Compute, audit and publish one week. `fail_after` (tests) stops after N tables are in place."""
    with phase("compute"):
        inputs = load_week_inputs(lake, week)
    tables, failures = compute_and_audit(inputs)
    if failures:
        raise AuditFailed(week, failures)
    with phase("publish"):
        return write_week(lake, week, run_id, inputs, tables, fail_after)


__all__ = [
    "AuditFailed",
    "PublishResult",
    "compute_and_audit",
    "load_week_inputs",
    "publish_week",
    "read_published",
]
