"""Published schemas and the conversion of computed frames to Arrow tables with exactly
those schemas (NaN and NaT become null, dates are dates, counts int64)."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from buildout_tracker.model import WeekInputs


def col(name: str, type_: pa.DataType, description: str) -> pa.Field:
    """A published column; its description feeds the data dictionary and the Athena DDL."""
    return pa.field(name, type_, nullable=True, metadata={"description": description})


def description(f: pa.Field) -> str:
    return (f.metadata or {}).get(b"description", b"").decode()


# `week` is the Hive partition key of the path (`curated/<table>/week=2026-W48/`) and is not
# stored in the files (`file_table`): the standard Hive layout, which every reader's natural call
# on a table folder reads (with `week` in the files too, pyarrow.dataset(partitioning="hive")
# fails: "Unable to merge: Field week has incompatible types"). The tables as computed keep it,
# typed as `pq.read_table` and `pandas.read_parquet` type a folder key (dictionary-encoded
# text); our readers of published files re-add it from the partition read (`with_partition`).
PARTITION_COLUMN = "week"
WEEK_TYPE = pa.dictionary(pa.int32(), pa.string())

WEEK_FIELDS: tuple[pa.Field, ...] = (
    col(
        PARTITION_COLUMN,
        WEEK_TYPE,
        "ISO week of the row, written 2026-W48. From the path only (week=2026-W48/): the Hive "
        "partition key, not stored in the files.",
    ),
    col(
        "status_date", pa.date32(), "The Sunday of the week: every to date figure is as of its end."
    ),
)


def schema(*fields: pa.Field) -> pa.Schema:
    return pa.schema([*WEEK_FIELDS, *fields])


def file_schema(schema_: pa.Schema) -> pa.Schema:
    """The schema of a published file: the table's, without the partition column."""
    i = schema_.get_field_index(PARTITION_COLUMN)
    return schema_ if i < 0 else schema_.remove(i)


def file_table(table: pa.Table) -> pa.Table:
    """A computed table as written to its Parquet file: every column but `week`, which the
    partition path carries (`week=<W>/`)."""
    if PARTITION_COLUMN not in table.column_names:
        return table
    return table.drop_columns([PARTITION_COLUMN])


def with_partition(table: pa.Table, week: str) -> pa.Table:
    """A published file's rows with `week` re-added from the partition they were read from, as
    the computed table has it (first column, dictionary-encoded): the inverse of `file_table`.
    A file that carries `week` itself (published before the path-only layout) is left as is."""
    if PARTITION_COLUMN in table.column_names:
        return table
    values = pa.array([week] * table.num_rows, type=pa.string()).dictionary_encode()
    return table.add_column(0, WEEK_FIELDS[0], values.cast(WEEK_TYPE))


def to_table(df: pd.DataFrame, schema_: pa.Schema) -> pa.Table:
    """Frame to Arrow with exactly the published schema (NaN and NaT become null)."""
    arrays = []
    n = len(df)
    for f in schema_:
        if f.name not in df.columns:
            raise KeyError(f"computed frame lacks published column {f.name!r}")
        s = df[f.name]
        arrays.append(_to_array(s, f.type) if n else pa.array([], type=f.type))
    return pa.Table.from_arrays(arrays, schema=schema_)


def _to_array(s: pd.Series, type_: pa.DataType) -> pa.Array:
    values: list[Any]
    if pa.types.is_date32(type_):
        values = [_as_date(v) for v in s.tolist()]
        return pa.array(values, type=type_)
    if pa.types.is_int64(type_):
        values = [None if isnull(v) else int(v) for v in s.tolist()]
        return pa.array(values, type=type_)
    if pa.types.is_float64(type_):
        values = [None if isnull(v) else float(v) for v in s.tolist()]
        return pa.array(values, type=type_)
    if pa.types.is_boolean(type_):
        values = [None if isnull(v) else bool(v) for v in s.tolist()]
        return pa.array(values, type=type_)
    if pa.types.is_string(type_):
        values = [None if isnull(v) else str(v) for v in s.tolist()]
        return pa.array(values, type=type_)
    if pa.types.is_dictionary(type_):
        return _to_array(s, type_.value_type).dictionary_encode().cast(type_)
    if pa.types.is_list(type_):
        values = [None if v is None else [str(x) for x in v] for v in s.tolist()]
        return pa.array(values, type=type_)
    raise TypeError(f"no conversion for {type_}")


def isnull(v: Any) -> bool:
    """None, NA, NaT or a float NaN."""
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float | np.floating):
        return bool(np.isnan(v))
    return False


def _as_date(v: Any) -> date | None:
    if isnull(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.date()
    if isinstance(v, np.datetime64):
        return pd.Timestamp(v).date()
    if isinstance(v, date):
        return v if type(v) is date else v.date()  # type: ignore[attr-defined]
    return pd.Timestamp(v).date()


def with_week(df: pd.DataFrame, inputs: WeekInputs) -> pd.DataFrame:
    df = df.copy()
    df.insert(0, "week", inputs.week)
    df.insert(1, "status_date", inputs.status_date)
    return df
