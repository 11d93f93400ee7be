"""Run the real DAGs for one week in this process with `dag.test()`: what `make run-week`
and the end-to-end tests use. The environment must point Airflow at a metadata DB; this
module sets it up before Airflow is imported: a SQLite DB of its own under
`var/airflow-run-week/`, never the one of `make up`, whose scheduler would otherwise start
real runs from these runs' asset events and show their runs in the UI.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from buildout_tracker.orchestration.airflow_env import airflow_env
from buildout_tracker.registry import INGEST_DAGS, PUBLISH_DAG
from buildout_tracker.settings import PROJECT_ROOT, var_dir
from buildout_tracker.weeks import week_start


def run_week_home() -> Path:
    """The Airflow home of `make run-week`: its own metadata DB and task logs."""
    return var_dir() / "airflow-run-week"


def prepare_airflow(home: Path | None = None) -> dict[str, str]:
    """Set the Airflow environment in this process and migrate its DB once."""
    env = airflow_env(home or run_week_home())
    # Under dag.test() a retry waits in this process: one quick retry, not minutes of backoff.
    env.setdefault("BUILDOUT_TASK_RETRIES", "1")
    env.setdefault("BUILDOUT_RETRY_DELAY_SECONDS", "2")
    # Nobody answers a human-in-the-loop task here: a blocked week fails at once.
    env.setdefault("BUILDOUT_HUMAN_DECISIONS", "off")
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


def test_week(
    week: str, dag_ids: tuple[str, ...] = (*INGEST_DAGS, PUBLISH_DAG), force: bool = False
) -> dict[str, str]:
    """dag.test() every DAG for the week, in order; returns each run's final state."""
    dags = load_dags()
    states = {}
    for dag_id in dag_ids:
        run = dags[dag_id].test(
            logical_date=logical_date_of(week), run_conf={"week": week, "force": force}
        )
        states[dag_id] = str(getattr(run, "state", run))
    return states


@contextlib.contextmanager
def output_to(log_path: Path) -> Iterator[None]:
    """Airflow's own output (task logs, the in-process scheduler's chatter) goes to a file,
    at the file-descriptor level, whatever Python object it writes through."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log_path, "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
                with contextlib.suppress(Exception):
                    stream.flush()  # type: ignore[union-attr]
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def run_week_dags(weeks: list[str], force: bool = False) -> int:
    """dag.test() the week's DAGs for each week in order; print a summary per week (the DAG
    runs' states, each feed's report, what needs attention, the manifest) and keep
    Airflow's own output in a log file."""
    from buildout_tracker import registry, zones
    from buildout_tracker.ingest.report import read_report
    from buildout_tracker.lake import Bucket
    from buildout_tracker.pipeline.summary import attention_lines, feed_week_line
    from buildout_tracker.settings import lake_bucket

    prepare_airflow()
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    lake = Bucket(lake_bucket())
    failed = 0
    log_path = var_dir() / "logs" / "run-week.log"
    out = sys.__stdout__ or sys.stdout  # dag.test() leaves sys.stdout redirected to its logging

    def say(text: str) -> None:
        print(text, file=out, flush=True)

    say(f"Airflow's own output (task logs) goes to {log_path}")
    for k, week in enumerate(weeks, 1):
        say(
            f"== week {k}/{len(weeks)} {week}: dag.test() of {', '.join((*INGEST_DAGS, PUBLISH_DAG))}"
        )
        with output_to(log_path):
            states = test_week(week, force=force)
        lines = [f"\n{week}: DAG runs"]
        for dag_id, state in states.items():
            lines.append(f"  {dag_id:<28} {state}")
            failed += not state.endswith("success")
        lines.append(
            "\nPer feed (files, duplicates, files quarantined, rows in / validated / quarantined):"
        )
        for feed in registry.NAMES:
            report = read_report(lake, feed, week)
            if report is None:
                lines.append(f"  {feed:<12} not ingested")
                continue
            lines.append(f"  {feed_week_line(report)}")
            lines.extend(f"    {line}" for line in attention_lines(report))
        key = zones.manifest_key(week)
        lines.append(f"\nmanifest: {lake.uri(key) if lake.exists(key) else 'not published'}\n")
        say("\n".join(lines))
    if failed:
        say(f"{failed} DAG run(s) did not succeed: their task logs are in {log_path}")
    return 1 if failed else 0
