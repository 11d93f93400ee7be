"""Hostile landing files, written to disk as a stream (bounded memory whatever their size).

Each writer returns the path it wrote. The rows are the ingest tests' valid PO lines and
milestone reports (`tests/ingest/builders.py`), so that anything refused is refused for the
one hostile thing about it.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from tests.ingest import builders as b

CHUNK = 1 << 20


def _rows(start: int, n: int) -> bytes:
    return b.po_lines_csv([b.po_line(start + i) for i in range(n)]).split(b"\n", 1)[1]


def header() -> bytes:
    return b.po_lines_csv([]).rstrip(b"\n") + b"\n"


def large_po_lines(path: Path, size: int) -> Path:
    """Valid PO lines up to at least `size` bytes (one block of rows repeated)."""
    block = _rows(1, 2000)
    with open(path, "wb") as fh:
        fh.write(header())
        written = 0
        while written < size:
            fh.write(block)
            written += len(block)
    return path


def long_line(path: Path, line_bytes: int) -> Path:
    """Two valid rows around one line of `line_bytes` bytes (a runaway free-text value)."""
    with open(path, "wb") as fh:
        fh.write(header() + _rows(1, 1))
        fh.write(b'"4500000002",1,"2026-09-01","')
        left = line_bytes - 29
        while left > 0:
            fh.write(b"x" * min(CHUNK, left))
            left -= CHUNK
        fh.write(b'"\n' + _rows(3, 1))
    return path


def wide(path: Path, columns: int = 10_000) -> Path:
    """Every listed column plus `columns` extra ones: a header far wider than 64 KiB."""
    extra = [f"extra_column_{i:05d}" for i in range(columns)]
    rows = [{**b.po_line(i), **dict.fromkeys(extra, "x")} for i in (1, 2, 3)]
    path.write_bytes(b.csv_bytes([*b.PO_COLUMNS, *extra], rows))
    return path


def nul_bytes(path: Path) -> Path:
    rows = [
        b.po_line(1),
        b.po_line(2, supplier_id="0100406\x00"),
        b.po_line(3, description="rack\x00servers"),
    ]
    path.write_bytes(b.po_lines_csv(rows))
    return path


def gzip_named_csv(path: Path) -> Path:
    path.write_bytes(gzip.compress(b.po_lines_csv([b.po_line(1)])))
    return path


def duplicate_header(path: Path) -> Path:
    data = b.po_lines_csv([b.po_line(1)])
    first, rest = data.split(b"\n", 1)
    path.write_bytes(first.replace(b",uom,", b", po_number ,", 1) + b"\n" + rest)
    return path


def nested_jsonl(path: Path, site_id: str, status_date: str, depth: int = 10_000) -> Path:
    """A site's report with one line nested `depth` deep and one with a key twice."""
    lines = b.milestone_report(site_id, status_date).decode().splitlines()
    twice = lines[1][:-1] + f', "site_id": "{site_id}"' + "}"
    body = [lines[0], json.dumps({"a": 1})[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}"]
    path.write_text("\n".join([*body, twice, *lines[2:]]) + "\n")
    return path
