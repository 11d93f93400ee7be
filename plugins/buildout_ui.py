"""The Buildout Tracker UI in Airflow: a "Buildout" page in the navigation (the weekly program
report, the RAG history, the feed-health grid), a "Buildout" tab on every DAG run (the run's
feed-week report, or the publication it made), the lake's reports served by the api-server,
and "Data Docs" and "Feed report" links on the ingest tasks. All of it is
`buildout_tracker.ui`; this file only declares it.

The FastAPI app is built on first use (only the api-server asks for it): the other Airflow
processes, which load plugins too, import neither FastAPI nor the pages.
"""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin

from buildout_tracker.ui import paths
from buildout_tracker.ui.links import LINKS

ICON = (
    "data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24' "
    "fill='none' stroke='%23888' stroke-width='2'><rect x='3' y='12' width='4' height='9'/>"
    "<rect x='10' y='7' width='4' height='14'/><rect x='17' y='3' width='4' height='18'/></svg>"
)


class BuildoutUi(AirflowPlugin):
    name = "buildout_ui"
    external_views: ClassVar[list[dict[str, Any]]] = [
        {
            "name": "Buildout",
            "href": f"{paths.URL_PREFIX}/",
            "destination": "nav",
            "url_route": paths.NAV_ROUTE,
            "nav_top_level": True,
            "icon": ICON,
        },
        {
            "name": "Buildout",
            "href": f"{paths.URL_PREFIX}/dags/{{DAG_ID}}/runs/{{RUN_ID}}",
            "destination": "dag_run",
            "url_route": paths.RUN_ROUTE,
        },
    ]
    global_operator_extra_links: ClassVar[list[Any]] = LINKS

    @property
    def fastapi_apps(self) -> list[dict[str, Any]]:  # type: ignore[override]
        from buildout_tracker.ui.app import app

        return [{"app": app(), "url_prefix": paths.URL_PREFIX, "name": "Buildout Tracker"}]
