"""Landing-file bytes -> typed frame, row rejections and file errors.

CSV is read by pyarrow with every declared column read as a string (`column_types`
explicit, only `""` is null) and then coerced column by column with vectorised pyarrow
compute, strictly:

- text: as is (`po_number` keeps its leading zeros; its 10-digit format is a row rule);
- date: `YYYY-MM-DD` and a real calendar day (no dd/mm/yyyy, no Excel serials);
- timestamp: ISO 8601 with a zone (`Z` or an offset), stored as UTC;
- decimal: plain decimal notation (`-12.50`; no exponent, thousands separator or `%`);
- integer: digits only; boolean: `true` / `false`; number (JSON): a JSON number.

A value that fails coercion sends its row to `rejected` (one line per failing column, with
the raw value unless it is personal data); the rest of the file goes on.

File errors (the whole file is quarantined with the reason, nothing else is read):
`file_too_large` (above `limits.max_file_bytes()`), `empty_file` (0 bytes or blank),
`compressed` / `binary` (known by their first bytes: gzip, zip, Parquet, an Excel workbook...),
`encoding` (not UTF-8: cp1252, UTF-16...), `missing_columns`, `duplicate_columns`,
`unparseable`. `header_only` is also reported as a file error but blocks nothing: the file
contributes no rows, `rows_in` is 0, and the caller should record it (quarantine it with the
reason) and go on; a header-only snapshot must not be read as "everything was deleted".

Rows refused before coercion: `structure:field_count` (CSV), `format:json_line` (JSONL: not
JSON, not an object, a key twice, nested too deep), `structure:line_too_long` (a line longer
than `limits.max_line_bytes()`, never read further), and per text column
`no_control_characters:<column>` (a NUL or another control character; in a free-text column
the characters are replaced by U+FFFD and the row kept, with a warning).

Memory stays bounded by the file's size: the file's bytes are read by pyarrow (a file with
rows of the wrong shape is read again, on one thread, to number them); no line longer than the
line limit ever reaches a parser.

`_row` is the 1-based data row (CSV record after the header; JSONL line number).
"""

from __future__ import annotations

import csv
import json
import logging
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from . import limits
from .pii import MASK, hash_column, mask_value
from .schema import Column, hashed_name
from .spec import FileSpec

log = logging.getLogger(__name__)

REJECTED_COLUMNS = ["_row", "rule", "column", "raw_value", "message"]
RAW_VALUE_MAX = 120

_DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
_TS_RE = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)$"
_DECIMAL_RE = r"^[+-]?(\d+(\.\d+)?|\.\d+)$"
_INTEGER_RE = r"^[+-]?\d{1,18}$"
# C0 controls but tab, line feed and carriage return; DEL; C1 controls (RE2 syntax).
CONTROL_CHARACTERS_RE = r"[\x{00}-\x{08}\x{0B}\x{0C}\x{0E}-\x{1F}\x{7F}-\x{9F}]"
REPLACEMENT_CHARACTER = "\ufffd"
EXTRA_COLUMNS_LISTED = 10  # beyond this, extra columns are summed up in one warning

_EXPECTED = {
    "date": "expected a date YYYY-MM-DD",
    "timestamp": "expected an ISO 8601 timestamp with a zone (Z or an offset)",
    "decimal": "expected a decimal number like 1234.50",
    "integer": "expected an integer",
    "boolean": "expected true or false",
    "number": "expected a JSON number",
    "text": "expected a JSON string",
}
_OUT_OF_RANGE = (
    f"outside the accepted range {limits.MIN_DATE.isoformat()} to "
    f"{limits.MAX_DATE.isoformat()} (a placeholder date?)"
)

# What a file is when its first bytes say so: (magic, rule, what it is). Checked in order.
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"\x1f\x8b", "compressed", "a gzip stream"),
    (b"PK\x03\x04", "compressed", "a zip archive"),
    (b"PK\x05\x06", "compressed", "a zip archive (empty)"),
    (b"PK\x07\x08", "compressed", "a zip archive"),
    (b"BZh", "compressed", "a bzip2 stream"),
    (b"\xfd7zXZ\x00", "compressed", "an xz stream"),
    (b"\x28\xb5\x2f\xfd", "compressed", "a zstd stream"),
    (b"7z\xbc\xaf\x27\x1c", "compressed", "a 7-Zip archive"),
    (b"PAR1", "binary", "a Parquet file"),
    (b"ARROW1", "binary", "an Arrow IPC file"),
    (b"Obj\x01", "binary", "an Avro file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "binary", "an Excel 97-2003 workbook (.xls, OLE2)"),
    (b"%PDF-", "binary", "a PDF document"),
    (b"SQLite format 3\x00", "binary", "an SQLite database"),
)
_BOMS: tuple[tuple[bytes, str], ...] = (  # UTF-32 first: its LE mark starts like UTF-16's
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)
_SNIFF_BYTES = 4096


@dataclass(frozen=True)
class FileError:
    # file_too_large, empty_file, compressed, binary, header_only, encoding, missing_columns,
    # duplicate_columns, unparseable
    rule: str
    reason: str

    @property
    def blocks_rows(self) -> bool:
        """header_only is a recorded fact, not a defect: nothing to quarantine, nothing lost."""
        return self.rule != "header_only"


