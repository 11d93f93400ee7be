"""The plugin's FastAPI app, mounted by Airflow's api-server at `/buildout`.

Routes (every one needs an authenticated Airflow user who may read DAGs):

| route | what |
|---|---|
| `GET /` (`?week=`) | the Buildout page (`pages.home_page`) |
| `GET /feeds/{feed}/weeks/{week}` | one feed's week |
| `GET /dags/{dag_id}/runs/{run_id}` | a DAG run's view (the DAG-run tab) |
| `GET /quarantine/{feed}/weeks/{week}` | a feed-week's quarantine listing |
| `GET /quarantine/{feed}/weeks/{week}/rows/{kind}/{name}` | one file's refused rows |
| `GET /receipts/{feed}/{day}/{name}` | a delivery receipt |
| `GET /lake/{key}` | a report object from the lake (`paths.check_key` says which) |

Authorization: the app's own dependency, `requires_access_dag("GET")` (Airflow's: 401 without
a credential, 403 for a user who may not read DAGs), runs before every route; the routes of a
feed or a DAG check that DAG (`dag_id` from the path, or the feed's DAG). FastAPI's docs and
OpenAPI routes are off: they would bypass app dependencies. Unknown paths are 404 before any
check, and reveal nothing.

`create_app(lake=..., runs=..., dependencies=...)` builds the same app for tests and benchmarks
(their own lake, run lookup and, for in-process timing, no Airflow auth).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from buildout_tracker import registry
from buildout_tracker.lake import Bucket
from buildout_tracker.ui import pages, paths
from buildout_tracker.ui.html import e, page
from buildout_tracker.ui.lakeview import LakeView
from buildout_tracker.ui.runs import RunLookup, airflow_run

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "private, no-store",
}
# What a served page may load: its own styles and images from this origin, nothing else.
CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; frame-src 'self'; frame-ancestors 'self'; form-action 'self'; "
    "base-uri 'none'"
)


def lake_from_airflow() -> Bucket:
    """The lake bucket through the `buildout_s3` connection (as tasks reach it), else from the
    environment (BUILDOUT_S3_ENDPOINT, AWS_*) when the connection is not defined."""
    from buildout_tracker import settings
    from buildout_tracker.lake import client_from_airflow, make_client

    try:
        client = client_from_airflow()
    except Exception as exc:  # no such connection here: the environment's settings
        log.info("buildout_s3 connection unavailable (%s): S3 settings from the environment", exc)
        client = make_client()
    return Bucket(settings.lake_bucket(), client)


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        body, status_code=status, headers={**SECURITY_HEADERS, "Content-Security-Policy": CSP}
    )


def _error(status: int, why: str) -> HTMLResponse:
    title = {400: "Bad request", 403: "Forbidden", 404: "Not found"}.get(status, "Error")
    return _html(
        page(title, f"<h1>{e(title)}</h1><div class='card placeholder'>{e(why)}</div>"), status
    )


def airflow_dependencies() -> list[Any]:
    from airflow.api_fastapi.core_api.security import requires_access_dag

    return [Depends(requires_access_dag("GET"))]


def _feed_dag_access() -> Any:
    """Read access to the DAG that ingests the feed named in the path."""
    from airflow.api_fastapi.core_api.security import get_user, requires_access_dag

    # Annotations are strings here (`from __future__`): FastAPI resolves them in this module's
    # globals, so the user comes through an explicit Depends, not a locally imported alias.
    def check(request: Request, user: Any = Depends(get_user)) -> None:  # noqa: B008
        feed = registry.BY_NAME.get(request.path_params.get("feed", ""))
        if feed is not None:
            requires_access_dag("GET", param_dag_id=feed.dag_id)(request, user)

    return Depends(check)


def _run_access() -> Any:
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
    from airflow.api_fastapi.core_api.security import requires_access_dag

    return Depends(requires_access_dag("GET", DagAccessEntity.RUN))


def create_app(
    lake: Bucket | Callable[[], Bucket] | None = None,
    runs: RunLookup | None = None,
    dependencies: Sequence[Any] | None = None,
    airflow_auth: bool = True,
    warm: bool = False,
) -> FastAPI:
    """The app. `lake`: a bucket or a function giving one (default: the Airflow connection,
    built on first use); `runs`: how a run is looked up (default: Airflow's metadata DB);
    `airflow_auth=False` (tests, benchmarks) leaves Airflow's checks out, `dependencies`
    replacing them. `warm`: read every published week once in the background at start, so
    that the first visitor does not wait for it."""
    deps = list(dependencies) if dependencies is not None else []
    if airflow_auth:
        deps = airflow_dependencies() + deps
    feed_deps = [_feed_dag_access()] if airflow_auth else []
    run_deps = [_run_access()] if airflow_auth else []
    lookup = runs or airflow_run
    state: dict[str, LakeView] = {}
    lock = threading.Lock()

    def view() -> LakeView:
        if "view" not in state:
            with lock:
                if "view" not in state:
                    if isinstance(lake, Bucket):
                        bucket = lake
                    elif callable(lake):
                        bucket = lake()
                    else:
                        bucket = lake_from_airflow()
                    state["view"] = LakeView(bucket)
        return state["view"]

    app = FastAPI(
        title="Buildout Tracker",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        swagger_ui_oauth2_redirect_url=None,
        dependencies=deps,
    )
    app.state.buildout_view = view
    if warm:
        threading.Thread(target=_warm, args=(view,), name="buildout-ui-warm", daemon=True).start()

    def guarded(fn: Callable[[], str]) -> HTMLResponse:
        try:
            return _html(fn())
        except paths.KeyRefused as exc:
            return _error(exc.status, exc.why)
        except pages.NotFound:
            return _error(404, "Not found.")

    @app.get("/", response_class=HTMLResponse)
    def home(week: str | None = None) -> HTMLResponse:
        def build() -> str:
            w = paths.check_week(week) if week else None
            return pages.home_page(view(), w)

        return guarded(build)

    @app.get("/feeds/{feed}/weeks/{week}", response_class=HTMLResponse, dependencies=feed_deps)
    def feed_week(feed: str, week: str) -> HTMLResponse:
        return guarded(
            lambda: pages.feed_week_page(view(), paths.check_feed(feed), paths.check_week(week))
        )

    @app.get("/dags/{dag_id}/runs/{run_id}", response_class=HTMLResponse, dependencies=run_deps)
    def run_view(dag_id: str, run_id: str) -> HTMLResponse:
        return guarded(lambda: pages.run_page(view(), lookup(dag_id, run_id), dag_id, run_id))

    @app.get("/quarantine/{feed}/weeks/{week}", response_class=HTMLResponse, dependencies=feed_deps)
    def quarantine(feed: str, week: str) -> HTMLResponse:
        return guarded(
            lambda: pages.quarantine_page(view(), paths.check_feed(feed), paths.check_week(week))
        )

    @app.get(
        "/quarantine/{feed}/weeks/{week}/rows/{kind}/{name}",
        response_class=HTMLResponse,
        dependencies=feed_deps,
    )
    def quarantine_rows(feed: str, week: str, kind: str, name: str) -> HTMLResponse:
        def build() -> str:
            paths.check_feed(feed)
            paths.check_week(week)
            if kind not in registry.feed(feed).kinds:
                raise pages.NotFound(kind)
            paths.check_name(name)
            return pages.quarantine_rows_page(view(), feed, week, kind, name)

        return guarded(build)

    @app.get("/receipts/{feed}/{day}/{name}", response_class=HTMLResponse, dependencies=feed_deps)
    def receipt(feed: str, day: str, name: str) -> HTMLResponse:
        def build() -> str:
            key = paths.check_key(
                f"receipts/{paths.check_feed(feed)}/{paths.check_day(day)}/{name}"
            )
            return pages.receipt_page(view(), key)

        return guarded(build)

    @app.get("/lake/{key:path}")
    def lake_object(key: str, request: Request) -> Response:
        try:
            if request.query_params:
                raise paths.KeyRefused(400, "the proxy takes no parameters (no bucket either)")
            checked = paths.check_key(key)
        except paths.KeyRefused as exc:
            return _error(exc.status, exc.why)
        data = view().lake.get_bytes_or_none(checked)
        if data is None:
            return _error(404, "No such report object.")
        headers = dict(SECURITY_HEADERS)
        ctype = paths.content_type(checked)
        if ctype.startswith("text/html") or ctype.startswith("image/svg"):
            headers["Content-Security-Policy"] = CSP
        return Response(data, media_type=ctype, headers=headers)

    return app


def _warm(view: Callable[[], LakeView], delay: float = 2.0) -> None:
    import time

    time.sleep(delay)
    try:
        t = time.perf_counter()
        import pyarrow.parquet  # noqa: F401 - what the pages read with, loaded before a visitor

        from buildout_tracker.ingest import receipts, report  # noqa: F401

        pages.home_page(view())
        log.info("Buildout UI: published weeks read in %.1f s", time.perf_counter() - t)
    except Exception as exc:  # the lake may be down at start: the first request reads it
        log.warning("Buildout UI: warm-up failed (%s); pages read the lake on first use", exc)


# The app the plugin mounts (built on first use of `app()`).
_APP: dict[str, FastAPI] = {}


def app() -> FastAPI:
    if "app" not in _APP:
        _APP["app"] = create_app(warm=True)
    return _APP["app"]
