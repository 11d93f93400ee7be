"""data_quality_weekly: rule rows as given, one delivery row per feed."""

from __future__ import annotations

from buildout_tracker.tables import data_quality_weekly

from . import factory as f


def test_rule_and_delivery_rows() -> None:
    inputs = f.make_inputs(
        feed_status=f.feed_status(
            procurement={
                "files_received": 3,
                "duplicates_skipped": 1,
                "files_quarantined": 1,
                "rows_in": 200,
                "rows_quarantined": 12,
                "blocked": True,
                "reason": "po_lines_2.csv: 6% rows quarantined",
            },
        ),
        dq_rules=f.dq_rules(
            {
                "feed": "procurement",
                "file": "po_lines_2.csv",
                "rule": "net_value_matches",
                "severity": "critical",
                "rows_checked": 200,
                "rows_failed": 12,
                "success": False,
            },
            {
                "feed": "procurement",
                "file": None,
                "rule": "quarantine_share",
                "severity": "critical",
                "rows_checked": 200,
                "rows_failed": 12,
                "success": False,
            },
        ),
    )
    t = data_quality_weekly.compute(inputs)
    assert t.schema.equals(data_quality_weekly.SCHEMA)
    rows = t.to_pylist()
    proc = [r for r in rows if r["feed"] == "procurement"]
    # delivery row first, then the feed-level rule (file null), then the file rule
    assert [(r["rule"], r["file"]) for r in proc] == [
        ("delivery", None),
        ("quarantine_share", None),
        ("net_value_matches", "po_lines_2.csv"),
    ]
    d = proc[0]
    assert (
        d["files_received"],
        d["duplicates_skipped"],
        d["files_quarantined"],
        d["rows_in"],
        d["rows_quarantined"],
    ) == (3, 1, 1, 200, 12)
    assert d["blocked"] is True and d["success"] is False
    assert d["blocked_reason"] == "po_lines_2.csv: 6% rows quarantined"
    assert (d["rows_checked"], d["rows_failed"]) == (200, 12)
    rule = proc[2]
    assert rule["files_received"] is None and rule["blocked"] is None
    assert (rule["severity"], rule["rows_checked"], rule["rows_failed"], rule["success"]) == (
        "critical",
        200,
        12,
        False,
    )
    assert sorted(r["feed"] for r in rows if r["rule"] == "delivery") == sorted(f.FEEDS)
    fx = next(r for r in rows if r["feed"] == "fx_rates")
    assert fx["blocked"] is False and fx["blocked_reason"] is None and fx["success"] is True


def test_no_rules_only_delivery_rows() -> None:
    t = data_quality_weekly.compute(f.make_inputs())
    assert t.column("rule").to_pylist() == ["delivery"] * 5