@dataclass
class ParsedFile:
    spec: FileSpec
    key: str
    frame: pd.DataFrame
    rejected: pd.DataFrame
    file_error: FileError | None = None
    warnings: list[str] = field(default_factory=list)
    rows_in: int = 0
    # The rows refused by coercion, typed like `frame` with the failing values null: their
    # other values for quarantine and for the rules that still apply to them.
    failed: pd.DataFrame | None = None
    # Warning-level rules applied while parsing, with the rows they flagged (kept rows):
    # `no_control_characters:<free-text column>`.
    warned_rules: dict[str, int] = field(default_factory=dict)


def parse_file(spec: FileSpec, key: str, data: bytes, hmac_key: bytes) -> ParsedFile:
    """Parse one landing file. Never raises on bad input: problems come back as data.

    A failure this module did not foresee still refuses only the file, with the error's type
    (its message may quote the file's content, so it is logged without it).
    """
    try:
        parsed = _parse_file(spec, key, data, hmac_key)
        assert isinstance(parsed, ParsedFile)
        return parsed
    except Exception as exc:
        log.exception("%s: unexpected parser failure (%s)", key, type(exc).__name__)
        reason = f"the file cannot be parsed (unexpected {type(exc).__name__}; see the task log)"
        return _failed(spec, key, "unparseable", reason, hmac_key)


def parse_files(
    spec: FileSpec, files: Sequence[tuple[str, bytes]], hmac_key: bytes
) -> list[ParsedFile]:
    """`parse_file` of each file of one JSON Lines kind (a week's site reports), the same
    results at a fraction of the cost: each file's lines are read and refused on their own,
    then the values of all the files are typed together (one pass of `_build`, whose
    Arrow and pandas calls cost about the same on 8 rows as on 2,000) and cut back into
    each file's frame and rejections. A file with a control character in a value, or a
    failure this module did not foresee, is parsed on its own (`tests/feeds/
    test_parse_files.py` compares every file with `parse_file`). Other formats: file by file.
    """
    if spec.format != "jsonl" or len(files) < 2:
        return [parse_file(spec, key, data, hmac_key) for key, data in files]
    out: list[ParsedFile | None] = []
    lines: list[tuple[int, _Lines]] = []
    for i, (key, data) in enumerate(files):
        try:
            first = _parse_file(spec, key, data, hmac_key, lines_only=True)
        except Exception:
            first = parse_file(spec, key, data, hmac_key)  # its failure, handled as alone
        if isinstance(first, _Lines):
            lines.append((i, first))
            out.append(None)
        else:
            out.append(first)
    built = None
    if len(lines) > 1:
        try:
            built = _build_together(spec, [lf for _, lf in lines], hmac_key)
        except Exception:
            log.warning("%s: files typed together failed; typed one by one", spec.kind)
    for n, (i, lf) in enumerate(lines):
        out[i] = built[n] if built is not None else _build_lines(spec, lf, hmac_key)
    return [p for p in out if p is not None]


def _parse_file(
    spec: FileSpec, key: str, data: bytes, hmac_key: bytes, lines_only: bool = False
) -> ParsedFile | _Lines:
    """The file parsed; `lines_only` (JSON Lines): its lines read, not typed yet (a
    `_Lines`, for `parse_files`), unless the file is refused whole."""
    warnings: list[str] = []
    max_file = limits.max_file_bytes()
    if len(data) > max_file:  # the ingest refuses it from the listing, before reading it
        return _failed(spec, key, "file_too_large", too_large_reason(len(data), max_file), hmac_key)
    if not data or data.isspace():  # isspace stops at the first other byte
        return _failed(spec, key, "empty_file", "the file is empty", hmac_key)
    sniffed = _sniff(data)
    if sniffed is not None:
        what, reason = sniffed
        if what == "compressed":  # gzip, zip, bzip2, xz, zstd, 7-Zip
            return _failed(spec, key, "compressed", reason, hmac_key)
        if what == "binary":  # Parquet, Arrow, Avro, an Excel workbook, PDF, SQLite
            return _failed(spec, key, "binary", reason, hmac_key)
        return _failed(spec, key, "encoding", reason, hmac_key)  # UTF-16 or UTF-32
    enc_error = _encoding_error(data)
    if enc_error:
        return _failed(spec, key, "encoding", enc_error, hmac_key)
    max_line = limits.max_line_bytes()
    if spec.format == "jsonl":
        read = _jsonl_lines(spec, key, data, hmac_key, max_line)
        if lines_only or isinstance(read, ParsedFile):
            return read
        return _build_lines(spec, read, hmac_key)

    start = 3 if data[:3] == b"\xef\xbb\xbf" else 0
    header, err = _read_header(data, start, max_line)
    if err:
        return _failed(spec, key, "unparseable", err, hmac_key)
    dupes = sorted(h for h, n in Counter(header).items() if n > 1)
    if dupes:
        return _failed(
            spec, key, "duplicate_columns", f"duplicate column(s): {', '.join(dupes)}", hmac_key
        )
    known = {c.name for c in spec.columns}
    present = set(header)
    missing = [c.name for c in spec.columns if c.required and c.name not in present]
    if missing:
        return _failed(
            spec,
            key,
            "missing_columns",
            f"missing required column(s): {', '.join(missing)}{_case_hint(missing, header)}",
            hmac_key,
        )
    warnings.extend(_extra_warnings("column", [h for h in header if h not in known]))
    wanted = [c for c in spec.kept_columns if c.name in present]
    long_lines = _long_lines(data, max_line, start)
    # each long line is replaced by a marker line the readers refuse as too long
    raw = _mark_long_lines(data, long_lines) if long_lines else data
    body = pa.py_buffer(raw).slice(start)
    names = [c.name for c in wanted]
    try:
        try:
            strings, n = _read_csv_fast(body, header, names, max_line)
            structure_rejects: list[dict[str, Any]] = []
        except _InvalidRows:
            strings, n, structure_rejects = _read_csv_serial(body, header, names, max_line)
    except pa.ArrowException as exc:
        return _failed(spec, key, "unparseable", _arrow_reason(exc, max_line), hmac_key)
    controls = _has_control_characters(raw)
    del body, raw
    if len(long_lines) > sum(r["rule"] == "structure:line_too_long" for r in structure_rejects):
        # a long line inside a quoted value: its marker is in a value, not a row of its own
        strings, n, more = _refuse_marked_values(strings, n, max_line)
        structure_rejects = sorted([*structure_rejects, *more], key=lambda r: r["_row"])
    absent = [c for c in spec.kept_columns if c.name not in present]
    for c in absent:  # an optional column the file omitted: all null
        strings[c.name] = pa.nulls(n, pa.string())
    row_numbers = np.arange(1, n + 1, dtype=np.int64)
    parsed = _build(
        spec, key, strings, row_numbers, hmac_key, structure_rejects, warnings,
        controls=controls,
    )  # fmt: skip
    parsed.rows_in = n + len(structure_rejects)
    if parsed.rows_in == 0:
        parsed.file_error = FileError("header_only", "the file has a header and no data rows")
    return parsed


