"""The plugin in a real Airflow: `make up`'s stack (api-server, scheduler, dag-processor,
triggerer, lake) on free loopback ports in a temporary var dir, with the project's `plugins/`.
W37 and part of W38 are ingested and published in-process into its lake; W38's procurement is
ingested by a real `ingest_procurement_weekly` run (a refused file, a refused row), whose
events publish W38 through `publish_tables_weekly`.

Then: every plugin route answers 401 without a credential and 403 to a user who may not read
DAGs; the proxy refuses traversal and other buckets on the wire; the ingest tasks carry their
extra links; and headless Chromium logs in through the real login page, opens the Buildout
page from the navigation and the ingest run's Buildout tab, and reads what they say, with no
request leaving 127.0.0.1. Screenshots go to $BUILDOUT_UI_SCREENSHOTS (else the test's tmp
dir)."""

from __future__ import annotations

import http.client
import inspect
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from buildout_tracker import pipeline, registry, settings, zones
from buildout_tracker.devtools import local_airflow, procs
from buildout_tracker.devtools.lake_server import ensure_env_file
from buildout_tracker.ingest import receipts
from buildout_tracker.ingest.report import read_report
from buildout_tracker.lake import Bucket, make_client
from buildout_tracker.pipeline import steps
from buildout_tracker.settings import S3Settings
from buildout_tracker.ui import paths
from tests.publish import helpers as h
from tests.ui import helpers as u

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

USERS = {"admin": "admin-pw-1", "viewer": "viewer-pw-1", "noaccess": "noaccess-pw-1"}
ROLES = "admin:admin,viewer:viewer,noaccess:"  # an empty role: logs in, may read no DAG
ISOLATE = (
    "BUILDOUT_S3_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION",
    "BUILDOUT_LANDING_BUCKET", "BUILDOUT_LAKE_BUCKET", "BUILDOUT_PII_HMAC_KEY",
    "BUILDOUT_ALERT_WEBHOOK", "AIRFLOW_HOME", local_airflow.PORT_ENV, local_airflow.HOME_ENV,
    local_airflow.ENV_FILE_ENV,
)  # fmt: skip
PROC_DAG = "ingest_procurement_weekly"


@dataclass
class Stack:
    url: str
    port: int
    lake: Bucket
    landing: Bucket
    ingest_run: str
    publish_run: str | None
    report_built: bool
    shots: Path

    def token(self, user: str) -> str:
        body = json.dumps({"username": user, "password": USERS[user]}).encode()
        status, doc = call(self.url + "/auth/token", data=body)
        assert status == 201, (user, status, doc)
        return str(doc["access_token"])


