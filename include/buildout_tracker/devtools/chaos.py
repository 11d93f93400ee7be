"""`make chaos` (`python -m buildout_tracker.devtools.chaos`): the fault scenarios, end to end,
on a local S3 server behind the fault proxy (`s3_faults.py`), then a table: scenario, faults
injected, runs, runs that ended consistent, rows lost, partial partitions (and other broken
views) seen by the reader, time to recover.

Scenarios (docs/faults.md says what each proves):

- `crash@W:k`: the week's ingest and publication, killed (SIGKILL, no clean-up) just before
  its write k, then run again in a fresh process; every write point, or a seeded sample.
- `fault-rate`: a whole generated history with errors injected at a fixed rate into every
  kind of request, each week retried like an Airflow task until it succeeds.
- `two-publishers`, `zombie`, `zombie-in-manifest-write`, `rerun-beside-next-week`:
  overlapping runs.

Every step runs in a child process forked from a server that preloaded the pipeline (a
fresh process each time, without paying the imports again). A reader is called before every
write into `curated/` (and after each kill) and checks what a consumer would see then: each
partition one whole Parquet object of its week, and each manifest naming objects that exist
with the bytes it describes (read the manifest, the objects, the manifest again; a manifest
that changed meanwhile proves nothing either way).

The end of every disturbed run is compared with an undisturbed run of the same week, object
by object, byte for byte, except for the run's metadata (`RUN_METADATA`).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import inspect
import io
import json
import logging
import multiprocessing
import os
import random
import re
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from buildout_tracker.devtools import procs
from buildout_tracker.devtools.lake_server import LakeServer
from buildout_tracker.devtools.s3_faults import FaultProxy, Request, Rule
from buildout_tracker.feeds import gx_suite
from buildout_tracker.lake import Bucket, make_client

log = logging.getLogger(__name__)

# --- what may differ between two runs of the same week ---------------------------------------

RUN_METADATA = {
    "run_id": "the run's id: feed-week reports, ledger records, quarantine records, manifests",
    "kept_from_run": "the run that published a partition a manifest keeps (a run id)",
    "quarantined_at": "when a file or row was quarantined (quarantine records and rows)",
    "_run_id, _quarantined_at": "the same two, as columns of the quarantined rows' Parquet",
    "GX results": "reports/validation/: validation and load times, validation and expectation "
    "ids (UUIDs)",
    "Data Docs": "reports/data_docs/: the validation-time folder in page keys, and the times "
    "and UUIDs inside pages",
}
_RUN_KEYS = ("run_id", "kept_from_run", "quarantined_at")
_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ISO_TIME = re.compile(rb"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
_GX_TIME = re.compile(r"\d{8}T\d{6}(?:\.\d+)?Z")
_PUBLISHING = "curated/_publishing/"


def _scrub(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: ("<run>" if k in _RUN_KEYS else _scrub(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_scrub(v) for v in obj]
    return obj


_CHAOS_LAKE = re.compile(rb"s3://chaos-(?!landing/)[a-z0-9-]+/")


def normalize(key: str, data: bytes, lake_name: str) -> tuple[str, bytes]:
    """An object as two runs of the same week must agree on it (`RUN_METADATA` removed, and
    the lake's name: a scenario's lakes are copies of one another)."""
    data = data.replace(f"s3://{lake_name}/".encode(), b"s3://<lake>/")
    data = _CHAOS_LAKE.sub(b"s3://<lake>/", data)
    if key.startswith(("reports/data_docs/", "reports/validation/")):
        key = _GX_TIME.sub("<time>", key)
        data = _UUID.sub(b"<uuid>", data)
        data = _ISO_TIME.sub(b"<time>", data)
        return key, _GX_TIME.sub("<time>", data.decode("utf-8", "replace")).encode()
    if key.endswith(".json"):
        try:
            return key, json.dumps(_scrub(json.loads(data)), sort_keys=True).encode()
        except ValueError:
            return key, data
    if key.startswith("quarantine/") and key.endswith(".parquet"):
        import pyarrow.parquet as pq

        from buildout_tracker.lake import parquet_bytes

        table = pq.read_table(io.BytesIO(data))
        table = table.drop_columns(
            [c for c in ("_run_id", "_quarantined_at") if c in table.column_names]
        )
        return key, parquet_bytes(table)
    return key, data


def snapshot(bucket: Bucket, prefix: str = "") -> dict[str, bytes]:
    return {o.key: bucket.get_bytes(o.key) for o in bucket.list(prefix)}


def differences(
    expected: dict[str, bytes], actual: dict[str, bytes], names: tuple[str, str]
) -> list[str]:
    """What differs between two lakes once run metadata is set aside."""
    a = dict(normalize(k, v, names[0]) for k, v in expected.items())
    b = dict(normalize(k, v, names[1]) for k, v in actual.items())
    out = [f"missing: {k}" for k in sorted(set(a) - set(b))]
    out += [f"extra: {k}" for k in sorted(set(b) - set(a))]
    out += [f"differs: {k}" for k in sorted(set(a) & set(b)) if a[k] != b[k]]
    return out


def table_rows(lake: Bucket) -> dict[str, int]:
    """Rows of every published partition (curated/<table>/week=W/), by partition key."""
    import pyarrow.parquet as pq

    out = {}
    for o in lake.list("curated/"):
        if "/_" not in o.key and o.key.endswith(".parquet"):
            out[o.key] = pq.ParquetFile(io.BytesIO(lake.get_bytes(o.key))).metadata.num_rows
    return out


def rows_lost(expected: dict[str, int], actual: dict[str, int]) -> int:
    return sum(max(0, n - actual.get(k, 0)) for k, n in expected.items())


# --- the reader ------------------------------------------------------------------------------


class Reader:
    """What a consumer would see of `curated/` now (module docstring); keeps every problem."""

    def __init__(self, lake: Bucket) -> None:
        self.lake = lake
        self.views = 0
        self.problems: list[str] = []
        self.lock = threading.Lock()

    def look(self) -> list[str]:
        import pyarrow.parquet as pq

        from buildout_tracker import zones
        from buildout_tracker.weeks import status_date

        with self.lock:
            self.views += 1
            found: list[str] = []
            partitions: dict[str, list[str]] = {}
            for o in self.lake.list("curated/"):
                if "/_" in o.key:
                    continue
                partitions.setdefault(o.key.rsplit("/", 1)[0], []).append(o.key)
            for folder, keys in partitions.items():
                table, week = folder.split("/")[1], folder.split("/")[2].removeprefix("week=")
                if keys != [zones.table_key(table, week)]:
                    found.append(f"partition {folder}/ holds {keys}")
                    continue
                data = self.lake.get_bytes_or_none(keys[0])
                if data is None:
                    continue  # gone since the listing (a withdrawal)
                try:
                    # `week` is the path's (not in the files): a row's week is its status date.
                    table = pq.read_table(io.BytesIO(data), columns=["status_date"])
                    dates = set(table.column("status_date").to_pylist())
                except Exception as exc:  # anything unreadable is the finding
                    found.append(f"partition {keys[0]} is not a whole Parquet file: {exc}")
                    continue
                if dates - {status_date(week)}:
                    found.append(f"partition {keys[0]} holds rows of {sorted(map(str, dates))}")
            for o in self.lake.list(zones.MANIFESTS_PREFIX):
                if "/_" in o.key.removeprefix(zones.MANIFESTS_PREFIX):
                    continue
                found += self._manifest(o.key)
            self.problems += found
            return found

    def _manifest(self, key: str) -> list[str]:
        first = self.lake.get_bytes_or_none(key)
        if first is None:
            return []
        found = []
        for name, entry in json.loads(first)["tables"].items():
            for f in entry.get("files", []):
                data = self.lake.get_bytes_or_none(f)
                if data is None:
                    found.append(f"{key} names {f} ({name}), which is missing")
                elif hashlib.sha256(data).hexdigest() != entry.get("sha256"):
                    found.append(f"{key} names {f} ({name}) with other bytes than it holds")
        if found and self.lake.get_bytes_or_none(key) != first:
            return []  # the manifest moved while it was read: this view proves nothing
        return found


# --- children --------------------------------------------------------------------------------

_PRELOAD = [
    "buildout_tracker.devtools.chaos",  # first: `_main_with_a_file` before GX is imported
    "pandas",
    "pyarrow.parquet",
    "boto3",
    "great_expectations",
    "buildout_tracker.pipeline.cycle",
    "buildout_tracker.feeds.gx_suite",
]
_context: Any = None


# The fork server runs as `python -c`: its `__main__` has no file, which pyspark (that GX
# imports) takes for a doctest run, exiting the interpreter. Importing gx_suite gives it one
# (`gx_suite.main_with_a_file`).
gx_suite.main_with_a_file()


def _mp() -> Any:
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(_PRELOAD)
    return _context


def stop_children_server() -> None:
    """Stop the fork server (the children's parent) if this process started one."""
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    stop = getattr(server, "_stop", None)
    if callable(stop):
        with contextlib.suppress(Exception):
            stop()


@functools.cache
def _commit_at_start() -> str:
    """The commit every run of a scenario records (manifests' `code_version`): the one of the
    first run, so that a commit made while chaos runs (each child reads .git anew) does not
    read as a difference between runs."""
    from buildout_tracker import settings

    version = settings.code_version()
    return version.rpartition("+")[2] if "+" in version else ""


def _child_main(env: dict[str, str], job: dict[str, Any], log_path: str) -> None:
    """One step (or several weeks) in a fresh process: what an Airflow task would run."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    for name in [n for n in os.environ if n.startswith("BUILDOUT_") and n not in env]:
        del os.environ[name]  # nothing of the fork server's environment but what is given
    os.environ.update(env)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from buildout_tracker.pipeline import cycle, steps
    from buildout_tracker.pipeline.runtime import Runtime

    rt = Runtime.from_env(job["run_id"])
    result: dict[str, Any] = {"stale": []}
    # The publication's own writes only (tables, manifest, alerts): not the program report
    # that a publication may build after its manifest, when this code has one.
    quiet = {"report": False} if "report" in inspect.signature(steps.publish).parameters else {}
    try:
        for week in job["weeks"]:
            if job["kind"] == "week":
                weekly: dict[str, Any] = {"docs": job.get("docs", False)}
                if "report" in inspect.signature(cycle.run_week).parameters:
                    weekly["report"] = False
                outcome = cycle.run_week(rt, week, **weekly)
                for feed in outcome.reports:
                    result["stale"] += steps.stale_later_weeks(rt, feed, week)
            elif job["kind"] == "ingest":
                for feed in job.get("feeds") or []:
                    outcome_i = steps.ingest(rt, feed, week, docs=job.get("docs", False))
                    result["stale"] += outcome_i.stale_later_weeks
            elif job["kind"] == "tasks":  # the DAG tasks of the week, in order, with checks
                from buildout_tracker import registry
                from buildout_tracker.publish import AuditFailed

                for feed in registry.NAMES:
                    outcome_t = steps.ingest(rt, feed, week, docs=job.get("docs", False))
                    result["stale"] += outcome_t.stale_later_weeks
                with contextlib.suppress(AuditFailed, steps.NothingToPublish):
                    steps.publish(rt, week, **quiet)
            elif job["kind"] == "publish":
                steps.publish(rt, week, **quiet)
    except BaseException as exc:
        print(f"CHILD FAILED: {type(exc).__name__}: {exc}", flush=True)
        import traceback

        traceback.print_exc()
        sys.stdout.flush()
        os._exit(1)
    if job.get("result"):
        Path(job["result"]).write_text(json.dumps(result))
    from buildout_tracker import timing

    print("phases:", {k: round(v, 2) for k, v in timing.snapshot().items()}, flush=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


@dataclass
class Child:
    process: Any
    log: Path
    started: float

    @property
    def pid(self) -> int:
        return int(self.process.pid)

    def wait(self, timeout: float | None = None) -> int | None:
        self.process.join(timeout)
        return self.process.exitcode

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Harness:
    """A local S3 server, the fault proxy before it, a landing bucket, and children."""

    server: LakeServer
    proxy: FaultProxy
    work: Path
    landing_name: str = "chaos-landing"
    hmac_key: str = "chaos-hmac-key-" + "0" * 16
    extra_env: dict[str, str] = field(default_factory=dict)
    _n: int = 0

    @property
    def client(self) -> Any:
        return make_client(self.server.settings())

    def bucket(self, name: str) -> Bucket:
        """A bucket straight on the server (not through the proxy): the reader's, ours."""
        return Bucket(name, self.client)

    def new_lake(self, label: str) -> Bucket:
        self._n += 1
        name = f"chaos-{label}-{self._n:04d}".lower()
        name = re.sub(r"[^a-z0-9-]", "-", name)[:63].rstrip("-")
        self.client.create_bucket(Bucket=name)
        return self.bucket(name)

    def drop(self, lake: Bucket) -> None:
        with contextlib.suppress(Exception):
            lake.delete_prefix("")
            self.client.delete_bucket(Bucket=lake.name)

    def env(self, lake: Bucket, proxied: bool = True) -> dict[str, str]:
        base = self.server.env()
        env = {
            **base,
            "BUILDOUT_LANDING_BUCKET": self.landing_name,
            "BUILDOUT_LAKE_BUCKET": lake.name,
            "BUILDOUT_PII_HMAC_KEY": self.hmac_key,
            "BUILDOUT_ALERT_WEBHOOK": "",
            "BUILDOUT_VAR_DIR": str(self.work / "var"),
            "GX_ANALYTICS_ENABLED": "False",
            "BUILDOUT_LATE_CLAIM_SETTLE_SECONDS": "1.2",
            "BUILDOUT_GIT_COMMIT": _commit_at_start(),
            **self.extra_env,
        }
        return self.proxy.env(env) if proxied else env

    def start(
        self,
        lake: Bucket,
        job: dict[str, Any],
        proxied: bool = True,
        env: dict[str, str] | None = None,
    ) -> Child:
        self._n += 1
        log_path = self.work / f"child-{self._n:04d}.log"
        p = _mp().Process(
            target=_child_main,
            args=({**self.env(lake, proxied), **(env or {})}, job, str(log_path)),
        )
        p.start()
        return Child(p, log_path, time.monotonic())

    def run(
        self,
        lake: Bucket,
        job: dict[str, Any],
        proxied: bool = True,
        env: dict[str, str] | None = None,
    ) -> Child:
        child = self.start(lake, job, proxied, env)
        code = child.wait()
        if code != 0:
            raise RuntimeError(f"child {job} failed ({code}):\n{child.output()[-4000:]}")
        return child

    def copy_lake(self, source: Bucket, label: str) -> Bucket:
        lake = self.new_lake(label)
        for o in source.list(""):
            lake.copy_from(source, o.key)
        return lake


@contextlib.contextmanager
def harness(
    work: Path | None = None, seed: int = 7, server: LakeServer | None = None
) -> Iterator[Harness]:
    """The proxy before `server` (default: a server of its own on a free port, stopped at
    the end), and a landing bucket of its own."""
    with tempfile.TemporaryDirectory(prefix="buildout-chaos-") as tmp:
        root = Path(work or tmp)
        own = server is None
        if server is None:
            server = LakeServer(
                root=root / "lake" / "data",
                host="127.0.0.1",
                port=procs.free_port(),
                access_key="chaos" + os.urandom(4).hex(),
                secret_key="chaos" + os.urandom(12).hex(),
            )
            server.start()
        try:
            client = make_client(server.settings())
            with contextlib.suppress(Exception):
                client.create_bucket(Bucket="chaos-landing")
            with FaultProxy(upstream=server.endpoint, seed=seed) as proxy:
                yield Harness(server, proxy, root)
        finally:
            stop_children_server()
            if own:
                server.stop()


def generate_landing(h: Harness, weeks: list[str], defects: float = 0.05, seed: int = 7) -> None:
    from buildout_tracker.generator import BucketSink, generate

    landing = h.bucket(h.landing_name)
    landing.delete_prefix("")
    generate(weeks, scale="small", seed=seed, defects=defects, sink=BucketSink(landing))


# --- results ---------------------------------------------------------------------------------


@dataclass
class Result:
    scenario: str
    faults: int = 0
    runs: int = 0
    consistent: int = 0
    rows_lost: int = 0
    seen_broken: int = 0
    recover: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    expected_to_survive: bool = True
    tables_differ: list[str] = field(default_factory=list)
    lake_differs: list[str] = field(default_factory=list)

    def add(self, other: Result) -> None:
        self.faults += other.faults
        self.runs += other.runs
        self.consistent += other.consistent
        self.rows_lost += other.rows_lost
        self.seen_broken += other.seen_broken
        self.recover += other.recover
        self.notes += other.notes

    @property
    def ok(self) -> bool:
        return self.consistent == self.runs and self.rows_lost == 0 and self.seen_broken == 0

    def recover_text(self) -> str:
        if not self.recover:
            return "-"
        if len(self.recover) == 1:
            return f"{self.recover[0]:.1f} s"
        return f"median {statistics.median(self.recover):.1f} s, max {max(self.recover):.1f} s"


def table(results: list[Result]) -> str:
    head = ["scenario", "faults injected", "runs", "runs consistent", "rows lost",
            "partial/broken views seen", "time to recover"]  # fmt: skip
    rows = [
        [r.scenario + ("" if r.expected_to_survive else " (beyond design)"), str(r.faults),
         str(r.runs), str(r.consistent), str(r.rows_lost), str(r.seen_broken), r.recover_text()]
        for r in results
    ]  # fmt: skip
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=False)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    return "\n".join(out)


