"""Extra links on the ingest tasks ("Data Docs", "Feed report"), for the week the task's run
covered, to the plugin's pages opened inside the Airflow UI.

They are global links (every task gets them; a task that ingests no feed gets an empty link,
which the UI hides), so `@task` tasks have them without a custom operator. `get_link` runs in
the api-server: the week comes from the task's return value (XCom, read with the ORM), else
from the run's conf or data interval. Cheap to import: every Airflow process loads plugins.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperatorLink

from buildout_tracker.ui import paths


def _week(ti_key: Any) -> str | None:
    from buildout_tracker.ui.runs import airflow_run, ingest_task_week

    try:
        return ingest_task_week(ti_key.dag_id, ti_key.run_id, ti_key.task_id, airflow_run)
    except Exception:  # a link must never break the task page
        return None


def link_for(name: str, dag_id: str, task_id: str, week: str | None) -> str:
    """The URL of link `name` for a task, "" when the task ingests no feed or the week is
    unknown."""
    from buildout_tracker.ui.runs import feed_of_task

    feed = feed_of_task(dag_id, task_id)
    if feed is None or not week:
        return ""
    if name == DataDocsLink.name:
        return paths.in_airflow_ui(paths.data_docs(week, feed.name))
    return paths.in_airflow_ui(paths.feed_week(feed.name, week))


class _IngestLink(BaseOperatorLink):
    name = ""

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        from buildout_tracker.ui.runs import feed_of_task

        if feed_of_task(ti_key.dag_id, ti_key.task_id) is None:
            return ""  # not an ingest task: no DB read
        return link_for(self.name, ti_key.dag_id, ti_key.task_id, _week(ti_key))


class DataDocsLink(_IngestLink):
    name = "Data Docs"


class FeedReportLink(_IngestLink):
    name = "Feed report"


LINKS = [DataDocsLink(), FeedReportLink()]
