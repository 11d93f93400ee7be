"""`python -m buildout_tracker.cli <command>`: what the Makefile's targets run."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import time
from typing import Any

DEFAULT_WEEKS = "2026-W37:2026-W48"


def _local_env() -> None:
    """Load (and on first use write) the local .env; values already in the environment win."""
    from buildout_tracker.devtools.lake_server import ensure_env_file, env_file_path, load_env_file

    path = env_file_path()
    ensure_env_file(path)
    load_env_file(path)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


def _lake_up() -> Any:
    from buildout_tracker.devtools import lake_server, procs

    server = lake_server.from_env()
    local = (os.environ.get("BUILDOUT_S3_ENDPOINT") or "").startswith("http://127.0.0.1")
    # Start the local lake unless an S3 server already answers at the configured endpoint
    # (this project's lake from an earlier command, or one a test or an operator runs).
    if local and not procs.port_open(server.host, server.port):
        server.start()
    elif local and not server.running():
        # Not started from this var dir: another checkout's lake, or this checkout's lake
        # of another BUILDOUT_VAR_DIR. Use it only if it takes our credentials, and show
        # the folder it really serves (the paths printed later must open).
        code, said = server.status()
        if code != lake_server.STATUS_OK:
            raise SystemExit(
                f"error: {said}\n  stop that server, or give this checkout's lake a port of "
                f"its own: BUILDOUT_S3_ENDPOINT in {lake_server.env_file_path()}"
            )
        holder = procs.describe_port_holders(server.host, server.port)
        served = lake_server.served_root(server.host, server.port)
        if served is not None:
            server = dataclasses.replace(server, root=served)
        print(
            f"note: {holder}; using it as the lake (BUILDOUT_S3_ENDPOINT in "
            f"{lake_server.env_file_path()})"
            + (f": its files are in {served}" if served is not None else "")
        )
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


def _closed_or_refuse(weeks: list[str], force: bool) -> str | None:
    """The one-line refusal when a week has not closed yet and the run is not forced."""
    from buildout_tracker.pipeline.steps import WeekNotClosed, check_week_may_run

    for week in weeks:
        try:
            check_week_may_run(week, force=force)
        except WeekNotClosed as exc:
            return str(exc)
    return None


class Where:
    """Where a person finds a lake object: its file on this machine when the lake is the
    local, file-backed one (a browser opens it), else its s3:// URI and how to fetch it."""

    def __init__(self, server: Any, lake: Any) -> None:
        self.local = server.root if _is_local(server) else None
        self.lake = lake

    def __call__(self, key: str) -> str:
        if self.local is not None:
            path = self.local / self.lake.name / key
            return _shown(path)
        return f"{self.lake.uri(key)} (aws s3 cp {self.lake.uri(key)} .)"


def _is_local(server: Any) -> bool:
    return (os.environ.get("BUILDOUT_S3_ENDPOINT") or "").startswith("http://127.0.0.1")


def _shown(path: Any) -> str:
    """A path relative to the working folder when it is inside it (shorter, still opens)."""
    from pathlib import Path

    p = Path(path).resolve()
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        return str(p)


def cmd_run(args: argparse.Namespace) -> int:
    from buildout_tracker import pipeline
    from buildout_tracker.generator import BucketSink, generate
    from buildout_tracker.lake import Bucket
    from buildout_tracker.pipeline import cycle
    from buildout_tracker.settings import landing_bucket, var_dir
    from buildout_tracker.weeks import parse_range

    weeks = parse_range(args.weeks)
    refusal = _closed_or_refuse(weeks, args.force)
    if refusal:
        print(refusal)
        return 2
    _local_env()
    _quiet_logs()
    started = time.perf_counter()
    server = _lake_up()
    print(f"[1/3] lake up at {server.endpoint} (files in {_shown(server.root)})")
    summary = generate(
        weeks,
        scale=args.scale,
        seed=args.seed,
        defects=args.defects,
        sink=BucketSink(Bucket(landing_bucket())),
        defects_log=var_dir() / "defects" / f"defects-{args.seed}.jsonl",
    )
    print(
        f"[2/3] generated {len(weeks)} weeks of program history ({args.weeks}, scale {args.scale}, "
        f"seed {args.seed}, defects {args.defects}) into s3://{landing_bucket()}: "
        f"{summary.total_files:,} files, {summary.total_rows:,} rows"
    )
    print("[3/3] the weekly cycle (ingest, validate, compute, audit, publish), week by week:")
    rt = pipeline.Runtime.from_env(run_id=f"make-run-{args.weeks}")
    outcomes = cycle.run_weeks(rt, weeks, verbose=args.verbose)
    print_outcome_report(outcomes, rt, Where(server, rt.lake))
    print(f"\ndone in {time.perf_counter() - started:.0f} s")
    return 0 if all(o.published for o in outcomes[-1:]) else 1


