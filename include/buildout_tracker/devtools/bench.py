"""`make bench`: measured, not asserted. Each figure is reported with the baseline it is
compared against, measured in the same process.

- `ingest`: one generated full extract of 1M PO lines; alternating in one process (a) a plain
  pyarrow CSV -> Parquet copy and (b) our parse + rules + GX suite + split + write. Ratio b/a
  and peak RSS.
- `parse`: each DAG file's parse time beyond importing Airflow and a trivial @task DAG
  (target < 0.2 s; no pandas, GX or boto3 at module level).
- `cycle`: SCALE=large history (200 sites, 20k requisitions, ~1M PO-line versions over two
  years) on its own local lake: the wall time of each phase of every weekly cycle, peak RSS,
  week 100 against week 10, and the whole backfill in minutes.
- `same-delivery`: one week's delivery on top of week 10's and week 100's history.
- `xlarge`: the first week of a `SCALE=xlarge` program (2,000 sites, the initial full extract
  of about 1M PO lines, 2,000 site reports, 20 requisitions files) on a lake of its own: its
  time, phases and peak RSS (counted from the end of the generation).
- `report`: week 100's program report beside its publication, in one process.
- `ui`: server time of the Buildout page and of a run view on the large history.
- `profile` (not part of `all`): cProfile, on CPU time, of whole weekly cycles on a local lake
  of their own: `make run`'s 12 weeks by default, or `BENCH_PROFILE_SCALE=large
  BENCH_PROFILE_WEEKS=2025-W01:2025-W03`; prints the top entries by cumulative and own time
  and keeps the profile in var/bench/profile-<scale>.out (`python -m pstats` reads it).
- `floors` (not part of `all`): what a large week costs at the least as it is built now, each
  part measured alone on the same machine and lake server: one small S3 request (and its
  client CPU through boto3 beside the same request signed by botocore and sent by urllib3
  alone, in alternating rounds: what a thinner client would save), one GX run
  of a site report's suite, one site report's parse and row checks, GX's import; multiplied
  by how many of each a large week makes (counted while two large weeks run), beside the
  weeks' measured time. `BENCH_FLOOR_WEEKS` (default 2025-W01:2025-W02), `BENCH_FLOOR_SCALE`
  (default large).

Each ends with the targets (issues' figures) beside what was measured.

Results are printed and written to var/bench/results-<what>.json.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from buildout_tracker.settings import PROJECT_ROOT, var_dir
from buildout_tracker.timing import peak_rss_mb

BENCH_DIR = var_dir() / "bench"


def _save(what: str, result: dict[str, Any]) -> None:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    (BENCH_DIR / f"results-{what}.json").write_text(json.dumps(result, indent=1, default=str))


def bench_parse() -> dict[str, Any]:
    from buildout_tracker.devtools.dag_parse import parse_cost

    out = {}
    for path in sorted((PROJECT_ROOT / "dags").glob("*.py")):
        r = parse_cost(path)
        out[path.stem] = r
        print(f"  {path.stem:<28} {r['parse_s'] * 1000:7.1f} ms beyond baseline "
              f"(airflow import {r['airflow_import_s']:.2f} s, trivial @task DAG {r['baseline_dag_s'] * 1000:.0f} ms); "
              f"heavy imports: {r['heavy'] or 'none'}")  # fmt: skip
    return out


def bench_ingest(lines: int = 1_000_000) -> dict[str, Any]:
    """Generate the extract in a child process, then measure in another (clean peak RSS)."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path = BENCH_DIR / f"po_lines_full_{lines}.csv"
    if not path.exists():
        t0 = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "buildout_tracker.generator",
                "--full-extract",
                str(lines),
                "--out",
                str(path),
            ],
            check=True,
        )
        print(
            f"  generated {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.0f} s"
        )
    # The rule context of the program the extract belongs to (the large program, same seed):
    # its site register and its currencies, all with rates. Referential rules stay on.
    code = (
        "import json; from datetime import date; "
        "from buildout_tracker.devtools.bench_ingest import bench_po_lines; "
        "from buildout_tracker.feeds.schema import RuleContext; "
        "from buildout_tracker.generator.pmo import Program; "
        "from buildout_tracker.generator.scales import get_scale; "
        "p = Program('2026-W37', 1, get_scale('large'), 7); "
        "ctx = RuleContext(week='2026-W37', status_date=date(2026, 9, 13), "
        "known_site_ids={s.site_id for s in p.sites}, currencies_with_rate={s.currency for s in p.sites} | {'USD'}); "
        f"print('RESULT ' + json.dumps(bench_po_lines({str(path)!r}, ctx=ctx), default=str))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    line = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")][-1]
    result = dict(json.loads(line[7:]))
    result["file"] = str(path)
    for k, v in result.items():
        print(f"  {k}: {v}")
    return result