# --- scenarios -------------------------------------------------------------------------------


def _watch_curated(h: Harness, lake: Bucket, reader: Reader) -> None:
    def observe(request: Request) -> None:
        keys = request.written_keys() if request.bucket == lake.name else []
        if any(k.startswith("curated/") for k in keys):
            reader.look()

    h.proxy.observer = observe


def _prepare(h: Harness, base: Bucket | None, label: str) -> Bucket:
    return h.copy_lake(base, label) if base is not None else h.new_lake(label)


@dataclass
class Reference:
    """An undisturbed run of a week through the proxy: its writes, in order, and its lake."""

    week: str
    lake: Bucket
    job: dict[str, Any]
    requests: list[Request]
    objects: dict[str, bytes]
    rows: dict[str, int]
    seconds: float = 0.0

    @property
    def writes(self) -> list[Request]:
        return [r for r in self.requests if r.write and r.bucket == self.lake.name]

    def publication_starts(self) -> int:
        """The 1-based index of the week's first publication write (its lease)."""
        return next(i for i, r in enumerate(self.writes, 1) if r.key.startswith(_PUBLISHING))


def reference_run(
    h: Harness,
    week: str,
    base: Bucket | None = None,
    docs: bool = False,
    env: dict[str, str] | None = None,
) -> Reference:
    job = {"kind": "week", "weeks": [week], "docs": docs, "run_id": f"chaos-{week}"}
    lake = _prepare(h, base, f"ref-{week}")
    h.proxy.clear()
    child = h.run(lake, {**job, "run_id": "undisturbed"}, env=env)
    seconds = time.monotonic() - child.started
    requests = list(h.proxy.requests)
    h.proxy.clear()
    return Reference(week, lake, job, requests, snapshot(lake), table_rows(lake), seconds)