def too_large_reason(size: int, limit: int) -> str:
    """Why a file above the size limit is refused (the ingest says it from the listing)."""
    return (
        f"the file is {limits.size_text(size)} ({size:,} bytes), above the limit of "
        f"{limits.size_text(limit)} ({limits.MAX_FILE_BYTES_ENV}); it was not read: split the "
        "extract into smaller files or ask the platform team to raise the limit"
    )


def _case_hint(missing: list[str], found: list[str]) -> str:
    """`(found PO_NUMBER: column names are case-sensitive)` when a missing name is present in
    another case (or with other spaces inside)."""
    by_folded: dict[str, str] = {}
    for name in found:
        by_folded.setdefault("".join(name.split()).casefold(), name)
    near = [by_folded[m.casefold()] for m in missing if m.casefold() in by_folded]
    if not near:
        return ""
    shown = ", ".join(repr(n)[1:-1] if n.isprintable() else repr(n) for n in near)
    return f" (found {shown}: names are case-sensitive, write them exactly as listed)"


def _extra_warnings(what: str, extra: list[str]) -> list[str]:
    out = [f"extra {what} {_shown_name(e)} dropped" for e in extra[:EXTRA_COLUMNS_LISTED]]
    if len(extra) > EXTRA_COLUMNS_LISTED:
        out.append(
            f"{len(extra) - EXTRA_COLUMNS_LISTED} more extra {what}s dropped ({len(extra)} in all)"
        )
    return out


def _shown_name(name: str) -> str:
    name = name if len(name) <= RAW_VALUE_MAX else name[:RAW_VALUE_MAX] + "..."
    return repr(mask_value(name))


# --- what the bytes are, encoding and CSV reading -------------------------------------------


