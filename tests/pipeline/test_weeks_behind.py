"""Weeks ingested since their publication are found, and the next publishing run publishes
them whatever week its own events name: Airflow 3.3's asset queue can drop an asset's later
events while the publishing DAG's run is busy (apache/airflow#56050), and those weeks would
stay unpublished (README, "Backfills")."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from buildout_tracker import pipeline, zones
from buildout_tracker.orchestration import dag_support
from buildout_tracker.pipeline import steps
from buildout_tracker.pipeline.runtime import Runtime
from buildout_tracker.publish import AuditFailed, publish_week
from buildout_tracker.publish.withdraw import withdraw_week
from tests.publish import helpers as h

W37, W38, W39 = h.W37, h.W38, h.W39
MONDAY_AFTER_W38 = datetime(2026, 9, 21, 12, tzinfo=UTC)  # the fallback's tick for W38


def publish(rt: pipeline.Runtime, week: str) -> None:
    publish_week(rt.lake, rt.landing, week, run_id=f"run-{week}")


def ingest(rt: pipeline.Runtime, week: str, *, skip: tuple[str, ...] = ()) -> None:
    for feed in h.FEED_ORDER:
        if feed not in skip:
            steps.ingest_feed(rt, feed, week)


def test_a_week_is_behind_from_its_ingest_until_its_publication(rt: pipeline.Runtime) -> None:
    h.deliver(rt.landing, W37)
    ingest(rt, W37)
    assert steps.weeks_behind(rt.lake) == [W37]
    publish(rt, W37)
    assert steps.weeks_behind(rt.lake) == []

    h.deliver(rt.landing, W38)
    ingest(rt, W38, skip=("hiring",))
    assert steps.weeks_behind(rt.lake) == []  # not every feed has run: not ready
    steps.ingest_feed(rt, "hiring", W38)
    assert steps.weeks_behind(rt.lake) == [W38]
    publish(rt, W38)
    assert steps.weeks_behind(rt.lake) == []

    # A file delivered late into W37 and taken by a re-run of its feed: W37 only.
    reqs, _ = h.hiring_files(W37)
    rt.landing.put_bytes("hiring/2026-09-11/requisitions_2026-09-11.csv", reqs)
    steps.ingest_feed(rt, "hiring", W37)
    assert steps.weeks_behind(rt.lake) == [W37]
    publish(rt, W37)
    assert steps.weeks_behind(rt.lake) == []


def test_a_publication_that_read_a_report_just_before_it_was_replaced_is_behind(
    rt: pipeline.Runtime,
) -> None:
    """Written after the reports, the manifest still counts as behind when it names other
    inputs than the reports do now (it read one of them before its re-run rewrote it)."""
    h.deliver(rt.landing, W37)
    ingest(rt, W37)
    publish(rt, W37)
    manifest = rt.lake.get_json(zones.manifest_key(W37))
    manifest["inputs"] = [i for i in manifest["inputs"] if i["feed"] != "hiring"]
    rt.lake.put_json(zones.manifest_key(W37), manifest)  # newer than every report
    assert steps.weeks_behind(rt.lake) == [W37]


def test_weeks_never_to_publish_automatically_are_not_behind(rt: pipeline.Runtime) -> None:
    h.deliver(rt.landing, W37)
    ingest(rt, W37)
    publish(rt, W37)
    withdraw_week(rt.lake, W37, reason="wrong FX file", by="ops")
    ingest(rt, W39)  # every feed ran, and none delivered anything
    steps.ingest_feed(rt, "hiring", W37)  # a re-run of a withdrawn week
    assert steps.weeks_behind(rt.lake) == []


class _Ti:
    def __init__(self, busy: set[str]) -> None:
        self.busy = busy
        self.pushed: dict[str, Any] = {}

    def get_dr_count(self, dag_id: str, logical_dates: list[Any], states: list[str]) -> int:
        return int(dag_id in self.busy)

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def _context(*, events: list[str] | None = None, busy: set[str] = frozenset()) -> dict[str, Any]:
    context: dict[str, Any] = {"params": {}, "ti": _Ti(set(busy))}
    if events is None:
        context.update(run_id="scheduled__2026-09-21", logical_date=MONDAY_AFTER_W38)
    else:
        asset_events = [SimpleNamespace(extra={"week": w}) for w in events]
        context.update(run_id="asset_triggered__x", triggering_asset_events={"a": asset_events})
    return context


@pytest.fixture
def on_test_lake(rt: pipeline.Runtime, monkeypatch: pytest.MonkeyPatch) -> pipeline.Runtime:
    """The task's runtime is the test's (its S3 client is the test lake's real one)."""
    monkeypatch.setattr(Runtime, "from_airflow", classmethod(lambda cls, run_id: rt))
    return rt


def test_a_publishing_run_publishes_its_events_weeks_and_the_weeks_behind(
    on_test_lake: pipeline.Runtime,
) -> None:
    from airflow.sdk.exceptions import AirflowSkipException

    rt = on_test_lake
    h.deliver(rt.landing, W37)
    h.deliver(rt.landing, W38)
    ingest(rt, W37)  # its events were dropped: no run published it
    ingest(rt, W38, skip=("hiring",))
    # An event of W38 while W38 waits for hiring: W37, recovered.
    assert dag_support.publish_weeks(_context(events=[W38])) == [W37]
    publish(rt, W37)
    with pytest.raises(AirflowSkipException, match="waiting for the other feeds"):
        dag_support.publish_weeks(_context(events=[W38]))
    # W37's own events, queued behind the run that recovered it: published already. The
    # run's note says so (`run_notes.publish_note` reads the XCom).
    context = _context(events=[W37])
    with pytest.raises(AirflowSkipException, match="W37: published already from the reports"):
        dag_support.publish_weeks(context)
    assert context["ti"].pushed == {
        "skipped": {"weeks": [W37], "reason": "published already from the reports as they are"}
    }
    steps.ingest_feed(rt, "hiring", W38)
    assert dag_support.publish_weeks(_context(events=[W38])) == [W38]

    # The Monday fallback for W38 while one of W38's ingests still runs: W38 waits for its
    # events; a week behind is published all the same.
    steps.ingest_feed(rt, "hiring", W37)  # a re-run whose event was dropped
    busy = {"ingest_hiring_weekly"}
    assert dag_support.publish_weeks(_context(busy=busy)) == [W37]
    assert dag_support.publish_weeks(_context()) == [W37, W38]
    publish(rt, W37)
    context = _context(busy=busy)
    with pytest.raises(AirflowSkipException, match="W38: ingest_hiring_weekly still queued"):
        dag_support.publish_weeks(context)
    assert context["ti"].pushed["skipped"]["weeks"] == [W38]


def test_a_failed_week_fails_the_run_only_when_the_run_named_it(
    rt: pipeline.Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    tried: list[str] = []

    def run_publish_task(week: str, run_id: str, rt: Any, explicit: bool) -> dict[str, Any]:
        tried.append(week)
        if week == W37:
            raise AuditFailed(week, [SimpleNamespace(table="t", check="c", message="m")])
        return {"week": week}

    monkeypatch.setattr(steps, "run_publish_task", run_publish_task)
    # W37 recovered, W38 the run's own: W38 published, the run succeeds.
    results = dag_support.publish_each([W37, W38], {W38}, rt, explicit=False)
    assert results == [
        {"week": W37, "failed": "audit failed for 2026-W37, nothing published: t: c: m"},
        {"week": W38},
    ]
    # W37 the run's own: W38 is still published, then the run fails, naming W37.
    tried.clear()
    with pytest.raises(AirflowFailException, match="audit failed for 2026-W37"):
        dag_support.publish_each([W37, W38], {W37}, rt, explicit=False)
    assert tried == [W37, W38]
