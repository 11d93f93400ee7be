"""`python -m buildout_tracker.cli <command>`: what the Makefile's targets run."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from typing import Any

DEFAULT_WEEKS = "2026-W37:2026-W48"


def _local_env() -> None:
    """Load (and on first use write) the local .env; values already in the environment win."""
    from buildout_tracker.devtools.lake_server import ensure_env_file, load_env_file

    ensure_env_file()
    load_env_file()
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


def _lake_up() -> Any:
    from buildout_tracker.devtools import procs
    from buildout_tracker.devtools.lake_server import from_env

    server = from_env()
    local = (os.environ.get("BUILDOUT_S3_ENDPOINT") or "").startswith("http://127.0.0.1")
    # Start the local lake unless an S3 server already answers at the configured endpoint
    # (this project's lake from an earlier command, or one a test or an operator runs).
    if local and not procs.port_open(server.host, server.port):
        server.start()
    return server


def cmd_generate(args: argparse.Namespace) -> int:
    from buildout_tracker.generator import BucketSink, generate
    from buildout_tracker.lake import Bucket
    from buildout_tracker.settings import landing_bucket
    from buildout_tracker.weeks import parse_range

    _local_env()
    _lake_up()
    t0 = time.perf_counter()
    summary = generate(
        parse_range(args.weeks),
        scale=args.scale,
        seed=args.seed,
        defects=args.defects,
        sink=BucketSink(Bucket(landing_bucket())),
    )
    print(
        f"generated {args.weeks} (scale {args.scale}, seed {args.seed}, defects {args.defects}) into s3://{landing_bucket()} in {time.perf_counter() - t0:.1f} s"
    )
    print(f"  {summary}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from buildout_tracker import pipeline
    from buildout_tracker.generator import BucketSink, generate
    from buildout_tracker.lake import Bucket
    from buildout_tracker.pipeline import cycle
    from buildout_tracker.settings import landing_bucket, var_dir
    from buildout_tracker.weeks import parse_range

    _local_env()
    _quiet_logs()
    started = time.perf_counter()
    server = _lake_up()
    print(f"[1/3] lake up at {server.endpoint} (files in {server.root})")
    weeks = parse_range(args.weeks)
    summary = generate(
        weeks,
        scale=args.scale,
        seed=args.seed,
        defects=args.defects,
        sink=BucketSink(Bucket(landing_bucket())),
        defects_log=var_dir() / "defects" / f"defects-{args.seed}.jsonl",
    )
    print(
        f"[2/3] generated a program history {args.weeks} ({len(weeks)} weeks, scale {args.scale}, defects {args.defects}) into s3://{landing_bucket()}: {summary}"
    )
    print(
        f"[3/3] running the weekly cycle over {len(weeks)} weeks (ingest, validate, compute, audit, publish)"
    )
    rt = pipeline.Runtime.from_env(run_id=f"make-run-{args.weeks}")
    outcomes = cycle.run_weeks(rt, weeks)
    print_outcome_report(outcomes, rt)
    print(f"\ndone in {time.perf_counter() - started:.0f} s")
    return 0 if all(o.published for o in outcomes[-1:]) else 1


def print_outcome_report(outcomes: list[Any], rt: Any) -> None:
    from buildout_tracker.pipeline.summary import attention_lines, feed_week_line

    last = outcomes[-1]
    print(
        f"\nPer feed, {last.week} (files, duplicates, files quarantined, rows in / validated / quarantined):"
    )
    for report in last.reports.values():
        print(f"  {feed_week_line(report)}")
        for line in attention_lines(report):
            print(f"    {line}")
    for o in outcomes:
        if o.error:
            print(f"\n{o.week}: NOT PUBLISHED: {o.error}")
    if last.published is None:
        return
    sc = last.published.scorecard
    cols = [
        "area",
        "rag",
        "spend_pace",
        "spi",
        "cpi",
        "hiring_attainment",
        "otd_rate",
        "committed_usd",
        "received_usd",
    ]
    print(f"\nProgram scorecard {last.week} (status date {sc['status_date'].iloc[0]}):")
    print(
        sc[[c for c in cols if c in sc]].to_string(index=False, float_format=lambda v: f"{v:,.2f}")
    )
    print("\nReasons (every rule not green):")
    for rec in sc.to_dict(orient="records"):
        raw = rec.get("rag_reasons")
        reasons = [] if raw is None else list(raw)
        print(f"  {rec['area']:<17} {rec['rag']:<6} {'; '.join(map(str, reasons)) or '-'}")
    print("\nWhere to look:")
    print(f"  manifest     {last.published.manifest_uri}")
    for name, uri in last.published.tables.items():
        print(f"  {name:<24} {uri}")
    for feed, uri in last.data_docs.items():
        print(f"  data docs    {feed:<12} {uri}")
    print(f"  quarantine   {rt.lake.uri('quarantine/')}")
    print(f"  validation   {rt.lake.uri('reports/validation/')}")
    print(f"  endpoint     {os.environ.get('BUILDOUT_S3_ENDPOINT')} (credentials in .env)")
    print("  read it      see README, 'Reading the tables' (DuckDB, pandas)")


def cmd_run_week(args: argparse.Namespace) -> int:
    from buildout_tracker.orchestration.dag_runner import run_week_dags

    _local_env()
    _lake_up()
    from buildout_tracker.weeks import parse_range

    return run_week_dags(parse_range(args.week))


def cmd_up(args: argparse.Namespace) -> int:
    from buildout_tracker.devtools import local_airflow

    return local_airflow.main(["up"])


def cmd_down(args: argparse.Namespace) -> int:
    from buildout_tracker.devtools import local_airflow

    return local_airflow.main(["down"])


def cmd_backfill(args: argparse.Namespace) -> int:
    from buildout_tracker.devtools import local_airflow
    from buildout_tracker.weeks import parse_range

    if not local_airflow.status().running:
        print("the local Airflow is not running: `make up` first (the scheduler runs backfills)")
        return 2
    local_airflow.backfill(parse_range(args.weeks), tuple(args.dag) or None)
    print(
        "follow the runs in the UI (Dags -> a DAG -> Runs); publishing follows each week's ingests"
    )
    return 0


def cmd_supersede(args: argparse.Namespace) -> int:
    """Declare a delivered file replaced by its correction, then say how to re-run its week."""
    from datetime import date

    from buildout_tracker.ingest.ledger import supersede_file
    from buildout_tracker.lake import Bucket
    from buildout_tracker.settings import lake_bucket, landing_bucket
    from buildout_tracker.weeks import week_key

    _local_env()
    parts = args.file.split("/")
    try:
        feed, day = parts[0], date.fromisoformat(parts[1])
    except (IndexError, ValueError):
        print(f"not a landing key <feed>/<YYYY-MM-DD>/<file>: {args.file!r}")
        return 2
    if not Bucket(landing_bucket()).exists(args.file):
        print(f"no such file in s3://{landing_bucket()}: {args.file}")
        return 2
    week = week_key(day)
    supersede_file(Bucket(lake_bucket()), feed, week, args.file, args.reason)
    print(f"{args.file} superseded ({args.reason}); its rows and failures no longer count.")
    print(f"re-run its week: make run-week WEEK={week} (or clear the week's run in Airflow)")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from buildout_tracker.devtools import bench

    _local_env()
    return bench.main(args.what)


def _quiet_logs() -> None:
    """The run's own report is the output: libraries speak only when something is wrong.
    (GX sets some of its module loggers to INFO itself: a handler filter keeps them quiet.)"""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("great_expectations", "botocore", "urllib3", "buildout_tracker"):
        logging.getLogger(name).setLevel(logging.ERROR)
    for handler in logging.getLogger().handlers:
        handler.addFilter(
            lambda r: r.levelno >= logging.ERROR or not r.name.startswith("great_expectations")
        )


def _weeks_arg(spec: str) -> str:
    """An ISO week or range, checked before anything runs (a clear message, no traceback)."""
    from buildout_tracker.weeks import parse_range

    try:
        if not parse_range(spec):
            raise ValueError("the range is empty (first week after last?)")
    except ValueError as exc:
        msg = f"{spec!r}: {exc} (write 2026-W48 or 2026-W37:2026-W48)"
        raise argparse.ArgumentTypeError(msg) from None
    return spec


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="buildout", description="Buildout Tracker commands.")
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="write synthetic deliveries into the landing bucket")
    r = sub.add_parser("run", help="lake, default history, the weekly cycle over it, a summary")
    for p in (g, r):
        p.add_argument("--weeks", default=DEFAULT_WEEKS, type=_weeks_arg)
        p.add_argument("--scale", default="small", choices=["small", "medium", "large"])
        p.add_argument("--seed", type=int, default=7)
        p.add_argument("--defects", type=float, default=0.0)
    g.set_defaults(func=cmd_generate)
    r.set_defaults(func=cmd_run)
    w = sub.add_parser(
        "run-week", help="run one week's DAGs with dag.test() against the landing bucket"
    )
    w.add_argument(
        "--week",
        required=True,
        type=_weeks_arg,
        help="2026-W48, or a range 2026-W46:2026-W48 run in order",
    )
    w.set_defaults(func=cmd_run_week)
    sub.add_parser("up", help="local Airflow and the lake").set_defaults(func=cmd_up)
    sub.add_parser("down", help="stop what up started").set_defaults(func=cmd_down)
    f = sub.add_parser("backfill", help="backfill the ingest DAGs of the running local Airflow")
    f.add_argument(
        "--weeks", required=True, type=_weeks_arg, help="2026-W37:2026-W48 (one run per week)"
    )
    f.add_argument("--dag", action="append", default=[], help="one DAG id (repeatable)")
    f.set_defaults(func=cmd_backfill)
    sp = sub.add_parser("supersede", help="declare a delivered file replaced by a correction")
    sp.add_argument("--file", required=True, help="its landing key, <feed>/<date>/<name>")
    sp.add_argument("--reason", required=True, help="why, e.g. 'corrected by po_lines_2.csv'")
    sp.set_defaults(func=cmd_supersede)
    b = sub.add_parser("bench", help="benchmarks")
    b.add_argument("what", nargs="?", default="all")
    b.set_defaults(func=cmd_bench)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
