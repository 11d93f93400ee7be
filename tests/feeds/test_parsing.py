from __future__ import annotations

import json

import pandas as pd
import pytest

from buildout_tracker.feeds import parse_file, spec_for
from buildout_tracker.feeds.hiring import OFFERS
from buildout_tracker.feeds.milestones import MILESTONES
from buildout_tracker.feeds.pii import hmac_hex
from buildout_tracker.feeds.procurement import PO_LINES

from .conftest import KEY, PO_GOOD, po, to_csv


def parse(data: bytes, spec=PO_LINES):
    return parse_file(spec, "procurement/2026-11-23/po_lines_1.csv", data, KEY)


def test_spec_for():
    assert spec_for("procurement", "procurement/2026-11-23/po_lines_x.csv") is PO_LINES
    assert spec_for("procurement", "README.md") is None
    assert spec_for("hiring", "offers_1.csv") is OFFERS
    assert spec_for("milestones", "sites_west.jsonl") is MILESTONES
    assert spec_for("reference", "sites.csv").kind == "sites"
    assert spec_for("reference", "sites_old.csv") is None


def test_good_file_types_bom_quotes_and_newlines():
    p = parse(b"\xef\xbb\xbf" + to_csv([po(), po(po_line="2")]))
    assert p.file_error is None and p.rows_in == 2 and p.rejected.empty
    f = p.frame
    assert list(f["_row"]) == [1, 2] and str(f["_row"].dtype) == "Int64"
    assert f.loc[0, "po_number"] == "0012345678"
    assert f.loc[0, "supplier_name"] == "Acme, Inc" and f.loc[0, "description"] == "pour\nslab"
    assert str(f["po_line"].dtype) == "Int64"
    assert str(f["po_date"].dtype).startswith("datetime64") and f["po_date"].dt.tz is None
    assert str(f["change_ts"].dt.tz) == "UTC"
    assert f["quantity"].dtype == "float64" and f["deleted"].dtype == bool
    assert f.loc[0, "po_date"] == pd.Timestamp("2026-11-02")


def test_columns_reordered_and_empty_is_null():
    cols = list(reversed(PO_GOOD))
    p = parse(to_csv([po(site_id="", last_receipt_date="")], cols))
    assert p.rejected.empty
    assert pd.isna(p.frame.loc[0, "site_id"]) and pd.isna(p.frame.loc[0, "last_receipt_date"])


def test_cp1252_refused_as_file_error():
    data = to_csv([po(supplier_name="Café")]).decode().encode("cp1252")
    p = parse(data)
    assert p.file_error is not None and p.file_error.rule == "encoding"
    assert "UTF-8" in p.file_error.reason and "line 2" in p.file_error.reason
    assert p.frame.empty and next(iter(p.frame.columns)) == "_row"


def test_empty_and_header_only():
    p = parse(b"")
    assert p.file_error.rule == "empty_file" and p.rows_in == 0
    p = parse(to_csv([po()]).split(b"\n")[0] + b"\n")
    assert p.file_error.rule == "header_only" and not p.file_error.blocks_rows
    assert p.rows_in == 0 and p.frame.empty and "po_number" in p.frame.columns


def test_missing_column_rejects_file_naming_it():
    cols = [c for c in PO_GOOD if c != "currency"]
    p = parse(to_csv([po()], cols))
    assert p.file_error.rule == "missing_columns" and "currency" in p.file_error.reason


def test_extra_column_warned_and_dropped_without_values():
    p = parse(to_csv([po(owner="jane.doe@corp.com")], [*PO_GOOD, "owner"]))
    assert p.warnings == ["extra column 'owner' dropped"]
    assert "owner" not in p.frame.columns and "jane" not in " ".join(p.warnings)


