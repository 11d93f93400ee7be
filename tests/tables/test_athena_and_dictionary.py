"""The Athena DDL and the data dictionary agree with the published schemas."""

from __future__ import annotations

import re

import pyarrow as pa
import pytest

from buildout_tracker.tables import SCHEMAS, TABLE_NAMES, dictionary
from buildout_tracker.tables.athena import add_partition_ddl, create_table_ddl

# Written out independently of athena.athena_type on purpose.
ATHENA = {
    pa.dictionary(pa.int32(), pa.string()): "string",
    pa.string(): "string",
    pa.date32(): "date",
    pa.float64(): "double",
    pa.int64(): "bigint",
    pa.bool_(): "boolean",
    pa.list_(pa.string()): "array<string>",
}
DOC = {
    pa.dictionary(pa.int32(), pa.string()): "string",
    pa.string(): "string",
    pa.date32(): "date",
    pa.float64(): "float64",
    pa.int64(): "int64",
    pa.bool_(): "bool",
    pa.list_(pa.string()): "list<string>",
}
COLUMN = re.compile(r"^\s*`(?P<name>\w+)` (?P<type>[\w<>]+)(?: COMMENT '(?P<comment>[^']*)')?,?$")


def _parse_ddl(ddl: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]], str]:
    body = ddl[ddl.index("(\n") + 2 : ddl.index("\n)\n")]
    columns = []
    for line in body.splitlines():
        m = COLUMN.match(line)
        assert m, f"unparsable DDL line: {line!r}"
        columns.append((m["name"], m["type"]))
    part = re.search(r"PARTITIONED BY \(`(\w+)` (\w+)", ddl)
    loc = re.search(r"LOCATION '([^']+)'", ddl)
    assert part and loc
    return columns, [(part[1], part[2])], loc[1]


@pytest.mark.parametrize("name", TABLE_NAMES)
def test_ddl_matches_schema(name: str) -> None:
    ddl = create_table_ddl(name, f"s3://buildout-lake/curated/{name}", database="buildout")
    assert ddl.startswith(f"CREATE EXTERNAL TABLE IF NOT EXISTS `buildout`.`{name}` (")
    assert "STORED AS PARQUET" in ddl
    columns, partitions, location = _parse_ddl(ddl)
    expected = [(f.name, ATHENA[f.type]) for f in SCHEMAS[name] if f.name != "week"]
    assert columns == expected
    assert partitions == [("week", "string")]
    assert "week" not in [c for c, _ in columns]  # Athena forbids a name in both lists
    assert "status_date" in [c for c, _ in columns]
    assert location == f"s3://buildout-lake/curated/{name}/"


def test_add_partition() -> None:
    assert add_partition_ddl("hiring_weekly", "2026-W48", "s3://b/curated/hiring_weekly/") == (
        "ALTER TABLE `hiring_weekly` ADD IF NOT EXISTS PARTITION (week = '2026-W48') "
        "LOCATION 's3://b/curated/hiring_weekly/week=2026-W48/'"
    )


def test_every_schema_carries_week_and_status_date_and_descriptions() -> None:
    for name, schema in SCHEMAS.items():
        assert schema.names[:2] == ["week", "status_date"], name
        assert schema.field("week").type == pa.dictionary(pa.int32(), pa.string())
        assert schema.field("status_date").type == pa.date32()
        for f in schema:
            assert f.type in DOC, (name, f.name, f.type)
            desc = (f.metadata or {}).get(b"description", b"").decode()
            assert desc, (name, f.name)
            if f.name.endswith("_usd"):
                assert f.type == pa.float64(), (name, f.name)


def _doc_tables(text: str) -> dict[str, dict[str, str]]:
    """Section `## <table>` -> its column table's {column: type}."""
    out: dict[str, dict[str, str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            continue
        m = re.match(r"^\| `(\w+)` \| ([\w<>]+) \| .+ \|$", line)
        if m and current in SCHEMAS:
            out.setdefault(current, {})[m[1]] = m[2]
    return out


def test_every_published_column_documented_with_its_type() -> None:
    text = dictionary.DOC_PATH.read_text(encoding="utf-8")
    documented = _doc_tables(text)
    assert set(documented) == set(TABLE_NAMES)
    for name, schema in SCHEMAS.items():
        assert documented[name] == {f.name: DOC[f.type] for f in schema}, name


def test_dictionary_is_up_to_date() -> None:
    assert dictionary.DOC_PATH.read_text(encoding="utf-8") == dictionary.render(), (
        "docs/data-dictionary.md is stale: run python -m buildout_tracker.tables.dictionary"
    )


@pytest.mark.parametrize(
    "phrase",
    [
        "Its status date is its Sunday",
        "latest rate date on",
        "not deleted and its status is not `cancelled`",
        "up to and including the status date",
        "highest version",
        "slip_days` = (`actual_date` if the milestone is complete",
        "| `spend_pace` | 0.85 to 1.10, both included |",
        "delivered nothing in the week",
        "no measures",
        "at least one\ncurrent PO line",
        "rule = 'delivery'",
        "received_qty >= quantity",
        "estimate at completion EAC = BAC / CPI",
        "to-complete performance index TCPI = (BAC - EV) /",
        "`go_live_slip_change_days`",
        "An area's EAC is therefore not the",
        "The forecasts are not rated",
    ],
)
def test_dictionary_carries_the_definitions(phrase: str) -> None:
    assert phrase in dictionary.DOC_PATH.read_text(encoding="utf-8")