def sample_points(ref: Reference, seed: int, ingest: int, publish: int) -> list[int]:
    """A seeded sample of write points: `ingest` among the ingest's, `publish` among the
    publication's (always including its manifest write when `publish` > 1)."""
    rng = random.Random(seed)
    first = ref.publication_starts()
    writes = ref.writes
    manifest = next(
        i
        for i, r in enumerate(writes, 1)
        if r.action == "PutObject" and "/_manifests/week=" in r.key
    )
    pub = [k for k in range(first, len(writes) + 1) if k != manifest]
    chosen = rng.sample(range(1, first), min(ingest, first - 1))
    if publish:
        chosen += [manifest, *rng.sample(pub, min(publish - 1, len(pub)))]
    return sorted(chosen)


def crash_points(
    h: Harness,
    ref: Reference,
    base: Bucket | None = None,
    points: list[int] | None = None,
    log_: Callable[[str], None] = lambda s: None,
) -> Result:
    """Kill the week's run just before each of its writes (or before the writes `points`),
    run it again, compare with the undisturbed run `ref`, and read all along."""
    job, writes, week = ref.job, ref.writes, ref.week
    expected, expected_rows = ref.objects, ref.rows
    chosen = points if points is not None else list(range(1, len(writes) + 1))
    log_(f"crash@{week}: {len(writes)} writes; killing before {len(chosen)} of them")
    result = Result(f"crash before each write ({week}, {len(writes)} writes)")
    if len(chosen) < len(writes):
        result.scenario = f"crash before {len(chosen)} of its {len(writes)} writes ({week})"
    for k in chosen:
        lake = _prepare(h, base, f"k{k}")
        reader = Reader(lake)
        victim: dict[str, Child] = {}

        def kill(request: Request, victim: dict[str, Child] = victim) -> None:
            os.kill(victim["child"].pid, signal.SIGKILL)

        h.proxy.clear()
        _watch_curated(h, lake, reader)
        h.proxy.add(Rule("drop", bucket=lake.name, writes_only=True, nth=k, hook=kill))
        victim["child"] = child = h.start(lake, job)
        code = child.wait()
        reader.look()
        what = writes[k - 1]
        label = f"k={k} ({what.action} {(what.written_keys() or [what.key])[0]})"
        if code != -signal.SIGKILL:
            result.notes.append(f"{label}: the run was not killed (exit {code})")
        t0 = time.monotonic()
        h.proxy.clear()
        _watch_curated(h, lake, reader)
        try:
            h.run(lake, job)
        except RuntimeError as exc:
            result.notes.append(f"{label}: the run after the kill failed: {exc}")
        result.recover.append(time.monotonic() - t0)
        h.proxy.observer = None
        diff = differences(expected, snapshot(lake), (ref.lake.name, lake.name))
        lost = rows_lost(expected_rows, table_rows(lake))
        result.runs += 1
        result.faults += 1
        result.rows_lost += lost
        result.seen_broken += len(reader.problems)
        if not diff and not reader.problems:
            result.consistent += 1
        else:
            result.notes.append(f"{label}: {diff[:5]} {reader.problems[:3]}")
        log_(
            f"  {label}: {'consistent' if not diff else 'DIFFERS'}, reader saw {len(reader.problems)} problem(s)"
        )
        h.drop(lake)
    return result


