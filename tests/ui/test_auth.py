"""The plugin's app with Airflow's own checks, in-process: Airflow's SimpleAuthManager decides,
the user is given (as `get_user` would resolve it from a JWT). A reader of DAGs gets every
route; a user with no role gets 403 on every one; no credential gets 401. The real api-server
is tests/ui/test_airflow_ui.py's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from buildout_tracker.ingest import receipts
from buildout_tracker.ui import paths
from buildout_tracker.ui.app import create_app
from buildout_tracker.ui.bench import mounted
from buildout_tracker.ui.runs import RunInfo
from tests.ui import helpers as u
from tests.ui.conftest import Published


def routes(published: Published) -> list[str]:
    name = published.lake.list(f"quarantine/procurement/week={u.W38}/po_lines/")[0].key
    key = receipts.receipt_key("procurement", "2026-09-15", u.BAD_FILE)
    return [
        paths.home(), paths.home(u.W37), paths.feed_week("procurement", u.W38),
        paths.run_view("ingest_procurement_weekly", "r1"), paths.quarantine("hiring", u.W38),
        paths.quarantine_rows("procurement", u.W38, "po_lines", name.rsplit("/", 1)[1]),
        paths.receipt_page(key), paths.lake_object(key), paths.data_docs(u.W38, "procurement"),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def app(published: Published) -> Iterator[Any]:
    from airflow.api_fastapi.app import create_auth_manager
    from airflow.models.dag import DagModel

    create_auth_manager()  # what the api-server does at start (SimpleAuthManager here)
    with pytest.MonkeyPatch.context() as mp:
        # A DAG's team (multi-team only) is read from the metadata DB, which this process
        # has none of: no team, as in a single-team Airflow.
        mp.setattr(DagModel, "get_team_name", staticmethod(lambda *a, **k: None))
        yield create_app(
            lake=published.lake,
            runs=lambda d, r: RunInfo(d, r, conf={"week": u.W38}),
            airflow_auth=True,
        )


def client_as(app: Any, role: str | None) -> TestClient:
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from airflow.api_fastapi.core_api.security import get_user

    app.dependency_overrides.clear()
    if role is not None:
        user = SimpleAuthManagerUser(username=f"u-{role or 'none'}", role=role)
        app.dependency_overrides[get_user] = lambda: user
    return TestClient(mounted(app))


@pytest.mark.parametrize(("role", "status"), [("viewer", 200), ("admin", 200), ("", 403)])
def test_every_route_answers_by_the_users_dag_access(
    app: Any, published: Published, role: str, status: int
) -> None:
    client = client_as(app, role)
    for url in routes(published):
        r = client.get(url)
        assert r.status_code == status, (url, r.status_code, r.text[:300])


def test_no_credential_is_401_on_every_route(app: Any, published: Published) -> None:
    client = client_as(app, None)
    for url in routes(published):
        assert client.get(url).status_code == 401, url
    assert client.get("/buildout/docs").status_code == 404
    assert client.get("/buildout/openapi.json").status_code == 404
