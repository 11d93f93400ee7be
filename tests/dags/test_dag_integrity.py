"""Every DAG loads, carries the house's owner, tags, retries and timeouts, and does no work
at parse time (no pandas, GX or boto3 imported, no network touched)."""

from __future__ import annotations

import os
from datetime import UTC
from pathlib import Path

import pytest

from buildout_tracker.orchestration.dag_support import OWNER, Tags
from buildout_tracker.settings import PROJECT_ROOT

DAG_FILES = sorted((PROJECT_ROOT / "dags").glob("*.py"))
EXPECTED = {
    "ingest_procurement_weekly",
    "ingest_milestones_weekly",
    "ingest_hiring_weekly",
    "ingest_reference_weekly",
    "publish_tables_weekly",
    "watch_feed_freshness",
}


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    home = tmp_path_factory.mktemp("airflow-home")
    os.environ.setdefault("AIRFLOW_HOME", str(home))
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(PROJECT_ROOT / "dags"))


def test_all_dags_import_without_errors(dagbag) -> None:  # type: ignore[no-untyped-def]
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == EXPECTED


def test_each_file_is_named_for_its_dag() -> None:
    assert {p.stem for p in DAG_FILES} == EXPECTED


def test_every_feed_is_ingested_by_the_dag_and_task_the_registry_names(dagbag) -> None:  # type: ignore[no-untyped-def]
    from buildout_tracker import registry

    assert set(registry.INGEST_DAGS) | {registry.PUBLISH_DAG, "watch_feed_freshness"} == EXPECTED
    for feed in registry.FEEDS:
        dag = dagbag.dags[feed.dag_id]
        assert feed.task_id in dag.task_ids, f"{feed.name}: no task {feed.task_id} in {dag.dag_id}"


def test_owner_tags_retries_and_timeouts(dagbag) -> None:  # type: ignore[no-untyped-def]
    allowed = Tags.all()
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, dag_id
        assert set(dag.tags) <= allowed, f"{dag_id}: tags outside Tags: {set(dag.tags) - allowed}"
        assert dag.doc_md and "Reads" in dag.doc_md and "Writes" in dag.doc_md, dag_id
        assert dag.max_active_runs == 1, dag_id
        for task in dag.tasks:
            assert task.owner == OWNER, f"{dag_id}.{task.task_id}"
            assert task.execution_timeout is not None, (
                f"{dag_id}.{task.task_id} has no execution_timeout"
            )
            assert task.on_failure_callback, f"{dag_id}.{task.task_id} does not alert on failure"
            # Every task but the human-in-the-loop one is retried: a worker that dies mid-task
            # (or an S3 blip) fails a try, not the run. Errors no retry can fix raise
            # AirflowFailException, which skips the retries. A decision task is not retried:
            # its retry would ask the person again.
            if not task.task_id.startswith("decide_"):
                assert task.retries >= 2, f"{dag_id}.{task.task_id} is not retried"
                assert task.retry_exponential_backoff, f"{dag_id}.{task.task_id}: no backoff"


def test_weekly_dags_cover_an_iso_week(dagbag) -> None:  # type: ignore[no-untyped-def]
    """The ingest DAGs' runs cover Monday 06:00 to Monday 06:00: the week of the interval's
    start is the week the run processes, and the run fires once that week has closed."""
    from datetime import datetime

    import attrs
    from airflow.timetables.interval import CronDataIntervalTimetable as CoreTimetable

    from buildout_tracker import registry
    from buildout_tracker.orchestration.dag_support import run_week

    for dag_id in registry.INGEST_DAGS:
        spec = attrs.asdict(dagbag.dags[dag_id].timetable)
        assert spec == {"expression": "0 6 * * 1", "timezone": "UTC"}, dag_id
        core = CoreTimetable(spec["expression"], timezone=spec["timezone"])
        interval = core.infer_manual_data_interval(run_after=datetime(2026, 11, 30, 7, tzinfo=UTC))
        assert interval.start == datetime(2026, 11, 23, 6, tzinfo=UTC)
        assert interval.end == datetime(2026, 11, 30, 6, tzinfo=UTC)
        assert (
            run_week({"data_interval_start": interval.start, "params": {"week": None}})
            == "2026-W48"
        )
        assert (
            run_week({"data_interval_start": interval.start, "params": {"week": "2026-W40"}})
            == "2026-W40"
        )


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.stem)
def test_no_heavy_imports_or_network_at_parse_time(path: Path) -> None:
    from buildout_tracker.devtools.dag_parse import parse_cost

    result = parse_cost(path)
    assert result["heavy"] == [], f"{path.name} imports at parse time: {result['heavy']}"
