"""The bounds a delivered file must stay within (docs/feeds.md, "Limits"): its size, the
length of one line, the nesting of a JSON line, the dates a date or timestamp may hold.

The two sizes are configurable by environment (the platform team's settings); the others are
the contract's. Nothing here touches S3.
"""

from __future__ import annotations

import os
from datetime import date

MAX_FILE_BYTES_ENV = "BUILDOUT_MAX_FILE_BYTES"
MAX_LINE_BYTES_ENV = "BUILDOUT_MAX_LINE_BYTES"

# The largest realistic extract is the ERP's full extract of a million PO lines, about 200 MB;
# 512 MiB leaves it room to grow 2.5 times. Parsing and checking a file takes about five times
# its size in memory (1M lines, 170 MB: 870 MB peak), so this also bounds a task's memory.
DEFAULT_MAX_FILE_BYTES = 512 * 1024 * 1024
# A PO line is about 170 bytes, a milestone line about 300: 1 MiB is room for any free text.
DEFAULT_MAX_LINE_BYTES = 1024 * 1024

# A milestone line is a flat object (depth 1); anything deeper than this is not a report.
MAX_JSON_DEPTH = 64

# Every date and timestamp the contract accepts lies in this range (inclusive): far enough
# for any plan or forecast, and inside what every reader of the tables can represent
# (pandas' nanosecond timestamps end in 2262). A placeholder such as 9999-12-31 is refused.
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2199, 12, 31)


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip().replace("_", "")
    if not raw:
        return default
    value = int(raw)
    if value <= 0:
        raise ValueError(f"{name} must be a positive number of bytes, not {raw!r}")
    return value


def max_file_bytes() -> int:
    """Files larger than this are refused (`file_too_large`) before they are read."""
    return _positive_int(MAX_FILE_BYTES_ENV, DEFAULT_MAX_FILE_BYTES)


def max_line_bytes() -> int:
    """A line longer than this is refused on its own (`structure:line_too_long`)."""
    return _positive_int(MAX_LINE_BYTES_ENV, DEFAULT_MAX_LINE_BYTES)


def size_text(n: int) -> str:
    """Bytes for a person: `1.5 GB`, `512 MiB` when exact, `300 bytes`."""
    for unit, step in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= step and n % step == 0:
            return f"{n // step} {unit}"
    for unit, step in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= step:
            return f"{n / step:.1f} {unit}"
    return f"{n} bytes"