def bench_cycle(weeks_spec: str = "2025-W01:2026-W52", seed: int = 7) -> dict[str, Any]:
    """A whole large-scale history on a fresh local lake, one process, phases per week."""
    from buildout_tracker import pipeline, timing
    from buildout_tracker.pipeline import cycle
    from buildout_tracker.weeks import parse_range

    weeks = parse_range(weeks_spec)
    t0 = time.perf_counter()
    with _generated_lake(BENCH_DIR / "lake-large", weeks_spec, "large", seed) as (landing, lake):
        gen_s = time.perf_counter() - t0
        print(f"  generated {len(weeks)} weeks at scale large in {gen_s:.0f} s")
        rt = pipeline.Runtime(landing, lake, b"bench-only-key", run_id="bench", notify=False)
        per_week = []
        backfill_t0 = time.perf_counter()
        for k, week in enumerate(weeks, 1):
            timing.reset()
            w0 = time.perf_counter()
            outcome = cycle.run_week(rt, week, docs=False)
            total = time.perf_counter() - w0
            phases = timing.snapshot()
            delivered = sum(r.summary()["rows_in"] for r in outcome.reports.values())
            per_week.append({"week": week, "k": k, "seconds": total, "phases": phases, "rows_in": delivered,
                             "published": outcome.published is not None, "rss_mb": peak_rss_mb()})  # fmt: skip
            if k in (1, 2, 10, 50, 100) or k == len(weeks) or k % 10 == 0:
                print(f"  week {k:>3} {week}: {total:5.1f} s, rows in {delivered:>8}, "
                      + ", ".join(f"{p} {s:.1f}" for p, s in sorted(phases.items()))
                      + f", peak RSS {peak_rss_mb():.0f} MB")  # fmt: skip
        backfill_s = time.perf_counter() - backfill_t0
        result: dict[str, Any] = {"weeks": len(weeks), "generation_s": gen_s, "backfill_s": backfill_s,
                                  "peak_rss_mb": peak_rss_mb(), "per_week": per_week}  # fmt: skip
        if len(per_week) >= 100:
            w10, w100 = per_week[9], per_week[99]
            result["week10_s"], result["week100_s"] = w10["seconds"], w100["seconds"]
            result["week100_over_week10"] = w100["seconds"] / w10["seconds"]
            result["week10_rows_in"], result["week100_rows_in"] = w10["rows_in"], w100["rows_in"]
        result["max_week_s"] = (
            max(w["seconds"] for w in per_week[1:]) if len(per_week) > 1 else None
        )
        result["first_week_s"] = per_week[0]["seconds"]
        print(
            f"  backfill of {len(weeks)} weeks: {backfill_s / 60:.1f} min; peak RSS {peak_rss_mb():.0f} MB"
        )
        if "week100_over_week10" in result:
            print(
                f"  week 100 / week 10: {result['week100_s']:.1f} s / {result['week10_s']:.1f} s = {result['week100_over_week10']:.2f}"
            )
        return result


