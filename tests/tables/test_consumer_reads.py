"""Published schemas read back as consumers do: a Hive-partitioned folder per table, two weeks.

Local files only: the point is that the files as the publisher writes them (`file_table`: every
column but `week`, which is the `week=` folder's, as docs/data-dictionary.md says) read with
pandas, pyarrow and DuckDB without help, every row with its `week`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from buildout_tracker.lake import parquet_bytes
from buildout_tracker.tables import SCHEMAS, TABLE_NAMES, compute_all
from buildout_tracker.tables.arrow import file_table, with_partition

from . import factory as f


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("curated")
    w47 = compute_all(f.sample_inputs("2026-W47"))
    w48 = compute_all(f.sample_inputs("2026-W48", prior=f.as_prior(w47)))
    for week, tables in (("2026-W47", w47), ("2026-W48", w48)):
        for name, table in tables.items():
            assert table.schema.equals(SCHEMAS[name])
            folder = root / name / f"week={week}"
            folder.mkdir(parents=True)
            pq.write_table(file_table(table), folder / "part-0.parquet")
    return root


@pytest.mark.parametrize("name", TABLE_NAMES)
def test_pandas_and_pyarrow_read_the_table_folder(lake: Path, name: str) -> None:
    df = pd.read_parquet(lake / name)
    assert sorted(df["week"].astype(str).unique()) == ["2026-W47", "2026-W48"]
    assert set(SCHEMAS[name].names) <= set(df.columns)
    t = pq.read_table(lake / name)
    assert t.schema.field("status_date").type == pa.date32()
    d = ds.dataset(lake / name, format="parquet", partitioning="hive").to_table()
    assert sorted(set(d.column("week").to_pylist())) == ["2026-W47", "2026-W48"]
    assert set(SCHEMAS[name].names) == set(d.schema.names)


@pytest.mark.parametrize("name", TABLE_NAMES)
def test_duckdb_reads_with_hive_partitioning(lake: Path, name: str) -> None:
    rows = duckdb.sql(
        f"select week, min(status_date)::varchar, count(*) from read_parquet('{lake / name}/*/*.parquet', "
        "hive_partitioning=true) group by week order by week"
    ).fetchall()
    assert [(w, d) for w, d, _ in rows] == [("2026-W47", "2026-11-22"), ("2026-W48", "2026-11-29")]


def test_scorecard_reasons_are_a_list(lake: Path) -> None:
    rows = duckdb.sql(
        f"select area, rag, rag_reasons from read_parquet('{lake}/program_scorecard/*/*.parquet') "
        "where week = '2026-W48' and area = 'program'"
    ).fetchall()
    assert len(rows) == 1 and isinstance(rows[0][2], list)


def test_the_file_is_the_table_without_week_and_readers_get_it_back() -> None:
    """`file_table` drops `week` (the path carries it); `with_partition` re-adds it where and as
    the computed table has it, so our readers see the table as computed."""
    for name, table in compute_all(f.sample_inputs("2026-W48")).items():
        written = file_table(table)
        assert (
            written.schema.names == SCHEMAS[name].names[1:] and "week" not in written.schema.names
        )
        back = with_partition(pq.read_table(pa.BufferReader(parquet_bytes(written))), "2026-W48")
        assert back.equals(table), name
        assert back.schema.field("week").type == SCHEMAS[name].field("week").type
        assert with_partition(table, "2026-W48") is table  # a file still carrying week: as is
