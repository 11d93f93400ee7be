"""The note a run of the project's DAGs gets when it ends: the week and how it went."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from buildout_tracker.orchestration import run_notes


def summary(**over: object) -> dict[str, object]:
    base = {"rows_in": 5150, "rows_validated": 5150, "files_received": 1,
            "files_quarantined": 0, "blocked": False}  # fmt: skip
    return {**base, **over}


def test_ingest_note_names_the_week_and_each_feed_of_the_dag() -> None:
    note = run_notes.note_for(
        "ingest_procurement_weekly",
        "2026-W48",
        {"ingest_fx_rates": summary(rows_in=35, rows_validated=35), "ingest_po_lines": summary()},
        failed=False,
    )
    assert note == "2026-W48: fx_rates 35/35 rows accepted; procurement 5,150/5,150 rows accepted"


def test_ingest_note_says_blocked_refused_silent_and_unfinished() -> None:
    blocked = summary(rows_validated=4000, files_quarantined=1, blocked=True)
    note = run_notes.note_for(
        "ingest_procurement_weekly", "2026-W48", {"ingest_po_lines": blocked}, failed=True
    )
    assert note == (
        "2026-W48: fx_rates did not finish; "
        "procurement 4,000/5,150 rows accepted, 1 file(s) refused, BLOCKED"
    )
    silent = summary(rows_in=0, rows_validated=0, files_received=0)
    assert (
        run_notes.note_for(
            "ingest_hiring_weekly", "2026-W53", {"ingest_ats_snapshots": silent}, failed=False
        )
        == "2026-W53: hiring 0/0 rows accepted (nothing delivered)"
    )


def test_publish_note_gives_the_colours_that_matter() -> None:
    results = [
        {"week": "2026-W48", "rag": {"program": "amber", "chip_development": "red",
                                     "data_centers": "amber", "ai_software": "green"}},
        {"week": "2026-W49", "skipped": "no feed has delivered anything"},
        {"week": "2026-W40", "failed": "audit failed for 2026-W40, nothing published: x"},
    ]  # fmt: skip
    note = run_notes.note_for(
        "publish_tables_weekly", "2026-W48", {"publish_weekly_tables": results}, failed=False
    )
    assert note == (
        "2026-W48: published; program amber, chip_development red, data_centers amber; "
        "2026-W49: not published (no feed has delivered anything); "
        "2026-W40: publication failed (audit failed for 2026-W40, nothing published: x)"
    )
    assert run_notes.OURS.match(note)
    assert run_notes.note_for("some_other_dag", "2026-W48", {}, failed=False) is None


def test_a_skipped_publication_says_which_weeks_and_why() -> None:
    skipped = {"weeks": ["2026-W48"], "reason": "published already from the reports as they are"}
    note = run_notes.note_for(
        "publish_tables_weekly", "unknown week", {"skipped": skipped}, failed=False
    )
    assert note == "2026-W48: not published (published already from the reports as they are)"
    assert run_notes.OURS.match(note)
    none = {"weeks": [], "reason": "the triggering events name no week: nothing to publish"}
    note = run_notes.note_for("publish_tables_weekly", "unknown week", {"skipped": none}, False)
    assert note == "nothing published (the triggering events name no week: nothing to publish)"
    # A failed run's note does not take a skip's reason.
    assert (
        run_notes.note_for("publish_tables_weekly", "2026-W48", {"skipped": skipped}, failed=True)
        == "2026-W48: publication failed"
    )


def test_week_of_a_run() -> None:
    assert run_notes.week_of_run(SimpleNamespace(conf={"week": "2026-W40"})) == "2026-W40"
    scheduled = SimpleNamespace(conf={}, data_interval_start=datetime(2026, 11, 23, 6, tzinfo=UTC))
    assert run_notes.week_of_run(scheduled) == "2026-W48"
    # The publisher's Monday cron run (2026-11-30 12:00) is about the week that just closed.
    monday = datetime(2026, 11, 30, 12, tzinfo=UTC)
    cron = SimpleNamespace(dag_id="publish_tables_weekly", conf={}, data_interval_start=monday)
    assert run_notes.week_of_run(cron) == "2026-W48"


def test_an_operators_note_is_kept() -> None:
    run = SimpleNamespace(dag_id="ingest_hiring_weekly", note="re-run after ATS fix (ana)")
    run_notes.annotate(run, failed=False)
    assert run.note == "re-run after ATS fix (ana)"
