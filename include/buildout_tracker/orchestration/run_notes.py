"""A note on every run of the project's DAGs, so the Airflow UI says which week a run covered
and how it went (a W48 run otherwise shows as "2026-11-30 06:00", logical date 2026-11-23):

    2026-W48: procurement 5,150/5,150 rows accepted
    2026-W48: published; program amber, chip_development red

Set by a listener (`plugins/buildout_run_notes.py`) when a run ends, in the scheduler, from
the run's XCom (the tasks' returned counts: no personal data). A note an operator wrote is
kept; the listener only replaces its own.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from airflow.listeners import hookimpl

from buildout_tracker import registry
from buildout_tracker.weeks import week_of_interval_start

log = logging.getLogger(__name__)

OURS = re.compile(r"^\d{4}-W\d{2}: ")
NOTE_LIMIT = 1000  # Airflow's dag_run_note.content


def ingest_note(dag_id: str, week: str, summaries: dict[str, Any], failed: bool) -> str:
    parts = []
    for feed in registry.feeds_of_dag(dag_id):
        s = summaries.get(feed.task_id)
        if not isinstance(s, dict):
            parts.append(f"{feed.name} did not finish")
            continue
        text = f"{feed.name} {s.get('rows_validated', 0):,}/{s.get('rows_in', 0):,} rows accepted"
        if s.get("files_quarantined"):
            text += f", {s['files_quarantined']} file(s) refused"
        if not s.get("files_received"):
            text += " (nothing delivered)"
        if s.get("blocked"):
            text += ", BLOCKED"
        parts.append(text)
    head = f"{week}: " + "; ".join(parts)
    return head + ("; run failed" if failed and "BLOCKED" not in head else "")


def publish_note(week: str, results: Any, failed: bool, skipped: Any = None) -> str:
    if not isinstance(results, list) or not results:
        if not failed and isinstance(skipped, dict) and skipped.get("reason"):
            # `dag_support.publish_weeks` skipped the run: the weeks it looked at, and why.
            weeks = ", ".join(str(w) for w in skipped.get("weeks") or [])
            return f"{weeks}: not published ({skipped['reason']})" if weeks else (
                f"nothing published ({skipped['reason']})")  # fmt: skip
        return f"{week}: " + ("publication failed" if failed else "nothing published")
    parts = []
    for r in results:
        if not isinstance(r, dict):
            continue
        if r.get("skipped"):
            parts.append(f"{r.get('week')}: not published ({r['skipped']})")
            continue
        if r.get("failed"):  # a week the run recovered (`dag_support.publish_each`)
            parts.append(f"{r.get('week')}: publication failed ({r['failed']})")
            continue
        rag = r.get("rag") or {}
        worse = [f"{a} {c}" for a, c in sorted(rag.items()) if a != "program" and c != "green"]
        parts.append(
            f"{r.get('week')}: published; program {rag.get('program', '?')}"
            + (f", {', '.join(worse)}" if worse else "")
        )
    return "; ".join(parts) or f"{week}: nothing published"


def note_for(dag_id: str, week: str, values: dict[str, Any], failed: bool) -> str | None:
    """The note of a run of one of the project's DAGs (None for another DAG)."""
    if dag_id in registry.INGEST_DAGS:
        return ingest_note(dag_id, week, values, failed)[:NOTE_LIMIT]
    if dag_id == registry.PUBLISH_DAG:
        results, skipped = values.get("publish_weekly_tables"), values.get("skipped")
        return publish_note(week, results, failed, skipped)[:NOTE_LIMIT]
    return None


def week_of_run(dag_run: Any) -> str:
    conf = getattr(dag_run, "conf", None) or {}
    if conf.get("week"):
        return str(conf["week"])
    start = getattr(dag_run, "data_interval_start", None) or getattr(dag_run, "logical_date", None)
    if start is None:
        return "unknown week"
    if getattr(dag_run, "dag_id", None) == registry.PUBLISH_DAG:
        # The publisher's Monday cron run is about the week that has just closed.
        from buildout_tracker.orchestration.dag_support import previous_week_of

        return previous_week_of(start)
    return week_of_interval_start(start)


def _xcom_values(dag_run: Any) -> dict[str, Any]:
    from airflow.models.xcom import XComModel
    from sqlalchemy.orm import object_session

    session = object_session(dag_run)
    if session is None:
        return {}
    query = XComModel.get_many(run_id=dag_run.run_id, dag_ids=dag_run.dag_id, key="return_value")
    rows: Any = session.scalars(query)
    values = {x.task_id: XComModel.deserialize_value(x) for x in rows}
    query = XComModel.get_many(run_id=dag_run.run_id, dag_ids=dag_run.dag_id, key="skipped")
    for x in session.scalars(query):  # why a publication run published nothing
        values["skipped"] = XComModel.deserialize_value(x)
    return values


def annotate(dag_run: Any, failed: bool) -> None:
    """Set the run's note, unless an operator wrote one. Never raises."""
    try:
        if dag_run.dag_id not in (*registry.INGEST_DAGS, registry.PUBLISH_DAG):
            return
        current = dag_run.note
        if current and not OURS.match(current):
            return
        note = note_for(dag_run.dag_id, week_of_run(dag_run), _xcom_values(dag_run), failed)
        if note:
            dag_run.note = note
    except Exception:
        log.exception("could not set the note of %s", getattr(dag_run, "run_id", "?"))


@hookimpl
def on_dag_run_success(dag_run: Any, msg: str) -> None:
    annotate(dag_run, failed=False)


@hookimpl
def on_dag_run_failed(dag_run: Any, msg: str) -> None:
    annotate(dag_run, failed=True)
