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
`empty_file` (0 bytes or blank), `encoding` (not UTF-8: cp1252, UTF-16...),
`missing_columns`, `duplicate_columns`, `unparseable`. `header_only` is also reported as a
file error but blocks nothing: the file contributes no rows, `rows_in` is 0, and the
caller should record it (quarantine it with the reason) and go on; a header-only
snapshot must not be read as "everything was deleted".

`_row` is the 1-based data row (CSV record after the header; JSONL line number).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

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

_EXPECTED = {
    "date": "expected a date YYYY-MM-DD",
    "timestamp": "expected an ISO 8601 timestamp with a zone (Z or an offset)",
    "decimal": "expected a decimal number like 1234.50",
    "integer": "expected an integer",
    "boolean": "expected true or false",
    "number": "expected a JSON number",
    "text": "expected a JSON string",
}


@dataclass(frozen=True)
class FileError:
    rule: str  # empty_file, header_only, encoding, missing_columns, duplicate_columns, unparseable
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


def parse_file(spec: FileSpec, key: str, data: bytes, hmac_key: bytes) -> ParsedFile:
    """Parse one landing file. Never raises on bad input: problems come back as data.

    A failure this module did not foresee still refuses only the file, with the error's type
    (its message may quote the file's content, so it is logged without it).
    """
    try:
        return _parse_file(spec, key, data, hmac_key)
    except Exception as exc:
        log.exception("%s: unexpected parser failure (%s)", key, type(exc).__name__)
        reason = f"the file cannot be parsed (unexpected {type(exc).__name__}; see the task log)"
        return _failed(spec, key, "unparseable", reason, hmac_key)


def _parse_file(spec: FileSpec, key: str, data: bytes, hmac_key: bytes) -> ParsedFile:
    warnings: list[str] = []
    if not data or data.isspace():  # isspace stops at the first other byte
        return _failed(spec, key, "empty_file", "the file is empty", hmac_key)
    enc_error = _encoding_error(data)
    if enc_error:
        return _failed(spec, key, "encoding", enc_error, hmac_key)
    if spec.format == "jsonl":
        return _parse_jsonl(spec, key, data, hmac_key)

    body = pa.py_buffer(data)
    if data[:3] == b"\xef\xbb\xbf":
        body = body.slice(3)
    header, err = _read_header(body)
    if err:
        return _failed(spec, key, "unparseable", err, hmac_key)
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        return _failed(
            spec, key, "duplicate_columns", f"duplicate column(s): {', '.join(dupes)}", hmac_key
        )
    known = {c.name for c in spec.columns}
    missing = [c.name for c in spec.columns if c.required and c.name not in header]
    if missing:
        return _failed(
            spec,
            key,
            "missing_columns",
            f"missing required column(s): {', '.join(missing)}",
            hmac_key,
        )
    for extra in (h for h in header if h not in known):
        warnings.append(f"extra column {extra!r} dropped")
    wanted = [c for c in spec.kept_columns if c.name in header]
    try:
        strings, n = _read_csv_fast(body, header, [c.name for c in wanted])
    except _InvalidRows:
        strings, n, structure_rejects = _read_csv_slow(body, header, [c.name for c in wanted])
    except pa.ArrowException as exc:
        return _failed(spec, key, "unparseable", _arrow_reason(exc), hmac_key)
    else:
        structure_rejects = []
    absent = [c for c in spec.kept_columns if c.name not in header]
    for c in absent:  # an optional column the file omitted: all null
        strings[c.name] = pa.nulls(n, pa.string())
    row_numbers = np.arange(1, n + 1, dtype=np.int64)
    parsed = _build(spec, key, strings, row_numbers, hmac_key, structure_rejects, warnings)
    parsed.rows_in = n + len(structure_rejects)
    if parsed.rows_in == 0:
        parsed.file_error = FileError("header_only", "the file has a header and no data rows")
    return parsed


# --- encoding and CSV reading ------------------------------------------------------------


def _encoding_error(data: bytes) -> str | None:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "the file is UTF-16 (byte-order mark found); UTF-8 is required"
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


def _read_header(body: pa.Buffer) -> tuple[list[str], str | None]:
    view = memoryview(body)
    head = bytes(view[: min(len(view), 65536)])
    end = head.find(b"\n")
    line = (head if end < 0 else head[:end]).decode("utf-8").rstrip("\r")
    try:
        row = next(csv.reader([line]))
    except (csv.Error, StopIteration):
        return [], "the header row cannot be read as CSV"
    names = [h.strip() for h in row]
    if not any(names):
        return [], "the header row is empty"
    return names, None


class _InvalidRows(Exception):
    pass


