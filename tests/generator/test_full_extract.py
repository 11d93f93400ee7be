"""The benchmark extract: N valid lines, written chunk by chunk."""

from __future__ import annotations

import tracemalloc
from datetime import date

import buildout_tracker.generator.erp as erp
from buildout_tracker.generator import DirSink, write_full_extract
from buildout_tracker.generator.pmo import Program
from buildout_tracker.generator.scales import get_scale
from tests.generator.contract import PO_COLUMNS, check_procurement_rows, read_csv


def test_writes_n_valid_lines(tmp_path):
    out = write_full_extract(tmp_path / "po.csv", 12_345, seed=5, chunk_lines=5_000)
    cols, rows = read_csv(tmp_path / "po.csv")
    assert out.rows == len(rows) == 12_345
    assert set(cols) == PO_COLUMNS
    sites = {s.site_id for s in Program("2026-W37", 1, get_scale("large"), 5).sites}
    assert check_procurement_rows(rows, "po.csv", sites, date(2026, 9, 12)) == []
    keys = {(r["po_number"], r["po_line"]) for r in rows}
    assert len(keys) == len(rows)  # a full extract has one row per line


def test_never_builds_more_than_a_chunk(tmp_path, monkeypatch):
    sizes: list[int] = []
    original = erp._random_chunk

    def spy(rng, n, *args):
        sizes.append(n)
        return original(rng, n, *args)

    monkeypatch.setattr(erp, "_random_chunk", spy)
    write_full_extract(tmp_path / "po.csv", 25_000, seed=1, chunk_lines=4_000)
    assert sum(sizes) == 25_000 and max(sizes) <= 4_000


def test_memory_is_bounded_by_the_chunk(tmp_path):
    def peak(n: int) -> int:
        tracemalloc.start()
        write_full_extract(tmp_path / f"po{n}.csv", n, seed=2, chunk_lines=2_500)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, big = peak(5_000), peak(30_000)
    assert big < 1.5 * small  # six times the lines, about the same peak


def test_to_a_sink(tmp_path):
    out = write_full_extract(DirSink(tmp_path), 1_000, seed=3, as_of=date(2026, 11, 28))
    assert out.target == "procurement/2026-11-28/po_lines_full_20261128.csv"
    assert len(read_csv(tmp_path / out.target)[1]) == 1_000
