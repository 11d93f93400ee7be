"""Every DAG loads, carries the house's owner, tags, retries and timeouts, and does no work
at parse time (no pandas, GX or boto3 imported, no network touched)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from buildout_tracker.dag_support import OWNER, Tags
from buildout_tracker.settings import PROJECT_ROOT

DAG_FILES = sorted((PROJECT_ROOT / "dags").glob("*.py"))
EXPECTED = {
    "ingest_procurement_weekly",
    "ingest_milestones_weekly",
    "ingest_hiring_weekly",
    "ingest_reference_weekly",
    "publish_tables_weekly",
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


def test_owner_tags_retries_and_timeouts(dagbag) -> None:  # type: ignore[no-untyped-def]
    allowed = Tags.all()
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, dag_id
        assert set(dag.tags) <= allowed, f"{dag_id}: tags outside Tags: {set(dag.tags) - allowed}"
        assert dag.doc_md and "Reads" in dag.doc_md and "Writes" in dag.doc_md, dag_id
        assert dag.max_active_runs == 1, dag_id
        for task in dag.tasks:
            assert task.owner == OWNER, f"{dag_id}.{task.task_id}"
            assert task.execution_timeout is not None, f"{dag_id}.{task.task_id} has no execution_timeout"
            assert task.on_failure_callback, f"{dag_id}.{task.task_id} does not alert on failure"
            if not task.task_id.startswith(("check_", "select_")):  # these read no S3
                assert task.retries >= 2, f"{dag_id}.{task.task_id} touches S3 without retries"
                assert task.retry_exponential_backoff, f"{dag_id}.{task.task_id}: no backoff"


def test_weekly_dags_cover_an_iso_week(dagbag) -> None:  # type: ignore[no-untyped-def]
    """The ingest DAGs' runs cover Monday 06:00 to Monday 06:00: the week of the interval's
    start is the week the run processes, and the run fires once that week has closed."""
    from datetime import datetime, timezone

    import attrs
    from airflow.timetables.interval import CronDataIntervalTimetable as CoreTimetable

    from buildout_tracker.dag_support import run_week

    for dag_id in EXPECTED - {"publish_tables_weekly"}:
        spec = attrs.asdict(dagbag.dags[dag_id].timetable)
        assert spec == {"expression": "0 6 * * 1", "timezone": "UTC"}, dag_id
        core = CoreTimetable(spec["expression"], timezone=spec["timezone"])
        interval = core.infer_manual_data_interval(run_after=datetime(2026, 11, 30, 7, tzinfo=timezone.utc))
        assert interval.start == datetime(2026, 11, 23, 6, tzinfo=timezone.utc)
        assert interval.end == datetime(2026, 11, 30, 6, tzinfo=timezone.utc)
        assert run_week({"data_interval_start": interval.start, "params": {"week": None}}) == "2026-W48"
        assert run_week({"data_interval_start": interval.start, "params": {"week": "2026-W40"}}) == "2026-W40"


# The baseline a DAG file pays whatever it does: Airflow itself and a trivial @task DAG
# (the @task decorator loads Airflow's providers manager, which imports boto3 through the
# amazon provider). What our DAG file adds on top of that must be light.
_BASELINE_DAG = """
from datetime import datetime
from airflow.sdk import Asset, Param, dag, task

@dag(schedule=None, start_date=datetime(2026, 1, 1), params={"week": Param(None, type=["null", "string"])})
def baseline():
    @task(outlets=[Asset(name="baseline", uri="buildout://baseline")])
    def t():
        return 1
    t()

baseline()
"""

_PROBE = r"""
import json, sys, time, importlib.util

def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)

import airflow.sdk
load("baseline_dag", sys.argv[2])
before = set(sys.modules)
t1 = time.perf_counter()
load("probe_dag", sys.argv[1])
parse = time.perf_counter() - t1
heavy = sorted(m for m in set(sys.modules) - before if m.split(".")[0] in ("pandas", "great_expectations", "boto3", "botocore", "pyarrow", "numpy"))
print(json.dumps({"parse_s": parse, "heavy": heavy}))
"""


def parse_cost(path: Path, tmp_path: Path) -> dict:
    baseline = tmp_path / "baseline_dag.py"
    baseline.write_text(_BASELINE_DAG)
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(tmp_path),
            # An endpoint nobody listens on: parsing must not need it.
            "BUILDOUT_S3_ENDPOINT": "http://127.0.0.1:9",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        }
    )
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, str(path), str(baseline)], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.stem)
def test_no_heavy_imports_or_network_at_parse_time(path: Path, tmp_path: Path) -> None:
    result = parse_cost(path, tmp_path)
    assert result["heavy"] == [], f"{path.name} imports at parse time: {result['heavy']}"