def test_coercion_failures_name_column_and_raw_value():
    p = parse(
        to_csv(
            [
                po(),
                po(po_date="02/11/2026"),
                po(requested_delivery_date="46000"),
                po(change_ts="2026-11-02T10:00:00"),
                po(quantity="1,5"),
                po(po_line="1.0"),
                po(deleted="yes"),
                po(po_date="2026-02-30"),
                po(deleted=""),
            ]
        )
    )
    assert p.rows_in == 9 and list(p.frame["_row"]) == [1]
    got = set(zip(p.rejected["_row"], p.rejected["rule"], p.rejected["raw_value"], strict=True))
    assert got == {
        (2, "type:po_date", "02/11/2026"),
        (3, "type:requested_delivery_date", "46000"),
        (4, "type:change_ts", "2026-11-02T10:00:00"),
        (5, "type:quantity", "1,5"),
        (6, "type:po_line", "1.0"),
        (7, "type:deleted", "yes"),
        (8, "type:po_date", "2026-02-30"),
        (9, "required:deleted", None),
    }
    assert set(p.rejected["column"]) >= {"po_date", "quantity"}


def test_excel_mangled_po_number_stays_text():
    p = parse(to_csv([po(po_number="4.5E+09"), po(po_number="12345678")]))
    assert list(p.frame["po_number"]) == ["4.5E+09", "12345678"]  # the format rule quarantines


def test_timestamp_offsets_to_utc():
    p = parse(to_csv([po(change_ts="2026-11-02T10:00:00+08:00")]))
    assert p.frame.loc[0, "change_ts"] == pd.Timestamp("2026-11-02T02:00:00Z")


def test_wrong_field_count_rejects_the_row_keeping_row_numbers():
    good = to_csv([po(description="d"), po(po_line="3", description="d")]).decode().split("\n")
    data = "\n".join([good[0], '"0012345678",1', good[1], good[2]]).encode()
    p = parse(data)
    assert p.rows_in == 3 and list(p.frame["_row"]) == [2, 3]
    assert list(p.rejected["rule"]) == ["structure:field_count"]


def test_stray_pii_masked_in_rejections():
    p = parse(to_csv([po(po_date="bob@example.com")]))
    assert list(p.rejected["raw_value"]) == ["<masked>"]


def offer(**over):
    base = {
        "offer_id": "O1",
        "version": "1",
        "req_id": "R1",
        "candidate_id": "C-77",
        "candidate_name": "Jane Roe",
        "candidate_email": "jane@roe.com",
        "status": "accepted",
        "extended_date": "2026-11-01",
        "resolved_date": "2026-11-03",
        "start_date": "2027-01-04",
    }
    return {**base, **over}


def test_offers_pii_dropped_and_candidate_hashed():
    p = parse_file(OFFERS, "hiring/2026-11-23/offers_1.csv", to_csv([offer()]), KEY)
    assert {"candidate_name", "candidate_email", "candidate_id"}.isdisjoint(p.frame.columns)
    assert p.frame.loc[0, "candidate_key"] == hmac_hex(KEY, "C-77")
    assert "Jane" not in p.frame.to_csv() and "jane@roe.com" not in p.frame.to_csv()


def test_offers_may_omit_dropped_pii_columns():
    cols = [c for c in offer() if c not in ("candidate_name", "candidate_email")]
    p = parse_file(OFFERS, "k", to_csv([offer()], cols), KEY)
    assert p.file_error is None and len(p.frame) == 1


def ms(**over):
    base = {
        "site_id": "SITE01",
        "milestone_code": "LAND_ACQUIRED",
        "status_date": "2026-11-27",
        "forecast_date": "2026-12-01",
        "actual_date": None,
        "percent_complete": 50,
        "status": "in_progress",
        "reported_by": "ctl@corp.com",
        "notes": "call me",
    }
    return {**base, **over}


def jsonl(*objs) -> bytes:
    return "\n".join(o if isinstance(o, str) else json.dumps(o) for o in objs).encode()


