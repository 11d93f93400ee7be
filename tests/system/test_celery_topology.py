"""The production topology works: what `airflow dags test` cannot show.

One cluster (airflow_cluster.py: PostgreSQL 15, Redis, CeleryExecutor with two workers,
scheduler, dag-processor, triggerer, api-server, local S3; loopback only), one generated week W
(the week the weekly timetable fires for now), two passes:

1. Undisturbed. The scheduler fires the four weekly ingest DAGs for W by itself (DAGs are
   unpaused at creation, catchup off); their asset events start `publish_tables_weekly`;
   the six tables and the manifest of W are published. Tasks ran on both workers, some at once.
2. An operator re-runs W through the REST API. One task (`ingest_po_lines`) does its work, then
   its worker is SIGKILLed (whole process group) before it reports. The scheduler notices the
   missing heartbeat, the task is retried on the other worker and succeeds, the asset events
   start the publishing DAG again, and the week's tables are identical to pass 1 (same rows,
   same bytes, same row-content checksums in the manifest).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from airflow_cluster import Cluster, missing_binaries, running_cluster

from buildout_tracker import settings
from buildout_tracker.lake import Bucket, make_client
from buildout_tracker.weeks import week_of_interval_start

INGEST_DAGS = (
    "ingest_procurement_weekly",
    "ingest_milestones_weekly",
    "ingest_hiring_weekly",
    "ingest_reference_weekly",
)
PUBLISH_DAG = "publish_tables_weekly"
HOLD_DAG, HOLD_TASK = "ingest_procurement_weekly", "ingest_po_lines"
DAGS_FOLDER = settings.PROJECT_ROOT / "dags"


def _require_binaries() -> None:
    missing = missing_binaries()
    if missing:
        message = (
            f"system test needs {', '.join(missing)} (bash scripts/system-deps.sh installs Redis)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI must run it")
        pytest.skip(message)
    # Python packages come from the lock: a gap there is a failure, never a skip.
    try:
        import asyncpg  # noqa: F401  Airflow 3 reaches PostgreSQL through it too
    except ImportError:
        pytest.fail(
            "asyncpg is not installed: Airflow 3 on PostgreSQL needs it (add it to the lock)"
        )
    try:
        import airflow.providers.celery.executors.celery_executor_utils  # noqa: F401
    except ImportError as exc:
        pytest.fail(f"the locked celery does not work with the locked Celery provider: {exc}")


def scheduled_week(now: datetime) -> tuple[str, datetime]:
    """The week the weekly timetable (Monday 06:00 UTC to Monday 06:00) fires for now, with
    catchup off: the last interval that has closed."""
    monday = (now - timedelta(days=now.weekday())).replace(
        hour=6, minute=0, second=0, microsecond=0
    )
    end = monday if monday <= now else monday - timedelta(days=7)
    start = end - timedelta(days=7)
    return week_of_interval_start(start), start


def _parse(ts: str | None) -> datetime | None:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")) if ts else None


def _published_or_none(lake: Bucket, week: str) -> dict[str, Any] | None:
    if not lake.exists(f"curated/_manifests/week={week}.json"):
        return None
    return _published(lake, week)


def _wait_run(c: Cluster, dag_id: str, run_id: str, timeout: float) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        run = c.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
        return run if run["state"] in ("success", "failed") else None

    run = c.wait_until(done, timeout, f"{dag_id} {run_id} finished", interval=1)
    if run["state"] != "success":
        tis = {
            t["task_id"]: (t["state"], t["try_number"]) for t in c.task_instances(dag_id, run_id)
        }
        raise AssertionError(f"{dag_id} {run_id} {run['state']}: {tis}\n{c.diagnostics()}")
    return run


def _published(lake: Bucket, week: str) -> dict[str, Any]:
    manifest = lake.get_json(f"curated/_manifests/week={week}.json")
    assert manifest["week"] == week
    assert len(manifest["tables"]) == 6, sorted(manifest["tables"])
    for name, table in manifest["tables"].items():
        assert table["files"] == [f"curated/{name}/week={week}/part-00000.parquet"], name
        data = lake.read_parquet(table["files"][0])
        assert data.num_rows == table["rows"], name
    return manifest


def _content(manifest: dict[str, Any]) -> dict[str, tuple[int, str, str]]:
    return {
        name: (t["rows"], t["sha256"], t["row_content_sha256"])
        for name, t in sorted(manifest["tables"].items())
    }


def _overlapping_on_two_workers(tis: list[dict[str, Any]]) -> bool:
    spans = [
        (t["hostname"], _parse(t["start_date"]), _parse(t["end_date"]))
        for t in tis
        if t["hostname"] and t["start_date"] and t["end_date"]
    ]
    return any(
        h1 != h2 and s1 < e2 and s2 < e1
        for i, (h1, s1, e1) in enumerate(spans)
        for h2, s2, e2 in spans[i + 1 :]
    )


def _asset_triggered_runs(c: Cluster) -> list[dict[str, Any]]:
    return [r for r in c.dag_runs(PUBLISH_DAG) if r["run_type"] == "asset_triggered"]


@pytest.mark.system
@pytest.mark.timeout(900)
def test_weekly_cycle_on_celery_survives_a_dead_worker() -> None:
    _require_binaries()
    assert (DAGS_FOLDER / f"{PUBLISH_DAG}.py").exists(), "the DAGs are not there"
    t0 = time.monotonic()
    week, interval_start = scheduled_week(datetime.now(UTC))
    hold = {
        "BUILDOUT_SYSTEM_TEST_HOLD": f"{HOLD_DAG}.{HOLD_TASK}",
        "BUILDOUT_SYSTEM_TEST_HOLD_SECONDS": "240",
    }
    with running_cluster(DAGS_FOLDER, extra_env=hold, start_airflow=False) as c:
        assert c.lake is not None
        client = make_client(c.lake.settings())
        landing, lake = Bucket(c.lake.buckets[0], client), Bucket(c.lake.buckets[1], client)
        from buildout_tracker.generator import BucketSink, generate

        generate([week], scale="small", seed=7, sink=BucketSink(landing))
        assert landing.list(), "the generator wrote nothing"
        c.start_airflow()
        timings: dict[str, float] = {"startup_s": round(time.monotonic() - t0, 1)}

        def parsed() -> bool:
            errors = c.get("/api/v2/importErrors")["import_errors"]
            assert not errors, [(e["filename"], e["stack_trace"][-500:]) for e in errors]
            return all(
                c.request("GET", f"/api/v2/dags/{d}").status_code == 200
                for d in (*INGEST_DAGS, PUBLISH_DAG)
            )

        c.wait_until(parsed, 180, "the dag-processor to parse the DAGs", interval=1)

        # 1. The scheduler fires the weekly runs for W by itself; assets start the publishing.
        def scheduled_runs() -> dict[str, dict[str, Any]] | None:
            found = {}
            for dag_id in INGEST_DAGS:
                runs = [r for r in c.dag_runs(dag_id) if r["run_type"] == "scheduled"]
                if not runs:
                    return None
                found[dag_id] = runs[0]
            return found

        scheduled = c.wait_until(
            scheduled_runs, 180, "the scheduler's weekly ingest runs", interval=1
        )
        for dag_id, run in scheduled.items():
            assert _parse(run["data_interval_start"]) == interval_start, (dag_id, run)
            _wait_run(c, dag_id, run["dag_run_id"], 300)
        first_publish = c.wait_until(
            lambda: [r for r in _asset_triggered_runs(c) if r["state"] in ("success", "failed")],
            240,
            "asset events to start and finish publish_tables_weekly",
            interval=1,
        )[0]
        _wait_run(c, PUBLISH_DAG, first_publish["dag_run_id"], 10)
        # An asset event of a feed that finished before the others starts a publishing run
        # that waits for the week's other feeds (publication follows the week): the week is
        # published by the run after the last feed's event.
        c.wait_until(
            lambda: lake.exists(f"curated/_manifests/week={week}.json"),
            300,
            f"{week} published once all its feeds ran",
            interval=2,
        )
        undisturbed = _published(lake, week)
        publisher = str(undisturbed["run_id"])
        assert publisher.startswith("asset_triggered__"), publisher  # the ingests' events
        _wait_run(c, PUBLISH_DAG, publisher, 240)
        pass1_tis = [  # (a decision task a week that is not blocked skips ran nowhere)
            t
            for d, r in scheduled.items()
            for t in c.task_instances(d, r["dag_run_id"])
            if t["state"] != "skipped"
        ]
        assert {t["hostname"] for t in pass1_tis} == {"w1", "w2"}, "both workers should run tasks"
        assert _overlapping_on_two_workers(pass1_tis), "no two tasks ran at once on two workers"
        timings["pass1_s"] = round(time.monotonic() - t0 - timings["startup_s"], 1)

        # 2. An operator re-runs W through the REST API; a worker dies in the middle of a task.
        t2 = time.monotonic()
        runs = {
            dag_id: c.post(
                f"/api/v2/dags/{dag_id}/dagRuns",
                {
                    "logical_date": None,
                    "conf": {"week": week, "system_test_hold": True},
                    "note": "system test",
                },
            )["dag_run_id"]
            for dag_id in INGEST_DAGS
        }

        def held_task() -> dict[str, Any] | None:
            """The held task, once it is the only task queued or running anywhere: the kill
            must land on it alone. A task of another run on the same worker would fail with
            it, or, queued there, could stay queued until Celery redelivers it (an hour)."""
            for ti in c.task_instances(HOLD_DAG, runs[HOLD_DAG]):
                running = ti["task_id"] == HOLD_TASK and ti["state"] == "running" and ti["hostname"]
                if running and _holding(c, runs[HOLD_DAG]) and _only_busy(c, ti):
                    return ti
            return None

        victim = c.wait_until(
            held_task, 300, f"{HOLD_TASK} done with its work, holding", interval=0.5
        )
        assert victim["try_number"] == 1
        c.kill_worker(victim["hostname"])
        killed_at = time.monotonic()
        for dag_id, run_id in runs.items():
            _wait_run(c, dag_id, run_id, 300)
        timings["recovery_s"] = round(time.monotonic() - killed_at, 1)
        retried = next(
            t for t in c.task_instances(HOLD_DAG, runs[HOLD_DAG]) if t["task_id"] == HOLD_TASK
        )
        assert retried["state"] == "success"
        assert retried["try_number"] >= 2, retried
        assert retried["hostname"] not in ("", victim["hostname"]), retried

        # The re-run's events publish the week again: a new asset-triggered run writes the
        # manifest (the same content), and finishes.
        republished = c.wait_until(
            lambda: (
                (m := _published_or_none(lake, week)) is not None
                and str(m["run_id"]) != publisher
                and str(m["run_id"]).startswith("asset_triggered__")
                and m
            ),
            300,
            "asset events to publish the week again",
            interval=2,
        )
        _wait_run(c, PUBLISH_DAG, str(republished["run_id"]), 240)
        disturbed = _published(lake, week)
        assert _content(disturbed) == _content(undisturbed)
        timings["pass2_s"] = round(time.monotonic() - t2, 1)
        timings["total_s"] = round(time.monotonic() - t0, 1)
        print(f"system test week {week}: {timings}")


def _only_busy(c: Cluster, ti: dict[str, Any]) -> bool:
    busy = c.get("/api/v2/dags/~/dagRuns/~/taskInstances", state=["queued", "running"])
    return [t["id"] for t in busy["task_instances"]] == [ti["id"]]


def _holding(c: Cluster, run_id: str) -> bool:
    logs = (
        c.root
        / "airflow"
        / "logs"
        / f"dag_id={HOLD_DAG}"
        / f"run_id={run_id}"
        / f"task_id={HOLD_TASK}"
    )
    return any(
        "BUILDOUT_SYSTEM_TEST_HOLD" in p.read_text(errors="replace")
        for p in logs.glob("attempt=1*.log")
    )


def test_scheduled_week_is_the_last_closed_interval() -> None:
    sunday = datetime(2026, 11, 29, 17, 0, tzinfo=UTC)
    assert scheduled_week(sunday) == ("2026-W47", datetime(2026, 11, 16, 6, tzinfo=UTC))
    monday_early = datetime(2026, 11, 30, 5, 59, tzinfo=UTC)
    assert scheduled_week(monday_early)[0] == "2026-W47"
    monday_late = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    assert scheduled_week(monday_late)[0] == "2026-W48"
