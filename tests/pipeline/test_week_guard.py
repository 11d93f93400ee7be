"""A week that has not closed is refused on every path unless forced (a guard on whether to
run, never an input of a result), and a week in which no feed delivered anything is never
published."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from buildout_tracker import pipeline, zones
from buildout_tracker.pipeline import steps
from buildout_tracker.settings import PROJECT_ROOT
from buildout_tracker.weeks import closes_at, has_closed

MONDAY_W49 = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # 2026-W48 closes exactly then


def test_a_week_closes_at_the_end_of_its_status_date() -> None:
    assert closes_at("2026-W48") == MONDAY_W49
    assert has_closed("2026-W48", MONDAY_W49)
    assert not has_closed("2026-W48", datetime(2026, 11, 29, 23, 59, 59, tzinfo=UTC))
    assert not has_closed("2026-W49", MONDAY_W49)
    # 2026 has 53 ISO weeks: W53 runs from 2026-12-28 to 2027-01-03
    assert closes_at("2026-W53") == datetime(2027, 1, 4, tzinfo=UTC)


def test_guard_refuses_open_and_bad_weeks_unless_forced() -> None:
    steps.check_week_may_run("2026-W48", now=MONDAY_W49)
    with pytest.raises(steps.WeekNotClosed, match=r"2026-W49 has not closed yet.*force"):
        steps.check_week_may_run("2026-W49", now=MONDAY_W49)
    steps.check_week_may_run("2026-W49", force=True, now=MONDAY_W49)
    with pytest.raises(steps.BadWeek, match="2026-W99"):
        steps.check_week_may_run("2026-W99", force=True)
    with pytest.raises(steps.BadWeek):
        steps.check_week_may_run("banana")


def test_dag_runs_fail_at_once_on_an_open_or_impossible_week() -> None:
    """The task body (DAG params and REST triggers alike): AirflowFailException, which Airflow
    does not retry, with the one-line reason."""
    from airflow.sdk.exceptions import AirflowFailException

    from buildout_tracker.orchestration.dag_support import checked_week

    with pytest.raises(AirflowFailException, match="2099-W01 has not closed yet") as exc:
        checked_week({"params": {"week": "2099-W01", "force": False}})
    assert "\n" not in str(exc.value)
    with pytest.raises(AirflowFailException, match="no ISO week '2026-W99': 2026 has 53 weeks"):
        checked_week({"params": {"week": "2026-W99"}})
    assert checked_week({"params": {"week": "2099-W01", "force": True}}) == "2099-W01"
    start = datetime(2026, 11, 23, 6, tzinfo=UTC)  # a scheduled run of 2026-W48
    assert checked_week({"params": {"week": None}, "data_interval_start": start}) == "2026-W48"


def test_the_run_form_validates_the_week() -> None:
    from airflow.sdk.definitions.param import ParamsDict
    from airflow.sdk.exceptions import ParamValidationError

    from buildout_tracker.orchestration.dag_support import week_params

    params = ParamsDict(week_params("ingest"))
    params["week"] = "2026-W48"
    assert params.validate()["week"] == "2026-W48"
    for bad in ("2026-48", "W48", "2026-W4", "banana"):
        with pytest.raises(ParamValidationError, match="does not match"):
            ParamsDict(week_params("ingest"))["week"] = bad


@pytest.mark.parametrize(
    "argv",
    [
        ["run-week", "--week", "2099-W01"],
        ["run", "--weeks", "2099-W01:2099-W02"],
        ["backfill", "--weeks", "2099-W01"],
    ],
    ids=["run-week", "run", "backfill"],
)
def test_commands_refuse_an_open_week_in_one_line(argv: list[str]) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "buildout_tracker.cli", *argv],
        capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT,
    )  # fmt: skip
    assert out.returncode == 2, out.stdout + out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1 and "2099-W01 has not closed yet" in lines[0], out.stdout
    assert "Traceback" not in out.stderr


def test_a_week_nobody_delivered_anything_for_is_not_published(rt: pipeline.Runtime) -> None:
    week = "2026-W53"
    for feed in ("reference", "fx_rates", "procurement", "milestones", "hiring"):
        steps.ingest_feed(rt, feed, week)
    with pytest.raises(steps.NothingToPublish, match="no feed has delivered anything"):
        steps.publish(rt, week)
    assert not rt.lake.exists(zones.manifest_key(week))
    assert rt.lake.list("curated/") == []
