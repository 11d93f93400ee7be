"""Run the real DAGs for one week in this process with `dag.test()`: what `make run-week`
and the end-to-end tests use. The environment must point Airflow at a metadata DB; this
module sets it up (SQLite under var/airflow) before Airflow is imported.
"""

from __future__ import annotations

import builtins
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from buildout_tracker.orchestration.airflow_env import airflow_env
from buildout_tracker.registry import INGEST_DAGS, PUBLISH_DAG
from buildout_tracker.settings import PROJECT_ROOT
from buildout_tracker.weeks import week_start


def prepare_airflow(home: Path | None = None) -> dict[str, str]:
    """Set the Airflow environment in this process and migrate its DB once."""
    env = airflow_env(home)
    # Under dag.test() a retry waits in this process: one quick retry, not minutes of backoff.
    env.setdefault("BUILDOUT_TASK_RETRIES", "1")
    env.setdefault("BUILDOUT_RETRY_DELAY_SECONDS", "2")
    os.environ.update(env)
    marker = Path(env["AIRFLOW_HOME"]) / ".db-migrated"
    if not marker.exists():
        subprocess.run(
            [str(Path(sys.executable).parent / "airflow"), "db", "migrate"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        marker.write_text("ok")
    return env


def load_dags() -> dict[str, Any]:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    return bag.dags


def logical_date_of(week: str) -> datetime:
    """The logical date of the scheduled run covering a week: its Monday 06:00 UTC."""
    return datetime.combine(week_start(week), time(6), tzinfo=UTC)


def test_week(week: str, dag_ids: tuple[str, ...] = (*INGEST_DAGS, PUBLISH_DAG)) -> dict[str, str]:
    """dag.test() every DAG for the week, in order; returns each run's final state."""
    dags = load_dags()
    states = {}
    for dag_id in dag_ids:
        run = dags[dag_id].test(logical_date=logical_date_of(week), run_conf={"week": week})
        states[dag_id] = str(getattr(run, "state", run))
    return states


def run_week_dags(weeks: list[str]) -> int:
    """dag.test() the week's DAGs for each week in order, then print the per-feed report."""
    from buildout_tracker import registry, zones
    from buildout_tracker.ingest.report import read_report
    from buildout_tracker.lake import Bucket
    from buildout_tracker.pipeline.summary import attention_lines, feed_week_line
    from buildout_tracker.settings import lake_bucket

    prepare_airflow()
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    lake = Bucket(lake_bucket())
    failed = 0
    # dag.test() leaves sys.stdout redirected into task logging: write the report to the
    # real standard output.
    out = sys.__stdout__ or sys.stdout

    def print(*args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("file", out)
        kwargs.setdefault("flush", True)
        builtins.print(*args, **kwargs)

    for k, week in enumerate(weeks, 1):
        print(
            f"== week {k}/{len(weeks)} {week}: dag.test() of {', '.join((*INGEST_DAGS, PUBLISH_DAG))}",
            flush=True,
        )
        states = test_week(week)
        print(f"\n{week}: DAG runs")
        for dag_id, state in states.items():
            print(f"  {dag_id:<28} {state}")
            failed += not state.endswith("success")
        print(
            "\nPer feed (files, duplicates, files quarantined, rows in / validated / quarantined):"
        )
        for feed in registry.NAMES:
            report = read_report(lake, feed, week)
            if report is None:
                print(f"  {feed:<12} not ingested")
                continue
            print(f"  {feed_week_line(report)}")
            for line in attention_lines(report):
                print(f"    {line}")
        key = zones.manifest_key(week)
        print(f"\nmanifest: {lake.uri(key) if lake.exists(key) else 'not published'}\n", flush=True)
    return 1 if failed else 0