def bench_xlarge(week: str = "2025-W01", seed: int = 7, scale: str = "xlarge") -> dict[str, Any]:
    """The first week of a SCALE=xlarge program, one process (module docstring); `scale`
    for tests."""
    from buildout_tracker import pipeline, timing
    from buildout_tracker.pipeline import cycle

    t0 = time.perf_counter()
    with _generated_lake(BENCH_DIR / f"lake-{scale}-first", f"{week}:{week}", scale, seed) as (
        landing,
        lake,
    ):
        gen_s = time.perf_counter() - t0
        rt = pipeline.Runtime(landing, lake, b"bench-only-key", run_id="bench", notify=False)
        timing.reset()
        own_peak = timing.reset_peak_rss()
        w0, c0 = time.perf_counter(), time.process_time()
        outcome = cycle.run_week(rt, week, docs=False)
        seconds, cpu = time.perf_counter() - w0, time.process_time() - c0
        phases = timing.snapshot()
        reports = outcome.reports.values()
        result: dict[str, Any] = {
            "week": week, "scale": scale, "generation_s": gen_s, "seconds": seconds, "cpu_s": cpu,
            "phases": phases, "peak_rss_mb": peak_rss_mb(), "peak_rss_own": own_peak,
            "files": sum(len(r.files) for r in reports),
            "rows_in": sum(r.summary()["rows_in"] for r in reports),
            "published": outcome.published is not None,
        }  # fmt: skip
    print(f"  generated in {gen_s:.0f} s; {week}: {seconds:.1f} s ({cpu:.1f} s CPU), "
          f"{result['files']} files, {result['rows_in']} rows in, published "
          f"{result['published']}; " + ", ".join(f"{p} {s:.1f}" for p, s in sorted(phases.items()))
          + f"; peak RSS {result['peak_rss_mb']:.0f} MB"
          + ("" if own_peak else " (with the generation's: could not reset the peak)"))  # fmt: skip
    return result


@contextmanager
def _generated_lake(
    root: Any, weeks_spec: str, scale: str, seed: int = 7
) -> Iterator[tuple[Any, Any]]:
    """(landing, lake) on a local lake server of their own in `root`: the curated lake
    emptied, the landing generated for `weeks_spec` at `scale` unless it already was (a
    marker file says so; the same seed gives the same bytes). Defects only at small scale,
    as `make run` has them."""
    import os

    from buildout_tracker.devtools import procs
    from buildout_tracker.devtools.lake_server import LakeServer
    from buildout_tracker.generator import BucketSink, generate
    from buildout_tracker.lake import Bucket, make_client
    from buildout_tracker.weeks import parse_range

    server = LakeServer(root, "127.0.0.1", procs.free_port(), "benchkey0001", "benchsecret0001")
    server.start()
    try:
        os.environ.update(server.env())
        os.environ.setdefault("BUILDOUT_PII_HMAC_KEY", "bench-only-key")
        client = make_client(server.settings())
        landing, lake = Bucket(server.buckets[0], client), Bucket(server.buckets[1], client)
        lake.delete_prefix("")
        marker = root / f".generated-{weeks_spec}-{scale}-{seed}"
        if not marker.exists():
            landing.delete_prefix("")
            defects = 0.05 if scale == "small" else 0.0
            generate(parse_range(weeks_spec), scale=scale, seed=seed, defects=defects,
                     sink=BucketSink(landing))  # fmt: skip
            marker.write_text("ok")
        yield landing, lake
    finally:
        server.stop()


