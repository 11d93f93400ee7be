"""Shared pieces of the synthetic source systems: seeded randomness, dates, file shapes.

Every random draw comes from a generator keyed by (seed, purpose, ...), so a week's
content does not depend on how many weeks come after it, and the same seed gives the
same bytes (no wall clock, no set iteration, no `hash()`).
"""

from __future__ import annotations

import csv
import io
import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np

EXCEL_EPOCH = date(1899, 12, 30)


def rng_for(seed: int, *parts: object) -> np.random.Generator:
    """A generator for one purpose: stable across runs and Python processes."""
    key = zlib.crc32("/".join(str(p) for p in parts).encode())
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, key])


def iso_date(d: date) -> str:
    return d.isoformat()


def iso_ts(seconds: int) -> str:
    """Epoch seconds as ISO 8601 UTC with Z."""
    return datetime.fromtimestamp(int(seconds), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_seconds(d: date, seconds_into_day: int = 0) -> int:
    return int(datetime.combine(d, time(), tzinfo=UTC).timestamp()) + int(seconds_into_day)


def from_ordinal(n: int) -> date:
    return date.fromordinal(int(n))


def add_days(d: date, n: int) -> date:
    return d + timedelta(days=int(n))


@dataclass
class Delivery:
    """One file a source system drops into the landing zone."""

    feed: str
    day: date
    name: str
    header: list[str] | None  # None for JSON lines
    rows: Iterable[Any]  # lists of text for CSV, dicts for JSON lines
    n_rows: int
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.feed}/{self.day.isoformat()}/{self.name}"

    @property
    def is_csv(self) -> bool:
        return self.header is not None


def csv_text_chunks(header: list[str] | None, rows: Iterable[list[str]]) -> Iterator[str]:
    """RFC 4180 CSV (CRLF records, minimal quoting) in chunks of text."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    if header is not None:
        writer.writerow(header)
    for n, row in enumerate(rows, start=1):
        writer.writerow(row)
        if n % 20000 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def jsonl_text_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False) + "\n"


def serialize(d: Delivery, encoding: str = "utf-8", bom: bool = False) -> bytes:
    out = io.BytesIO()
    if bom:
        out.write(b"\xef\xbb\xbf")
    chunks = csv_text_chunks(d.header, d.rows) if d.is_csv else jsonl_text_chunks(d.rows)
    for chunk in chunks:
        out.write(chunk.encode(encoding, errors="replace"))
    return out.getvalue()


FIRST_NAMES = (
    "Aiko", "Amara", "Anders", "Ana", "Bao", "Carlos", "Chen", "Daniela", "Dmitri", "Elif",
    "Emeka", "Fatima", "Felipe", "Freya", "Hana", "Ingrid", "Isabel", "Jae", "Jonas", "Kavya",
    "Kenji", "Lars", "Lena", "Li", "Lucas", "Maya", "Mei", "Mohammed", "Nadia", "Noor",
    "Olga", "Omar", "Priya", "Rafael", "Ravi", "Sofia", "Tariq", "Tomas", "Wei", "Yuki",
)  # fmt: skip
LAST_NAMES = (
    "Almeida", "Andersen", "Bakker", "Chen", "Costa", "Dubois", "Fischer", "Garcia", "Haugen",
    "Ibrahim", "Ito", "Jensen", "Kim", "Kowalski", "Kumar", "Lee", "Li", "Lim", "Moreau",
    "Müller", "Nakamura", "Nguyen", "Novak", "Okafor", "Olsen", "Park", "Patel", "Pereira",
    "Rossi", "Santos", "Schmidt", "Silva", "Singh", "Tan", "Wang", "Weber", "Wong", "Yamamoto",
    "Zhang", "Zhou",
)  # fmt: skip

_ASCII = str.maketrans({"ü": "ue", "ö": "oe", "ä": "ae", "ø": "o", "å": "a", "é": "e", "ã": "a"})


def person(rng: np.random.Generator, domain: str, tag: int | None = None) -> tuple[str, str]:
    """A clearly synthetic (name, e-mail) on a reserved example domain."""
    first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
    last = LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
    local = f"{first}.{last}".lower().translate(_ASCII)
    if tag is not None:
        local += str(tag)
    return f"{first} {last}", f"{local}@{domain}"


def hamilton(total: int, weights: np.ndarray) -> np.ndarray:
    """Split an integer total in proportion to weights (largest remainders)."""
    weights = np.asarray(weights, dtype=float)
    if total <= 0 or weights.sum() <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    exact = weights / weights.sum() * total
    base = np.floor(exact).astype(np.int64)
    rest = total - int(base.sum())
    order = np.argsort(-(exact - base), kind="stable")
    base[order[:rest]] += 1
    return base