FAULT_MIX = ("slowdown", "internal_error", "reset_before_response", "reset_mid_body",
             "truncated_body", "short_body")  # fmt: skip


def fault_rate_history(
    h: Harness,
    weeks: list[str],
    rate: float = 0.03,
    seed: int = 7,
    max_faults: int | None = None,
    task_retries: int = 3,
    reference: Reference | None = None,
    log_: Callable[[str], None] = lambda s: None,
) -> Result:
    """A history run with faults at `rate` of all requests (a mix of kinds); each week run
    again when it fails, like a retried task; the tables must equal an undisturbed run's
    (`reference`, when it is a run of the same one week on an empty lake)."""
    if reference is not None:
        assert weeks == [reference.week], "a reference of the same week, on an empty lake"
        expected, expected_rows = reference.objects, reference.rows
        undisturbed, ref_name = reference.seconds, reference.lake.name
    else:
        ref_lake = h.new_lake("rate-ref")
        t0 = time.monotonic()
        job = {"kind": "week", "weeks": weeks, "run_id": "undisturbed"}
        h.run(ref_lake, job, proxied=False)
        undisturbed = time.monotonic() - t0
        expected, expected_rows, ref_name = snapshot(ref_lake), table_rows(ref_lake), ref_lake.name
        h.drop(ref_lake)
    lake = h.new_lake("rate")
    reader = Reader(lake)
    h.proxy.clear()
    h.proxy.max_faults = max_faults
    h.proxy.rng = random.Random(seed)
    _watch_curated(h, lake, reader)
    for kind in FAULT_MIX:
        h.proxy.add(Rule(kind, bucket=None, rate=rate / len(FAULT_MIX), max_faults=None))
    result = Result(f"fault rate {rate:.0%} of requests, {len(weeks)} weeks")
    t0 = time.monotonic()
    for week in weeks:
        for attempt in range(1, task_retries + 2):
            child = h.start(lake, {"kind": "week", "weeks": [week], "run_id": f"rate-{week}"})
            result.runs += 1
            if child.wait() == 0:
                break
            result.notes.append(f"{week} attempt {attempt} failed: {child.output()[-300:]}")
        else:
            result.notes.append(f"{week}: failed {task_retries + 1} times")
    disturbed = time.monotonic() - t0
    h.proxy.observer = None
    result.faults = h.proxy.faults_injected
    requests = len(h.proxy.requests)
    h.proxy.clear()
    h.proxy.max_faults = None
    diff = differences(expected, snapshot(lake), (ref_name, lake.name))
    tables_diff = [d for d in diff if d.split(": ", 1)[1].startswith("curated/")]
    result.rows_lost = rows_lost(expected_rows, table_rows(lake))
    result.seen_broken = len(reader.problems)
    result.consistent = result.runs if not diff else 0
    result.recover.append(max(0.0, disturbed - undisturbed))
    result.notes.append(
        f"{requests} requests, {result.faults} faults; tables differ: {tables_diff[:5]}; lake differs: {diff[:5]}"
    )
    log_(result.notes[-1])
    result.tables_differ = tables_diff
    result.lake_differs = diff
    h.drop(lake)
    return result


