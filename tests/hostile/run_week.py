"""`python -m tests.hostile.run_week WEEK FEED...`: one week's ingest steps in this process,
as a DAG task runs them, against the lake the environment names; prints one JSON line with
every file's outcome, the peak RSS of the process and the time taken.

A child process of the hostile tests, so that its peak RSS is the ingest's own. With
`HOSTILE_FOLDER_MARKERS` (keys joined by newlines), the landing lists those zero-byte
"folder" objects as S3 does (`tests/ingest/s3_listing.py`).
"""

from __future__ import annotations

import json
import os
import sys
import time


def main(argv: list[str]) -> int:
    week, feeds = argv[0], argv[1:]
    t0 = time.perf_counter()
    from buildout_tracker import pipeline
    from buildout_tracker.pipeline import steps

    rt = pipeline.Runtime.from_env(run_id="hostile")
    markers = [m for m in os.environ.get("HOSTILE_FOLDER_MARKERS", "").split("\n") if m]
    from tests.ingest.s3_listing import WithFolderMarkers

    rt.landing = WithFolderMarkers(rt.landing, markers)  # also records what is read
    out: dict[str, object] = {"feeds": {}}
    for feed in feeds:
        outcome = steps.ingest(rt, feed, week)
        report = outcome.report
        out["feeds"][feed] = {  # type: ignore[index]
            "blocked": report.blocked,
            "block_reason": report.block_reason,
            "stray_warnings": report.stray_warnings,
            "misplaced_new": report.misplaced_new,
            "data_docs": outcome.data_docs,
            "files": {
                f.key: {
                    "outcome": f.outcome,
                    "rule": f.rule,
                    "reason": f.reason,
                    "rows_in": f.rows_in,
                    "rows_valid": f.rows_valid,
                    "rows_quarantined": f.rows_quarantined,
                    "top_rules": f.top_rules,
                    "warnings": f.warnings,
                    "gx_success": f.gx_success,
                    "validated_key": f.validated_key,
                    "quarantine_key": f.quarantine_key,
                }
                for f in report.files
            },
        }
    out["landing_reads"] = rt.landing.reads
    from buildout_tracker.timing import peak_rss_mb

    out["peak_rss_mb"] = peak_rss_mb()  # its own, not the test runner's (timing.peak_rss_mb)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
