"""End to end, as an operator runs it: generated deliveries with defects and stray personal
data in a real local S3 server, the real DAGs run with `dag.test()` (`buildout run-week`, in
a child process with its own Airflow home and SQLite DB), then everything read back over
HTTP as a consumer would, and every place personal data could leak scanned for it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from buildout_tracker import zones
from buildout_tracker.devtools.lake_server import LakeServer
from buildout_tracker.generator import BucketSink, generate
from buildout_tracker.lake import Bucket

WEEKS = ["2026-W46", "2026-W47", "2026-W48"]
FEEDS = ("reference", "fx_rates", "procurement", "milestones", "hiring")
PII_COLUMNS = {
    "candidate_id",
    "candidate_name",
    "candidate_email",
    "hiring_manager_email",
    "reported_by",
    "notes",
}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def personal_values(landing: Bucket, defects: list[dict]) -> set[str]:
    """Every personal value the source systems sent (from the landing files themselves)."""
    values: set[str] = set()
    for obj in landing.list(""):
        body = landing.get_bytes(obj.key)
        if obj.key.endswith(".jsonl"):
            for line in body.decode("utf-8", "replace").splitlines():
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                values.update(str(rec[c]) for c in ("reported_by", "notes") if rec.get(c))
        elif obj.key.startswith("hiring/"):
            text = body.decode("utf-8-sig", "replace")
            for row in csv.DictReader(io.StringIO(text)):
                for col, value in row.items():
                    if value and (col in PII_COLUMNS or (col and "email" in col)):
                        values.add(value)
    values.update(
        str(d["value"]) for d in defects if d["kind"] in ("pii_in_team",) and d.get("value")
    )
    # Short or generic values (e.g. a 'notes' of "ok") would match by accident: keep the telling ones.
    return {v for v in values if len(v) >= 8}


@pytest.fixture(scope="module")
def e2e(tmp_path_factory: pytest.TempPathFactory, lake_server: LakeServer):  # type: ignore[no-untyped-def]
    var = tmp_path_factory.mktemp("e2e-var")
    from buildout_tracker.lake import make_client

    client = make_client(lake_server.settings())
    landing, lake = Bucket(lake_server.buckets[0], client), Bucket(lake_server.buckets[1], client)
    landing.delete_prefix("")
    lake.delete_prefix("")
    defects_log = var / "defects.jsonl"
    generate(
        WEEKS,
        scale="small",
        seed=11,
        defects=0.05,
        sink=BucketSink(landing),
        defects_log=defects_log,
    )
    defects = [json.loads(line) for line in defects_log.read_text().splitlines() if line.strip()]

    env = dict(os.environ)
    env.update(lake_server.env())
    env.update(
        {
            "BUILDOUT_VAR_DIR": str(var),
            "BUILDOUT_PII_HMAC_KEY": "e2e-hmac-key-not-a-real-secret",
            "BUILDOUT_ALERT_WEBHOOK": "",
            "AIRFLOW_HOME": str(var / "airflow"),
        }
    )
    env.pop("AIRFLOW__CORE__DAGS_FOLDER", None)
    out = subprocess.run(
        [sys.executable, "-m", "buildout_tracker.cli", "run-week", "--week", f"{WEEKS[0]}:{WEEKS[-1]}"],
        env=env, capture_output=True, text=True, timeout=800,
    )  # fmt: skip
    (var / "run-week.log").write_text(out.stdout + "\n--- stderr ---\n" + out.stderr)
    return {
        "landing": landing,
        "lake": lake,
        "defects": defects,
        "run": out,
        "var": var,
        "env": env,
    }


def test_dags_ran_and_every_week_published(e2e) -> None:  # type: ignore[no-untyped-def]
    run = e2e["run"]
    log = (e2e["var"] / "logs" / "run-week.log").read_text(errors="replace")
    assert "Skipping masking for a secret as it's too short" not in run.stdout + run.stderr + log
    lake: Bucket = e2e["lake"]
    for week in WEEKS:
        assert lake.exists(f"curated/_manifests/week={week}.json"), (
            run.stdout[-3000:] + run.stderr[-3000:]
        )
    # Every DAG run either succeeded, or failed only because a feed's week was blocked.
    for week in WEEKS:
        blocked = {
            f
            for f in FEEDS
            if (lake.get_json_or_none(zones.feed_report(f, week)) or {}).get("blocked")
        }
        section = run.stdout.split(f"{week}: DAG runs", 1)[1].split("Per feed", 1)[0]
        for line in section.strip().splitlines():
            dag_id, state = line.split()
            if not state.endswith("success"):
                feed = dag_id.removeprefix("ingest_").removesuffix("_weekly")
                assert feed in blocked or (feed == "procurement" and "fx_rates" in blocked), (
                    f"{week} {dag_id} {state}"
                )


def test_rows_in_equal_rows_validated_plus_quarantined_for_every_file(e2e) -> None:  # type: ignore[no-untyped-def]
    lake: Bucket = e2e["lake"]
    checked = 0
    for week in WEEKS:
        for feed in FEEDS:
            ledger = lake.get_json(zones.ledger_week(feed, week))
            for f in ledger["files"]:
                if f["outcome"] != "ingested":
                    continue
                valid = lake.read_parquet(f["validated_key"]).num_rows
                quarantined = (
                    lake.read_parquet(f["quarantine_key"]).num_rows if f["quarantine_key"] else 0
                )
                assert f["rows_in"] == valid + quarantined, f["key"]
                assert (f["rows_valid"], f["rows_quarantined"]) == (valid, quarantined), f["key"]
                checked += 1
    assert checked > 20


def test_every_injected_defect_is_accounted_for(e2e) -> None:  # type: ignore[no-untyped-def]
    lake: Bucket = e2e["lake"]
    files = {}
    for week in WEEKS:
        for feed in FEEDS:
            for f in lake.get_json(zones.ledger_week(feed, week))["files"]:
                files[f["key"]] = f
    kinds = {d["kind"] for d in e2e["defects"]}
    # A 3-week range draws most kinds (file-level kinds never hit the first week).
    assert len(kinds) >= 10 and {"duplicate_file", "excel_po_number"} <= kinds, kinds
    for d in e2e["defects"]:
        f = files.get(d["key"])
        assert f is not None, f"defect file never seen by the pipeline: {d}"
        kind = d["kind"]
        if kind == "duplicate_file":
            assert f["outcome"] == "duplicate", d
        elif kind in ("cp1252_encoding", "missing_required_column", "empty_file"):
            assert f["outcome"] == "quarantined", d
            assert f["reason"], d
        elif kind == "header_only":
            assert f["outcome"] in ("quarantined", "ingested") and f["rows_in"] == 0, d
        elif kind in ("extra_column", "pii_extra_column"):
            assert f["outcome"] == "ingested" and any(d["column"] in w for w in f["warnings"]), d
        elif kind == "pii_in_team" and f["outcome"] == "ingested":
            # Free text may hold anything (docs/feeds.md): kept, the address masked, warned.
            kept = lake.read_parquet(f["validated_key"]).to_pandas().set_index("_row")
            assert kept.loc[int(d["row"]), "team"] == "<masked>", d
            assert any(
                r["rule"] == "no_personal_data" and r["rows_failed"] for r in f["rule_stats"]
            ), d
        elif kind == "utf8_bom":
            assert f["outcome"] in ("ingested", "duplicate"), d
        elif d.get("row") and f["outcome"] == "ingested":
            rows = (
                lake.read_parquet(f["quarantine_key"]).to_pandas() if f["quarantine_key"] else None
            )
            assert rows is not None and int(d["row"]) in set(rows["_row"].astype(int)), d


def test_no_personal_data_anywhere_but_landing(e2e) -> None:  # type: ignore[no-untyped-def]
    lake: Bucket = e2e["lake"]
    secrets = personal_values(e2e["landing"], e2e["defects"])
    assert len(secrets) > 50, "the generator should have sent personal data to find"
    needles = [s.encode() for s in secrets]

    def scan(name: str, blob: bytes) -> None:
        for needle in needles:
            assert needle not in blob, f"personal data leaked into {name}"

    for obj in lake.list(
        ""
    ):  # validated, quarantine, state, reports (GX results, data docs), curated
        scan(obj.key, lake.get_bytes(obj.key))
    scan("run-week output (task logs)", (e2e["run"].stdout + e2e["run"].stderr).encode())
    var: Path = e2e["var"]
    for path in (var / "airflow-run-week").rglob("*"):  # task logs, the SQLite DB of XComs
        if path.is_file():
            scan(str(path), path.read_bytes())
    assert (var / "airflow-run-week" / "airflow.db").exists()
    for path in (var / "logs").rglob("*"):  # Airflow's own output of make run-week
        scan(str(path), path.read_bytes())
    assert any(obj.key.startswith("reports/data_docs/") for obj in lake.list("reports/"))


def test_tables_read_back_over_http_with_duckdb_and_pandas(e2e, lake_server: LakeServer) -> None:  # type: ignore[no-untyped-def]
    import duckdb
    import duckdb_extensions
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    duckdb_extensions.import_extension("httpfs")
    con = duckdb.connect()
    con.sql("LOAD httpfs")
    endpoint = lake_server.endpoint.split("://", 1)[1]
    con.sql(
        f"CREATE SECRET lake (TYPE s3, KEY_ID '{lake_server.access_key}', SECRET '{lake_server.secret_key}', "
        f"ENDPOINT '{endpoint}', URL_STYLE 'path', USE_SSL false, REGION 'us-east-1')"
    )
    sc = con.sql(
        "SELECT week, area, rag, committed_usd FROM read_parquet('s3://buildout-lake/curated/program_scorecard/*/*.parquet', "
        "hive_partitioning = true) ORDER BY week, area"
    ).df()
    assert sorted(sc["week"].unique()) == WEEKS
    assert (sc.groupby("week")["area"].count() == 5).all()
    assert set(sc["rag"]) <= {"green", "amber", "red", "grey"}
    proc = con.sql(
        "SELECT week, sum(committed_usd) AS c FROM read_parquet('s3://buildout-lake/curated/procurement_weekly/*/*.parquet', "
        "hive_partitioning = true) GROUP BY week ORDER BY week"
    ).df()
    program = sc[sc["area"] == "program"].set_index("week")["committed_usd"]
    for week, total in zip(proc["week"], proc["c"], strict=True):
        assert abs(program[week] - total) < 0.01, week

    fs = pafs.S3FileSystem(
        endpoint_override=endpoint, scheme="http", access_key=lake_server.access_key,
        secret_key=lake_server.secret_key, region="us-east-1",
    )  # fmt: skip
    via_pyarrow = pq.read_table(
        "buildout-lake/curated/program_scorecard/", filesystem=fs
    ).to_pandas()
    assert len(via_pyarrow) == len(sc)
    lake: Bucket = e2e["lake"]
    for week in WEEKS:
        rows = sc[sc["week"] == week].set_index("area")
        blocked = {
            f
            for f in ("procurement", "fx_rates", "hiring")
            if (lake.get_json_or_none(zones.feed_report(f, week)) or {}).get("blocked")
        }
        if blocked:
            assert (rows["rag"] == "grey").all(), f"{week}: {blocked} blocked but areas not grey"