def _ingested(h: Harness, weeks: list[str], label: str, publish_last: bool = False) -> Bucket:
    """A lake with `weeks` run (the last one ingested only unless `publish_last`)."""
    lake = h.new_lake(label)
    if weeks[:-1]:
        h.run(lake, {"kind": "week", "weeks": weeks[:-1], "run_id": "history"}, proxied=False)
    from buildout_tracker import registry

    last = {
        "kind": "ingest",
        "weeks": weeks[-1:],
        "feeds": list(registry.NAMES),
        "run_id": "history",
    }
    h.run(lake, last, proxied=False)
    if publish_last:
        h.run(lake, {"kind": "publish", "weeks": weeks[-1:], "run_id": "history"}, proxied=False)
    return lake


def two_publishers(
    h: Harness,
    weeks: list[str],
    ingested: Bucket | None = None,
    log_: Callable[[str], None] = lambda s: None,
) -> Result:
    """Two publishers of one week started together: one waits for the other's lease; the end
    is one publication's bytes, and the reader never sees anything broken. `ingested`: a
    lake with `weeks` run, the last one ingested only (made when not given)."""
    week = weeks[-1]
    base = ingested or _ingested(h, weeks, "pub-base")
    reference = h.copy_lake(base, "pub-ref")
    h.run(reference, {"kind": "publish", "weeks": [week], "run_id": "undisturbed"}, proxied=False)
    lake = h.copy_lake(base, "pub")
    reader = Reader(lake)
    h.proxy.clear()
    _watch_curated(h, lake, reader)
    t0 = time.monotonic()
    a = h.start(lake, {"kind": "publish", "weeks": [week], "run_id": "publisher-a"})
    b = h.start(lake, {"kind": "publish", "weeks": [week], "run_id": "publisher-b"})
    codes = (a.wait(), b.wait())
    result = Result(f"two publishers of {week} started together", runs=2)
    result.recover.append(time.monotonic() - t0)
    h.proxy.observer = None
    reader.look()
    diff = differences(snapshot(reference), snapshot(lake), (reference.name, lake.name))
    result.seen_broken = len(reader.problems)
    result.rows_lost = rows_lost(table_rows(reference), table_rows(lake))
    result.consistent = 2 if codes == (0, 0) and not diff else 0
    copies = sum(1 for r in h.proxy.requests if r.action == "CopyObject" and r.bucket == lake.name)
    result.notes.append(
        f"exit codes {codes}; {copies} copies into place; differences {diff[:5]}; reader {reader.problems[:3]}"
    )
    log_(result.notes[-1])
    for x in (reference, lake) if ingested else (base, reference, lake):
        h.drop(x)
    return result


