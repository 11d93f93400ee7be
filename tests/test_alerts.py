"""Alerts to a Slack-compatible webhook, posted to a real local HTTP server: a blocked feed-week,
a failed audit, red and grey areas, a failed task; a dead webhook never fails the pipeline, and
no payload carries personal data."""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest

from buildout_tracker import alerts, pipeline, registry
from buildout_tracker.devtools import procs
from buildout_tracker.lake import Bucket
from buildout_tracker.pipeline import steps
from buildout_tracker.tables.audit_failure import AuditFailure
from tests.publish import helpers as h

W37, W38 = h.W37, h.W38
SECTION_LIMIT = 3000  # Slack rejects a section block whose text is longer (400 invalid_blocks)


class Webhook:
    """A Slack-like incoming webhook on 127.0.0.1: keeps every JSON body, enforces Slack's rules."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.rejected: list[str] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                problem = hook.check(self.headers.get("Content-Type", ""), raw)
                if problem:
                    hook.rejected.append(problem)
                    self.send_response(400)
                else:
                    hook.posts.append(json.loads(raw))
                    self.send_response(200)
                self.end_headers()
                self.wfile.write(problem.encode() if problem else b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/xyz"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @staticmethod
    def check(content_type: str, raw: bytes) -> str | None:
        if not content_type.startswith("application/json"):
            return f"invalid_content_type {content_type}"
        try:
            body = json.loads(raw)
        except ValueError:
            return "invalid_payload"
        if not isinstance(body.get("text"), str) or not body["text"]:
            return "no_text"
        for block in body.get("blocks", []):
            text = block.get("text", {}).get("text", "")
            if block.get("type") == "section" and len(text) > SECTION_LIMIT:
                return f"invalid_blocks: section text of {len(text)} characters"
        return None

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [p for p in self.posts if p.get("kind") == kind]


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    hook = Webhook()
    hook.thread.start()
    monkeypatch.setenv("BUILDOUT_ALERT_WEBHOOK", hook.url)
    try:
        yield hook
    finally:
        hook.server.shutdown()
        hook.server.server_close()
    for body in hook.posts:  # whatever the test, no alert may carry an e-mail address
        assert "@" not in json.dumps(body), body


@pytest.fixture
def own_rt(fresh_buckets: tuple[Bucket, Bucket]) -> pipeline.Runtime:
    """A runtime with its own validator: the data docs built after each task stay small."""
    landing, lake = fresh_buckets
    return pipeline.Runtime(landing, lake, b"test-hmac-key", run_id="test")


def bad_procurement(week: str) -> list[dict[str, Any]]:
    rows = h.po_rows(week)
    rows[0] = {**rows[0], "po_number": "4.5E+09"}
    rows[1] = {**rows[1], "quantity": "0", "net_value": "0.00"}
    return rows


def assert_slack_shaped(p: dict[str, Any]) -> None:
    assert isinstance(p["text"], str) and p["text"].startswith("[buildout-tracker]")
    assert p["blocks"][0]["type"] == "section" and p["blocks"][0]["text"]["type"] == "mrkdwn"
    assert p["blocks"][0]["text"]["text"] == p["text"]


def test_blocked_feed_week_posts_what_where_and_why(rt: pipeline.Runtime, webhook: Webhook) -> None:
    h.deliver(rt.landing, W37, po=bad_procurement(W37))
    steps.run_ingest_task("fx_rates", W37, "run-1", rt=rt)
    summary = steps.run_ingest_task("procurement", W37, "run-1", rt=rt)

    assert summary["blocked"] and webhook.rejected == []
    [post] = webhook.posts
    assert_slack_shaped(post)
    assert post["kind"] == "feed_blocked" and post["week"] == W37 and post["area"] == "procurement"
    text = post["text"]
    assert "feed blocked" in text and f"week {W37}" in text and "area procurement" in text
    assert "procurement/2026-09-08/po_lines_2026-09-08.csv" in text, "the file"
    assert "format:po_number" in text and "quantity_positive" in text, "the rules"
    assert "2 of 22 rows quarantined" in text
    where = f"s3://{rt.lake.name}/reports/feeds/week={W37}/procurement.json"
    assert f"Where to look: {where}" in text and post["where"] == where
    report = rt.lake.get_json(where.split(f"s3://{rt.lake.name}/", 1)[1])
    assert report["blocked"] and report["block_reason"] == post["reason"]

    # A feed that is not blocked says nothing.
    steps.run_ingest_task("hiring", W37, "run-1", rt=rt)
    assert len(webhook.posts) == 1


def test_refused_file_is_announced_once_with_file_rule_and_reason(
    rt: pipeline.Runtime, webhook: Webhook
) -> None:
    h.deliver(rt.landing, W37)
    rt.landing.put_bytes("fx_rates/2026-09-09/fx_rates_empty.csv", b"")
    summary = steps.run_ingest_task("fx_rates", W37, "run-1", rt=rt)
    assert not summary["blocked"] and summary["files_quarantined"] == 1
    [post] = webhook.of_kind("file_refused")
    assert_slack_shaped(post)
    assert post["area"] == "fx_rates" and post["week"] == W37
    assert (
        "fx_rates/2026-09-09/fx_rates_empty.csv" in post["reason"]
        and "empty_file" in post["reason"]
    )
    # It links the file's receipt (what its owner reads: outcome, rule, counts, no values).
    receipt = f"s3://{rt.lake.name}/receipts/fx_rates/2026-09-09/fx_rates_empty.csv.json"
    assert post["where"] == receipt
    assert rt.lake.get_json(receipt.split("/", 3)[3])["outcome"] == "quarantined"
    # A re-run does not announce the same refusal again.
    steps.run_ingest_task("fx_rates", W37, "run-2", rt=rt)
    assert len(webhook.of_kind("file_refused")) == 1


def test_audit_failure_posts_audit_failed_within_slack_limits(
    rt: pipeline.Runtime, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    from buildout_tracker.publish import AuditFailed
    from buildout_tracker.tables import audit

    failure = AuditFailure("procurement_weekly", "unique_keys", "2 rows share a key")
    monkeypatch.setattr(audit, "audit_week", lambda tables, inputs: [failure])
    h.deliver(rt.landing, W37)
    h.ingest(rt, W37)
    with pytest.raises(AuditFailed):
        steps.run_publish_task(W37, "run-1", rt=rt)
    [post] = webhook.posts
    assert_slack_shaped(post)
    assert post["kind"] == "audit_failed" and post["week"] == W37
    assert "audit failed" in post["text"] and f"week {W37}" in post["text"]
    assert "procurement_weekly: unique_keys: 2 rows share a key" in post["text"]
    assert "nothing published" in post["text"]


def test_long_audit_failure_is_still_delivered(
    rt: pipeline.Runtime, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    from buildout_tracker.publish import AuditFailed
    from buildout_tracker.tables import audit

    sample = "e.g. " + ", ".join(
        f"{{'week': '{W37}', 'feed': 'milestones', 'n': {i}}}" for i in range(8)
    )
    failures = [AuditFailure("data_quality_weekly", f"check_{i}", sample) for i in range(10)]
    monkeypatch.setattr(audit, "audit_week", lambda tables, inputs: failures)
    h.deliver(rt.landing, W37)
    h.ingest(rt, W37)
    with pytest.raises(AuditFailed):
        steps.run_publish_task(W37, "run-1", rt=rt)
    assert webhook.rejected == [], webhook.rejected
    assert len(webhook.of_kind("audit_failed")) == 1


def test_data_docs_link_of_an_ingest_task_exists(rt: pipeline.Runtime) -> None:
    h.deliver(rt.landing, W37)
    for feed in ("fx_rates", "hiring"):  # the second build must upload too
        summary = steps.run_ingest_task(feed, W37, "run-1", rt=rt)
        key = summary["data_docs"].split(f"s3://{rt.lake.name}/", 1)[1]
        assert rt.lake.exists(key), summary["data_docs"]


def test_task_failure_callback_names_dag_task_and_run(webhook: Webhook) -> None:
    ti = SimpleNamespace(
        dag_id="publish_tables_weekly",
        task_id="publish_week",
        run_id="scheduled__2026-09-14T06:00:00+00:00",
        try_number=3,
    )
    context = {
        "task_instance": ti,
        "exception": RuntimeError("S3 timed out"),
        "params": {"week": W37},
    }
    alerts.task_failure_callback(context)
    [post] = webhook.posts
    assert_slack_shaped(post)
    assert post["kind"] == "task_failed" and post["week"] == W37
    for part in ("publish_tables_weekly", "publish_week", ti.run_id, "try 3", "S3 timed out"):
        assert part in post["text"], part
    assert "publish_tables_weekly" in post["where"] and ti.run_id in post["where"]


def test_dead_webhook_never_fails_the_pipeline(
    rt: pipeline.Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = procs.free_port()  # nothing listens there
    monkeypatch.setenv("BUILDOUT_ALERT_WEBHOOK", f"http://127.0.0.1:{port}/hook")
    assert alerts.send(alerts.Alert("feed_blocked", W37, "procurement", "x")) is False
    alerts.task_failure_callback({"ti": None, "exception": RuntimeError("boom")})
    h.deliver(rt.landing, W37, po=bad_procurement(W37))
    summary = steps.run_ingest_task("procurement", W37, "run-1", rt=rt)
    assert summary["blocked"]


def test_webhook_answering_500_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    class Failing(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(500)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        assert alerts.send(alerts.Alert("area_red", W37, "program", "spi"), url=url) is False
    finally:
        server.shutdown()
        server.server_close()


def personal_data(landing: Bucket) -> set[str]:
    """Every personal value the generated source systems put in the landing zone."""
    out: set[str] = set()
    for o in landing.list("hiring/"):
        for row in csv.DictReader(io.StringIO(landing.get_bytes(o.key).decode("utf-8-sig"))):
            for col in (
                "candidate_id",
                "candidate_name",
                "candidate_email",
                "hiring_manager_email",
            ):
                if row.get(col):
                    out.add(row[col])
    for o in landing.list("milestones/"):
        for line in landing.get_bytes(o.key).decode().splitlines():
            if line.strip() and json.loads(line).get("reported_by"):
                out.add(json.loads(line)["reported_by"])
    return out


def spoil_offers(landing: Bucket, week_day: str) -> None:
    """The ATS puts the candidate's e-mail in `status` on every third offer: hiring is blocked."""
    [key] = [o.key for o in landing.list(f"hiring/{week_day}/") if "offers_" in o.key]
    rows = list(csv.DictReader(io.StringIO(landing.get_bytes(key).decode("utf-8-sig"))))
    for i, row in enumerate(rows):
        if i % 3 == 0:
            row["status"] = row["candidate_email"]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    landing.put_bytes(key, buf.getvalue().encode())