def _sniff(data: bytes) -> tuple[str, str] | None:
    """(rule, reason) for a file whose first bytes say it is not text: compressed, binary, or
    UTF-16/UTF-32 (with a byte-order mark, or without one when every other byte is NUL)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return "encoding", f"the file is {name} (byte-order mark found); UTF-8 is required"
    for magic, rule, what in _MAGIC:
        if data.startswith(magic):
            if magic == b"PK\x03\x04" and b"[Content_Types].xml" in data[:_SNIFF_BYTES]:
                rule, what = "binary", "an Office document (an .xlsx workbook is one)"
            if rule == "compressed":
                return rule, (
                    f"the file is {what}, not plain text: deliver the extract uncompressed, "
                    "under its own name"
                )
            return rule, f"the file is {what}, not CSV or JSON Lines: export it as UTF-8 text"
    head = data[:_SNIFF_BYTES]
    nuls = head.count(0)
    if nuls * 4 > len(head):  # text has no NUL bytes; a lone NUL in a value is a row's problem
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd * 10 > len(head) * 4 and even * 10 < len(head):
            return "encoding", "the file looks like UTF-16 (little-endian, no byte-order mark)"
        if even * 10 > len(head) * 4 and odd * 10 < len(head):
            return "encoding", "the file looks like UTF-16 (big-endian, no byte-order mark)"
        return "binary", (
            f"the file is binary ({nuls} NUL bytes in its first {len(head)}), not CSV or JSON "
            "Lines: export it as UTF-8 text"
        )
    return None


def _encoding_error(data: bytes) -> str | None:
    buf = pa.py_buffer(data)
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64).tobytes())
    arr = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, buf])
    try:
        arr.cast(pa.large_string())
    except pa.ArrowInvalid:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            return (
                f"the file is not UTF-8 (invalid byte 0x{data[exc.start]:02x} on line {line}; "
                "cp1252/Latin-1 export?); re-export it as UTF-8"
            )
        return "the file is not UTF-8"
    return None


def _read_header(data: bytes, start: int, max_line: int) -> tuple[list[str], str | None]:
    """The first line, however wide, up to the line limit."""
    end = data.find(b"\n", start, start + max_line + 1)
    if end < 0 and len(data) - start > max_line:
        return [], (
            f"the header row is longer than {limits.size_text(max_line)} "
            f"({limits.MAX_LINE_BYTES_ENV})"
        )
    line = data[start : len(data) if end < 0 else end].decode("utf-8").rstrip("\r")
    try:
        row = next(csv.reader([line]))
    except (csv.Error, StopIteration):
        return [], "the header row cannot be read as CSV"
    names = [h.strip() for h in row]
    if not any(names):
        return [], "the header row is empty"
    return names, None


# --- lines longer than the limit ------------------------------------------------------------

_LONG_MARK = b"\x00buildout:line_too_long:"
_SCAN_CHUNK = 1 << 24


def _long_lines(data: bytes, limit: int, start: int = 0) -> list[tuple[int, int]]:
    """(start, end) of every line longer than `limit` bytes (end excludes its newline).

    A scan of newline positions, 16 MiB at a time: about 0.1 s for 200 MB.
    """
    n = len(data)
    if n - start <= limit:
        return []
    arr = np.frombuffer(data, dtype=np.uint8)
    out: list[tuple[int, int]] = []
    line_start = start
    for s in range(start, n, _SCAN_CHUNK):
        nl = np.flatnonzero(arr[s : s + _SCAN_CHUNK] == 10) + s
        if not len(nl):
            continue
        starts = np.concatenate(([line_start], nl[:-1] + 1))
        for i in np.flatnonzero(nl - starts > limit):
            out.append((int(starts[i]), int(nl[i])))
        line_start = int(nl[-1]) + 1
    if n - line_start > limit:
        out.append((line_start, n))
    return out


def _mark_long_lines(data: bytes, spans: list[tuple[int, int]]) -> bytes:
    """The file with each long line replaced by a short marker naming its length (one field,
    so that every CSV reader refuses it as a row, and the JSONL reader knows it)."""
    parts: list[bytes] = []
    pos = 0
    for s, e in spans:
        parts.append(data[pos:s])
        parts.append(_LONG_MARK + str(e - s).encode() + b"\x00")
        pos = e
    parts.append(data[pos:])
    return b"".join(parts)


def _long_line_length(text: str | bytes) -> int | None:
    """The length a marker line stands for (None: not a marker)."""
    raw = text.encode("utf-8", "replace") if isinstance(text, str) else text
    if not raw.startswith(_LONG_MARK):
        return None
    digits = raw[len(_LONG_MARK) :].rstrip(b"\r").rstrip(b"\x00")
    return int(digits) if digits.isdigit() else None


def _long_line_reject(row: int, length: int, limit: int) -> dict[str, Any]:
    return _reject(
        row,
        "structure:line_too_long",
        None,
        None,
        f"the line is {length:,} bytes, longer than the limit of {limits.size_text(limit)} "
        f"({limits.MAX_LINE_BYTES_ENV}); not read",
    )


def _refuse_marked_values(
    strings: dict[str, pa.Array], n: int, max_line: int
) -> tuple[dict[str, pa.Array], int, list[dict[str, Any]]]:
    """Rows whose value holds a long line's marker (the line was inside quotes) refused."""
    mark = _LONG_MARK.decode()
    rows = strings.pop("__row").to_numpy() if "__row" in strings else np.arange(1, n + 1)
    hit = np.zeros(n, dtype=bool)
    length = np.zeros(n, dtype=np.int64)
    for arr in strings.values():
        found = _ok(pc.match_substring(arr, mark))
        for i in np.flatnonzero(found & ~hit):
            value = arr[int(i)].as_py()
            digits = value[value.index(mark) + len(mark) :].split("\x00", 1)[0]
            length[i] = int(digits) if digits.isdigit() else 0
        hit |= found
    rejects = [
        _long_line_reject(int(rows[i]), int(length[i]), max_line) for i in np.flatnonzero(hit)
    ]
    keep = pa.array(~hit)
    out = {name: arr.filter(keep) for name, arr in strings.items()}
    out["__row"] = pa.array(rows[~hit], pa.int64())
    return out, int((~hit).sum()), rejects


class _InvalidRows(Exception):
    pass


def _block_size(max_line: int) -> int:
    # A record may span lines (a quoted line break); pyarrow needs it inside one block.
    return max(1 << 24, 4 * max_line)


def _read_options(header: list[str], max_line: int, threads: bool) -> pacsv.ReadOptions:
    return pacsv.ReadOptions(
        block_size=_block_size(max_line), column_names=header, skip_rows=1, use_threads=threads
    )


def _convert_options(names: list[str]) -> pacsv.ConvertOptions:
    return pacsv.ConvertOptions(
        include_columns=names,
        column_types=dict.fromkeys(names, pa.string()),
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        null_values=[""],
    )


def _read_csv_fast(
    body: pa.Buffer, header: list[str], names: list[str], max_line: int = 1 << 20
) -> tuple[dict[str, pa.Array], int]:
    """Columns `names` as text. The header row is skipped and `header` (names stripped of
    surrounding spaces) used instead, so ` po_line` in a file is `po_line`."""
    invalid: list[int] = []

    def on_invalid(row: Any) -> str:
        invalid.append(1)
        return "skip"

    table = pacsv.read_csv(
        pa.BufferReader(body),
        read_options=_read_options(header, max_line, threads=True),
        parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
        convert_options=_convert_options(names),
    )
    if invalid:
        raise _InvalidRows()
    return {name: table.column(name).combine_chunks() for name in names}, table.num_rows


_BLANK = -1


def _blank(text: str) -> bool:
    stripped = text.strip()
    return not stripped or stripped == '""'