def zombie_publisher(
    h: Harness,
    weeks: list[str],
    late_file: tuple[str, bytes] | None = None,
    pause_in: str = "staging",
    lease_seconds: float = 4.0,
    ingested: Bucket | None = None,
    log_: Callable[[str], None] = lambda s: None,
) -> Result:
    """Publisher A is paused (SIGSTOP) while it writes; its lease expires; B publishes the
    week (after a late file changed it, when `late_file`); A is resumed (SIGCONT).

    `pause_in="staging"`: A stops at its first staged table and, resumed, finds its lease
    gone and stops: the end is B's publication. `pause_in="manifest"`: A stops with its
    manifest PUT on the wire (after its last lease check), held by the network until B is
    done: beyond what the design survives without conditional writes."""
    week = weeks[-1]
    base = ingested or _ingested(h, weeks, "zombie-base")
    lake = h.copy_lake(base, "zombie")
    reader = Reader(lake)
    resumed = threading.Event()
    holder: dict[str, Child] = {}
    key_pattern = r"_staging/" if pause_in == "staging" else r"_manifests/week="
    action = "PutObject"

    def pause(request: Request) -> None:
        os.kill(holder["a"].pid, signal.SIGSTOP)
        if pause_in == "manifest":
            resumed.wait(600)  # the request stays on the wire until A runs again

    env = {"BUILDOUT_PUBLISH_LEASE_SECONDS": str(lease_seconds)}
    h.proxy.clear()
    _watch_curated(h, lake, reader)
    h.proxy.add(Rule("pass", bucket=lake.name, action=action, key=key_pattern, nth=1, hook=pause))
    holder["a"] = a = h.start(
        lake, {"kind": "publish", "weeks": [week], "run_id": "zombie-a"}, env=env
    )
    deadline = time.monotonic() + 300
    while not any(r.fault == "pass" for r in h.proxy.requests) and time.monotonic() < deadline:
        if a.process.exitcode is not None:
            break
        time.sleep(0.2)
    if late_file is not None:
        h.bucket(h.landing_name).put_bytes(*late_file)
        from buildout_tracker import registry

        h.run(
            lake,
            {"kind": "ingest", "weeks": [week], "feeds": list(registry.NAMES), "run_id": "late"},
            proxied=False,
        )
    time.sleep(lease_seconds + 0.5)
    t0 = time.monotonic()
    h.run(lake, {"kind": "publish", "weeks": [week], "run_id": "publisher-b"}, env=env)
    b_done = len(h.proxy.requests)
    os.kill(a.pid, signal.SIGCONT)
    resumed.set()
    code_a = a.wait(300)
    result = Result(
        f"zombie publisher resumed after its retry published ({'paused in ' + pause_in})",
        runs=2, faults=1, expected_to_survive=pause_in == "staging",
    )  # fmt: skip
    result.recover.append(time.monotonic() - t0)
    h.proxy.observer = None
    after = [r for r in h.proxy.requests[b_done:] if r.write and r.bucket == lake.name]
    reader.look()
    # The end must be B's publication: the same as publishing the lake's state once, now.
    reference = h.copy_lake(lake, "zombie-ref")
    h.run(reference, {"kind": "publish", "weeks": [week], "run_id": "undisturbed"}, proxied=False)
    diff = differences(snapshot(reference), snapshot(lake), (reference.name, lake.name))
    result.seen_broken = len(reader.problems)
    result.rows_lost = rows_lost(table_rows(reference), table_rows(lake))
    result.consistent = 2 if not diff and not reader.problems else 0
    result.notes.append(
        f"A exit {code_a} ({'LeaseLost' if 'LeaseLost' in a.output() else 'no LeaseLost'}); "
        f"A's writes after resuming: {[(r.action, r.written_keys()) for r in after]}; "
        f"differences {diff[:5]}; reader {reader.problems[:3]}"
    )
    log_(result.notes[-1])
    for x in (lake, reference) if ingested else (base, lake, reference):
        h.drop(x)
    return result