def print_outcome_report(outcomes: list[Any], rt: Any, where: Any) -> None:
    from buildout_tracker import registry, zones
    from buildout_tracker.pipeline.summary import scorecard_lines

    last = outcomes[-1]
    if last.published is None:
        print(f"\n{last.week} was not published: {last.error}")
        return
    sc = last.published.scorecard
    print(f"\nProgram scorecard {last.week} (status date {sc['status_date'].iloc[0]}):")
    for line in scorecard_lines(sc):
        print(line)
    from buildout_tracker.report import save_local
    from buildout_tracker.settings import var_dir

    report = save_local(rt.lake, last.week, var_dir() / "reports" / f"program-{last.week}.html")
    print("\nWhere to look (files of the local lake; open the .html ones in a browser):")
    print(f"  REPORT        {_shown(report)}  <- the week's program report: open it in a browser")
    print(f"  manifest      {where(zones.manifest_key(last.week))}")
    print(f"  tables        {where('curated')}/<table>/week={last.week}/{zones.PART}")
    # The week's Data Docs in the lake, whichever run built them (a re-run builds none).
    docs = [
        f
        for f in registry.NAMES
        if rt.lake.exists(zones.data_docs_prefix(last.week, f) + "index.html")
    ]
    for feed in docs:
        print(f"  data docs     {where(zones.data_docs_prefix(last.week, feed) + 'index.html')}")
    undocumented = [f for f in registry.NAMES if f not in docs]
    if undocumented:
        print(f"  data docs     none: {', '.join(undocumented)} (no file validated this week)")
    if next(iter(rt.lake.iter("quarantine/")), None) is not None:
        print(f"  quarantine    {where('quarantine')}/")
    else:
        print(
            "  quarantine    none: no row or file was refused (make run DEFECTS=0.05 injects some)"
        )
    print(f"  feed reports  {where(zones.feed_report('<feed>', last.week))}")
    print(
        '  query         make sql Q="SELECT week, area, rag FROM program_scorecard ORDER BY week DESC LIMIT 5"'
    )
    print("  definitions   docs/data-dictionary.md; more ways to read: docs/reading-the-tables.md")


def cmd_report(args: argparse.Namespace) -> int:
    """Build a published week's program report and save it as a local file."""
    from buildout_tracker.lake import Bucket
    from buildout_tracker.report import WeekNotPublished, build_report, save_local
    from buildout_tracker.settings import lake_bucket, var_dir

    _local_env()
    _quiet_logs()
    server = _lake_up()
    lake = Bucket(lake_bucket())
    try:
        result = build_report(lake, args.week)
    except WeekNotPublished as exc:
        print(f"{exc}: publish it first (make run, or make run-week WEEK={args.week})")
        return 2
    path = save_local(lake, args.week, var_dir() / "reports" / f"program-{args.week}.html")
    where = Where(server, lake)
    print(
        f"program report {args.week}: {_shown(path)} (open it in a browser; built in "
        f"{result.seconds['total']:.1f} s)"
    )
    print(f"  in the lake   {where(result.html_key)}")
    print(f"  what changed  {where(result.summary_key)}")
    for line in result.digest.splitlines():
        print(f"  {line}")
    return 0