def _read_csv_fast(
    body: pa.Buffer, header: list[str], names: list[str]
) -> tuple[dict[str, pa.Array], int]:
    """Columns `names` as text. The header row is skipped and `header` (names stripped of
    surrounding spaces) used instead, so ` po_line` in a file is `po_line`."""
    invalid: list[int] = []

    def on_invalid(row: Any) -> str:
        invalid.append(1)
        return "skip"

    table = pacsv.read_csv(
        pa.BufferReader(body),
        read_options=pacsv.ReadOptions(block_size=1 << 24, column_names=header, skip_rows=1),
        parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(
            include_columns=names,
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            null_values=[""],
        ),
    )
    if invalid:
        raise _InvalidRows()
    return {name: table.column(name).combine_chunks() for name in names}, table.num_rows


def _read_csv_slow(
    body: pa.Buffer, header: list[str], names: list[str]
) -> tuple[dict[str, pa.Array], int, list[dict[str, Any]]]:
    """Rows with the wrong number of fields: Python's csv keeps exact row numbers."""
    text = bytes(memoryview(body)).decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    pos = {h: i for i, h in enumerate(header)}
    cols: dict[str, list[str | None]] = {n: [] for n in names}
    rejects: list[dict[str, Any]] = []
    rows: list[int] = []
    for i, rec in enumerate(reader, start=1):
        if not rec or (len(rec) == 1 and not rec[0].strip()):
            continue  # a blank line, or one of spaces and tabs only
        if len(rec) != len(header):
            rejects.append(
                _reject(
                    i,
                    "structure:field_count",
                    None,
                    None,
                    f"{len(rec)} fields, expected {len(header)}",
                )
            )
            continue
        rows.append(i)
        for n in names:
            v = rec[pos[n]]
            cols[n].append(v if v != "" else None)
    out = {n: pa.array(v, pa.string()) for n, v in cols.items()}
    out["__row"] = pa.array(rows, pa.int64())
    return out, len(rows), rejects


def _arrow_reason(exc: Exception) -> str:
    # pyarrow's message may quote the offending row: keep only its first clause.
    msg = str(exc).split(":", 1)[0]
    return f"the CSV cannot be parsed ({msg})"


# --- JSONL ---------------------------------------------------------------------------------


def _parse_jsonl(spec: FileSpec, key: str, data: bytes, hmac_key: bytes) -> ParsedFile:
    text = data.decode("utf-8-sig")
    kept = spec.kept_columns
    known = {c.name for c in spec.columns}
    values: dict[str, list[Any]] = {c.name: [] for c in kept}
    rows: list[int] = []
    rejects: list[dict[str, Any]] = []
    seen_keys: set[str] = set()
    rows_in = 0
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        rows_in += 1
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            rejects.append(
                _reject(
                    lineno,
                    "format:json_line",
                    None,
                    None,
                    f"not valid JSON ({exc.msg} at column {exc.colno})",
                )
            )
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
    warnings = [f"extra field {k!r} dropped" for k in sorted(seen_keys - known)]
    if rows:
        missing = [c.name for c in spec.columns if c.required and c.name not in seen_keys]
        if missing:
            return _failed(
                spec,
                key,
                "missing_columns",
                f"missing required field(s) in every line: {', '.join(missing)}",
                hmac_key,
                rows_in=rows_in,
            )
    strings = {"__row": pa.array(rows, pa.int64())}
    parsed = _build(spec, key, strings, None, hmac_key, rejects, warnings, values)
    parsed.rows_in = rows_in
    return parsed


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
) -> ParsedFile:
    """Coerce every kept column, collect rejections, drop rejected rows, hash, to pandas.

    `json_values` (JSONL only): the decoded values, so that a value of the wrong JSON type
    (a number where a date is due, "85%" where a number is due) is rejected and reported.
    """
    rows = strings.pop("__row").to_numpy() if "__row" in strings else row_numbers
    assert rows is not None
    n = len(rows)
    typed: dict[str, pa.Array] = {}
    failed = np.zeros(n, dtype=bool)
    parts: list[pd.DataFrame] = []
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
                            f"empty: {_EXPECTED[col.type]}" if e else _EXPECTED[col.type]
                            for e in empty
                        ],
                    }
                )
            )
            failed |= bad
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
    if rejects:
        parts.insert(0, pd.DataFrame(rejects, columns=REJECTED_COLUMNS))
    if parts:
        rejected = pd.concat(parts, ignore_index=True)
        rejected = rejected.sort_values("_row", kind="stable").reset_index(drop=True)
    else:
        rejected = pd.DataFrame({c: pd.Series(dtype=object) for c in REJECTED_COLUMNS})
    rejected["_row"] = rejected["_row"].astype("Int64")
    rejected["raw_value"] = rejected["raw_value"].astype(object)
    for c in ("rule", "column", "message"):
        rejected[c] = rejected[c].astype("str")
    return ParsedFile(spec, key, frame, rejected, None, warnings, n, failed_frame)


def _to_frame(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas(
        types_mapper={pa.int64(): pd.Int64Dtype()}.get, split_blocks=True, self_destruct=True
    )
    return frame[["_row"] + [c for c in frame.columns if c != "_row"]]


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