def _read_csv_serial(
    body: pa.Buffer, header: list[str], names: list[str], max_line: int
) -> tuple[dict[str, pa.Array], int, list[dict[str, Any]]]:
    """Rows with the wrong number of fields (or marked too long): read again by pyarrow, on
    one thread, which numbers each record it hands to the invalid-row handler (the header is
    1; empty lines are not records, as in the fast read). So every valid row's number is
    known, and memory is the same as the fast read's."""
    # data row, fields, and what it is: _BLANK, a marked long line's length, or None
    bad: list[tuple[int, int, int | None]] = []

    def on_invalid(row: Any) -> str:
        text = row.text or ""
        what = _BLANK if _blank(text) else _long_line_length(text)
        bad.append((int(row.number) - 1, int(row.actual_columns), what))
        return "skip"

    table = pacsv.read_csv(
        pa.BufferReader(body),
        read_options=_read_options(header, max_line, threads=False),
        parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
        convert_options=_convert_options(names),
    )
    total = table.num_rows + len(bad)
    skipped = np.array([b[0] for b in bad], dtype=np.int64)
    rows = np.setdiff1d(np.arange(1, total + 1, dtype=np.int64), skipped, assume_unique=True)
    rejects = []
    for number, fields, what in bad:
        if what == _BLANK:
            continue
        if what is not None:
            rejects.append(_long_line_reject(number, what, max_line))
        else:
            rejects.append(_field_count_reject(number, fields, len(header)))
    out = {name: table.column(name).combine_chunks() for name in names}
    out["__row"] = pa.array(rows, pa.int64())
    return out, len(rows), rejects


def _field_count_reject(row: int, fields: int, expected: int) -> dict[str, Any]:
    return _reject(
        row, "structure:field_count", None, None, f"{fields} fields, expected {expected}"
    )


def _arrow_reason(exc: Exception, max_line: int) -> str:
    # pyarrow's message may quote the offending row: keep only its first clause.
    msg = str(exc).split(":", 1)[0]
    if "straddl" in str(exc):
        return (
            f"the CSV cannot be parsed (a record spans more than "
            f"{limits.size_text(_block_size(max_line))}: a quote left open?)"
        )
    return f"the CSV cannot be parsed ({msg})"


# --- JSONL ---------------------------------------------------------------------------------


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _object_without_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


def _nesting_over(line: str, limit: int) -> bool:
    """Whether the JSON text nests arrays and objects deeper than `limit` (strings ignored).
    Counted only for a line with that many brackets at all: a flat line costs two counts."""
    if line.count("[") + line.count("{") <= limit:
        return False
    depth, in_str, escaped = 0, False, False
    for ch in line:
        if in_str:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def _json_line(line: str) -> tuple[Any, str | None]:
    """The decoded line, or why it is refused (`format:json_line`)."""
    if _nesting_over(line, limits.MAX_JSON_DEPTH):
        return None, f"nested deeper than {limits.MAX_JSON_DEPTH} levels"
    try:
        return json.loads(line, object_pairs_hook=_object_without_repeats), None
    except _DuplicateKey as exc:
        return None, f"duplicate key {_shown_name(exc.key)} in a JSON object"
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc.msg} at column {exc.colno})"
    except RecursionError:
        return None, f"nested deeper than {limits.MAX_JSON_DEPTH} levels"
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        return None, f"not valid JSON ({str(exc).split(':', 1)[0]})"


@dataclass
class _Lines:
    """A JSON Lines file read line by line, its values not typed yet."""

    key: str
    rows: list[int]  # the line number of each object read
    values: dict[str, list[Any]]  # kept field -> its value in each object read
    rejects: list[dict[str, Any]]  # lines refused (not JSON, too long...)
    warnings: list[str]
    rows_in: int


def _jsonl_lines(
    spec: FileSpec, key: str, data: bytes, hmac_key: bytes, max_line: int
) -> ParsedFile | _Lines:
    """The file's lines read, or the file refused whole (a ParsedFile with its error)."""
    start = 3 if data[:3] == b"\xef\xbb\xbf" else 0
    long_lines = _long_lines(data, max_line, start)
    if long_lines:
        data = _mark_long_lines(data, long_lines)
    kept = spec.kept_columns
    known = {c.name for c in spec.columns}
    values: dict[str, list[Any]] = {c.name: [] for c in kept}
    rows: list[int] = []
    rejects: list[dict[str, Any]] = []
    seen_keys: set[str] = set()
    rows_in = 0
    pos, lineno, n = start, 0, len(data)
    while pos < n:
        end = data.find(b"\n", pos)
        end = n if end < 0 else end
        raw = data[pos:end]
        pos, lineno = end + 1, lineno + 1
        if not raw.strip():
            continue
        rows_in += 1
        length = _long_line_length(raw)
        if length is not None:
            rejects.append(_long_line_reject(lineno, length, max_line))
            continue
        obj, why = _json_line(raw.decode("utf-8"))
        if why is not None:
            rejects.append(_reject(lineno, "format:json_line", None, None, why))
            continue
        if not isinstance(obj, dict):
            rejects.append(
                _reject(lineno, "format:json_line", None, None, "the line is not a JSON object")
            )
            continue
        seen_keys.update(obj)
        rows.append(lineno)
        for c in kept:
            values[c.name].append(obj.get(c.name))
    if rows_in == 0:
        return _failed(spec, key, "empty_file", "the file has no JSON lines", hmac_key)
    warnings = _extra_warnings("field", sorted(seen_keys - known))
    if rows:
        missing = [c.name for c in spec.columns if c.required and c.name not in seen_keys]
        if missing:
            hint = _case_hint(missing, sorted(seen_keys))
            return _failed(
                spec,
                key,
                "missing_columns",
                f"missing required field(s) in every line: {', '.join(missing)}{hint}",
                hmac_key,
                rows_in=rows_in,
            )
    return _Lines(key, rows, values, rejects, warnings, rows_in)


