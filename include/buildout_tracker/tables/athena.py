"""Athena (Hive) DDL for the published tables, generated from their Arrow schemas.

`week` is the Hive partition key of the path (`week=2026-W48/`) and is not stored in the
Parquet files (docs/data-dictionary.md), so the DDL declares it in PARTITIONED BY only and
every other column of the schema in the column list; Athena reads `week` from the path.

Which weeks Athena sees: the DDL enables partition projection with `injected` week values
(`PROJECTION`): nothing to run when a week is published, and every query names its weeks
(`WHERE week = '2026-W48'` or `week IN (...)`). The alternatives are in
docs/reading-the-tables.md: an `enum` projection listing the weeks (`projection_ddl`), or
projection off and catalog partitions (`MSCK REPAIR TABLE`, `add_partition_ddl`). Athena's
`date` projection cannot produce ISO week keys.
"""

from __future__ import annotations

import pyarrow as pa

from buildout_tracker.tables import SCHEMAS
from buildout_tracker.tables.arrow import PARTITION_COLUMN, description

PROJECTION = "injected"  # the projection the generated DDL enables (None: catalog partitions)


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


def _location(location_uri: str) -> str:
    return location_uri if location_uri.endswith("/") else location_uri + "/"


def _qualified(table_name: str, database: str | None) -> str:
    return f"`{database}`.`{table_name}`" if database else f"`{table_name}`"


def projection_properties(
    location_uri: str, kind: str = "injected", weeks: list[str] | None = None
) -> list[tuple[str, str]]:
    """Athena partition projection of `week`: `injected` (each query names its weeks) or
    `enum` (the weeks listed, kept up to date by whoever publishes them)."""
    props = [("projection.enabled", "true"), (f"projection.{PARTITION_COLUMN}.type", kind)]
    if kind == "enum":
        if not weeks:
            raise ValueError("an enum projection lists the published weeks")
        props.append((f"projection.{PARTITION_COLUMN}.values", ",".join(weeks)))
    elif kind != "injected":
        raise ValueError(f"{kind}: use injected or enum (date cannot produce ISO week keys)")
    template = f"{_location(location_uri)}{PARTITION_COLUMN}=${{{PARTITION_COLUMN}}}/"
    props.append(("storage.location.template", template))
    return props


def _properties(props: list[tuple[str, str]]) -> str:
    return ",\n".join(f"  '{k}' = '{v}'" for k, v in props)


def create_table_ddl(
    table_name: str,
    location_uri: str,
    database: str | None = None,
    projection: str | None = PROJECTION,
) -> str:
    """CREATE EXTERNAL TABLE for one published table at e.g. s3://buildout-lake/curated/<table>/,
    with `injected` partition projection of `week` unless `projection` is None."""
    schema = SCHEMAS[table_name]
    location = _location(location_uri)
    columns = [
        f"  `{f.name}` {athena_type(f.type)} COMMENT '{_comment(description(f))}'"
        for f in schema
        if f.name != PARTITION_COLUMN
    ]
    week = schema.field(PARTITION_COLUMN)
    ddl = (
        f"CREATE EXTERNAL TABLE IF NOT EXISTS {_qualified(table_name, database)} (\n"
        + ",\n".join(columns)
        + "\n)\n"
        + f"PARTITIONED BY (`{PARTITION_COLUMN}` {athena_type(week.type)} COMMENT '{_comment(description(week))}')\n"
        + "STORED AS PARQUET\n"
        + f"LOCATION '{location}'"
    )
    if projection is not None:
        ddl += (
            "\nTBLPROPERTIES (\n" + _properties(projection_properties(location, projection)) + "\n)"
        )
    return ddl


def projection_ddl(
    table_name: str,
    location_uri: str,
    kind: str = "enum",
    weeks: list[str] | None = None,
    database: str | None = None,
) -> str:
    """ALTER TABLE ... SET TBLPROPERTIES switching a table's projection (an `enum` of the
    published weeks, re-run after each publication; or back to `injected`)."""
    props = projection_properties(location_uri, kind, weeks)
    return (
        f"ALTER TABLE {_qualified(table_name, database)} SET TBLPROPERTIES (\n"
        + _properties(props)
        + "\n)"
    )


def catalog_partitions_ddl(table_name: str, database: str | None = None) -> str:
    """Projection off: Athena uses the catalog's partitions (MSCK REPAIR TABLE, ADD PARTITION)."""
    return (
        f"ALTER TABLE {_qualified(table_name, database)} "
        "SET TBLPROPERTIES ('projection.enabled' = 'false')"
    )


def add_partition_ddl(
    table_name: str, week: str, location_uri: str, database: str | None = None
) -> str:
    return (
        f"ALTER TABLE {_qualified(table_name, database)} ADD IF NOT EXISTS PARTITION "
        f"({PARTITION_COLUMN} = '{week}') "
        f"LOCATION '{_location(location_uri)}{PARTITION_COLUMN}={week}/'"
    )
