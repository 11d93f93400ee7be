"""Defects appear when asked, are logged, can be found where the log says, and only then."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter

from buildout_tracker.generator import DirSink, generate
from buildout_tracker.generator.defects import ALL_KINDS, ROW_KINDS
from buildout_tracker.weeks import parse_range

EXPECTED_KINDS = {
    "duplicate_file", "utf8_bom", "cp1252_encoding", "excel_po_number", "bad_date_format",
    "unknown_currency", "percent_over_100", "percent_as_text", "actual_after_status",
    "complete_without_actual", "missing_required_column", "extra_column", "empty_file",
    "header_only", "duplicate_req_id", "duplicate_offer_version", "orphan_offer_req",
    "pii_extra_column", "pii_in_team",
}  # fmt: skip


def records(history) -> list[dict]:
    return [json.loads(line) for line in history.log.read_text().splitlines()]


def csv_rows(data: bytes) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    return (rows[0], rows[1:]) if rows else ([], [])


def test_every_kind_appears(defective):
    kinds = Counter(r["kind"] for r in records(defective))
    assert set(ALL_KINDS) == EXPECTED_KINDS
    assert set(kinds) >= EXPECTED_KINDS, EXPECTED_KINDS - set(kinds)
    assert defective.summary.defects == sum(kinds.values())


def test_log_stays_out_of_the_landing_zone(defective):
    assert not defective.log.resolve().is_relative_to(defective.root.resolve())
    assert not any(p.suffix == ".jsonl" and "defect" in p.name for p in defective.root.rglob("*"))


def test_each_logged_defect_is_in_the_file_it_names(defective):
    parsed: dict[str, tuple[list[str], list[list[str]]]] = {}
    for rec in records(defective):
        path = defective.root / rec["key"]
        assert path.is_file(), rec
        data = path.read_bytes()
        kind, row, col, value = rec["kind"], rec["row"], rec["column"], rec["value"]
        if kind == "duplicate_file":
            original = rec["detail"].removeprefix("same bytes as ")
            assert original != rec["key"] and (defective.root / original).read_bytes() == data
        elif kind == "utf8_bom":
            assert data.startswith(b"\xef\xbb\xbf")
        elif kind == "cp1252_encoding":
            try:
                data.decode("utf-8")
                raise AssertionError("cp1252 file decodes as UTF-8")
            except UnicodeDecodeError:
                pass
            assert "Müller" in data.decode("cp1252")
        elif kind == "empty_file":
            assert data == b""
        elif kind == "header_only":
            header, rows = csv_rows(data)
            assert header and rows == []
        elif kind == "missing_required_column":
            assert col not in csv_rows(data)[0]
        elif kind in ("extra_column", "pii_extra_column"):
            assert col in csv_rows(data)[0]
        elif rec["key"].endswith(".jsonl"):
            obj = json.loads(data.decode("utf-8").splitlines()[row - 1])
            assert obj[col] == value, rec
            if kind == "complete_without_actual":
                assert obj["status"] == "complete" and obj["actual_date"] is None
            if kind == "actual_after_status":
                assert obj["actual_date"] > obj["status_date"]
            if kind == "percent_over_100":
                assert obj["percent_complete"] > 100
            if kind == "percent_as_text":
                assert str(obj["percent_complete"]).endswith("%")
        else:
            if rec["key"] not in parsed:
                parsed[rec["key"]] = csv_rows(data)
            header, rows = parsed[rec["key"]]
            cells = dict(zip(header, rows[row - 1], strict=True))
            assert cells[col] == value, rec
            if kind == "duplicate_req_id":
                assert sum(1 for r in rows if r[header.index("req_id")] == value) >= 2
            if kind == "duplicate_offer_version":
                key = (cells["offer_id"], cells["version"])
                assert (
                    sum(
                        1
                        for r in rows
                        if (r[header.index("offer_id")], r[header.index("version")]) == key
                    )
                    >= 2
                )
            if kind == "orphan_offer_req":
                folder = path.parent
                reqs = {
                    r[0]
                    for f in folder.glob("requisitions_*.csv")
                    for r in csv_rows(f.read_bytes())[1]
                }
                assert value not in reqs
            if kind == "excel_po_number":
                assert len(value) != 10 or not value.isdigit()
            if kind == "pii_in_team":
                assert "@" in value


def test_row_defects_stay_under_the_block_threshold_in_most_feed_weeks(defective):
    hits = Counter(
        (r["feed"], r["key"].split("/")[1]) for r in records(defective) if r["kind"] in ROW_KINDS
    )
    rows = Counter()
    for p in defective.root.rglob("*"):
        if p.is_file():
            feed, day = p.relative_to(defective.root).parts[:2]
            text = p.read_bytes().decode("utf-8", errors="replace")
            recs = (
                text.splitlines()
                if p.suffix == ".jsonl"
                else list(csv.reader(io.StringIO(text, newline="")))[1:]
            )
            rows[(feed, day)] += len(recs)
    shares = [hits[k] / rows[k] for k in hits if rows[k]]
    assert shares and sum(1 for s in shares if s > 0.05) <= len(shares) * 0.2


def test_no_defects_when_rate_is_zero(tmp_path, clean):
    log = tmp_path / "log.jsonl"
    summary = generate(
        parse_range("2026-W37:2026-W38"),
        seed=7,
        defects=0.0,
        sink=DirSink(tmp_path / "l"),
        defects_log=log,
    )
    assert summary.defects == 0 and not log.exists()
    for p in clean.root.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            assert data and not data.startswith(b"\xef\xbb\xbf")
            data.decode("utf-8")
            assert not any(s in p.name for s in ("_copy", "_resend", "_2."))


def test_defects_are_deterministic(tmp_path):
    weeks = parse_range("2026-W37:2026-W40")
    for name in ("a", "b"):
        generate(
            weeks,
            seed=3,
            defects=0.05,
            sink=DirSink(tmp_path / name),
            defects_log=tmp_path / f"{name}.jsonl",
        )
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    files_a = sorted(
        p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file()
    )
    assert all(
        (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files_a
    )


def test_higher_rate_hits_more(tmp_path):
    weeks = parse_range("2026-W37:2026-W42")
    low = generate(
        weeks, defects=0.01, sink=DirSink(tmp_path / "lo"), defects_log=tmp_path / "lo.jsonl"
    )
    high = generate(
        weeks, defects=0.2, sink=DirSink(tmp_path / "hi"), defects_log=tmp_path / "hi.jsonl"
    )
    assert high.defects > 3 * low.defects