def _build_lines(spec: FileSpec, lf: _Lines, hmac_key: bytes) -> ParsedFile:
    strings = {"__row": pa.array(lf.rows, pa.int64())}
    parsed = _build(spec, lf.key, strings, None, hmac_key, lf.rejects, lf.warnings, lf.values)
    parsed.rows_in = lf.rows_in
    return parsed


_FILE_SHIFT = 32  # a row of files typed together: file number << 32 | line number


def _build_together(
    spec: FileSpec, files: list[_Lines], hmac_key: bytes
) -> list[ParsedFile] | None:
    """`_build_lines` of each file, from one `_build` of all their values (None when a
    value's control characters were repaired: that warning counts a file's own rows)."""
    rows = np.concatenate(
        [
            (np.int64(n) << _FILE_SHIFT) + np.asarray(lf.rows, dtype=np.int64)
            for n, lf in enumerate(files)
        ]
    )
    values = {c.name: [v for lf in files for v in lf.values[c.name]] for c in spec.kept_columns}
    said: list[str] = []
    together = _build(
        spec, "", {"__row": pa.array(rows, pa.int64())}, None, hmac_key, [], said, values
    )
    if said or together.warned_rules:
        return None
    frames = _cut_by_file(together.frame, len(files))
    failed = (
        _cut_by_file(together.failed, len(files))
        if together.failed is not None
        else [None] * len(files)
    )
    rejected = _cut_by_file(together.rejected, len(files), typed=False)
    out = []
    for lf, frame, fail, rej in zip(files, frames, failed, rejected, strict=True):
        parts = [rej] if len(rej) else []
        parsed = ParsedFile(
            spec, lf.key, frame, _rejected_frame(parts, lf.rejects), None, lf.warnings, 0,
            fail if fail is not None and len(fail) else None, {},
        )  # fmt: skip
        parsed.rows_in = lf.rows_in
        out.append(parsed)
    return out


def _cut_by_file(frame: pd.DataFrame, files: int, typed: bool = True) -> list[pd.DataFrame]:
    """The rows of each file of a frame built for files together (sorted by `_row`), with
    each row's own line number back in `_row` (`_FILE_SHIFT`)."""
    row = frame["_row"].to_numpy(dtype=np.int64)
    cuts = np.searchsorted(row >> _FILE_SHIFT, np.arange(files + 1), side="left")
    out = []
    for n in range(files):
        a, b = int(cuts[n]), int(cuts[n + 1])
        part = frame.iloc[a:b].reset_index(drop=True)
        line = row[a:b] & ((1 << _FILE_SHIFT) - 1)
        part["_row"] = pd.array(line, dtype="Int64") if typed else line
        out.append(part)
    return out


def _json_numbers(vals: list[Any]) -> tuple[pa.Array, np.ndarray]:
    out: list[float | None] = []
    bad = np.zeros(len(vals), dtype=bool)
    for i, v in enumerate(vals):
        if v is None:
            out.append(None)
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            out.append(float(v))
        else:
            out.append(None)
            bad[i] = True
    return pa.array(out, pa.float64()), bad


# --- coercion ------------------------------------------------------------------------------