def same_delivery(
    landing: Any, lake: Any, source_week: str, weeks: tuple[str, ...], repeats: int = 2
) -> dict[str, Any]:
    """The cost of one weekly cycle with the same delivery on top of different histories.

    For each week W of `weeks`: fresh probe buckets on the same server receive the state in
    force at W-1 and last week's published tables (copied from the bench lake), and the
    deliveries of `source_week`, byte for byte, under W's dates; then one full cycle of W
    runs on them (ingest, validate, state, compute, audit, publish). Only the history differs.
    Best of `repeats`, alternating between the weeks.
    """
    from buildout_tracker import pipeline, registry, timing
    from buildout_tracker.lake import Bucket
    from buildout_tracker.pipeline import cycle
    from buildout_tracker.weeks import previous, week_dates

    client = lake.client
    probe_landing, probe_lake = (
        Bucket("bench-probe-landing", client),
        Bucket("bench-probe-lake", client),
    )
    for b in (probe_landing, probe_lake):
        if not b.exists_bucket():
            client.create_bucket(Bucket=b.name)
    source_days = week_dates(source_week)
    delivery = [o for feed in registry.NAMES
                for day in source_days for o in landing.iter(f"{feed}/{day.isoformat()}/")]  # fmt: skip
    rows_in = 0
    best: dict[str, dict[str, Any]] = {}
    for _ in range(repeats):
        for week in weeks:
            probe_landing.delete_prefix("")
            probe_lake.delete_prefix("")
            before = previous(week)
            for name in lake.folders("state/"):
                for o in lake.iter(f"state/{name}/week={before}/"):
                    probe_lake.copy_from(lake, o.key)
            for o in lake.iter("curated/"):
                if f"week={before}" in o.key:
                    probe_lake.copy_from(lake, o.key)
            shift = {d: n for d, n in zip(source_days, week_dates(week), strict=True)}
            for o in delivery:
                feed, day, name = o.key.split("/", 2)
                new_day = shift[date.fromisoformat(day)].isoformat()
                probe_landing.copy_from(landing, o.key, f"{feed}/{new_day}/{name}")
            rt = pipeline.Runtime(
                probe_landing, probe_lake, b"bench-only-key", run_id="bench-probe", notify=False
            )
            timing.reset()
            t0 = time.perf_counter()
            outcome = cycle.run_week(rt, week, docs=False)
            seconds = time.perf_counter() - t0
            rows_in = sum(r.summary()["rows_in"] for r in outcome.reports.values())
            po = lake.read_parquet(f"state/po_lines/week={before}/po_lines.parquet").num_rows
            if week not in best or seconds < best[week]["seconds"]:
                best[week] = {"seconds": seconds, "phases": timing.snapshot(), "rows_in": rows_in,
                              "po_lines_in_state": po, "published": outcome.published is not None}  # fmt: skip
    for b in (probe_landing, probe_lake):
        b.delete_prefix("")
    first, last = weeks[0], weeks[-1]
    result = {"source_week": source_week, "weeks": best,
              "ratio": best[last]["seconds"] / best[first]["seconds"]}  # fmt: skip
    for week, r in best.items():
        print(f"  {week} with {source_week}'s delivery ({r['rows_in']} rows) on a state of "
              f"{r['po_lines_in_state']} PO lines: {r['seconds']:.1f} s ("
              + ", ".join(f"{p} {v:.1f}" for p, v in sorted(r["phases"].items())) + ")")  # fmt: skip
    print(f"  same delivery, {last} / {first} = {result['ratio']:.2f}")
    return result


@contextmanager
def _large_lake(needs: str) -> Iterator[tuple[Any, Any]]:
    """(landing, lake) of the large history `bench cycle` left, on a server of their own;
    stops with a message when the object `needs` is not there (run `bench cycle` first)."""
    import os

    from buildout_tracker.devtools import procs
    from buildout_tracker.devtools.lake_server import LakeServer
    from buildout_tracker.lake import Bucket, make_client

    server = LakeServer(
        BENCH_DIR / "lake-large", "127.0.0.1", procs.free_port(), "benchkey0001", "benchsecret0001"
    )
    server.start()
    try:
        os.environ.update(server.env())
        client = make_client(server.settings())
        landing, lake = Bucket(server.buckets[0], client), Bucket(server.buckets[1], client)
        if not lake.exists(needs):
            raise SystemExit(f"no large history yet ({needs} missing): run `bench cycle` first")
        yield landing, lake
    finally:
        server.stop()


LARGE_WEEKS = "2025-W01:2026-W52"


def bench_same_delivery(weeks_spec: str = LARGE_WEEKS) -> dict[str, Any]:
    """`same_delivery` on the lake `bench cycle` left (run that first)."""
    from buildout_tracker.weeks import parse_range

    weeks = parse_range(weeks_spec)
    with _large_lake(f"state/po_lines/week={weeks[98]}/_meta.json") as (landing, lake):
        return same_delivery(landing, lake, weeks[9], (weeks[9], weeks[99]))


