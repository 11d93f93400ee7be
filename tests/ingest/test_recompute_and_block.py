"""Re-running an earlier week with new deliveries names the later weeks to re-run; the
quarantine-share threshold blocks strictly above 5 % (or the feed's own threshold)."""

from __future__ import annotations

import pytest

from buildout_tracker import pipeline
from buildout_tracker.ingest.blocking import decide_block
from buildout_tracker.ingest.report import FeedWeekReport, FileOutcome
from buildout_tracker.pipeline import steps
from tests.ingest import builders as b
from tests.ingest.steps import po_state, run_procurement, seed_reference

W37, W38, W39 = "2026-W37", "2026-W38", "2026-W39"


def test_rerun_of_an_earlier_week_with_new_data_names_later_weeks(rt: pipeline.Runtime) -> None:
    seed_reference(rt.landing)
    rt.landing.put_bytes("procurement/2026-09-08/po_lines_1.csv", b.po_lines_csv([b.po_line(1)]))
    rt.landing.put_bytes("procurement/2026-09-15/po_lines_2.csv", b.po_lines_csv([b.po_line(2)]))
    rt.landing.put_bytes("procurement/2026-09-22/po_lines_3.csv", b.po_lines_csv([b.po_line(3)]))
    for week in (W37, W38, W39):
        run_procurement(rt, week)
    assert len(po_state(rt, W39)) == 3

    # Re-running W37 unchanged leaves the later weeks valid.
    run_procurement(rt, W37)
    assert steps.stale_later_weeks(rt, "procurement", W37) == []

    # A late W37 file changes W37's state: W38 and W39 were built on the old one.
    rt.landing.put_bytes("procurement/2026-09-13/po_lines_late.csv", b.po_lines_csv([b.po_line(9)]))
    summary = steps.run_ingest_task("procurement", W37, "rerun", rt=rt)
    assert summary["stale_later_weeks"] == [W38, W39]
    with pytest.raises(steps.LaterWeeksStale, match="2026-W38, 2026-W39"):
        steps.fail_if_later_weeks_stale([summary])

    # Re-running them in order brings them up to date, with the late line carried forward.
    for week in (W38, W39):
        run_procurement(rt, week)
    assert steps.stale_later_weeks(rt, "procurement", W37) == []
    assert len(po_state(rt, W39)) == 4


def _report(rows_in: int, rows_quarantined: int, feed: str = "procurement") -> FeedWeekReport:
    f = FileOutcome(
        key=f"{feed}/2026-09-08/po_lines_1.csv", sha256="0" * 64, size=1, delivery_date="2026-09-08",
        week=W37, kind="po_lines", outcome="ingested", rows_in=rows_in,
        rows_valid=rows_in - rows_quarantined, rows_quarantined=rows_quarantined,
        top_rules={"format:po_number": rows_quarantined},
    )  # fmt: skip
    return FeedWeekReport(feed, W37, [f])


def test_block_threshold_is_strictly_above_five_percent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BUILDOUT_QUARANTINE_THRESHOLD", raising=False)
    monkeypatch.delenv("BUILDOUT_QUARANTINE_THRESHOLD_PROCUREMENT", raising=False)
    at = _report(1000, 50)  # exactly 5 %
    decide_block(at)
    assert not at.blocked
    over = _report(1000, 51)  # 5.1 %
    decide_block(over)
    assert over.blocked
    assert over.block_reason is not None
    assert "procurement" in over.block_reason and "po_lines_1.csv" in over.block_reason
    assert "format:po_number" in over.block_reason


def test_block_threshold_per_feed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUILDOUT_QUARANTINE_THRESHOLD_PROCUREMENT", "0.10")
    under = _report(1000, 100)
    decide_block(under)
    assert not under.blocked
    hiring = _report(1000, 51, feed="hiring")
    decide_block(hiring)
    assert hiring.blocked, "the override is per feed"


def test_critical_table_rule_blocks_whatever_the_share() -> None:
    report = _report(100, 0)
    report.files[0].table_failures = [
        {"rule": "weights_sum_to_one", "severity": "critical", "message": "DC-SG-01 sums to 0.9"}
    ]
    decide_block(report)
    assert report.blocked and "weights_sum_to_one" in (report.block_reason or "")
    warned = _report(100, 0)
    warned.files[0].table_failures = [
        {"rule": "completed_in_order", "severity": "warning", "message": "x"}
    ]
    decide_block(warned)
    assert not warned.blocked
