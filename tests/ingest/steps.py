"""Steps the ingest tests share: seed the reference, run procurement's week, read state."""

from __future__ import annotations

import pandas as pd

from buildout_tracker import pipeline
from buildout_tracker.ingest import state
from buildout_tracker.lake import Bucket
from buildout_tracker.pipeline import steps
from tests.ingest import builders as b


def seed_reference(landing: Bucket, day: str = "2026-09-07") -> None:
    landing.put_bytes(f"reference/{day}/sites.csv", b.sites_csv(["DC-SG-01", "DC-SG-02"]))
    landing.put_bytes(
        f"reference/{day}/milestone_plan.csv", b.milestone_plan_csv(["DC-SG-01", "DC-SG-02"])
    )
    landing.put_bytes(f"reference/{day}/budget_plan.csv", b.budget_plan_csv())
    landing.put_bytes(f"reference/{day}/hiring_plan.csv", b.hiring_plan_csv())
    landing.put_bytes(f"fx_rates/{day}/fx_rates_1.csv", b.fx_csv([("EUR", "2026-09-04", "1.10")]))


def run_procurement(rt: pipeline.Runtime, week: str):  # type: ignore[no-untyped-def]
    steps.ingest_feed(rt, "reference", week)
    steps.ingest_feed(rt, "fx_rates", week)
    return steps.ingest_feed(rt, "procurement", week)


def objects(bucket: Bucket, prefix: str) -> dict[str, bytes]:
    return {o.key: bucket.get_bytes(o.key) for o in bucket.list(prefix)}


def po_state(rt: pipeline.Runtime, week: str) -> pd.DataFrame:
    frame = state.read_state(
        rt.lake, state.latest_state_before(rt.lake, "po_lines", week, inclusive=True)
    )
    assert frame is not None
    return frame.set_index(["po_number", "po_line"]).sort_index()
