"""`parse_files` (a week's JSON Lines files typed together) gives every file exactly what
`parse_file` gives it alone: frame, refused rows, rows failing coercion, warnings, counts and
file errors, on clean site reports, on site reports with every kind of broken line and value,
on files refused whole between them, and on generated weeks with defects."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from buildout_tracker.feeds import parse_file, parse_files
from buildout_tracker.feeds.milestones import MILESTONES
from buildout_tracker.feeds.schema import Column
from buildout_tracker.feeds.spec import FileSpec

from .conftest import KEY
from .test_parsing import jsonl, ms
from .test_rules import site_report


def assert_same(together, alone) -> None:
    assert together.key == alone.key
    assert together.file_error == alone.file_error
    assert together.warnings == alone.warnings
    assert together.rows_in == alone.rows_in
    assert together.warned_rules == alone.warned_rules
    pd.testing.assert_frame_equal(
        together.frame, alone.frame, check_exact=True, check_index_type=True
    )
    pd.testing.assert_frame_equal(
        together.rejected, alone.rejected, check_exact=True, check_index_type=True
    )
    if alone.failed is None:
        assert together.failed is None
    else:
        pd.testing.assert_frame_equal(
            together.failed, alone.failed, check_exact=True, check_index_type=True
        )


def compare(files, spec=MILESTONES) -> list:
    together = parse_files(spec, files, KEY)
    assert len(together) == len(files)
    for (key, data), got in zip(files, together, strict=True):
        assert_same(got, parse_file(spec, key, data, KEY))
    return together


def report(site: str, overrides=None) -> bytes:
    return jsonl(*site_report(site, overrides))


def test_clean_site_reports() -> None:
    files = [(f"milestones/2026-11-27/S{i}.jsonl", report(f"SITE0{i}")) for i in range(1, 6)]
    got = compare(files)
    assert [len(p.frame) for p in got] == [8] * 5
    assert all(list(p.frame["_row"]) == list(range(1, 9)) for p in got)


def test_broken_lines_and_values_stay_with_their_file() -> None:
    deep = "[" * 100 + "]" * 100
    files = [
        ("m/a.jsonl", report("SITE01")),
        ("m/b.jsonl", jsonl(ms(), "{not json", ms(percent_complete="85%"), ms(status_date=46000))),
        ("m/c.jsonl", jsonl(ms(colour="red"), ms(actual_date="2026-02-30", status="complete"))),
        ("m/d.jsonl", jsonl(ms(), deep, '{"site_id": "A", "site_id": "B"}', "[1, 2]")),
        ("m/e.jsonl", jsonl(ms(site_id="SITE01\u0000"), ms(forecast_date="9999-12-31"))),
        ("m/f.jsonl", b"\xef\xbb\xbf" + jsonl(ms(), "", "   ", ms(milestone_code=7))),
        ("m/g.jsonl", jsonl("{not json", "nor this")),  # every line refused
        ("m/h.jsonl", jsonl(ms(percent_complete=None, site_id=None))),
        ("m/i.jsonl", jsonl(ms(), "x" * 3_000_000)),  # a line over the limit
        ("m/j.jsonl", report("SITE02", {"GROUNDBREAKING": {"percent_complete": "ten"}})),
    ]
    got = compare(files)
    by_key = {p.key: p for p in got}
    assert list(by_key["m/b.jsonl"].rejected["_row"]) == [2, 3, 4]
    assert by_key["m/g.jsonl"].frame.empty and len(by_key["m/g.jsonl"].rejected) == 2
    assert by_key["m/c.jsonl"].warnings == ["extra field 'colour' dropped"]
    assert by_key["m/j.jsonl"].failed is not None and len(by_key["m/j.jsonl"].failed) == 1


def test_files_refused_whole_between_others() -> None:
    missing = ms()
    del missing["status"]
    files = [
        ("m/a.jsonl", report("SITE01")),
        ("m/empty.jsonl", b""),
        ("m/b.jsonl", report("SITE02")),
        ("m/missing.jsonl", jsonl(missing)),
        ("m/zip.jsonl", b"PK\x03\x04" + b"\x00" * 40),
        ("m/cp1252.jsonl", b'{"site_id": "caf\xe9"}\n'),
        ("m/blank.jsonl", b"\n\n  \n"),
        ("m/c.jsonl", report("SITE03")),
    ]
    got = compare(files)
    assert [p.file_error.rule if p.file_error else None for p in got] == [
        None, "empty_file", None, "missing_columns", "compressed", "encoding", "empty_file", None,
    ]  # fmt: skip


def test_a_repaired_control_character_is_counted_by_its_own_file() -> None:
    """A free-text value's control characters are replaced, with a warning that counts the
    file's rows: such files are typed one by one, with the same results."""
    spec = FileSpec(
        feed="test",
        kind="notes",
        pattern=r".*\.jsonl",
        columns=(Column("site_id", "text", required=True), Column("note", "text", pii="free_text")),
        rules=(),
        format="jsonl",
    )
    line = lambda note: json.dumps({"site_id": "S1", "note": note})  # noqa: E731
    files = [
        ("n/a.jsonl", jsonl(line("ok"), line("bell\u0007"))),
        ("n/b.jsonl", jsonl(line("fine"), line("also\u0007"), line("and\u001b"))),
        ("n/c.jsonl", jsonl(line("clean"))),
    ]
    got = compare(files, spec)
    assert [p.warned_rules for p in got] == [
        {"no_control_characters:note": 1},
        {"no_control_characters:note": 2},
        {},
    ]


@pytest.mark.parametrize("weeks", [("2026-W45", "2026-W47")])
def test_generated_weeks_with_defects(weeks) -> None:
    from buildout_tracker.generator import MemorySink, generate
    from buildout_tracker.weeks import week_range

    sink = MemorySink()
    generate(week_range(*weeks), scale="small", seed=11, defects=0.3, sink=sink)
    by_day: dict[str, list[tuple[str, bytes]]] = {}
    for key, data in sorted(sink.files.items()):
        if key.startswith("milestones/") and key.endswith(".jsonl"):
            by_day.setdefault(key.split("/")[1], []).append((key, data))
    assert sum(len(v) for v in by_day.values()) >= 10
    refused = 0
    for files in by_day.values():
        got = compare(files)
        refused += sum(len(p.rejected) for p in got) + sum(p.file_error is not None for p in got)
    assert refused > 0  # the defects reached the parse