def cmd_run_week(args: argparse.Namespace) -> int:
    from buildout_tracker.orchestration.dag_runner import run_week_dags
    from buildout_tracker.weeks import parse_range

    weeks = parse_range(args.week)
    refusal = _closed_or_refuse(weeks, args.force)
    if refusal:
        print(refusal)
        return 2
    _local_env()
    _lake_up()
    return run_week_dags(weeks, force=args.force)


def cmd_up(args: argparse.Namespace) -> int:
    from buildout_tracker.devtools import local_airflow

    return local_airflow.main(["up"])


def cmd_down(args: argparse.Namespace) -> int:
    from buildout_tracker.devtools import local_airflow

    return local_airflow.main(["down"])


def cmd_backfill(args: argparse.Namespace) -> int:
    from buildout_tracker.devtools import local_airflow
    from buildout_tracker.weeks import parse_range

    weeks = parse_range(args.weeks)
    refusal = _closed_or_refuse(weeks, force=False)
    if refusal:
        print(f"{refusal}; a backfill covers closed weeks only")
        return 2
    if not local_airflow.status().running:
        print("the local Airflow is not running: `make up` first (the scheduler runs backfills)")
        return 2
    local_airflow.backfill(weeks, tuple(args.dag) or None)
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
    import getpass
    from datetime import UTC, datetime

    week = week_key(day)
    supersede_file(
        Bucket(lake_bucket()), feed, week, args.file, args.reason,
        by=getpass.getuser(), at=datetime.now(UTC).isoformat(timespec="seconds"),
    )  # fmt: skip
    print(f"{args.file} superseded ({args.reason}); its rows and failures no longer count.")
    print(f"re-run its week: make run-week WEEK={week} (or clear the week's run in Airflow)")
    return 0


def cmd_withdraw(args: argparse.Namespace) -> int:
    """Take a published week back: out of curated/, with a record of who, when and why."""
    import getpass

    from buildout_tracker.lake import Bucket
    from buildout_tracker.publish.withdraw import NotPublished, withdraw_week
    from buildout_tracker.settings import lake_bucket

    _local_env()
    by = args.by or getpass.getuser()
    try:
        event = withdraw_week(Bucket(lake_bucket()), args.week, args.reason, by)
    except (NotPublished, ValueError) as exc:
        print(exc)
        return 2
    print(
        f"{args.week} withdrawn by {event['by']} at {event['at']}: {event['reason']}\n"
        f"  its manifest and {len(event['tables'])} table partitions left curated/; copies and the "
        f"record are under s3://{lake_bucket()}/{event['copies']}\n"
        f"  automatic publication leaves it alone; to publish it again: make run-week "
        f"WEEK={args.week} (or trigger publish_tables_weekly with week={args.week})"
    )
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


def _week_arg(spec: str) -> str:
    """One ISO week, checked before anything runs."""
    from buildout_tracker.weeks import parse_week

    try:
        parse_week(spec)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{spec!r}: {exc}") from None
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
    r.add_argument("--force", action="store_true", help="run weeks that have not closed yet")
    r.add_argument("-v", "--verbose", action="store_true", help="every feed of every week")
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
    w.add_argument("--force", action="store_true", help="run weeks that have not closed yet")
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
    rp = sub.add_parser("report", help="build a week's program report and save it locally")
    rp.add_argument("--week", required=True, type=_week_arg)
    rp.set_defaults(func=cmd_report)
    wd = sub.add_parser("withdraw", help="take a published week back, with a reason")
    wd.add_argument("--week", required=True, type=_week_arg)
    wd.add_argument("--reason", required=True, help="why, e.g. 'FX rates of the week were wrong'")
    wd.add_argument("--by", default=None, help="who (default: the login name)")
    wd.set_defaults(func=cmd_withdraw)
    b = sub.add_parser("bench", help="benchmarks")
    b.add_argument("what", nargs="?", default="all")
    b.set_defaults(func=cmd_bench)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