def call(
    url: str,
    token: str | None = None,
    data: bytes | None = None,
    timeout: float = 60,
    method: str | None = None,
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw[:1] in (b"{", b"[") else raw
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, raw


def raw_get(port: int, path: str, token: str | None) -> int:
    """A GET of `path` exactly as written (no client normalises `..` or re-encodes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        if token:
            conn.putheader("Authorization", f"Bearer {token}")
        conn.endheaders()
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def wait_for(what: str, check: Any, timeout: float = 600, every: float = 3) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except (TimeoutError, urllib.error.URLError, ConnectionError):
            value = None  # one api-server worker on a loaded machine: ask again
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)


def _with_users(monkeypatch: pytest.MonkeyPatch, extra: dict[str, str]) -> dict[str, Any]:
    """`up`'s Airflow environment plus `extra`: through `up(extra_env=...)` when it takes one,
    else by wrapping the `airflow_env` it calls (devtools/local_airflow.py, meanwhile)."""
    if "extra_env" in inspect.signature(local_airflow.up).parameters:
        return {"extra_env": extra}
    original = local_airflow.airflow_env

    def airflow_env(*args: Any, **kwargs: Any) -> dict[str, str]:
        return {**original(*args, **kwargs), **extra}

    monkeypatch.setattr(local_airflow, "airflow_env", airflow_env)
    return {}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, validator) -> Iterator[Stack]:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("ui-airflow")
    shots = Path(os.environ.get("BUILDOUT_UI_SCREENSHOTS") or tmp / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    saved = dict(os.environ)
    mp = pytest.MonkeyPatch()
    env_file = tmp / ".env"
    try:
        for name in ISOLATE:
            mp.delenv(name, raising=False)
        mp.setenv("BUILDOUT_VAR_DIR", str(tmp / "var"))
        mp.setattr(local_airflow, "DEFAULT_HEALTH_PORT", procs.free_port())
        ensure_env_file(env_file, port=procs.free_port())
        home = (tmp / "var" / "airflow").resolve()
        home.mkdir(parents=True)
        passwords = home / "passwords.json"
        passwords.write_text(json.dumps(USERS))  # SimpleAuthManager keeps the users it finds
        extra = {
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ROLES,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            # Only the two DAGs under test run (unpaused below): with every DAG unpaused,
            # each ingest DAG also started its run of the latest scheduled week, whichever
            # that was on the day, five task processes beside the triggered run on one
            # SQLite file; once (CI, 2026-12-04) the API server hung on it for 60 s.
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        }
        kwargs = _with_users(mp, extra)
        info = local_airflow.up(
            api_port=procs.free_port(), env_file=env_file, timeout=300, quiet=True, **kwargs
        )
        client = make_client(S3Settings.from_env())
        landing = Bucket(settings.landing_bucket(), client)
        lake = Bucket(settings.lake_bucket(), client)
        key = settings.hmac_key_from_env()
        assert key, "the .env carries the PII key the tasks use"

        # W37 whole, W38 but its procurement (FX and PO lines): in-process, as `make run` does.
        h.deliver(landing, h.W37)
        u.deliver_w38(landing)
        rt = pipeline.Runtime(landing, lake, key, run_id="ui-test-in-process", notify=False)
        rt._validator = validator
        with pytest.MonkeyPatch.context() as thresholds:
            for name, value in u.HIRING_THRESHOLD_ENV.items():
                thresholds.setenv(name, value)
            for feed in registry.NAMES:
                steps.ingest(rt, feed, h.W37)
            steps.publish(rt, h.W37)
            for feed in ("reference", "milestones", "hiring"):
                steps.ingest(rt, feed, h.W38)

        # W38's procurement by a real ingest run; its asset events publish W38.
        admin = Stack(info.url, info.api_port, lake, landing, "", None, False, shots)
        token = admin.token("admin")
        wait_for(
            "the DAGs parsed",
            lambda: (
                {PROC_DAG, registry.PUBLISH_DAG}
                <= {
                    d["dag_id"] for d in call(f"{info.url}/api/v2/dags?limit=100", token)[1]["dags"]
                }
            ),
            timeout=300,
        )
        for dag_id in (PROC_DAG, registry.PUBLISH_DAG):
            unpause = json.dumps({"is_paused": False}).encode()
            status, doc = call(f"{info.url}/api/v2/dags/{dag_id}", token, unpause, method="PATCH")
            assert status == 200 and doc["is_paused"] is False, (dag_id, status, doc)
        body = json.dumps({"logical_date": None, "conf": {"week": h.W38}}).encode()
        status, doc = call(f"{info.url}/api/v2/dags/{PROC_DAG}/dagRuns", token, body)
        assert status == 200, doc
        run_id = str(doc["dag_run_id"])
        run_url = f"{info.url}/api/v2/dags/{PROC_DAG}/dagRuns/{urllib.parse.quote(run_id)}"
        state = wait_for(
            "the ingest run done",
            lambda: (s := call(run_url, token)[1].get("state")) in ("success", "failed") and s,
        )
        assert state == "success", call(run_url, token)
        manifest = wait_for(
            "W38 published by its ingest's events",
            lambda: lake.get_json_or_none(zones.manifest_key(h.W38)),
        )
        assert str(manifest["run_id"]).startswith("asset_triggered__"), manifest["run_id"]

        # Receipts for every feed-week (what pipeline.steps.ingest will write once wired).
        for week in (h.W37, h.W38):
            for feed in registry.NAMES:
                report = read_report(lake, feed, week)
                if report is not None:
                    receipts.write_receipts(lake, report)
        built = _build_program_report(lake, h.W38)
        yield Stack(
            info.url, info.api_port, lake, landing, run_id, str(manifest["run_id"]), built, shots
        )
    finally:
        try:
            local_airflow.down(env_file=env_file, timeout=10, quiet=True)
        finally:
            mp.undo()
            os.environ.clear()
            os.environ.update(saved)


def _build_program_report(lake: Bucket, week: str) -> bool:
    """The weekly program report, when its package is there (it is built by another change)."""
    try:
        from buildout_tracker.report import build_report
    except ImportError:
        return False
    build_report(lake, week)
    return True


def sample_routes(s: Stack) -> list[str]:
    """One URL of every plugin route, each answering 200 to a reader."""
    day = "2026-09-15"
    rkey = receipts.receipt_key("procurement", day, u.BAD_FILE)
    q = s.lake.list(f"quarantine/procurement/week={h.W38}/po_lines/")
    assert q, "a refused-rows file"
    name = q[0].key.rsplit("/", 1)[1]
    return [
        paths.home(),
        paths.home(h.W37),
        paths.feed_week("procurement", h.W38),
        paths.run_view(PROC_DAG, s.ingest_run),
        paths.quarantine("procurement", h.W38),
        paths.quarantine_rows("procurement", h.W38, "po_lines", name),
        paths.receipt_page(rkey),
        paths.lake_object(rkey),
        paths.data_docs(h.W38, "procurement"),
    ]


def test_every_route_needs_a_user_who_may_read_dags(stack: Stack) -> None:
    viewer, noaccess = stack.token("viewer"), stack.token("noaccess")
    timings = {}
    for path in sample_routes(stack):
        url = stack.url + path
        assert call(url)[0] == 401, path
        assert call(url, "not-a-jwt")[0] == 403, path  # Airflow: an invalid JWT is a 403
        assert call(url, noaccess)[0] == 403, path
        t = time.perf_counter()
        status, _ = call(url, viewer)
        timings[path] = time.perf_counter() - t
        assert status == 200, path
    assert call(stack.url + "/buildout/docs", viewer)[0] == 404
    assert call(stack.url + "/buildout/openapi.json", viewer)[0] == 404
    print("plugin page times through the real api-server (s):", json.dumps(timings, indent=1))


@pytest.mark.parametrize(
    "path",
    [
        "/buildout/lake/reports/../curated/_manifests/week=2026-W38.json",
        "/buildout/lake/reports/data_docs/../../ledger/feed=hiring/week=2026-W38.json",
        "/buildout/lake/reports/program/week=2026-W38/%2e%2e%2f%2e%2e%2f%2e%2e%2fcurated/x.json",
        "/buildout/lake/reports/program/week=2026-W38/%252e%252e%252fsummary.json",
        "/buildout/lake/reports/program/week=2026-W38/..%5c..%5cindex.html",
        "/buildout/lake/reports/program/week=2026-W38/index.html%00.json",
        "/buildout/lake//etc/passwd",
        "/buildout/lake/%2fetc%2fpasswd",
        "/buildout/lake/buildout-landing/hiring/2026-09-15/offers_2026-09-15.csv",
        "/buildout/lake/s3:%2f%2fbuildout-landing/hiring/2026-09-15/offers_2026-09-15.csv",
        "/buildout/lake/reports/program/week=2026-W38/index.html?bucket=buildout-landing",
        "/buildout/lake/quarantine/procurement/week=2026-W38/files/x.raw",
        "/buildout/quarantine/hiring/weeks/2026-W38/rows/offers/..%2f..%2fx",
    ],
)
def test_the_proxy_refuses_traversal_and_other_buckets_on_the_wire(stack: Stack, path: str) -> None:
    status = raw_get(stack.port, path, stack.token("viewer"))
    assert status in (400, 404), (path, status)


def test_the_ingest_tasks_link_their_data_docs_and_feed_report(stack: Stack) -> None:
    token = stack.token("viewer")
    run = urllib.parse.quote(stack.ingest_run, safe="")
    base = f"{stack.url}/api/v2/dags/{PROC_DAG}/dagRuns/{run}/taskInstances"
    status, doc = call(f"{base}/ingest_po_lines/links", token)
    assert status == 200, doc
    links = doc.get("extra_links", doc)
    assert links["Data Docs"] == paths.in_airflow_ui(paths.data_docs(h.W38, "procurement"))
    assert links["Feed report"] == paths.in_airflow_ui(paths.feed_week("procurement", h.W38))
    fx = call(f"{base}/ingest_fx_rates/links", token)[1]
    assert fx.get("extra_links", fx)["Feed report"].endswith("/feeds/fx_rates/weeks/2026-W38")
    check = call(f"{base}/check_procurement_week/links", token)[1]
    assert not any(check.get("extra_links", check).values()), "no link on a task without a feed"
    # The link's target serves (inside the UI it is the iframe's page).
    target = links["Feed report"][len(f"/plugin/{paths.NAV_ROUTE}") :]
    assert call(stack.url + target, token)[0] == 200


def test_a_user_reads_the_buildout_page_and_a_run_view_in_chromium(stack: Stack) -> None:
    from playwright.sync_api import sync_playwright

    program_rag = next(a.rag for a in _scorecard(stack.lake, h.W38) if a.area == "program")
    requests: list[str] = []
    pw = sync_playwright().start()
    browser = pw.chromium.launch(
        executable_path="/usr/bin/chromium",
        args=["--no-sandbox", "--disable-background-networking", "--disable-component-update",
              "--disable-default-apps", "--disable-sync", "--no-first-run", "--disable-gpu",
              "--disable-dev-shm-usage", "--disable-features=Translate,OptimizationHints"],
    )  # fmt: skip
    try:
        ctx = browser.new_context(viewport={"width": 1440, "height": 1500})
        page = ctx.new_page()
        page.set_default_timeout(90_000)
        page.on("request", lambda r: requests.append(r.url))

        # Log in as a user would: the UI sends an anonymous visitor to its login page.
        page.goto(stack.url + "/")
        page.wait_for_url("**/auth/login**")
        page.fill("input[name=username]", "viewer")
        page.fill("input[name=password]", USERS["viewer"])
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/auth/login" not in url)

        # The Buildout page, from the navigation.
        nav = page.get_by_role("link", name="Buildout")
        (nav if nav.count() else page.locator("a[href$='plugin/buildout']")).first.click()
        page.wait_for_url("**/plugin/buildout**")
        frame = _frame(page, "Buildout", "Feed health")
        body = frame.inner_text("body")
        assert f"Program · {h.W38}" in body, body[:500]
        card = frame.inner_text("div.area[data-area='program']")
        assert "Program" in card and program_rag in card, card
        assert "refusals" in body and "RAG history" in body
        if stack.report_built:
            assert frame.locator("iframe.report").count() == 1
        else:
            assert "is not built yet" in body
        page.wait_for_timeout(1000)
        page.screenshot(path=str(stack.shots / "ui-buildout.png"))

        # A feed-health cell opens the feed's week, inside the same view.
        frame.click(f"a[data-feed='procurement'][data-week='{h.W38}']")
        week_frame = _frame(page, "Buildout", "Rules broken")
        assert "missing required column(s): net_value" in week_frame.inner_text("body")

        # The ingest run's Buildout tab.
        page.set_viewport_size({"width": 1440, "height": 1200})
        run = urllib.parse.quote(stack.ingest_run, safe="")
        page.goto(f"{stack.url}/dags/{PROC_DAG}/runs/{run}")
        page.locator(f"a[href*='plugin/{paths.RUN_ROUTE}']").first.click()
        page.wait_for_url(f"**/plugin/{paths.RUN_ROUTE}**")
        run_frame = _frame(page, "Buildout", "Rules broken")
        text = run_frame.inner_text("body")
        assert "missing required column(s): net_value" in text, text[:800]
        assert "Source owner: the ERP team" in text and "format:currency" in text
        assert f"{h.W38}" in text and "what its tasks returned" in text
        page.wait_for_timeout(1000)
        page.screenshot(path=str(stack.shots / "ui-run-view.png"))

        # Its Data Docs, served by the plugin.
        run_frame.click("section[data-feed='procurement'] a:text-is('Data Docs')")
        docs = paths.data_docs(h.W38, "procurement")
        wait_for("the Data Docs in the view", lambda: _current(page).url.endswith(docs), 60, 0.5)
        assert "buildout-offline-data-docs" in _current(page).content()
        ctx.close()
    finally:
        browser.close()
        pw.stop()
    outside = [r for r in requests if urllib.parse.urlsplit(r).hostname not in ("127.0.0.1", None)
               and not r.startswith(("data:", "about:", "blob:"))]  # fmt: skip
    assert requests and not outside, outside


def _frame(page: Any, title: str, marker: str) -> Any:
    """The plugin's iframe once its page shows `marker`."""
    page.wait_for_selector(f"iframe[title='{title}']")
    frame = page.frame_locator(f"iframe[title='{title}']")
    frame.locator(f"text={marker}").first.wait_for()
    return page.query_selector(f"iframe[title='{title}']").content_frame()


def _current(page: Any) -> Any:
    return page.query_selector("iframe[title='Buildout']").content_frame()


def _scorecard(lake: Bucket, week: str) -> list[Any]:
    from buildout_tracker.ui.lakeview import LakeView

    view = LakeView(lake)
    published = view.published()
    m = view.manifest(week, published[week])
    assert m is not None
    return view.scorecard(m)


def test_page_times_through_the_api_server(stack: Stack) -> None:
    """Informative: the server time of the Buildout page and the run view, warm."""
    token = stack.token("viewer")
    out = {}
    for name, path in (("home", paths.home()), ("run", paths.run_view(PROC_DAG, stack.ingest_run))):
        call(stack.url + path, token)
        times = []
        for _ in range(5):
            t = time.perf_counter()
            assert call(stack.url + path, token)[0] == 200
            times.append(time.perf_counter() - t)
        out[name] = sorted(times)[2]
    print("median request time through the api-server (s):", out)