def test_jsonl_parse_malformed_line_and_percent_string():
    data = jsonl(ms(), "{not json", ms(percent_complete="85%"), ms(status_date=46000), "")
    p = parse_file(MILESTONES, "milestones/2026-11-23/a.jsonl", data, KEY)
    assert p.rows_in == 4 and list(p.frame["_row"]) == [1]
    got = set(zip(p.rejected["_row"], p.rejected["rule"], p.rejected["raw_value"], strict=True))
    assert got == {
        (2, "format:json_line", None),
        (3, "type:percent_complete", "85%"),
        (4, "type:status_date", "46000"),
    }
    assert {"reported_by", "notes"}.isdisjoint(p.frame.columns)
    assert p.frame["percent_complete"].dtype == "float64"


def test_jsonl_missing_field_and_extra_field():
    o = ms()
    del o["status"]
    p = parse_file(MILESTONES, "k", jsonl(o), KEY)
    assert p.file_error.rule == "missing_columns" and "status" in p.file_error.reason
    p = parse_file(MILESTONES, "k", jsonl(ms(colour="red")), KEY)
    assert p.warnings == ["extra field 'colour' dropped"]


def test_header_names_with_spaces_around_them():
    """`po_number, po_line, ...` (a space after each comma) names the same columns."""
    data = to_csv([po(), po(po_line="2")])
    header, body = data.split(b"\n", 1)
    p = parse(header.replace(b",", b", ") + b"\n" + body)
    assert p.file_error is None and p.rejected.empty and list(p.frame["po_line"]) == [1, 2]


def test_optional_columns_may_be_left_out():
    """Only columns whose values are required must be in the file (docs/feeds.md: "a missing
    required column rejects the file"); a column left out is null in every row."""
    cols = [c for c in PO_GOOD if c not in ("supplier_name", "description", "uom")]
    p = parse(to_csv([po()], cols))
    assert p.file_error is None and p.rejected.empty and p.rows_in == 1
    assert p.frame[["supplier_name", "description", "uom"]].isna().all().all()
    o = ms(status="not_started", percent_complete=0)
    del o["actual_date"]  # a report where nothing is complete may leave the key out
    p = parse_file(MILESTONES, "milestones/2026-11-23/a.jsonl", jsonl(o), KEY)
    assert p.file_error is None and p.rejected.empty and p.frame["actual_date"].isna().all()


def test_lines_of_spaces_only_are_blank_lines():
    data = to_csv([po(), po(po_line="2")]) + b"  \n\t\n\n"
    p = parse(data)
    assert p.file_error is None and p.rejected.empty and p.rows_in == 2


def test_an_unforeseen_parser_failure_refuses_only_the_file(monkeypatch) -> None:
    from buildout_tracker.feeds import parsing

    def boom(*args, **kwargs):
        raise KeyError("secret value from the file")

    monkeypatch.setattr(parsing, "_read_csv_fast", boom)
    p = parse(to_csv([po()]))
    assert p.file_error is not None and p.file_error.rule == "unparseable"
    assert "KeyError" in p.file_error.reason and "secret" not in p.file_error.reason


def test_file_names_of_the_contract_match_the_specs():
    from fnmatch import fnmatchcase

    from buildout_tracker.feeds import FILE_NAMES, SPECS

    for feed, names in FILE_NAMES.items():
        for name in names:
            example = name.replace("*", "2026_11_23")
            assert spec_for(feed, example) is not None, (feed, example)
        for spec in SPECS[feed]:
            example = {"milestones": "DC-SG-01_20261127.jsonl"}.get(feed)
            if example:
                assert spec.matches(example) and any(fnmatchcase(example, n) for n in names)
    assert spec_for("milestones", "DC-SG-01.JSONL") is None
    assert spec_for("procurement", "po_lines_1.csv.gz") is None


# --- hostile input (the probes of 2026-W48) ----------------------------------------------


