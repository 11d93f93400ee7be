"""`bench_report`: what a week's report costs, measured beside the publication of the same
week in the same process (the caller passes that publication: the report does not import the
layers that publish). Measured, not asserted; the target is a report built in 3 s or less and
with 300 MB or less on top of the publication, for week 100 of a 104-week large history.

Memory is the resident set sampled every 5 ms during each phase (its peak over the RSS when the
phase started), and how much the report raised the process's peak RSS above what the
publication had already reached.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from buildout_tracker.lake import Bucket
from buildout_tracker.timing import peak_rss_mb

PAGE = 4096


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


@contextmanager
def measured(out: dict[str, Any], name: str) -> Iterator[None]:
    """Wall and CPU seconds of the block, and its peak RSS over the RSS at its start."""
    start_rss, start_peak = rss_mb(), peak_rss_mb()
    top = [start_rss]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            top[0] = max(top[0], rss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        done.set()
        sampler.join()
        top[0] = max(top[0], rss_mb())
        out[name] = {
            "seconds": round(wall, 3),
            "cpu_seconds": round(cpu, 3),
            "rss_start_mb": round(start_rss, 1),
            "peak_rss_delta_mb": round(top[0] - start_rss, 1),
            "process_peak_rise_mb": round(max(0.0, peak_rss_mb() - start_peak), 1),
        }


def bench_report(
    lake: Bucket,
    week: str,
    baseline: Callable[[], object] | None = None,
    repeat: int = 2,
) -> dict[str, Any]:
    """Seconds and memory of `build_report(lake, week)` (the first build in the process, with
    vl-convert's start, then `repeat - 1` more), after `baseline()` (the week's publication,
    e.g. `lambda: publish_week(lake, landing, week, run_id=...)`) when given; and, to compare
    the two ways of reading the history, a read of every week from its partitions."""
    from buildout_tracker.report.build import build_report
    from buildout_tracker.report.history import read_history

    out: dict[str, Any] = {"week": week}
    if baseline is not None:
        with measured(out, "publish"):
            baseline()
    with measured(out, "history_from_partitions"):
        cold = read_history(lake, week, store=False)
    out["history_from_partitions"]["stats"] = cold.stats
    out["weeks_in_history"] = len(cold.weeks)
    del cold
    builds = []
    for i in range(max(1, repeat)):
        got: dict[str, Any] = {}
        with measured(got, "build"):
            result = build_report(lake, week)
        got["build"]["phases"] = {k: round(v, 3) for k, v in result.seconds.items()}
        got["build"]["history"] = result.history
        got["build"]["html_bytes"] = result.html_bytes
        got["build"]["first_in_process"] = i == 0
        builds.append(got["build"])
    out["report"] = builds[0]
    out["report_again"] = builds[1:]
    out["html_sha256"] = result.html_sha256
    out["process_peak_rss_mb"] = round(peak_rss_mb(), 1)
    if baseline is not None:
        out["report_over_publish"] = {
            "seconds": round(builds[0]["seconds"] / max(out["publish"]["seconds"], 1e-9), 2),
            "extra_peak_rss_mb": builds[0]["process_peak_rise_mb"],
        }
    return out
