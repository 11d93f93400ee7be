"""Re-running published weeks, again, as a backfill, or out of order, on generated data: every
curated table is byte-identical and every manifest the same apart from its run id."""

from __future__ import annotations

from typing import Any

from buildout_tracker import pipeline
from buildout_tracker.generator import BucketSink, generate
from buildout_tracker.pipeline import cycle
from buildout_tracker.tables import TABLE_NAMES
from buildout_tracker.zones import manifest_key, table_key
from tests.publish import helpers as h

WEEKS = [h.W37, h.W38, h.W39]


def run(rt: pipeline.Runtime, weeks: list[str], run_id: str) -> None:
    rt.run_id = run_id
    for week in weeks:
        outcome = cycle.run_week(rt, week, docs=False)
        assert outcome.published is not None, outcome.error


def tables_of(rt: pipeline.Runtime) -> dict[str, bytes]:
    out = {k: v for k, v in h.objects(rt.lake, "curated/").items() if "/_" not in k}
    assert sorted(out) == sorted(table_key(t, w) for t in TABLE_NAMES for w in WEEKS)
    return out


def manifests_of(rt: pipeline.Runtime) -> dict[str, dict[str, Any]]:
    return {w: rt.lake.get_json(manifest_key(w)) for w in WEEKS}


def without_run(m: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in m.items() if k != "run_id"}


def test_reruns_backfills_and_out_of_order_runs_publish_identical_bytes(
    rt: pipeline.Runtime,
) -> None:
    generate(WEEKS, scale="small", seed=7, defects=0.0, sink=BucketSink(rt.landing))
    run(rt, WEEKS, "first")
    tables = tables_of(rt)
    manifests = manifests_of(rt)
    for week, m in manifests.items():
        h.check_manifest(rt.lake, rt.landing, week)
        assert m["run_id"] == "first"
        for name in TABLE_NAMES:
            assert m["tables"][name]["sha256"] == h.sha(tables[table_key(name, week)])
            assert m["tables"][name]["rows"] > 0, f"{name} {week}: empty tables prove little"
    weeks_differ = {
        w: manifests[w]["tables"]["procurement_weekly"]["row_content_sha256"] for w in WEEKS
    }
    assert len(set(weeks_differ.values())) == 3, "each week must have its own numbers"

    for label, weeks in (
        ("again", [h.W38]),
        ("backfill", WEEKS),
        ("out-of-order", [h.W39, h.W38]),
    ):
        run(rt, weeks, label)
        assert tables_of(rt) == tables, f"{label}: a table's bytes changed"
        now = manifests_of(rt)
        for week in WEEKS:
            assert without_run(now[week]) == without_run(manifests[week]), f"{label} {week}"
            assert now[week]["run_id"] == (label if week in weeks else manifests[week]["run_id"])
        manifests = now
        assert rt.lake.list("curated/_staging/") == []
