"""Wall time per phase of a weekly cycle (ingest, validate, state, compute, audit, publish),
accumulated in-process for benchmarks and the run report. Costs two clock reads a phase.

Also the process's peak memory (`peak_rss_mb`), as benchmarks and the hostile-delivery test
report it."""

from __future__ import annotations

import resource
import sys
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


def peak_rss_mb() -> float:
    """This program's peak resident memory in MiB since it started (Linux: `VmHWM` of
    /proc/self/status).

    Not `getrusage(RUSAGE_SELF).ru_maxrss`: on Linux that survives `exec`, so a child that
    Python's subprocess started (vfork, then exec) reports its parent's peak when the parent's
    was larger: a 355 MB ingest measured 1,036 MB under a test runner that had grown to a GB.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def reset_peak_rss() -> bool:
    """Start `peak_rss_mb` again from what the process holds now (Linux: `5` written to
    /proc/self/clear_refs), so that a benchmark's peak is its own work's and not that of
    the data generated before it. False where that cannot be done."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True