def bench_ui() -> dict[str, Any]:
    """Server time of the Buildout page and of a run view on the large history."""
    from buildout_tracker.ui.bench import bench_pages
    from buildout_tracker.weeks import parse_range

    last = parse_range(LARGE_WEEKS)[-1]
    with _large_lake(f"curated/_manifests/week={last}.json") as (_, lake):
        return bench_pages(lake)


def bench_report() -> dict[str, Any]:
    """Week 100 of the large history: its publication, then its program report, in one
    process (run `bench cycle` first)."""
    from buildout_tracker.publish import publish_week
    from buildout_tracker.report.bench import bench_report as measure
    from buildout_tracker.weeks import parse_range

    week = parse_range(LARGE_WEEKS)[99]
    with _large_lake(f"curated/_manifests/week={week}.json") as (landing, lake):
        result = measure(
            lake, week, baseline=lambda: publish_week(lake, landing, week, run_id="bench-report")
        )
        print(f"  report of {week}: {result['report']['seconds']:.2f} s, "
              f"+{result['report_over_publish']['extra_peak_rss_mb']:.0f} MB over the publication "
              f"({result['publish']['seconds']:.2f} s)")  # fmt: skip
        return result


def bench_profile() -> dict[str, Any]:
    """cProfile (CPU time) of whole weekly cycles (module docstring: `profile`)."""
    import cProfile
    import os
    import pstats

    from buildout_tracker import pipeline
    from buildout_tracker.pipeline import cycle
    from buildout_tracker.weeks import parse_range

    scale = os.environ.get("BENCH_PROFILE_SCALE", "small")
    spec = os.environ.get(
        "BENCH_PROFILE_WEEKS", "2026-W37:2026-W48" if scale == "small" else "2025-W01:2025-W03"
    )
    weeks = parse_range(spec)
    with _generated_lake(BENCH_DIR / f"lake-profile-{scale}", spec, scale) as (landing, lake):
        rt = pipeline.Runtime(landing, lake, b"bench-only-key", run_id="bench", notify=False)
        prof = cProfile.Profile(time.process_time)
        w0, c0 = time.perf_counter(), time.process_time()
        prof.enable()
        cycle.run_weeks(rt, weeks, echo=lambda s: None, docs=scale == "small")
        prof.disable()
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    out = BENCH_DIR / f"profile-{scale}.out"
    prof.dump_stats(out)
    print(f"  {len(weeks)} weeks at scale {scale} under the profiler: {wall:.1f} s wall, "
          f"{cpu:.1f} s CPU; profile in {out}")  # fmt: skip
    stats = pstats.Stats(str(out))
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(20)
    return {"scale": scale, "weeks": spec, "wall_s": wall, "cpu_s": cpu, "profile": str(out)}


