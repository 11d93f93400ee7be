"""Wall time per phase of a weekly cycle (ingest, validate, state, compute, audit, publish),
accumulated in-process for benchmarks and the run report. Costs two clock reads a phase."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

_totals: dict[str, float] = defaultdict(float)


@contextmanager
def phase(name: str) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        _totals[name] += time.perf_counter() - t0


def snapshot() -> dict[str, float]:
    return dict(_totals)


def reset() -> None:
    _totals.clear()
