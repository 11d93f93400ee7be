"""The plugin's pages in-process (FastAPI's TestClient, the app mounted at /buildout as the
api-server mounts it) on a lake with two published weeks: what each page says, which lake
objects the proxy serves and refuses, and that no personal value shows anywhere."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from buildout_tracker import registry
from buildout_tracker.ingest import receipts
from buildout_tracker.ingest.report import read_report
from buildout_tracker.ui import paths
from buildout_tracker.ui.app import create_app
from buildout_tracker.ui.bench import bench_pages, mounted
from buildout_tracker.ui.runs import RunInfo
from tests.ui import helpers as u
from tests.ui.conftest import Published

RUNS = {
    ("ingest_procurement_weekly", "manual__w38"): RunInfo(
        "ingest_procurement_weekly", "manual__w38", state="success", conf={"week": u.W38},
        tasks={"ingest_fx_rates": "success", "ingest_po_lines": "success"},
    ),
    ("ingest_hiring_weekly", "scheduled__2026-09-14T06:00:00+00:00"): RunInfo(
        "ingest_hiring_weekly", "scheduled__2026-09-14T06:00:00+00:00", state="success",
        data_interval_start=datetime(2026, 9, 14, 6, tzinfo=UTC),
    ),
    ("publish_tables_weekly", "asset_triggered__x"): RunInfo(
        "publish_tables_weekly", "asset_triggered__x", state="success",
        returns={"select_weeks": [u.W37], "publish_weekly_tables": [{"week": u.W37}]},
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def client(published: Published) -> TestClient:
    app = create_app(lake=published.lake, runs=lambda d, r: RUNS.get((d, r)), airflow_auth=False)
    return TestClient(mounted(app))


def text(page: str) -> str:
    """What a reader sees: no style, no tags, entities decoded, spaces collapsed."""
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def get(client: TestClient, url: str, status: int = 200) -> Any:
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.text[:500])
    return r


def test_the_buildout_page_shows_the_latest_week_its_history_and_feed_health(
    client: TestClient,
) -> None:
    r = get(client, paths.home())
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in r.headers["content-security-policy"]
    page = r.text
    assert "Program · 2026-W38" in text(page)
    assert re.findall(r"<option value='([^']+)'", page) == [u.W38, u.W37]
    for area in ("program", "data_centers", "compute_hardware"):
        rags = re.findall(rf"<tr data-area='{area}'>.*?</tr>", page)[0]
        assert len(re.findall(r"data-rag='(green|amber|red|grey)'", rags)) == 2, area
    # The feed-health grid: every feed of both weeks, the refusals of W38 marked.
    cells = dict(
        ((f, w), s) for f, w, s in re.findall(
            r"data-feed='([a-z_]+)' data-week='([0-9W-]+)' data-state='([a-z ]+)'", page)
    )  # fmt: skip
    assert len(cells) == 2 * len(registry.NAMES)
    assert cells[("procurement", u.W38)] == "refusals" and cells[("hiring", u.W38)] == "refusals"
    assert cells[("procurement", u.W37)] == "delivered"
    assert cells[("reference", u.W38)] == "no delivery"
    assert "1 file refused" in text(page) and "2.4 % rows refused" in text(page)
    assert "is not built yet" in page  # no program report in this lake


def test_a_week_is_picked_from_the_published_ones(client: TestClient) -> None:
    page = get(client, paths.home(u.W37)).text
    assert "Program · 2026-W37" in text(page) and f"td[data-week='{u.W37}']" in page
    assert "is not published" in get(client, paths.home("2026-W40")).text
    get(client, "/buildout/?week=2026-W99", 400)
    get(client, "/buildout/?week=..%2F..%2Fetc", 400)


def test_the_program_report_is_shown_when_built(client: TestClient, published: Published) -> None:
    key = f"reports/program/week={u.W38}/index.html"
    published.lake.put_bytes(key, b"<html><body>W38 report</body></html>", "text/html")
    published.lake.put_json(f"reports/program/week={u.W38}/summary.json", {"sentences": ["S1."]})
    try:
        page = get(client, paths.home()).text
        assert f"src='{paths.lake_object(key)}'" in page and "S1." in page
        served = get(client, paths.lake_object(key))
        assert served.headers["content-type"] == "text/html; charset=utf-8"
        assert served.content == b"<html><body>W38 report</body></html>"
        assert "is not built yet" in get(client, paths.home(u.W37)).text
    finally:
        published.lake.delete_prefix("reports/program/")


def test_a_feed_week_shows_each_file_its_rules_and_rows_and_a_refusal_for_its_owner(
    client: TestClient,
) -> None:
    page = get(client, paths.feed_week("procurement", u.W38)).text
    t = text(page)
    assert "po_lines_2026-09-15_extra.csv" in t and "missing required column(s): net_value" in t
    assert "Source owner: the ERP team" in t
    assert re.search(r"format:currency\s*· 1 row: rows 7", t), t
    assert "42" in t and "41" in t
    report = read_report(client.app.routes[0].app.state.buildout_view().lake, "procurement", u.W38)  # type: ignore[attr-defined]
    assert report is not None
    for f in receipts.delivered_files(report):
        assert paths.receipt_page(receipts.receipt_key_of("procurement", f)) in page
    assert paths.data_docs(u.W38, "procurement") in page
    assert paths.quarantine("procurement", u.W38) in page


def test_data_docs_and_validation_results_are_served_with_their_types(client: TestClient) -> None:
    page = get(client, paths.feed_week("procurement", u.W38)).text
    docs = get(client, paths.data_docs(u.W38, "procurement"))
    assert docs.headers["content-type"] == "text/html; charset=utf-8"
    assert "buildout-offline-data-docs" in docs.text
    hrefs = re.findall(r"href=\"([^\"#]+\.html)\"", docs.text)
    assert hrefs, "the index links its pages"
    base = paths.data_docs(u.W38, "procurement").rsplit("/", 1)[0]
    get(client, f"{base}/{hrefs[0]}")  # a relative link works under the proxy
    validation = re.findall(r"href='(/buildout/lake/reports/validation/[^']+)'", page)
    assert validation
    v = get(client, validation[0])
    assert v.headers["content-type"] == "application/json" and v.json()


def test_quarantine_listing_and_refused_rows_show_no_personal_column(
    client: TestClient,
) -> None:
    listing = get(client, paths.quarantine("hiring", u.W38)).text
    assert "enum:status (1)" in text(listing)
    rows_url = re.findall(
        r"href='(/buildout/quarantine/hiring/weeks/[^']+/rows/offers/[^']+)'", listing
    )
    assert rows_url
    table = get(client, rows_url[0]).text
    headers = re.findall(r"<th[^>]*>([^<]+)</th>", table)
    assert "_row" in headers and "rules" in headers
    assert not {"candidate_name", "candidate_email", "candidate_id", "candidate_id_hmac"} & set(
        headers
    )
    assert "enum:status" in table
    proc = get(client, paths.quarantine("procurement", u.W38)).text
    assert "missing required column(s): net_value" in proc and "refused file" in proc


def test_run_views(client: TestClient) -> None:
    ingest = text(get(client, paths.run_view("ingest_procurement_weekly", "manual__w38")).text)
    assert "FX rates · 2026-W38" in ingest and "Procurement · 2026-W38" in ingest
    assert "the run's conf" in ingest and "missing required column(s): net_value" in ingest
    scheduled = text(
        get(
            client, paths.run_view("ingest_hiring_weekly", "scheduled__2026-09-14T06:00:00+00:00")
        ).text
    )
    assert "Hiring · 2026-W38" in scheduled and "the run's data interval" in scheduled
    publish = text(get(client, paths.run_view("publish_tables_weekly", "asset_triggered__x")).text)
    assert "Publication of 2026-W37" in publish and "program_scorecard" in publish
    assert "what its tasks returned" in publish
    assert "No run" in text(get(client, paths.run_view("ingest_hiring_weekly", "nope")).text)


def test_receipt_page(client: TestClient) -> None:
    key = receipts.receipt_key("procurement", "2026-09-15", u.BAD_FILE)
    page = text(get(client, paths.receipt_page(key)).text)
    assert "missing required column(s): net_value" in page and "the ERP team" in page
    assert get(client, paths.lake_object(key)).json()["outcome"] == "quarantined"
    get(client, "/buildout/receipts/procurement/2026-09-15/nope.json", 404)
    get(client, "/buildout/receipts/procurement/2026-09-15/..%2F..%2Fx.json", 404)  # no route
    get(client, "/buildout/receipts/procurement/2026-09-15/a%5C..json", 400)
    get(client, "/buildout/receipts/procurement/2026-9-15/a.json", 400)


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/buildout/lake/reports/data_docs/week=2026-W38/procurement/%2e%2e/%2e%2e/x.html", 400),
        (
            "/buildout/lake/reports/data_docs/week=2026-W38/procurement/%2e%2e%2f%2e%2e%2fx.html",
            400,
        ),
        ("/buildout/lake/reports/data_docs/week=2026-W38/procurement/%252e%252e%252fx.html", 400),
        ("/buildout/lake/reports/data_docs/week=2026-W38/procurement/a%5Cb.html", 400),
        ("/buildout/lake/reports/data_docs/week=2026-W38/procurement/a%00.html", 400),
        ("/buildout/lake/%2Fetc%2Fpasswd", 400),
        ("/buildout/lake/s3:%2F%2Fbuildout-landing%2Fhiring%2Fx.csv", 400),
        ("/buildout/lake/buildout-landing/hiring/2026-09-15/offers_2026-09-15.csv", 404),
        ("/buildout/lake/reports/program/week=2026-W38/index.html?bucket=buildout-landing", 400),
        ("/buildout/lake/curated/_manifests/week=2026-W38.json", 404),
        ("/buildout/lake/quarantine/hiring/week=2026-W38/offers/x.rows.parquet", 404),
        ("/buildout/lake/reports/feeds/week=2026-W38/hiring.json", 404),
        ("/buildout/lake/ledger/feed=hiring/week=2026-W38.json", 404),
        ("/buildout/lake/reports/data_docs/week=2026-W38/procurement/x.exe", 404),
        ("/buildout/lake/reports/data_docs/week=2026-W38/procurement/missing.html", 404),
        ("/buildout/quarantine/hiring/weeks/2026-W38/rows/offers/%2e%2e", 400),
        ("/buildout/quarantine/hiring/weeks/2026-W38/rows/offers/a%252e.rows.parquet", 400),
        ("/buildout/quarantine/hiring/weeks/2026-W38/rows/nope/x.rows.parquet", 404),
        ("/buildout/feeds/nope/weeks/2026-W38", 404),
        ("/buildout/docs", 404),
        ("/buildout/openapi.json", 404),
    ],
)
def test_the_proxy_and_pages_refuse_what_they_do_not_serve(
    client: TestClient, url: str, status: int
) -> None:
    get(client, url, status)


@pytest.mark.parametrize(
    "key",
    [
        "../curated/x.html", "reports/../curated/x.json", "reports/data_docs/./x.html",
        "reports//data_docs/x.html", "/reports/program/week=2026-W38/index.html",
        "reports\\program\\week=2026-W38\\index.html", "reports/program/week=2026-W38/index.html\x00",
        "reports/program/week=2026-W38/%2e%2e", "s3://buildout-landing/x.json",
        "reports/program/week=2026-W38/../../../etc/passwd", "", "x" * 2000,
    ],
)  # fmt: skip
def test_hostile_keys_are_malformed(key: str) -> None:
    with pytest.raises(paths.KeyRefused) as exc:
        paths.check_key(key)
    assert exc.value.status == 400


def test_served_keys() -> None:
    for key in (
        "reports/data_docs/week=2026-W38/milestones/validations/m/m: 2 files of 2026-W38/a b.html",
        "reports/validation/hiring/week=2026-W38/2026-09-15_offers-abc.json",
        "reports/program/week=2026-W38/summary.json",
        "receipts/hiring/2026-09-15/offers_2026-09-15.csv.json",
    ):
        assert paths.check_key(key) == key
    for key in ("reports/program/_history/x.parquet", "receipts/nope/2026-09-15/a.json",
                "reports/validation/hiring/week=2026-W38/a.html"):  # fmt: skip
        with pytest.raises(paths.KeyRefused) as exc:
            paths.check_key(key)
        assert exc.value.status == 404


def test_no_page_shows_a_personal_value(client: TestClient, published: Published) -> None:
    urls = [paths.home(), paths.home(u.W37)]
    for w in (u.W37, u.W38):
        for f in registry.NAMES:
            urls += [paths.feed_week(f, w), paths.quarantine(f, w)]
    urls += [paths.run_view(d, r) for d, r in RUNS]
    seen = set()
    while urls:
        url = urls.pop()
        if (
            url in seen
            or not url.startswith("/buildout/")
            or ("/lake/" in url and "data_docs" in url)
        ):
            continue
        seen.add(url)
        r = get(client, url)
        for value in u.PERSONAL:
            assert value not in r.text, (url, value)
        if r.headers["content-type"].startswith("text/html"):
            urls += [x.replace("&amp;", "&") for x in re.findall(r"href='([^']+)'", r.text)]
    assert len(seen) > 30


def test_bench_pages_times_every_page(published: Published) -> None:
    out = bench_pages(published.lake, repeat=2)
    assert out["weeks"] == 2 and out["latest"] == u.W38
    for name in ("home", "home_week", "run_ingest", "run_publish", "feed_week"):
        assert out[name]["warm_median_s"] > 0 and out[name]["bytes"] > 1000
