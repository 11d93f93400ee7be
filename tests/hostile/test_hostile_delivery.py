"""A delivery of hostile files, ingested as a DAG task ingests it, in a child process whose
peak RSS is measured: each file refused or processed with a clear reason, in bounded memory,
the rest of the delivery going on.

The sizes are scaled down for the suite (the size limit is set low by environment);
`python -m tests.hostile.full_size` runs the full-size case (a 1.5 GB file, a 100 MB line)
and prints its figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from buildout_tracker.lake import Bucket
from tests.hostile import files as hf
from tests.ingest import builders as b
from tests.ingest.steps import seed_reference

ROOT = Path(__file__).resolve().parents[2]
WEEK, DAY = "2026-W48", "2026-11-25"  # Monday 2026-11-23 .. Sunday 2026-11-29
MIB = 1 << 20
RSS_LIMIT_MB = 1024
MARKERS = ("hiring/2026-11-28/requisitions_dir.csv/", "milestones/2026-11-26/", "hiring/")


def run_week(env: dict[str, str], feeds: list[str], timeout: int = 600) -> dict[str, Any]:
    """The week's ingest of `feeds` in a child process; its JSON summary."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.hostile.run_week", WEEK, *feeds],
        cwd=ROOT,
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def deliver_hostile_week(landing: Bucket, tmp: Path, big: int, line: int) -> dict[str, str]:
    """The week's deliveries, hostile and good; landing key -> what it is."""
    seed_reference(landing, day="2026-11-23")
    p = f"procurement/{DAY}/"
    on_disk = {
        f"{p}po_lines_huge.csv": hf.large_po_lines(tmp / "huge.csv", big),
        f"{p}po_lines_long_line.csv": hf.long_line(tmp / "long.csv", line),
        f"{p}po_lines_wide.csv": hf.wide(tmp / "wide.csv"),
        f"{p}po_lines_nul.csv": hf.nul_bytes(tmp / "nul.csv"),
        f"{p}po_lines_gzip.csv": hf.gzip_named_csv(tmp / "gz.csv"),
        f"{p}po_lines_dup_header.csv": hf.duplicate_header(tmp / "dup.csv"),
        f"milestones/{DAY}/DC-SG-01.jsonl": hf.nested_jsonl(tmp / "deep.jsonl", "DC-SG-01", DAY),
    }
    for key, path in on_disk.items():
        landing.upload_file(key, str(path))  # streamed: never whole in this process
    good = b.po_lines_csv([b.po_line(100 + i) for i in range(40)])
    landing.put_bytes(f"{p}po_lines_good.csv", good)
    odd = b.po_lines_csv([b.po_line(200 + i) for i in range(40)])
    landing.put_bytes(f"{p}po_lines_ Zürich ünïcödé ..csv", odd)  # spaces, unicode, ".."
    landing.put_bytes(f"milestones/{DAY}/DC-SG-02.jsonl", b.milestone_report("DC-SG-02", DAY))
    reqs = [{"req_id": f"R-{i}"} for i in range(1, 21)]
    offers = [{"offer_id": f"O-{i}", "req_id": f"R-{i}"} for i in range(1, 21)]
    landing.put_bytes("hiring/2026-11-28/requisitions_1.csv", b.requisitions_csv(reqs))
    landing.put_bytes("hiring/2026-11-28/offers_1.csv", b.offers_csv(offers))
    return {k: str(v) for k, v in on_disk.items()}


@pytest.mark.slow
def test_a_hostile_delivery_is_refused_or_processed_with_reasons_in_bounded_memory(
    fresh_buckets: tuple[Bucket, Bucket], s3_env: dict[str, str], tmp_path: Path
) -> None:
    landing, _ = fresh_buckets
    limit = 16 * MIB
    deliver_hostile_week(landing, tmp_path, big=3 * limit, line=4 * MIB)
    env = {
        **s3_env,
        "BUILDOUT_MAX_FILE_BYTES": str(limit),
        "BUILDOUT_PII_HMAC_KEY": "hostile-test-key",
        "HOSTILE_FOLDER_MARKERS": "\n".join(MARKERS),
    }
    got = run_week(env, ["reference", "fx_rates", "procurement", "milestones", "hiring"])
    proc = got["feeds"]["procurement"]["files"]
    p = f"procurement/{DAY}/"

    huge = proc[f"{p}po_lines_huge.csv"]
    assert (huge["outcome"], huge["rule"]) == ("quarantined", "file_too_large")
    assert "above the limit of 16 MiB (BUILDOUT_MAX_FILE_BYTES)" in huge["reason"]

    long = proc[f"{p}po_lines_long_line.csv"]
    assert (long["outcome"], long["rows_in"], long["rows_valid"]) == ("ingested", 3, 2)
    assert long["top_rules"] == {"structure:line_too_long": 1}

    wide = proc[f"{p}po_lines_wide.csv"]
    assert (wide["outcome"], wide["rows_valid"], wide["rows_quarantined"]) == ("ingested", 3, 0)
    assert wide["warnings"][-1] == "9990 more extra columns dropped (10000 in all)"

    nul = proc[f"{p}po_lines_nul.csv"]
    assert (nul["outcome"], nul["rows_valid"]) == ("ingested", 2)
    assert nul["top_rules"] == {"no_control_characters:supplier_id": 1}
    assert any("description replaced by U+FFFD in 1 row(s)" in w for w in nul["warnings"])

    gz = proc[f"{p}po_lines_gzip.csv"]
    assert (gz["outcome"], gz["rule"]) == ("quarantined", "compressed")
    assert "gzip stream" in gz["reason"] and "cp1252" not in gz["reason"]

    dup = proc[f"{p}po_lines_dup_header.csv"]
    assert (dup["outcome"], dup["rule"]) == ("quarantined", "duplicate_columns")
    assert "po_number" in dup["reason"]

    for name in ("po_lines_good.csv", "po_lines_ Zürich ünïcödé ..csv"):
        f = proc[p + name]
        assert (f["outcome"], f["rows_valid"], f["gx_success"]) == ("ingested", 40, True), name
    assert not got["feeds"]["procurement"]["blocked"], got["feeds"]["procurement"]["block_reason"]
    assert got["feeds"]["procurement"]["data_docs"]

    ms = got["feeds"]["milestones"]
    deep = ms["files"][f"milestones/{DAY}/DC-SG-01.jsonl"]
    assert deep["outcome"] == "ingested" and deep["top_rules"] == {"format:json_line": 2}
    assert ms["blocked"] and "all_eight_milestones" in ms["block_reason"]
    assert "DC-SG-01.jsonl" in ms["block_reason"]
    assert ms["files"][f"milestones/{DAY}/DC-SG-02.jsonl"]["gx_success"] is True

    hiring = got["feeds"]["hiring"]
    assert {k: f["outcome"] for k, f in hiring["files"].items()} == {
        "hiring/2026-11-28/requisitions_1.csv": "ingested",
        "hiring/2026-11-28/offers_1.csv": "ingested",
    }
    assert not [w for w in hiring["stray_warnings"] if "not used" in w or "folder" in w]
    for feed in got["feeds"].values():
        assert feed["misplaced_new"] == []
    assert not set(got["landing_reads"]) & set(MARKERS)

    assert got["peak_rss_mb"] < RSS_LIMIT_MB, got["peak_rss_mb"]
    print(f"hostile week: peak RSS {got['peak_rss_mb']:.0f} MB, {got['seconds']} s")
