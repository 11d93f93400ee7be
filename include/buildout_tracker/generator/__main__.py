"""Command line: write a synthetic program history, or one large full extract.

    python -m buildout_tracker.generator --weeks 2026-W37:2026-W48 --scale small --seed 7
    python -m buildout_tracker.generator --weeks 2026-W37:2026-W48 --defects 0.02 --out-dir var/landing
    python -m buildout_tracker.generator --full-extract 1000000 --out var/bench/po_lines_full.csv

Without --out-dir the files go to the landing bucket of the configured S3 endpoint
(BUILDOUT_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, BUILDOUT_LANDING_BUCKET).
The defects log goes to a local file, never into the bucket.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from buildout_tracker import settings
from buildout_tracker.generator.core import generate
from buildout_tracker.generator.erp import write_full_extract
from buildout_tracker.generator.scales import SCALES
from buildout_tracker.generator.sinks import BucketSink, DirSink, Sink
from buildout_tracker.weeks import parse_range


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m buildout_tracker.generator", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--weeks", help="ISO week or range, e.g. 2026-W37:2026-W48")
    p.add_argument("--scale", choices=sorted(SCALES), default="small")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--defects", type=float, default=0.0, help="defect rate, 0 for clean files")
    p.add_argument("--out-dir", type=Path, help="write under this folder instead of the bucket")
    p.add_argument("--defects-log", type=Path, help="default: <var>/defects/defects-<seed>.jsonl")
    p.add_argument(
        "--full-extract", type=int, metavar="N", help="write one full extract of N lines"
    )
    p.add_argument("--out", type=Path, help="file for --full-extract")
    return p


def _sink(out_dir: Path | None) -> Sink:
    if out_dir is not None:
        return DirSink(out_dir)
    from buildout_tracker.lake import Bucket

    return BucketSink(Bucket(settings.landing_bucket()))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.perf_counter()
    if args.full_extract is not None:
        target = args.out if args.out is not None else _sink(args.out_dir)
        result = write_full_extract(target, args.full_extract, seed=args.seed)
        took = time.perf_counter() - started
        print(
            f"wrote {result.rows} PO lines ({result.bytes / 1e6:.1f} MB) to {result.target} in {took:.1f}s"
        )
        return 0
    if not args.weeks:
        build_parser().error("--weeks or --full-extract is required")
    log = args.defects_log or settings.var_dir() / "defects" / f"defects-{args.seed}.jsonl"
    summary = generate(
        parse_range(args.weeks),
        scale=args.scale,
        seed=args.seed,
        defects=args.defects,
        sink=_sink(args.out_dir),
        defects_log=log if args.defects > 0 else None,
    )
    print(summary)
    if args.defects > 0:
        print(f"  defects log: {log}")
    print(f"  took {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
