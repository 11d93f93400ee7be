"""Delivery receipts: one per delivered file, at a key safe for any file name, saying what
became of the file with counts and row numbers and no value from it."""

from __future__ import annotations

import json

import pytest

from buildout_tracker.ingest import receipts
from buildout_tracker.ingest.report import FeedWeekReport, FileOutcome, read_report
from tests.ui import helpers as u
from tests.ui.conftest import Published


def test_receipt_keys_are_plain_for_plain_names_and_safe_for_odd_ones() -> None:
    key = receipts.receipt_key("procurement", "2026-09-15", "procurement/2026-09-15/po_lines_1.csv")
    assert key == "receipts/procurement/2026-09-15/po_lines_1.csv.json"
    odd = [
        "../../etc/passwd", "po lines %2e%2e.csv", "..", ".hidden.csv", "a\\b.csv", "x\x00y.csv",
        "über.csv", "sub/dir/file.csv", "%252e%252e%252f.csv", "a" * 400 + ".csv", "-rf.csv",
    ]  # fmt: skip
    keys = {receipts.receipt_key("hiring", "2026-09-15", f"hiring/2026-09-15/{n}") for n in odd}
    assert len(keys) == len(odd), "two odd names never share a receipt"
    for k in keys:
        name = k.split("/", 3)[3]
        assert k.startswith("receipts/hiring/2026-09-15/") and k.count("/") == 3, k
        assert name.endswith(".json") and len(name) <= 130, k
        assert all((c.isalnum() and c.isascii()) or c in "._-" for c in name), k
        assert not name.startswith(".") and ".." not in name, k
    with pytest.raises(ValueError):
        receipts.receipt_key("hiring", "2026-13-45", "hiring/x/a.csv")
    with pytest.raises(KeyError):
        receipts.receipt_key("../lake", "2026-09-15", "x/2026-09-15/a.csv")


def test_every_delivered_file_has_a_receipt_with_rules_rows_and_no_values(
    published: Published,
) -> None:
    lake = published.lake
    report = read_report(lake, "procurement", u.W38)
    assert report is not None
    written = receipts.write_receipts(lake, report)  # again: the same bytes
    assert sorted(written) == sorted(
        receipts.receipt_key_of("procurement", f) for f in receipts.delivered_files(report)
    )
    by_file = {r["landing_key"]: r for k in written if (r := receipts.read_receipt(lake, k))}

    bad = by_file[u.BAD_FILE]
    assert bad["outcome"] == "quarantined" and not bad["accepted"]
    assert bad["refused_file"]["rule"] and "net_value" in bad["refused_file"]["reason"]
    assert bad["source_owner"] == "the ERP team" and bad["rows_accepted"] == 0

    main = by_file["procurement/2026-09-15/po_lines_2026-09-15.csv"]
    assert main["accepted"] and (main["rows_in"], main["rows_accepted"], main["rows_refused"]) == (
        42, 41, 1,
    )  # fmt: skip
    rules = {r["rule"]: r for r in main["rules_broken"]}
    assert rules["format:currency"]["rows"] == 1
    assert rules["format:currency"]["row_numbers"] == [u.BAD_ROW]
    assert rules["format:currency"]["row_numbers_complete"] is True
    assert "format:currency" in main["summary"]
    assert "US DOLLARS" not in json.dumps(main), "no value of the file"


def test_a_hiring_receipt_holds_no_personal_value(published: Published) -> None:
    lake = published.lake
    report = read_report(lake, "hiring", u.W38)
    assert report is not None
    texts = [
        json.dumps(receipts.read_receipt(lake, receipts.receipt_key_of("hiring", f)))
        for f in receipts.delivered_files(report)
    ]
    offers = next(t for t in texts if "offers_" in t)
    assert f'"row_numbers": [{u.BAD_OFFER_ROW}]' in offers
    for text in texts:
        for value in (*u.PERSONAL, "C-3", "maybe"):
            assert value not in text


def test_files_no_run_of_the_week_received_get_no_receipt() -> None:
    base = dict(
        sha256="0" * 64, size=1, week="2026-W38", kind="po_lines", delivery_date="2026-09-15"
    )
    files = [
        FileOutcome(key="procurement/2026-09-15/a.csv", outcome="ingested", **base),
        FileOutcome(key="procurement/2026-09-15/b.csv", outcome="taken_late", **base),
        FileOutcome(key="procurement/2026-09-15/c.csv", outcome="ignored", **base),
        FileOutcome(key="procurement/2026-09-15/d.csv", outcome="duplicate", **base),
    ]  # fmt: skip
    report = FeedWeekReport("procurement", "2026-W38", files)
    assert [f.key[-5:] for f in receipts.delivered_files(report)] == ["a.csv", "d.csv"]
    r = receipts.receipt(report, files[3])
    assert r["outcome"] == "duplicate" and r["rules_broken"] == []
