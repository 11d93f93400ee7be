"""A blocked feed-week waits for a person in the Airflow UI, against a running scheduler,
answered through the REST API as the UI does: "supersede and run again" names the refused
file and its correction, and the week publishes with the override recorded; nobody
answering in time keeps the week blocked and its table withheld."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from buildout_tracker import zones
from buildout_tracker.ingest.ledger import superseded_files, week_decisions
from buildout_tracker.lake import Bucket
from buildout_tracker.pipeline.decisions import KEEP, SUPERSEDE
from tests.ingest import builders as b
from tests.pipeline.test_scheduled_publication import Api, airflow_stack, wait_for
from tests.publish import helpers as h

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

W37, W38 = h.W37, h.W38
DAG = "ingest_hiring_weekly"
TIMEOUT_HOURS = 0.03  # 108 s: the timeout scenario needs no answer at all


def bad_offers(day: str) -> bytes:
    """Offers whose every row breaks a rule: far above the 5 % that blocks the week."""
    rows = [{"offer_id": f"O-{i}", "req_id": f"R-{i}", "status": "maybe", "extended_date": day}
            for i in range(1, 8)]  # fmt: skip
    return b.offers_csv(rows)


@pytest.fixture
def airflow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Api, Bucket, Bucket]]:
    with airflow_stack(
        tmp_path, monkeypatch, BUILDOUT_DECISION_TIMEOUT_HOURS=str(TIMEOUT_HOURS)
    ) as stack:
        yield stack


def ti_path(run_id: str, task_id: str) -> str:
    return f"/api/v2/dags/{DAG}/dagRuns/{urllib.parse.quote(run_id)}/taskInstances/{task_id}"


def awaiting(api: Api, run_id: str) -> dict[str, Any] | None:
    ti = api.call(ti_path(run_id, "decide_hiring_week"))
    assert ti["state"] not in ("failed", "upstream_failed"), ti
    return ti if ti["state"] == "awaiting_input" else None


def task_logs(api: Api, run_id: str) -> str:
    """The logs of the run's tasks, for a failure's message."""
    out = []
    for task_id in ("ingest_ats_snapshots", "check_hiring_week", "decide_hiring_week",
                    "apply_hiring_decision"):  # fmt: skip
        ti = api.call(ti_path(run_id, task_id))
        for attempt in range(1, int(ti.get("try_number") or 0) + 1):
            try:
                body = api.call(ti_path(run_id, task_id) + f"/logs/{attempt}?full_content=true")
            except AssertionError as exc:
                body = {"error": str(exc)}
            out.append(f"--- {task_id} try {attempt} ({ti['state']}):\n{json.dumps(body)[-4000:]}")
    return "\n".join(out)


def hiring_entry(lake: Bucket, week: str) -> dict[str, Any] | None:
    manifest = lake.get_json_or_none(zones.manifest_key(week))
    return None if manifest is None else dict(manifest["tables"]["hiring_weekly"])


def finished(api: Api, run_id: str) -> dict[str, Any] | None:
    run = api.run(DAG, run_id)
    return run if run["state"] in ("success", "failed") else None


def test_a_blocked_week_waits_for_a_decision(airflow: tuple[Api, Bucket, Bucket]) -> None:
    api, landing, lake = airflow
    for week in (W37, W38):
        h.deliver(landing, week)
    refused = "hiring/2026-09-08/offers_2026-09-08.csv"
    landing.put_bytes(refused, bad_offers("2026-09-08"))
    for dag_id in ("ingest_reference_weekly", "ingest_procurement_weekly",
                   "ingest_milestones_weekly"):  # fmt: skip
        api.trigger(dag_id, W37)
    run_id = api.trigger(DAG, W37)

    # The week is blocked: the run waits for a person, who is told what and why.
    wait_for("the decision task to wait", lambda: awaiting(api, run_id), timeout=420)
    detail = api.call(ti_path(run_id, "decide_hiring_week") + "/-1/hitlDetails")
    assert detail["subject"] == f"{W37}: hiring blocked: decide"
    assert refused in detail["body"] and "rows quarantined" in detail["body"], detail["body"]
    assert detail["options"] == [KEEP, SUPERSEDE] and detail["defaults"] == [KEEP]
    # Meanwhile the week is published as a blocked week is: without the hiring table.
    blocked = wait_for("W37 published without hiring", lambda: hiring_entry(lake, W37))
    assert "hiring blocked" in blocked["withheld"], blocked

    # The owner sends a corrected ATS snapshot (both files of a day) in a folder of the week;
    # the operator supersedes the refused file by its corrected offers.
    reqs, offers = h.hiring_files(W37)
    correction = "hiring/2026-09-10/offers_2026-09-10_fixed.csv"
    landing.put_bytes("hiring/2026-09-10/requisitions_2026-09-10_fixed.csv", reqs)
    landing.put_bytes(correction, offers)
    time.sleep(12)  # an answer within seconds of the wait can race the scheduler (3.3.2)
    answer = {"chosen_options": [SUPERSEDE],
              "params_input": {"refused_file": refused, "correction_file": correction,
                               "reason": "ATS export re-run with valid statuses"}}  # fmt: skip
    api.call(ti_path(run_id, "decide_hiring_week") + "/-1/hitlDetails",
             json.dumps(answer).encode(), method="PATCH")  # fmt: skip
    run = wait_for("the decided run", lambda: finished(api, run_id), timeout=300)
    assert run["state"] == "success", task_logs(api, run_id)

    wait_for("W37 published again, with hiring",
             lambda: (e := hiring_entry(lake, W37)) is not None and "withheld" not in e)  # fmt: skip
    manifest = lake.get_json(zones.manifest_key(W37))
    outcomes = {i["key"]: i["outcome"] for i in manifest["inputs"]}
    assert outcomes[refused] == "superseded" and outcomes[correction] == "ingested"
    record = superseded_files(lake, "hiring", W37)[refused]
    assert (record["by"], record["via"], record["correction"]) == (
        "admin",
        "Airflow UI",
        correction,
    )
    assert record["reason"] == "ATS export re-run with valid statuses" and record["at"]
    listed = [d for d in manifest["decisions"] if d["decision"] == "superseded"]
    assert [(d["file"], d["by"], d["correction"]) for d in listed] == [
        (refused, "admin", correction)
    ]

    # Nobody answers in time: the default keeps the week blocked, its table withheld.
    for dag_id in ("ingest_reference_weekly", "ingest_procurement_weekly",
                   "ingest_milestones_weekly"):  # fmt: skip
        api.trigger(dag_id, W38)
    landing.put_bytes("hiring/2026-09-15/offers_2026-09-15_b.csv", bad_offers("2026-09-15"))
    landing.delete(["hiring/2026-09-15/offers_2026-09-15.csv"])
    late_run = api.trigger(DAG, W38)
    wait_for("the W38 decision task to wait", lambda: awaiting(api, late_run), timeout=420)
    run = wait_for(
        "the timeout", lambda: finished(api, late_run), timeout=TIMEOUT_HOURS * 3600 + 200
    )
    assert run["state"] == "failed", run
    apply = api.call(ti_path(late_run, "apply_hiring_decision"))
    assert apply["state"] == "failed", apply
    entry = wait_for("W38 published without hiring", lambda: hiring_entry(lake, W38))
    assert "hiring blocked" in entry["withheld"], entry
    # The timeout is recorded in the ledger (the week's next manifest lists it).
    kept = week_decisions(lake, W38, ("hiring",))
    assert [(d["decision"], d["by"], d["via"]) for d in kept] == [
        ("kept_blocked", None, "Airflow UI")
    ]