def _ok(mask: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _coerce(col: Column, arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Typed array (null where the value failed) and the failing-rows mask."""
    present = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    t = col.type
    if t == "text":
        return arr, np.zeros(len(arr), dtype=bool)
    if t == "date":
        try:  # arrow's YYYY-MM-DD parser accepts exactly the strict format and real days
            typed = pc.cast(pc.cast(arr, pa.date32()), pa.timestamp("us"))
        except pa.ArrowInvalid:  # some value is not a date: find which, row by row
            return _coerce_dates_slow(arr, present)
        return typed, np.zeros(len(arr), dtype=bool)
    if t == "timestamp":
        # arrow's ISO 8601 cast is looser in form (`2026-11-02T10Z`) than the contract:
        # the regex decides the form, the cast the calendar and the zone
        okm = _ok(pc.match_substring_regex(arr, _TS_RE))
        candidates = arr if okm.all() else pc.if_else(pa.array(okm), arr, None)
        try:
            typed = pc.cast(candidates, pa.timestamp("us", tz="UTC"))
        except pa.ArrowInvalid:  # a value arrow refuses (Feb 30, 25:00, 9 decimals...)
            return _coerce_timestamps_slow(arr, present, okm)
        return typed, present & ~okm
    if t in ("decimal", "integer"):
        pattern = _DECIMAL_RE if t == "decimal" else _INTEGER_RE
        okm = _ok(pc.match_substring_regex(arr, pattern))
        target = pa.float64() if t == "decimal" else pa.int64()
        typed = pc.cast(arr if okm.all() else pc.if_else(pa.array(okm), arr, None), target)
        return typed, present & ~okm
    if t == "boolean":
        is_true, is_false = pc.equal(arr, "true"), pc.equal(arr, "false")
        okm = _ok(pc.or_(is_true, is_false))
        return pc.fill_null(is_true, False), ~okm  # null fails too: a flag must be set
    if t == "number":
        okm = _ok(pc.match_substring_regex(arr, _DECIMAL_RE))
        return pc.cast(pc.if_else(pa.array(okm), arr, None), pa.float64()), present & ~okm
    raise ValueError(f"unknown column type {t}")


def _coerce_dates_slow(arr: pa.Array, present: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    fmt = pc.match_substring_regex(arr, _DATE_RE)
    parsed = pc.strptime(
        pc.if_else(fmt, arr, None), format="%Y-%m-%d", unit="us", error_is_null=True
    )
    # strptime rolls 2026-02-30 over to March: a real day keeps its day of month
    # (comparing days is 10x cheaper than printing the date back with strftime)
    day = pc.cast(pc.utf8_slice_codeunits(pc.if_else(fmt, arr, None), 8, 10), pa.int64())
    okm = _ok(pc.equal(pc.day(parsed), day))
    return pc.if_else(pa.array(okm), parsed, None), present & ~okm


def _coerce_timestamps_slow(
    arr: pa.Array, present: np.ndarray, fmt: np.ndarray
) -> tuple[pa.Array, np.ndarray]:
    s = pd.Series(pc.if_else(pa.array(fmt), arr, None).to_pandas(), dtype=object)
    parsed = pd.to_datetime(s, format="ISO8601", utc=True, errors="coerce")
    typed = pa.array(parsed.astype("datetime64[us, UTC]"), pa.timestamp("us", tz="UTC"))
    okm = ~parsed.isna().to_numpy()
    return typed, present & ~okm


_MIN_TS = pd.Timestamp(limits.MIN_DATE).as_unit("us")
_MAX_TS = pd.Timestamp(limits.MAX_DATE).as_unit("us") + pd.Timedelta(days=1)  # exclusive


def _bounded(col: Column, arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Dates and timestamps outside the contract's range refused (nulled, with their mask);
    decimals that overflow to infinity too. Other columns as they are."""
    if col.type == "decimal":
        beyond = ~_ok(pc.is_finite(arr)) & np.asarray(arr.is_valid(), dtype=bool)
    elif col.type in ("date", "timestamp") and pa.types.is_timestamp(arr.type):
        tz = arr.type.tz
        lo = pa.scalar(_MIN_TS.tz_localize(tz) if tz else _MIN_TS, arr.type)
        hi = pa.scalar(_MAX_TS.tz_localize(tz) if tz else _MAX_TS, arr.type)
        beyond = _ok(pc.or_(pc.less(arr, lo), pc.greater_equal(arr, hi)))
    else:
        return arr, np.zeros(len(arr), dtype=bool)
    if beyond.any():
        arr = pc.if_else(pa.array(~beyond), arr, pa.scalar(None, arr.type))
    return arr, beyond


_NOT_C0_CONTROL = bytes(
    b for b in range(256) if not (b < 0x20 and b not in (0x09, 0x0A, 0x0D)) and b != 0x7F
)
_C1_CONTROL_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")  # U+0080..U+009F in UTF-8


def _has_control_characters(data: bytes) -> bool:
    """Whether the UTF-8 bytes hold a character of `CONTROL_CHARACTERS_RE` anywhere: a C0
    control but tab, line feed and carriage return, DEL, or a C1 control. A CSV value's
    characters are the file's own bytes (quoting adds none), so a file without one has no
    value with one: 0.2 s for 200 MB, where searching each text column of 1M rows for one
    costs 0.7 s. (Not for JSON Lines: a `\u0000` escape is a NUL in the value only.)"""
    return bool(data.translate(None, _NOT_C0_CONTROL)) or bool(_C1_CONTROL_UTF8.search(data))


def _control_characters(col: Column, arr: pa.Array) -> tuple[pa.Array, np.ndarray, int]:
    """(values, rows refused, rows repaired): a text value holding a control character is
    refused, unless the column is free text: then the characters become U+FFFD."""
    hit = _ok(pc.match_substring_regex(arr, CONTROL_CHARACTERS_RE))
    none = np.zeros(len(arr), dtype=bool)
    if not hit.any():
        return arr, none, 0
    if col.pii == "free_text":
        fixed = pc.replace_substring_regex(arr, CONTROL_CHARACTERS_RE, REPLACEMENT_CHARACTER)
        return fixed, none, int(hit.sum())
    return arr, hit, 0


def _escaped(value: Any) -> Any:
    """A value with its control characters written as \\xNN, for a person to read."""
    if not isinstance(value, str):
        return value
    return "".join(
        f"\\x{ord(ch):02x}"
        if (ord(ch) < 32 and ch not in "\t\n\r") or 127 <= ord(ch) <= 159
        else ch
        for ch in value
    )


def _raw(col: Column, value: Any) -> Any:
    if col.pii is not None:
        return MASK
    if isinstance(value, str) and len(value) > RAW_VALUE_MAX:
        value = value[:RAW_VALUE_MAX] + "..."
    return mask_value(value)


def _reject(row: int, rule: str, column: str | None, raw: Any, message: str) -> dict[str, Any]:
    return {"_row": row, "rule": rule, "column": column, "raw_value": raw, "message": message}


def _build(
    spec: FileSpec,
    key: str,
    strings: dict[str, pa.Array],
    row_numbers: np.ndarray | None,
    hmac_key: bytes,
    rejects: list[dict[str, Any]],
    warnings: list[str],
    json_values: dict[str, list[Any]] | None = None,
    controls: bool = True,
) -> ParsedFile:
    """Coerce every kept column, collect rejections, drop rejected rows, hash, to pandas.

    `json_values` (JSONL only): the decoded values, so that a value of the wrong JSON type
    (a number where a date is due, "85%" where a number is due) is rejected and reported.
    `controls` False: the file's bytes hold no control character (`_has_control_characters`),
    so no value does; the text columns are not searched for one.
    """
    rows = strings.pop("__row").to_numpy() if "__row" in strings else row_numbers
    assert rows is not None
    n = len(rows)
    typed: dict[str, pa.Array] = {}
    failed = np.zeros(n, dtype=bool)
    parts: list[pd.DataFrame] = []
    warned: dict[str, int] = {}
    for col in spec.kept_columns:
        jv = json_values.get(col.name) if json_values is not None else None
        if jv is not None and col.type == "number":
            arr, bad = _json_numbers(jv)
        elif jv is not None:
            wrong = np.array([v is not None and not isinstance(v, str) for v in jv], dtype=bool)
            src = pa.array([v if isinstance(v, str) and v != "" else None for v in jv], pa.string())
            arr, bad = _coerce(col, src)
            bad = bad | wrong
            if col.type == "text":
                arr = pc.if_else(pa.array(~wrong), arr, None) if wrong.any() else arr
        else:
            arr, bad = _coerce(col, strings[col.name])
        arr, beyond = _bounded(col, arr)
        bad = bad | beyond
        if bad.any():
            idx = np.flatnonzero(bad)
            if jv is not None:
                raws: list[Any] = [
                    jv[i] if isinstance(jv[i], str) or jv[i] is None else json.dumps(jv[i])
                    for i in idx
                ]
            else:
                raws = strings[col.name].take(pa.array(idx)).to_pylist()
            empty = [r is None for r in raws]
            far = beyond[idx]
            parts.append(
                pd.DataFrame(
                    {
                        "_row": rows[idx],
                        "rule": [
                            f"required:{col.name}" if e else f"type:{col.name}" for e in empty
                        ],
                        "column": col.name,
                        "raw_value": pd.Series(
                            [None if e else _raw(col, r) for e, r in zip(empty, raws, strict=True)],
                            dtype=object,
                        ),
                        "message": [
                            f"empty: {_EXPECTED[col.type]}"
                            if e
                            else (_OUT_OF_RANGE if f else _EXPECTED[col.type])
                            for e, f in zip(empty, far, strict=True)
                        ],
                    }
                )
            )
            failed |= bad
        if col.type == "text" and len(arr) and controls:
            arr, refused, replaced = _control_characters(col, arr)
            rule = f"no_control_characters:{col.name}"
            if replaced:
                warned[rule] = replaced
                warnings.append(
                    f"control characters in {col.name} replaced by U+FFFD in {replaced} row(s) "
                    f"({rule})"
                )
            if refused.any():
                idx = np.flatnonzero(refused)
                values = arr.take(pa.array(idx)).to_pylist()
                parts.append(
                    pd.DataFrame(
                        {
                            "_row": rows[idx],
                            "rule": rule,
                            "column": col.name,
                            "raw_value": pd.Series(
                                [_raw(col, _escaped(v)) for v in values], dtype=object
                            ),
                            "message": "holds a control character (NUL or another; shown as \\xNN)",
                        }
                    )
                )
                arr = pc.if_else(pa.array(~refused), arr, None)
                failed |= refused
        out_name = col.name
        if col.pii == "hash":
            out_name = hashed_name(col.name)
            arr = hash_column(arr, hmac_key) if len(arr) else pa.array([], pa.string())
        typed[out_name] = arr
    typed["_row"] = pa.array(rows, pa.int64())
    table = pa.table(typed)
    failed_frame = None
    if failed.any():
        failed_frame = _to_frame(table.filter(pa.array(failed)))
        table = table.filter(pa.array(~failed))
    frame = _to_frame(table)
    rejected = _rejected_frame(parts, rejects)
    return ParsedFile(spec, key, frame, rejected, None, warnings, n, failed_frame, warned)


def _rejected_frame(parts: list[pd.DataFrame], rejects: list[dict[str, Any]]) -> pd.DataFrame:
    """The file's rejections in row order: rows refused whole (`rejects`) and the values
    refused column by column (`parts`)."""
    if rejects:
        parts = [pd.DataFrame(rejects, columns=REJECTED_COLUMNS), *parts]
    if not parts:  # most files: no rejection (a copy of one empty frame, typed once)
        return _NO_REJECTIONS.copy()
    rejected = pd.concat(parts, ignore_index=True)
    rejected = rejected.sort_values("_row", kind="stable").reset_index(drop=True)
    return _typed_rejections(rejected)


def _typed_rejections(rejected: pd.DataFrame) -> pd.DataFrame:
    rejected["_row"] = rejected["_row"].astype("Int64")
    rejected["raw_value"] = rejected["raw_value"].astype(object)
    for c in ("rule", "column", "message"):
        rejected[c] = rejected[c].astype("str")
    return rejected


_NO_REJECTIONS = _typed_rejections(
    pd.DataFrame({c: pd.Series(dtype=object) for c in REJECTED_COLUMNS})
)


def _to_frame(table: pa.Table) -> pd.DataFrame:
    # `_row` first, ordered in Arrow (free) rather than by indexing the frame (a copy of
    # every column; a third of a site report's parse).
    table = table.select(["_row"] + [c for c in table.column_names if c != "_row"])
    return table.to_pandas(
        types_mapper={pa.int64(): pd.Int64Dtype()}.get, split_blocks=True, self_destruct=True
    )


def _failed(
    spec: FileSpec, key: str, rule: str, reason: str, hmac_key: bytes, rows_in: int = 0
) -> ParsedFile:
    empty = {c.name: pa.array([], pa.string()) for c in spec.kept_columns}
    json_values: dict[str, list[Any]] | None = {} if spec.format == "jsonl" else None
    parsed = _build(
        spec, key, empty, np.zeros(0, dtype=np.int64), hmac_key or b"-", [], [], json_values
    )
    parsed.file_error = FileError(rule, reason)
    parsed.rows_in = rows_in
    return parsed
