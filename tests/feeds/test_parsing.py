from __future__ import annotations

import json

import pandas as pd

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