def run_tasks(rt: pipeline.Runtime, week: str) -> dict[str, Any]:
    for feed in registry.NAMES:
        steps.run_ingest_task(feed, week, f"run-{week}", rt=rt)
    return steps.run_publish_task(week, f"run-{week}", rt=rt)


def test_generated_weeks_alert_red_and_grey_areas_without_personal_data(
    own_rt: pipeline.Runtime, webhook: Webhook
) -> None:
    rt = own_rt
    from buildout_tracker.generator import BucketSink, generate

    generate([W37, W38], scale="small", seed=7, sink=BucketSink(rt.landing))
    spoil_offers(rt.landing, "2026-09-19")
    secrets = personal_data(rt.landing)
    assert len(secrets) > 100 and any("@" in s for s in secrets)

    w37 = run_tasks(rt, W37)
    flagged = {a: rag for a, rag in w37["rag"].items() if rag in ("red", "grey")}
    assert flagged and set(w37["rag"].values()) - {"red", "grey"}, "a mix of colours, please"
    posts37 = list(webhook.posts)
    assert sorted(
        (p["kind"], p["area"]) for p in posts37 if p["kind"] != "weekly_report"
    ) == sorted((f"area_{rag}", area) for area, rag in flagged.items()), (
        "one alert per red or grey area, none for green or amber"
    )
    assert [p["kind"] for p in posts37].count("weekly_report") == 1, "and one weekly digest"
    card37 = {
        r["area"]: r
        for r in h.read_parquet_bytes(
            rt.lake.get_bytes(f"curated/program_scorecard/week={W37}/part-00000.parquet")
        ).to_pylist()
    }
    for p in posts37:
        assert_slack_shaped(p)
        if p["kind"] == "weekly_report":
            assert p["where"] == f"s3://{rt.lake.name}/reports/program/week={W37}/index.html"
            continue
        assert p["week"] == W37 and f"area {p['area']}" in p["text"]
        assert p["reason"] == "; ".join(card37[p["area"]]["rag_reasons"])
        assert p["where"] == f"s3://{rt.lake.name}/curated/_manifests/week={W37}.json"

    w38 = run_tasks(rt, W38)
    posts38 = webhook.posts[len(posts37) :]
    [blocked] = [p for p in posts38 if p["kind"] == "feed_blocked"]
    assert blocked["area"] == "hiring" and "offers_20260919.csv" in blocked["reason"]
    assert set(w38["rag"].values()) == {"grey"}
    grey = [p for p in posts38 if p["kind"] == "area_grey"]
    assert sorted(p["area"] for p in grey) == sorted(w38["rag"])
    assert all(p["reason"].startswith("hiring blocked") for p in grey)
    assert [p["kind"] for p in posts38].count("weekly_report") == 1
    assert len(posts38) == 1 + len(grey) + 1 and webhook.rejected == []

    payloads = json.dumps(webhook.posts)
    leaked = sorted(s for s in secrets if s in payloads)
    assert leaked == [], f"personal data in alerts: {leaked[:5]}"