def test_a_header_wider_than_64_kib_is_read_whole():
    """10,000 columns: the header was cut at 64 KiB and every row refused for its field
    count. The whole first line is the header (up to the line limit)."""
    extra = [f"extra_column_{i:05d}" for i in range(10_000)]
    row = {**po(description="d"), **dict.fromkeys(extra, "x")}
    data = to_csv([row, {**row, "po_line": "2"}], [*PO_GOOD, *extra])
    assert data.index(b"\n") > 65536
    p = parse(data)
    assert p.file_error is None and p.rejected.empty and list(p.frame["po_line"]) == [1, 2]
    assert (
        len(p.warnings) == 11 and p.warnings[-1] == "9990 more extra columns dropped (10000 in all)"
    )


def test_a_line_longer_than_the_limit_is_refused_on_its_own(monkeypatch):
    """A 100 MB record was refused as "straddling object straddles two block boundaries":
    a line over the limit is refused as `structure:line_too_long` with the limit, unread,
    and the rows around it go on (their numbers unchanged)."""
    monkeypatch.setenv("BUILDOUT_MAX_LINE_BYTES", "4096")
    header, *rows = to_csv([po(description="d", po_line=str(i)) for i in (1, 2, 3)]).split(b"\n")
    long = b'"0012345678",9,' + b"x" * 20_000
    p = parse(b"\n".join([header, rows[0], long, rows[1], rows[2]]) + b"\n")
    assert p.file_error is None and p.rows_in == 4 and list(p.frame["_row"]) == [1, 3, 4]
    [rej] = p.rejected.to_dict("records")
    assert rej["_row"] == 2 and rej["rule"] == "structure:line_too_long"
    assert "20,015 bytes" in rej["message"] and "4 KiB" in rej["message"]
    assert "BUILDOUT_MAX_LINE_BYTES" in rej["message"] and pd.isna(rej["raw_value"])


def test_a_long_line_inside_a_quoted_value_refuses_its_row(monkeypatch):
    monkeypatch.setenv("BUILDOUT_MAX_LINE_BYTES", "4096")
    data = to_csv([po(description="a\n" + "y" * 10_000 + "\nb"), po(po_line="2", description="d")])
    p = parse(data)
    assert list(p.frame["_row"]) == [2]
    assert p.rejected["rule"].tolist() == ["structure:line_too_long"]


def test_a_file_above_the_size_limit_is_refused(monkeypatch):
    monkeypatch.setenv("BUILDOUT_MAX_FILE_BYTES", "1000")
    p = parse(to_csv([po(po_line=str(i)) for i in range(1, 20)]))
    assert p.file_error.rule == "file_too_large"
    assert "above the limit of 1.0 kB (BUILDOUT_MAX_FILE_BYTES)" in p.file_error.reason


def _zip(name: str) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name, to_csv([po()]))
    return buf.getvalue()


@pytest.mark.parametrize(
    ("make", "rule", "said"),
    [
        (lambda d: __import__("gzip").compress(d), "compressed", "a gzip stream"),
        (lambda d: _zip("po_lines.csv"), "compressed", "a zip archive"),
        (lambda d: _zip("[Content_Types].xml"), "binary", "an .xlsx workbook"),
        (lambda d: __import__("bz2").compress(d), "compressed", "a bzip2 stream"),
        (lambda d: b"PAR1" + d, "binary", "a Parquet file"),
        (lambda d: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + d, "binary", ".xls"),
        (lambda d: d.decode().encode("utf-16"), "encoding", "UTF-16 (byte-order mark"),
        (lambda d: d.decode().encode("utf-16-le"), "encoding", "UTF-16 (little-endian, no"),
        (lambda d: d.decode().encode("utf-32"), "encoding", "UTF-32"),
        (lambda d: b"\x00\x01\x02\x00" * 1000, "binary", "NUL bytes"),
    ],
    ids=["gzip", "zip", "xlsx", "bzip2", "parquet", "xls", "utf16", "utf16-nobom", "utf32", "bin"],
)
def test_compressed_and_binary_files_are_named_for_what_they_are(make, rule, said):
    """A gzip stream named .csv was refused as "not UTF-8 (invalid byte 0x8b ...; cp1252?)"."""
    p = parse(make(to_csv([po()])))
    assert p.file_error is not None and p.file_error.rule == rule, p.file_error
    assert said in p.file_error.reason and "cp1252" not in p.file_error.reason