def beside_invariants(lake: Bucket, w: str, nxt: str, late_key: str, stale: list[str]) -> list[str]:
    """What must hold after a re-run of `w` overlapped `nxt`'s run (whatever the order of
    their writes): the late file counted in exactly one week; every delivery of both weeks
    in the content index; `nxt` built on `w`'s state in force, or named by a check."""
    from buildout_tracker import registry, zones
    from buildout_tracker.ingest.ledger import ContentIndex

    found = []
    feed = late_key.split("/", 1)[0]
    taken = {
        week: [f["outcome"] for f in (lake.get_json_or_none(zones.ledger_week(feed, week)) or {}).get("files", []) if f["key"] == late_key]
        for week in (w, nxt)
    }  # fmt: skip
    if sum(o.count("ingested") for o in taken.values()) != 1:
        found.append(f"late file {late_key} ingested by {taken} (once, by one week)")
    index = ContentIndex(lake)
    for f in registry.NAMES:
        for week in (w, nxt):
            for rec in (lake.get_json_or_none(zones.ledger_week(f, week)) or {}).get("files", []):
                if rec["outcome"] not in ("ingested", "duplicate"):
                    continue
                if rec["key"] not in {d["key"] for d in index.deliveries(rec["sha256"])}:
                    found.append(f"content index lost {rec['key']}")
    for f in registry.NAMES:
        for name in registry.feed(f).states:
            mine = lake.get_json_or_none(zones.state_meta(name, nxt))
            base = lake.get_json_or_none(zones.state_meta(name, w))
            if mine is None or base is None or mine.get("base_week") != w:
                continue
            if mine.get("base_sha256") != base.get("sha256") and nxt not in stale:
                found.append(f"{name} of {nxt} is built on a replaced {w} and no check named {nxt}")
    return found


def rerun_beside_next_week(
    h: Harness,
    weeks: list[str],
    late_file: tuple[str, bytes],
    serial: bool = True,
    log_: Callable[[str], None] = lambda s: None,
) -> Result:
    """Week W (the second to last of `weeks`) run again, after a late file landed for it,
    while W+1 runs for the first time (each as its DAG tasks, with their checks). Then
    `beside_invariants`, and, with `serial`, the weeks the checks named are run again (what
    the check task tells the operator) and the end must be what running the two one after
    the other gives, in one order or the other (whichever took the late file)."""
    w, nxt = weeks[-2], weeks[-1]
    base = h.new_lake("beside-base")
    h.run(base, {"kind": "week", "weeks": weeks[:-1], "run_id": "history"}, proxied=False)
    h.bucket(h.landing_name).put_bytes(*late_file)
    references = []
    try:
        for order in ((w, nxt), (nxt, w)) if serial else ():
            ref = h.copy_lake(base, "beside-ref")
            for week in order:
                job = {"kind": "tasks", "weeks": [week], "run_id": "undisturbed"}
                h.run(ref, job, proxied=False)
            references.append(ref)
        lake = h.copy_lake(base, "beside")
        reader = Reader(lake)
        h.proxy.clear()
        _watch_curated(h, lake, reader)
        # Make the bad interleaving likely: W+1 reads W's state before the re-run replaces it,
        # and writes its own after the re-run has checked the later weeks.
        h.proxy.add(
            Rule("latency", bucket=lake.name, action="PutObject", key=rf"^state/po_lines/week={w}/", latency=2.0, max_faults=None),
            Rule("latency", bucket=lake.name, action="PutObject", key=rf"^state/po_lines/week={nxt}/", latency=6.0, max_faults=None),
        )  # fmt: skip
        t0 = time.monotonic()
        results = [h.work / f"beside-{x}-{lake.name}.json" for x in ("w", "next")]
        x = h.start(
            lake, {"kind": "tasks", "weeks": [w], "run_id": "rerun", "result": str(results[0])}
        )
        y = h.start(
            lake, {"kind": "tasks", "weeks": [nxt], "run_id": "next", "result": str(results[1])}
        )
        codes = (x.wait(), y.wait())
        stale = sorted(
            {s for p in results if p.exists() for s in json.loads(p.read_text())["stale"]}
        )
        h.proxy.observer = None
        h.proxy.clear()
        found = beside_invariants(lake, w, nxt, late_file[0], stale)
        result = Result(f"re-run of {w} (late file) beside {nxt}'s first run", runs=2)
        result.recover.append(time.monotonic() - t0)
        if serial:
            for week in stale:  # the operator re-runs what the check named, in order
                job = {"kind": "tasks", "weeks": [week], "run_id": "after-check"}
                h.run(lake, job, proxied=False)
            result.recover[-1] = time.monotonic() - t0
            actual = snapshot(lake)
            diffs = [differences(snapshot(r), actual, (r.name, lake.name)) for r in references]
            best = min(diffs, key=len)
            result.rows_lost = min(rows_lost(table_rows(r), table_rows(lake)) for r in references)
            taker = w if not diffs[0] else (nxt if not diffs[1] else "neither")
            found += [f"differs from both serial orders: {best[:5]}"] if best else []
            result.notes.append(f"the end is the serial order in which {taker} took the late file")
        reader.look()
        result.seen_broken = len(reader.problems)
        result.consistent = 2 if codes == (0, 0) and not found else 0
        result.notes.append(
            f"exit codes {codes}; checks named {stale}; {found[:5]}; reader {reader.problems[:3]}"
        )
        result.lake_differs = found
        log_(" ".join(result.notes[-2:]))
        h.drop(lake)
    finally:
        for r in references:
            h.drop(r)
        h.bucket(h.landing_name).delete([late_file[0]])
        h.drop(base)
    return result


