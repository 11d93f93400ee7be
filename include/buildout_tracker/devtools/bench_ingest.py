"""`bench_po_lines`: the feed path against a plain pyarrow CSV -> Parquet copy, same process."""

from __future__ import annotations

import csv
import random
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from buildout_tracker.feeds.checks import check_rows
from buildout_tracker.feeds.enums import CATEGORIES, SITE_CATEGORIES, WORKSTREAMS
from buildout_tracker.feeds.gx_suite import GxValidator
from buildout_tracker.feeds.parsing import parse_file
from buildout_tracker.feeds.procurement import COLUMNS, PO_LINES
from buildout_tracker.feeds.schema import RuleContext
from buildout_tracker.ingest.quarantine import rejected_rows
from buildout_tracker.lake import frame_parquet_bytes
from buildout_tracker.timing import peak_rss_mb


def write_synthetic_po_lines(path: Path, rows: int, seed: int = 7) -> Path:
    """A PO-lines file with about 1 % of rows breaking a rule (for benchmarks only)."""
    rnd = random.Random(seed)
    base = date(2026, 9, 1)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([c.name for c in COLUMNS])
        for i in range(rows):
            cat = CATEGORIES[i % len(CATEGORIES)]
            qty = rnd.randint(1, 50)
            price = round(rnd.uniform(1, 5000), 2)
            received = qty if i % 3 == 0 else 0
            po_date = base + timedelta(days=i % 60)
            w.writerow(
                [
                    f"{4500000000 + i // 5:010d}",
                    i % 5 + 1,
                    po_date.isoformat(),
                    f"{po_date.isoformat()}T08:{i % 60:02d}:00Z",
                    f"S{i % 900:04d}",
                    f"Supplier {i % 900}, Ltd",
                    WORKSTREAMS[i % 4],
                    cat,
                    f"SITE{i % 12:02d}" if cat in SITE_CATEGORIES else "",
                    f"item {i}",
                    qty,
                    "EA",
                    price,
                    "USD" if i % 4 else "EUR",
                    f"{qty * price + (5 if i % 100 == 0 else 0):.2f}",
                    (po_date + timedelta(days=30)).isoformat(),
                    received,
                    (po_date + timedelta(days=5)).isoformat() if received else "",
                    "received" if received else "open",
                    "false",
                ]
            )
    return path


def bench_po_lines(
    path: Path | str, repeats: int = 3, ctx: RuleContext | None = None
) -> dict[str, Any]:
    """Alternate (a) pyarrow CSV -> Parquet and (b) parse + rules + GX + split + Parquet.

    Times are the best of `repeats` (each phase's own best in `parts_s`): on a shared
    machine the minimum is the least noisy estimate.
    """
    path = Path(path)
    ctx = ctx or RuleContext(
        week="2026-W48",
        status_date=date(2026, 11, 29),
        known_site_ids={f"SITE{i:02d}" for i in range(12)},
        currencies_with_rate={"EUR"},
    )
    gx = GxValidator()
    gx._validation(PO_LINES, ctx)  # context and suite set up once, outside the timing
    a_times: list[float] = []
    b_times: list[float] = []
    parts: dict[str, float] = {}
    rows = 0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for _ in range(repeats):
            t = time.perf_counter()
            table = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(newlines_in_values=True))
            pq.write_table(table, out / "copy.parquet")
            a_times.append(time.perf_counter() - t)
            del table

            t0 = time.perf_counter()
            parsed = parse_file(PO_LINES, path.name, path.read_bytes(), b"bench-key")
            t1 = time.perf_counter()
            checked = check_rows(PO_LINES, parsed.frame, ctx)
            t2 = time.perf_counter()
            gx.validate(PO_LINES, parsed.frame, path.name, ctx)
            t3 = time.perf_counter()
            # The split as the pipeline writes it (ingest/feed_week.py): valid rows and the
            # refused rows with every rule they broke, as Parquet bytes for the lake.
            (out / "valid.parquet").write_bytes(frame_parquet_bytes(checked.valid))
            rejected = rejected_rows(parsed.rejected, checked.quarantined)
            (out / "q.parquet").write_bytes(frame_parquet_bytes(rejected))
            t4 = time.perf_counter()
            b_times.append(t4 - t0)
            now = {"parse": t1 - t0, "rules": t2 - t1, "gx": t3 - t2, "write": t4 - t3}
            parts = {k: min(v, parts.get(k, v)) for k, v in now.items()}  # best of the repeats
            rows = parsed.rows_in
            del parsed, checked, rejected
    a, b = min(a_times), min(b_times)
    return {
        "rows": rows,
        "copy_s": round(a, 3),
        "feed_path_s": round(b, 3),
        "ratio": round(b / a, 2),
        "parts_s": {k: round(v, 3) for k, v in parts.items()},
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


if __name__ == "__main__":  # python -m buildout_tracker.devtools.bench_ingest [rows]
    import json
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    with tempfile.TemporaryDirectory() as d:
        f = write_synthetic_po_lines(Path(d) / "po_lines_bench.csv", n)
        print(json.dumps(bench_po_lines(f), indent=2))