def test_a_required_column_in_another_case_is_named():
    data = to_csv([po()]).replace(b"po_number", b"PO_NUMBER", 1)
    p = parse(data)
    assert p.file_error.rule == "missing_columns"
    assert "found PO_NUMBER: names are case-sensitive" in p.file_error.reason
    o = ms()
    o["Status"] = o.pop("status")
    p = parse_file(MILESTONES, "k", jsonl(o), KEY)
    assert p.file_error.rule == "missing_columns" and "found Status" in p.file_error.reason


def test_rows_refused_whole_carry_no_raw_value():
    from buildout_tracker.ingest.quarantine import rejected_rows

    good = to_csv([po(description="d"), po(po_line="3", description="d")]).decode().split("\n")
    p = parse("\n".join([good[0], '"0012345678",1', good[1], good[2]]).encode())
    q = rejected_rows(p.rejected, None)
    assert q["rules"].tolist() == [["structure:field_count"]]
    assert pd.isna(q.loc[0, "raw_values"]) and q.loc[0, "detail"] == "2 fields, expected 20"
    p = parse_file(MILESTONES, "k", jsonl(ms(), "{not json"), KEY)
    assert pd.isna(rejected_rows(p.rejected, None).loc[0, "raw_values"])


def test_nul_and_control_characters_refuse_key_values_and_are_replaced_in_free_text():
    """`'0100406\\x00'` reached the validated zone as a supplier id of its own."""
    p = parse(
        to_csv(
            [
                po(description="d"),
                po(po_line="2", supplier_id="0100406\x00", description="d"),
                po(po_line="3", description="pour\x00slab\x1b[0m", supplier_name="Acme\x07"),
                po(po_line="4", uom="E\u0085A", description="tab\tand\nnewline stay"),
            ]
        )
    )
    assert list(p.frame["_row"]) == [1, 3]
    got = set(zip(p.rejected["_row"], p.rejected["rule"], p.rejected["raw_value"], strict=True))
    assert got == {
        (2, "no_control_characters:supplier_id", "0100406\\x00"),
        (4, "no_control_characters:uom", "E\\x85A"),
    }
    kept = p.frame.set_index("_row")
    assert kept.loc[3, "description"] == "pour\ufffdslab\ufffd[0m"
    assert kept.loc[3, "supplier_name"] == "Acme\ufffd"
    assert p.warned_rules == {
        "no_control_characters:supplier_name": 1,
        "no_control_characters:description": 1,
    }
    assert any("replaced by U+FFFD in 1 row(s)" in w for w in p.warnings)
    # a JSON string: "\u0000" decodes to NUL; the hashed candidate id is checked before hashing
    p = parse_file(MILESTONES, "k", jsonl(ms(site_id="SITE01\u0000")), KEY)
    assert p.rejected["rule"].tolist() == ["no_control_characters:site_id"]
    p = parse_file(OFFERS, "k", to_csv([offer(candidate_id="C-\x00")]), KEY)
    assert p.rejected["rule"].tolist() == ["no_control_characters:candidate_id"]
    assert p.rejected["raw_value"].tolist() == ["<masked>"]


def test_json_lines_nested_too_deep_or_with_a_key_twice_are_refused():
    """10,000 levels raised RecursionError (a traceback, the file refused as unparseable);
    a key twice silently kept the last value."""
    deep = "[" * 10_000 + "]" * 10_000
    deep_in_string = json.dumps({**ms(), "notes": "[" * 10_000})
    huge_int = '{"percent_complete": 1' + "0" * 5000 + "}"
    data = jsonl(ms(), deep, '{"site_id": "A", "site_id": "B"}', huge_int, deep_in_string)
    p = parse_file(MILESTONES, "milestones/2026-11-23/a.jsonl", data, KEY)
    assert p.file_error is None and p.rows_in == 5 and list(p.frame["_row"]) == [1, 5]
    got = dict(zip(p.rejected["_row"], p.rejected["message"], strict=True))
    assert set(p.rejected["rule"]) == {"format:json_line"}
    assert got[2] == "nested deeper than 64 levels"
    assert got[3] == "duplicate key 'site_id' in a JSON object"
    assert got[4].startswith("not valid JSON (Exceeds the limit")