def late_po_file(h: Harness, week: str) -> tuple[str, bytes]:
    """A procurement file for `week` that lands after the week ran and changes its numbers:
    three lines of one of the week's files, as new PO lines (new numbers, a later change)."""
    import csv

    from buildout_tracker.weeks import week_dates

    landing = h.bucket(h.landing_name)
    days = [d.isoformat() for d in week_dates(week)]
    source = next(
        o.key
        for day in days
        for o in landing.list(f"procurement/{day}/")
        if o.key.rsplit("/", 1)[-1].startswith("po_lines_")
    )
    rows = list(csv.DictReader(io.StringIO(landing.get_bytes(source).decode())))
    assert rows, f"{source} has no rows"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    last = days[-1]
    for i, row in enumerate(rows[:3]):
        row["po_number"] = f"99999999{i:02d}"
        if "change_ts" in row:
            row["change_ts"] = f"{last}T12:00:00Z"
        writer.writerow(row)
    return f"procurement/{last}/po_lines_late_chaos.csv", out.getvalue().encode()


def _points(ref: Reference, args: argparse.Namespace) -> list[int] | None:
    if args.points is None or args.points >= len(ref.writes):
        return None
    publish = max(1, args.points // 3)
    return sample_points(ref, args.seed, args.points - publish, publish)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chaos", description=__doc__.split("\n\n")[0])
    parser.add_argument("--weeks", type=int, default=12, help="weeks of history (fault rate)")
    parser.add_argument(
        "--points", type=int, default=None, help="crash points to sample (default: all)"
    )
    parser.add_argument(
        "--first-week-only", action="store_true", help="crash points of the first week only"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rate", type=float, default=0.03)
    parser.add_argument("--only", default=None, help="comma-separated: crash,rate,overlap")
    parser.add_argument("--docs", action="store_true", help="build Data Docs in the crash runs")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    from buildout_tracker.weeks import shift

    first = "2026-W37"
    weeks = [shift(first, k) for k in range(args.weeks)]
    only = set((args.only or "crash,rate,overlap").split(","))
    say = print if args.verbose else (lambda s: None)
    results: list[Result] = []
    t0 = time.monotonic()
    with harness(seed=args.seed) as h:
        generate_landing(h, weeks, seed=args.seed)
        if "crash" in only:
            ref = reference_run(h, first, docs=args.docs)
            results.append(crash_points(h, ref, points=_points(ref, args), log_=say))
            h.drop(ref.lake)
            if not args.first_week_only:
                base = h.new_lake("crash-base")
                h.run(base, {"kind": "week", "weeks": [first], "run_id": "history"}, proxied=False)
                ref = reference_run(h, weeks[1], base=base, docs=args.docs)
                results.append(crash_points(h, ref, base=base, points=_points(ref, args), log_=say))
                h.drop(ref.lake)
                h.drop(base)
        if "rate" in only:
            results.append(fault_rate_history(h, weeks, rate=args.rate, seed=args.seed, log_=say))
        if "overlap" in only:
            results.append(two_publishers(h, weeks[:2], log_=say))
            results.append(zombie_publisher(h, weeks[:2], late_po_file(h, weeks[1]), log_=say))
            results.append(
                zombie_publisher(
                    h, weeks[:2], late_po_file(h, weeks[1]), pause_in="manifest", log_=say
                )
            )
            results.append(
                rerun_beside_next_week(h, weeks[:3], late_po_file(h, weeks[1]), log_=say)
            )
    print(table(results))
    for r in results:
        for note in r.notes if (args.verbose or not r.ok) else []:
            print(f"  {r.scenario}: {note}")
    print(f"({time.monotonic() - t0:.0f} s)")
    return 0 if all(r.ok for r in results if r.expected_to_survive) else 1


if __name__ == "__main__":
    raise SystemExit(main())
