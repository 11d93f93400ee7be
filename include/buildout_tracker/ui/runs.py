"""A DAG run as the run view needs it, read from Airflow's metadata DB (the api-server has
access to it): its state, conf, data interval, task states and the values its tasks returned
(the ingest tasks return the week's counts; the publish task the weeks it published).

And which week(s) a run covered: what its tasks returned first (what they actually did),
else the run's conf (`week`), else its data interval (the ISO week of the interval's start,
as `orchestration.dag_support.run_week` decides it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from buildout_tracker import registry
from buildout_tracker.weeks import parse_week, week_of_interval_start


@dataclass
class RunInfo:
    dag_id: str
    run_id: str
    state: str | None = None
    run_type: str | None = None
    conf: dict[str, Any] = field(default_factory=dict)
    data_interval_start: datetime | None = None
    logical_date: datetime | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    note: str | None = None
    tasks: dict[str, str | None] = field(default_factory=dict)  # task_id -> state
    returns: dict[str, Any] = field(default_factory=dict)  # task_id -> return value (XCom)

    def weeks(self) -> tuple[list[str], str]:
        """(the weeks the run covered, where that was read from)."""
        found: list[str] = []
        for value in self.returns.values():
            for item in value if isinstance(value, list) else [value]:
                week = item.get("week") if isinstance(item, dict) else item
                if _is_week(week) and str(week) not in found:
                    found.append(str(week))
        if found:
            return found, "what its tasks returned"
        week = (self.conf or {}).get("week")
        if _is_week(week):
            return [str(week)], "the run's conf"
        start = self.data_interval_start or self.logical_date
        if start is not None:
            return [week_of_interval_start(start)], "the run's data interval"
        return [], "nothing: no conf week and no data interval"


def _is_week(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parse_week(value)
    except ValueError:
        return False
    return True


RunLookup = Callable[[str, str], RunInfo | None]


def airflow_run(dag_id: str, run_id: str) -> RunInfo | None:
    """The run from Airflow's metadata DB (None when there is no such run)."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        dr = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
        if dr is None:
            return None
        info = RunInfo(
            dag_id=dag_id,
            run_id=run_id,
            state=str(dr.state) if dr.state is not None else None,
            run_type=str(dr.run_type) if dr.run_type is not None else None,
            conf=dict(dr.conf or {}),
            data_interval_start=dr.data_interval_start,
            logical_date=dr.logical_date,
            start_date=dr.start_date,
            end_date=dr.end_date,
        )
        try:
            info.note = dr.note
        except Exception:  # the note is an association proxy; absent in some versions
            info.note = None
        rows = session.execute(
            select(TaskInstance.task_id, TaskInstance.state).where(
                TaskInstance.dag_id == dag_id,
                TaskInstance.run_id == run_id,
                TaskInstance.map_index == -1,
            )
        ).all()
        info.tasks = {str(t): (str(s) if s is not None else None) for t, s in rows}
        xcoms = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == dag_id,
                XComModel.run_id == run_id,
                XComModel.key == "return_value",
                XComModel.map_index == -1,
            )
        ).all()
        for x in xcoms:
            try:
                info.returns[str(x.task_id)] = XComModel.deserialize_value(x)
            except Exception:
                continue
    return info


def ingest_task_week(dag_id: str, run_id: str, task_id: str, lookup: RunLookup) -> str | None:
    """The week an ingest task of a run covered (for its extra links)."""
    info = lookup(dag_id, run_id)
    if info is None:
        return None
    value = info.returns.get(task_id)
    if isinstance(value, dict) and _is_week(value.get("week")):
        return str(value["week"])
    weeks, _ = info.weeks()
    return weeks[0] if weeks else None


def feed_of_task(dag_id: str, task_id: str) -> registry.Feed | None:
    for f in registry.feeds_of_dag(dag_id):
        if f.task_id == task_id:
            return f
    return None