def bench_floors(repeats: int = 200) -> dict[str, Any]:
    """The fixed costs a large week is made of, each measured alone (module docstring)."""
    import os

    from buildout_tracker import feeds, pipeline, timing
    from buildout_tracker.ingest.landing import deliveries
    from buildout_tracker.ingest.rule_context import RuleContexts
    from buildout_tracker.lake import concurrently
    from buildout_tracker.pipeline import cycle
    from buildout_tracker.weeks import parse_range

    spec_weeks = os.environ.get("BENCH_FLOOR_WEEKS", "2025-W01:2025-W02")
    scale = os.environ.get("BENCH_FLOOR_SCALE", "large")
    weeks = parse_range(spec_weeks)
    out: dict[str, Any] = {"weeks": spec_weeks, "scale": scale, "per_week": []}
    lake_dir = BENCH_DIR / f"lake-floors-{scale}"
    with _generated_lake(lake_dir, spec_weeks, scale) as (landing, lake):
        requests = [0]
        by_kind: Counter[str] = Counter()

        def count(event_name: str, params: dict[str, Any], **_: Any) -> None:
            requests[0] += 1
            where = str(params.get("Key") or params.get("Prefix") or "")
            by_kind[
                f"{event_name.rsplit('.', 1)[-1]} {params.get('Bucket')}/{'/'.join(where.split('/')[:2])}"
            ] += 1

        lake.client.meta.events.register("before-parameter-build.s3", count)  # once a call
        rt = pipeline.Runtime(landing, lake, b"bench-only-key", run_id="bench", notify=False)
        for week in weeks:
            timing.reset()
            r0, g0 = requests[0], rt.validator.runs
            by_kind.clear()
            w0, c0 = time.perf_counter(), time.process_time()
            outcome = cycle.run_week(rt, week, docs=False)
            files = sum(len(r.files) for r in outcome.reports.values())
            out["per_week"].append({"week": week, "seconds": time.perf_counter() - w0,
                                    "cpu_s": time.process_time() - c0, "files": files,
                                    "s3_requests": requests[0] - r0,
                                    "gx_runs": rt.validator.runs - g0,
                                    "requests_by_kind": dict(by_kind.most_common())})  # fmt: skip
            w = out["per_week"][-1]
            print(f"  {week}: {w['seconds']:.1f} s ({w['cpu_s']:.1f} s CPU), {w['files']} files, "
                  f"{w['s3_requests']} S3 requests, {w['gx_runs']} GX runs; most requests: "
                  + ", ".join(f"{k} {n}" for k, n in list(w["requests_by_kind"].items())[:12]))  # fmt: skip

        # One small request, one after another, then 8 at a time, on the same server.
        body = os.urandom(4096)
        keys = [f"bench-floors/{i:04d}.bin" for i in range(repeats)]
        t0 = time.perf_counter()
        for k in keys:
            lake.put_bytes(k, body)
        put_s = (time.perf_counter() - t0) / repeats
        t0 = time.perf_counter()
        for k in keys:
            lake.get_bytes(k)
        get_s = (time.perf_counter() - t0) / repeats
        t0 = time.perf_counter()
        concurrently(lambda k: lake.put_bytes(k, body), keys)  # the folder exists by now
        put_together_s = (time.perf_counter() - t0) / repeats
        lake.delete_prefix("bench-floors/")
        out["request_cpu_ms"] = _request_cpu(lake, body, repeats)

        # One site report: its parse and row checks, and one GX run of its suite, alone.
        week = weeks[-1]
        site = next(d for d in deliveries(landing, "milestones", week) if d.key.endswith(".jsonl"))
        data = landing.get_bytes(site.key)
        spec = feeds.spec_for("milestones", site.filename)
        assert spec is not None
        ctx = RuleContexts(lake, week).for_file(spec.kind, site)
        t0 = time.perf_counter()
        for _ in range(repeats):
            parsed = feeds.parse_file(spec, site.key, data, b"bench-only-key")
            feeds.check_rows(spec, parsed.frame, ctx)
        file_s = (time.perf_counter() - t0) / repeats
        validator = rt.validator
        validator.validate(
            spec, parsed.frame, site.key, ctx
        )  # its suite built once, as a week does
        gx_n = max(5, repeats // 20)
        t0 = time.perf_counter()
        for _ in range(gx_n):
            validator.validate(spec, parsed.frame, site.key, ctx)
        gx_s = (time.perf_counter() - t0) / gx_n

    # GX's import and its ephemeral context, once a process (a script of its own: GX's import
    # ends a one-line `python -c` early, through pyspark's test helpers).
    script = BENCH_DIR / "gx_import.py"
    script.write_text(
        "import time\nt = time.perf_counter()\nfrom buildout_tracker.feeds.gx_suite import GxValidator\n"
        "GxValidator()._ctx()\nprint(time.perf_counter() - t)\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    gx_import_s = float(done.stdout.strip().splitlines()[-1])
    last = out["per_week"][-1]
    floor = {
        "s3": last["s3_requests"] * put_s,
        "gx": last["gx_runs"] * gx_s,
        "files": last["files"] * file_s,
    }
    out.update(
        put_ms=put_s * 1e3, get_ms=get_s * 1e3, put_8_at_a_time_ms=put_together_s * 1e3,
        site_report_parse_and_checks_ms=file_s * 1e3, site_report_rows=len(parsed.frame),
        gx_run_s=gx_s, gx_import_s=gx_import_s, floor_s=floor, floor_total_s=sum(floor.values()),
    )  # fmt: skip
    print(f"  one small S3 request: PUT {put_s * 1e3:.1f} ms, GET {get_s * 1e3:.1f} ms, "
          f"PUT 8 at a time {put_together_s * 1e3:.1f} ms each")  # fmt: skip
    cpu = out["request_cpu_ms"]
    print(f"  client CPU of one small request, boto3 / signed by botocore and sent by urllib3 "
          f"alone: PUT {cpu['boto3_put']:.2f} / {cpu['signed_put']:.2f} ms, GET "
          f"{cpu['boto3_get']:.2f} / {cpu['signed_get']:.2f} ms (ratio "
          f"{cpu['boto3_put'] / cpu['signed_put']:.2f}, {cpu['boto3_get'] / cpu['signed_get']:.2f})")  # fmt: skip
    print(f"  one site report ({len(parsed.frame)} rows): parse and row checks "
          f"{file_s * 1e3:.1f} ms; one GX run of its suite {gx_s:.3f} s; GX import "
          f"{gx_import_s:.1f} s with its context (once a process)")  # fmt: skip
    print(f"  {last['week']}: {last['seconds']:.1f} s measured; its counts times those costs: "
          f"{last['s3_requests']} requests {floor['s3']:.1f} s + {last['gx_runs']} GX runs "
          f"{floor['gx']:.1f} s + {last['files']} files {floor['files']:.1f} s = "
          f"{out['floor_total_s']:.1f} s")  # fmt: skip
    return out


def _request_cpu(lake: Any, body: bytes, repeats: int) -> dict[str, float]:
    """Client CPU (ms) of one small PUT and GET through the lake's boto3 client, and of the
    same request signed by botocore's SigV4 signer and sent on a urllib3 pool alone (what a
    thinner client for small objects would cost: no event hooks, no endpoint rules, no
    response parsing), in alternating rounds on the same server. A measurement for a
    decision (README, Benchmarks), not a client the pipeline uses: it has no retries, no
    encryption headers and path-style addresses only."""
    import hashlib

    import urllib3
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest

    client = lake.client
    signer = S3SigV4Auth(
        client._request_signer._credentials.get_frozen_credentials(), "s3", client.meta.region_name
    )
    pool = urllib3.PoolManager(maxsize=4)
    base = f"{client.meta.endpoint_url.rstrip('/')}/{lake.name}/bench-floors/signed-"

    def send(method: str, key: str, data: bytes = b"") -> bytes:
        headers = {"X-Amz-Content-SHA256": hashlib.sha256(data).hexdigest()}
        request = AWSRequest(method, base + key, data=data or None, headers=headers)
        signer.add_auth(request)
        answer = pool.request(method, base + key, body=data or None, headers=dict(request.headers))
        if answer.status != 200:
            raise RuntimeError(f"{method} {key}: HTTP {answer.status}")
        return bytes(answer.data)

    def boto3_put(k: str) -> None:
        lake.put_bytes(f"bench-floors/boto3-{k}", body)

    def boto3_get(k: str) -> None:
        lake.get_bytes(f"bench-floors/boto3-{k}")

    kinds: dict[str, Callable[[str], Any]] = {
        "boto3_put": boto3_put,
        "signed_put": lambda k: send("PUT", k, body),
        "boto3_get": boto3_get,
        "signed_get": lambda k: send("GET", k),
    }
    assert (send("PUT", "check", body), send("GET", "check")) == (b"", body)
    spent = dict.fromkeys(kinds, 0.0)
    for _ in range(3):
        for name, call in kinds.items():
            t0 = time.process_time()
            for i in range(repeats):
                call(f"{i:04d}")
            spent[name] += time.process_time() - t0
    lake.delete_prefix("bench-floors/")
    return {name: 1e3 * s / (3 * repeats) for name, s in spent.items()}


# Each issue's target beside the figure `make bench` measured: (bench, what, figure, target,
# met). A figure a run did not produce is printed as not measured.
TARGETS: list[tuple[str, str, Callable[[dict[str, Any]], float], str, Callable[[float], bool]]] = [
    ("ingest", "1M-line ingest / pyarrow copy", lambda r: float(r["ratio"]), "<= 2.0 x",
     lambda v: v <= 2.0),
    ("ingest", "1M-line ingest peak RSS (MB)", lambda r: float(r["peak_rss_mb"]), "< 2048",
     lambda v: v < 2048),
    ("cycle", "large week, median (s)",
     lambda r: statistics.median(w["seconds"] for w in r["per_week"][1:]), "<= 4", lambda v: v <= 4),
    ("cycle", "large week, slowest (s)", lambda r: float(r["max_week_s"]), "<= 8", lambda v: v <= 8),
    ("cycle", "104-week large backfill (min)", lambda r: r["backfill_s"] / 60, "<= 6",
     lambda v: v <= 6),
    ("same-delivery", "same delivery, week 100 / week 10", lambda r: float(r["ratio"]), "<= 1.15",
     lambda v: v <= 1.15),
    ("xlarge", "SCALE=xlarge, first week (s)", lambda r: float(r["seconds"]), "<= 30",
     lambda v: v <= 30),
    ("xlarge", "SCALE=xlarge, first week peak RSS (MB)", lambda r: float(r["peak_rss_mb"]),
     "< 3072", lambda v: v < 3072),
    ("report", "report of week 100 (s)", lambda r: float(r["report"]["seconds"]), "<= 3",
     lambda v: v <= 3),
    ("report", "report memory over the publication (MB)",
     lambda r: float(r["report_over_publish"]["extra_peak_rss_mb"]), "<= 300", lambda v: v <= 300),
    ("ui", "Buildout page, warm median (s)", lambda r: float(r["home"]["warm_median_s"]), "<= 0.3",
     lambda v: v <= 0.3),
    ("ui", "run view, warm median (s)", lambda r: float(r["run_ingest"]["warm_median_s"]),
     "<= 0.2", lambda v: v <= 0.2),
]  # fmt: skip


def print_targets(results: dict[str, dict[str, Any]]) -> list[str]:
    """One line per target: figure, target, met or missed (from this run's results, else from
    the last saved run of that bench, named as such)."""
    lines = []
    for bench, what, figure, target, met in TARGETS:
        result, note = results.get(bench), ""
        if result is None and (BENCH_DIR / f"results-{bench}.json").exists():
            result, note = json.loads((BENCH_DIR / f"results-{bench}.json").read_text()), " (saved)"
        try:
            value = figure(result) if result is not None else None
        except (KeyError, TypeError, ValueError, statistics.StatisticsError):
            value = None
        if value is None:
            lines.append(f"  {what:<44} {'not measured':>10}   target {target}")
        else:
            verdict = "met" if met(value) else "MISSED"
            lines.append(f"  {what:<44} {value:>10.2f}   target {target:<9} {verdict}{note}")
    print("== targets")
    print("\n".join(lines))
    return lines


BENCHES: dict[str, Callable[[], dict[str, Any]]] = {
    "parse": bench_parse,
    "ingest": bench_ingest,
    "cycle": bench_cycle,
    "same-delivery": bench_same_delivery,
    "xlarge": bench_xlarge,
    "report": bench_report,
    "ui": bench_ui,
    "profile": bench_profile,
    "floors": bench_floors,
}
ALL = ("parse", "ingest", "cycle", "same-delivery", "xlarge", "report", "ui")


def main(what: str = "all") -> int:
    todo = list(ALL) if what == "all" else [what]
    results = {}
    for name in todo:
        print(f"== bench {name}")
        results[name] = BENCHES[name]()
        _save(name, results[name])
    print_targets(results)
    print(f"results in {BENCH_DIR}")
    return 0
