"""A failed audit publishes nothing: no table, no manifest, no staging, last week untouched."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from buildout_tracker import pipeline, tables
from buildout_tracker.publish import AuditFailed, publish_week
from buildout_tracker.tables.audit_failure import AuditFailure
from buildout_tracker.zones import manifest_key
from tests.publish import helpers as h

W37, W38 = h.W37, h.W38


def _doctor_program_committed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scorecard's program line says 1000 USD more than procurement_weekly holds."""
    real = tables.compute_all

    def doctored(inputs: Any) -> dict[str, pa.Table]:
        out = dict(real(inputs))
        card = out["program_scorecard"]
        is_program = pc.equal(card.column("area"), "program")
        i = card.schema.get_field_index("committed_usd")
        bumped = pc.if_else(is_program, pc.add(card.column(i), 1000.0), card.column(i))
        out["program_scorecard"] = card.set_column(i, card.schema.field(i), bumped)
        return out

    monkeypatch.setattr(tables, "compute_all", doctored)


def test_reconciliation_break_publishes_nothing_and_keeps_last_week(
    rt: pipeline.Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    h.deliver(rt.landing, W37)
    h.ingest_and_publish(rt, W37)
    h.deliver(rt.landing, W38)
    h.ingest(rt, W38)
    before = h.objects(rt.lake, "curated/")

    _doctor_program_committed(monkeypatch)
    with pytest.raises(AuditFailed) as caught:
        publish_week(rt.lake, rt.landing, W38, run_id="run-bad")

    failed = {(f.table, f.check) for f in caught.value.failures}
    assert ("program_scorecard", "reconcile_committed_usd") in failed
    assert ("program_scorecard", "program_committed_usd") in failed
    message = str(caught.value)
    assert message.startswith(f"audit failed for {W38}, nothing published")
    assert "program_scorecard: reconcile_committed_usd" in message
    assert h.objects(rt.lake, "curated/") == before, "not one curated object may change"
    assert not rt.lake.exists(manifest_key(W38))

    monkeypatch.undo()  # the real computation passes its audit and publishes W38
    publish_week(rt.lake, rt.landing, W38, run_id="run-good")
    h.check_manifest(rt.lake, rt.landing, W38)


def test_audit_failure_on_a_first_week_creates_no_curated_object(
    rt: pipeline.Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from buildout_tracker.tables import audit

    failure = AuditFailure("hiring_weekly", "unique_keys", "2 rows share a key")
    seen: list[set[str]] = []

    def failing_audit(computed: dict[str, pa.Table], inputs: Any) -> list[AuditFailure]:
        seen.append(set(computed))
        return [failure]

    monkeypatch.setattr(audit, "audit_week", failing_audit)
    h.deliver(rt.landing, W37)
    h.ingest(rt, W37)
    with pytest.raises(AuditFailed, match="hiring_weekly: unique_keys: 2 rows share a key"):
        publish_week(rt.lake, rt.landing, W37, run_id="run-bad")
    assert seen and len(seen[0]) == 6, "the audit saw the six computed tables"
    assert rt.lake.list("curated/") == []
