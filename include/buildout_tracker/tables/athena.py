"""Athena (Hive) DDL for the published tables, generated from their Arrow schemas.

`week` is both a column inside every Parquet file (docs/data-dictionary.md: every row carries it) and the Hive
partition key of the path (`week=2026-W48/`). Athena forbids a name in both the column list and
PARTITIONED BY, so the DDL declares `week` only as the partition column; Athena then reads it
from the path and never from the file, which is harmless because the publisher writes the same
value in both. New weeks become visible after `MSCK REPAIR TABLE` or `add_partition_ddl`.
"""

from __future__ import annotations

import pyarrow as pa

from buildout_tracker.tables import SCHEMAS
from buildout_tracker.tables.arrow import description

PARTITION_COLUMN = "week"


def athena_type(t: pa.DataType) -> str:
    if pa.types.is_dictionary(t):  # dictionary encoding is storage only: the value type counts
        return athena_type(t.value_type)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_date32(t):
        return "date"
    if pa.types.is_float64(t):
        return "double"
    if pa.types.is_int64(t):
        return "bigint"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_list(t):
        return f"array<{athena_type(t.value_type)}>"
    raise TypeError(f"no Athena type for {t}")


def _comment(text: str) -> str:
    return text.replace("\\", "/").replace("'", "")


def create_table_ddl(table_name: str, location_uri: str, database: str | None = None) -> str:
    """CREATE EXTERNAL TABLE for one published table at e.g. s3://buildout-lake/curated/<table>/."""
    schema = SCHEMAS[table_name]
    location = location_uri if location_uri.endswith("/") else location_uri + "/"
    qualified = f"`{database}`.`{table_name}`" if database else f"`{table_name}`"
    columns = [
        f"  `{f.name}` {athena_type(f.type)} COMMENT '{_comment(description(f))}'"
        for f in schema
        if f.name != PARTITION_COLUMN
    ]
    week = schema.field(PARTITION_COLUMN)
    return (
        f"CREATE EXTERNAL TABLE IF NOT EXISTS {qualified} (\n"
        + ",\n".join(columns)
        + "\n)\n"
        + f"PARTITIONED BY (`{PARTITION_COLUMN}` {athena_type(week.type)} COMMENT '{_comment(description(week))}')\n"
        + "STORED AS PARQUET\n"
        + f"LOCATION '{location}'"
    )


def add_partition_ddl(
    table_name: str, week: str, location_uri: str, database: str | None = None
) -> str:
    location = location_uri if location_uri.endswith("/") else location_uri + "/"
    qualified = f"`{database}`.`{table_name}`" if database else f"`{table_name}`"
    return (
        f"ALTER TABLE {qualified} ADD IF NOT EXISTS PARTITION ({PARTITION_COLUMN} = '{week}') "
        f"LOCATION '{location}{PARTITION_COLUMN}={week}/'"
    )
