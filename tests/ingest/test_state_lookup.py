"""Which state is in force: the latest week with a state at or before the one asked for,
whether the weeks run back to back (one read) or with gaps (a folder listing)."""

from __future__ import annotations

import pandas as pd

from buildout_tracker.ingest.state import latest_state_before, read_state_at, write_state
from buildout_tracker.lake import Bucket


def test_latest_state_before_with_and_without_gaps(fresh_buckets: tuple[Bucket, Bucket]) -> None:
    _, lake = fresh_buckets
    for n, week in enumerate(("2026-W37", "2026-W39", "2026-W40"), 1):
        write_state(lake, "fx_rates", week, pd.DataFrame({"n": [n]}), None, "test")

    def found(week: str, inclusive: bool = False) -> str | None:
        ref = latest_state_before(lake, "fx_rates", week, inclusive=inclusive)
        return None if ref is None else ref.week

    assert found("2026-W41") == "2026-W40"  # the week before has one
    assert found("2026-W40", inclusive=True) == "2026-W40"
    assert found("2026-W40") == "2026-W39"
    assert found("2026-W39") == "2026-W37"  # W38 was never run: look further back
    assert found("2026-W38", inclusive=True) == "2026-W37"
    assert found("2026-W45") == "2026-W40"
    assert found("2026-W37") is None
    assert found("2027-W02") == "2026-W40"  # across a year boundary
    assert latest_state_before(lake, "po_lines", "2026-W40") is None
    state = read_state_at(lake, "fx_rates", "2026-W38")
    assert state is not None and state["n"].tolist() == [1]
    ref = latest_state_before(lake, "fx_rates", "2026-W41")
    assert ref is not None and len(ref.sha256) == 64