def test_dates_outside_the_contract_range_are_refused_naming_the_row():
    """`9999-12-31` passed every rule and stopped every publication from then on."""
    p = parse(
        to_csv(
            [
                po(),
                po(po_line="2", requested_delivery_date="9999-12-31"),
                po(po_line="3", change_ts="9999-12-31T23:59:59Z"),
                po(po_line="4", po_date="1899-12-31"),
                po(po_line="5", po_date="1900-01-01", requested_delivery_date="2199-12-31"),
                po(po_line="6", change_ts="2199-12-31T23:59:59-01:00"),  # 2200 in UTC
            ]
        )
    )
    assert list(p.frame["_row"]) == [1, 5]
    got = set(zip(p.rejected["_row"], p.rejected["rule"], p.rejected["raw_value"], strict=True))
    assert got == {
        (2, "type:requested_delivery_date", "9999-12-31"),
        (3, "type:change_ts", "9999-12-31T23:59:59Z"),
        (4, "type:po_date", "1899-12-31"),
        (6, "type:change_ts", "2199-12-31T23:59:59-01:00"),
    }
    assert set(p.rejected["message"]) == {
        "outside the accepted range 1900-01-01 to 2199-12-31 (a placeholder date?)"
    }
    p = parse_file(MILESTONES, "k", jsonl(ms(forecast_date="9999-12-31")), KEY)
    assert p.rejected["rule"].tolist() == ["type:forecast_date"]


def test_a_decimal_too_large_for_a_double_is_refused():
    p = parse(to_csv([po(), po(po_line="2", quantity="1" + "0" * 400)]))
    assert p.rejected["rule"].tolist() == ["type:quantity"] and list(p.frame["_row"]) == [1]


def test_wrong_field_count_and_blank_lines_keep_the_fast_reads_row_numbers():
    """The re-read that numbers refused rows counts data rows as the fast read does: blank
    lines are not rows."""
    header, *rows = to_csv([po(description="d", po_line=str(i)) for i in (1, 2, 3)]).split(b"\n")
    data = b"\n".join([header, b"", rows[0], b"1,2", b"  ", rows[1], b"", rows[2]]) + b"\n"
    p = parse(data)
    assert p.rows_in == 4 and list(p.frame["po_line"]) == [1, 2, 3]
    assert list(p.frame["_row"]) == [1, 4, 5] and p.rejected["_row"].tolist() == [2]


def test_the_whole_file_scan_for_control_characters_finds_exactly_the_rule_s_characters():
    """A CSV file without a byte of a control character is not searched column by column
    (`_has_control_characters`): the scan must find every character the rule refuses."""
    import re

    from buildout_tracker.feeds.parsing import CONTROL_CHARACTERS_RE, _has_control_characters

    rule = re.compile(CONTROL_CHARACTERS_RE.replace(r"\x{", r"\x").replace("}", ""))  # RE2 to re
    for cp in range(0x00, 0x3000):
        text = f"a,b{chr(cp)}c\n"
        if 0xD800 <= cp <= 0xDFFF:
            continue
        assert _has_control_characters(text.encode()) == bool(rule.search(text)), hex(cp)
    assert not _has_control_characters("£ é ü\t\r\n € 中".encode())
    # and a file with one is searched: the row is refused as before
    p = parse(to_csv([po(description="d"), po(po_line="2", uom="E\u0085A", description="d")]))
    assert p.rejected["rule"].tolist() == ["no_control_characters:uom"]
