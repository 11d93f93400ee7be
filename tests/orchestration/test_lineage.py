"""OpenLineage: what the DAG tasks report is what they really read and wrote.

- Unit: `lineage.recorded` on a real S3 client of the test lake (no Airflow): the objects read
  and written become the task's inlets and outlets, with their facets, also when the body
  fails; nothing is recorded when OpenLineage is off.
- End to end (slow): one generated week through the real DAGs with `dag.test()`
  (`buildout run-week`, in a child process with its own Airflow home), OpenLineage's http
  transport pointed at a receiver this test starts on a free loopback port. Every event is
  checked structurally with openlineage-python's own classes (no package on PyPI ships the
  OpenLineage JSON schemas; with OPENLINEAGE_SPEC_DIR pointing at a copy of the spec's
  `OpenLineage.json` and `facets/`, every event and facet is also validated with jsonschema),
  and the datasets of the week are compared with the objects the week left in the lake.
"""

from __future__ import annotations

import enum
import glob
import json
import os
import subprocess
import sys
import threading
import types
import typing
import uuid
from collections import defaultdict
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import attr
import pyarrow as pa
import pytest

from buildout_tracker import registry, zones
from buildout_tracker.devtools.lake_server import LakeServer
from buildout_tracker.lake import Bucket, ensure_buckets, make_client, parquet_bytes
from buildout_tracker.orchestration import lineage
from buildout_tracker.pipeline.runtime import Runtime
from buildout_tracker.tables import TABLE_NAMES

WEEK = "2026-W46"
LANDING, LAKE = "lineage-landing", "lineage-lake"
NAMESPACE = "buildout-tracker-test"
TASK_DAGS = (*registry.INGEST_DAGS, registry.PUBLISH_DAG)


# --- unit: the recorder ------------------------------------------------------------------------


@pytest.fixture
def buckets(lake_server: LakeServer) -> tuple[Bucket, Bucket]:
    client = make_client(lake_server.settings())
    ensure_buckets(client, ("unit-lineage-landing", "unit-lineage-lake"))
    landing, lake = Bucket("unit-lineage-landing", client), Bucket("unit-lineage-lake", client)
    landing.delete_prefix("")
    lake.delete_prefix("")
    return landing, lake


def test_recorded_reports_what_was_read_and_written(buckets: tuple[Bucket, Bucket]) -> None:
    landing, lake = buckets
    landing.put_bytes("procurement/2026-11-10/po_lines_1.csv", b"po_number\nPO-1\n")
    landing.put_bytes("procurement/2026-11-10/untouched.csv", b"x\n")
    lake.put_bytes("state/po_lines/week=2026-W45/po_lines.parquet", b"old state")
    rt = Runtime(landing, lake, b"k")
    task = types.SimpleNamespace(inlets=[], outlets=["an Airflow asset"])
    table = pa.table({"week": ["2026-W46"] * 3, "n": [1, 2, 3]})
    report = {"feed": "procurement", "week": "2026-W46", "files": [{
        "key": "procurement/2026-11-10/po_lines_1.csv", "outcome": "ingested", "rows_in": 1,
        "size": 16, "rule": None, "table_failures": [],
        "rule_stats": [
            {"rule": "required:po_number", "severity": "critical", "rows_failed": 0},
            {"rule": "net_value_matches", "severity": "critical", "rows_failed": 1},
        ],
    }]}  # fmt: skip
    manifest = {"tables": {"procurement_weekly": {
        "files": ["curated/procurement_weekly/week=2026-W46/part-00000.parquet"], "rows": 3,
        "schema": [{"name": "week", "type": "string"}, {"name": "n", "type": "int64"}],
    }}}  # fmt: skip
    with lineage.recorded(rt, task=task, enabled=True):
        landing.get_bytes("procurement/2026-11-10/po_lines_1.csv")
        lake.get_bytes("state/po_lines/week=2026-W45/po_lines.parquet")
        lake.get_bytes_or_none("state/po_lines/week=2026-W44/po_lines.parquet")  # 404: no read
        lake.put_parquet("validated/po_lines/week=2026-W46/f1.parquet", table)
        lake.get_bytes("validated/po_lines/week=2026-W46/f1.parquet")  # its own output
        lake.put_json("state/po_lines/week=2026-W46/_meta.json", {"not": "data"})
        lake.put_json("ledger/feed=procurement/week=2026-W46.json", {"not": "data"})
        lake.put_json("reports/feeds/week=2026-W46/procurement.json", report)
        lake.put_bytes("curated/_staging/week=2026-W46/r/procurement_weekly.parquet",
                       parquet_bytes(table))  # fmt: skip
        lake.copy_from(lake, "curated/_staging/week=2026-W46/r/procurement_weekly.parquet",
                       "curated/procurement_weekly/week=2026-W46/part-00000.parquet")  # fmt: skip
        lake.put_json("curated/_manifests/week=2026-W46.json", manifest)
    assert task.outlets[0] == "an Airflow asset"  # the scheduling asset stays
    ins = {(d.namespace, d.name): d for d in task.inlets}
    outs = {(d.namespace, d.name): d for d in task.outlets[1:]}
    assert set(ins) == {
        ("s3://unit-lineage-landing", "procurement/2026-11-10/po_lines_1.csv"),
        ("s3://unit-lineage-lake", "state/po_lines/week=2026-W45/po_lines.parquet"),
    }
    assert set(outs) == {
        ("s3://unit-lineage-lake", "validated/po_lines/week=2026-W46/f1.parquet"),
        ("s3://unit-lineage-lake", "reports/feeds/week=2026-W46/procurement.json"),
        ("s3://unit-lineage-lake", "curated/procurement_weekly"),
        ("s3://unit-lineage-lake", "curated/_manifests/week=2026-W46.json"),
    }
    csv = ins[("s3://unit-lineage-landing", "procurement/2026-11-10/po_lines_1.csv")]
    dq = csv.inputFacets["dataQualityAssertions"].assertions
    assert [(a.assertion, a.column, a.success, a.params) for a in dq] == [
        ("required:po_number", "po_number", True, {}),
        ("net_value_matches", None, False, {"columns": ["net_value", "quantity", "unit_price"]}),
    ]
    assert csv.inputFacets["inputStatistics"].rowCount == 1
    validated = outs[("s3://unit-lineage-lake", "validated/po_lines/week=2026-W46/f1.parquet")]
    assert validated.outputFacets["outputStatistics"].rowCount == 3
    assert [f.name for f in validated.facets["schema"].fields] == ["week", "n"]
    published = outs[("s3://unit-lineage-lake", "curated/procurement_weekly")]
    part = published.outputFacets["subset"].outputCondition.partitions
    assert [(p.identifier, p.dimensions) for p in part] == [("week=2026-W46", {"week": "2026-W46"})]
    assert published.outputFacets["outputStatistics"].rowCount == 3
    assert published.outputFacets["outputStatistics"].size == len(parquet_bytes(table))
    assert [(f.name, f.type) for f in published.facets["schema"].fields] == [
        ("week", "string"), ("n", "int64"),
    ]  # fmt: skip
    # The handlers are gone with the body: nothing more is recorded.
    lake.put_json("validated/po_lines/week=2026-W46/late.json", {})
    with lineage.recorded(rt, task=task, enabled=True):
        pass
    assert task.inlets == [] and task.outlets == ["an Airflow asset"]


def test_a_failing_body_still_reports_what_it_did(buckets: tuple[Bucket, Bucket]) -> None:
    landing, lake = buckets
    rt = Runtime(landing, lake, b"k")
    task = types.SimpleNamespace(inlets=[], outlets=[])
    with pytest.raises(RuntimeError, match="boom"), lineage.recorded(rt, task=task, enabled=True):
        lake.put_bytes("quarantine/hiring/week=2026-W46/files/x.json", b"{}")
        raise RuntimeError("boom")
    assert [d.name for d in task.outlets] == ["quarantine/hiring/week=2026-W46/files/x.json"]


def test_off_unless_configured(
    buckets: tuple[Bucket, Bucket], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith(("AIRFLOW__OPENLINEAGE__", "OPENLINEAGE_")):
            monkeypatch.delenv(name)
    assert not lineage.lineage_enabled()
    landing, lake = buckets
    task = types.SimpleNamespace(inlets=[], outlets=[])
    with lineage.recorded(Runtime(landing, lake, b"k"), task=task):
        lake.put_bytes("validated/x/week=2026-W46/a.parquet", b"x")
    assert task.outlets == []
    assert not any("buildout-lineage" in str(h) for h in _handlers(lake.client))


def _handlers(client: Any) -> list[Any]:
    return list(client.meta.events._emitter._unique_id_handlers)


def test_expected_datasets_on_start() -> None:
    ins, outs = lineage.expected_datasets("ingest_procurement_weekly", "ingest_po_lines", [WEEK])
    assert [d.name for d in ins] == ["procurement/"]
    assert {d.name for d in outs} == {
        f"validated/po_lines/week={WEEK}/", f"quarantine/procurement/week={WEEK}/",
        zones.state_table("po_lines", WEEK), zones.feed_report("procurement", WEEK),
    }  # fmt: skip
    _, outs = lineage.expected_datasets(registry.PUBLISH_DAG, lineage.PUBLISH_TASK, [WEEK])
    assert {d.name for d in outs} == {
        *(f"curated/{t}" for t in TABLE_NAMES),
        zones.manifest_key(WEEK),
    }
    assert lineage.expected_datasets(
        "ingest_procurement_weekly", "check_procurement_week", [WEEK]
    ) == ([], [])


# --- structural validation with openlineage-python's classes ------------------------------------


def _facet_classes() -> dict[str, type]:
    """`_schemaURL` -> the generated facet class that emits it."""
    import importlib
    import pkgutil

    import openlineage.client.generated as gen

    out: dict[str, type] = {}
    for info in pkgutil.iter_modules(gen.__path__):
        module = importlib.import_module(f"{gen.__name__}.{info.name}")
        for obj in vars(module).values():
            facet = isinstance(obj, type) and attr.has(obj) and hasattr(obj, "_get_schema")
            if facet and any(f.name == "_producer" for f in attr.fields(obj)):
                out.setdefault(obj._get_schema(), obj)
    # The core's facet kinds are not facets of their own: a facet whose _schemaURL names one
    # (Airflow's) is checked as an unknown facet of that kind.
    return {url: cls for url, cls in out.items() if "/OpenLineage.json#" not in url}


CORE = "https://openlineage.io/spec/2-0-2/OpenLineage.json"


def _airflow_facet_schemas() -> tuple[Any, dict[str, str]]:
    """The provider's JSON Schemas of its own facets (it ships them), as a jsonschema
    registry, and `<kind>:<facet name>` (RunFacet:airflow) -> the definition to validate it with. They refer to the core
    spec's RunFacet / JobFacet, which no package ships: those two are stood in for by what
    every facet must have (`_producer`, `_schemaURL`, both URIs)."""
    import airflow.providers.openlineage.facets as facets_pkg
    from referencing import Registry, Resource

    base = {"type": "object", "required": ["_producer", "_schemaURL"], "properties": {
        "_producer": {"type": "string", "format": "uri"},
        "_schemaURL": {"type": "string", "format": "uri"},
    }}  # fmt: skip
    draft = "https://json-schema.org/draft/2020-12/schema"
    resources = [(CORE, {"$schema": draft, "$defs": {"RunFacet": base, "JobFacet": base}})]
    names: dict[str, str] = {}
    for path in sorted(Path(facets_pkg.__file__).parent.glob("*.json")):
        doc = json.loads(path.read_text())
        uri = f"urn:airflow-openlineage-provider:{path.stem}"
        resources.append((uri, doc))
        for name, prop in doc.get("properties", {}).items():
            # AirflowJobFacet is a job facet (its schema's allOf says RunFacet, a slip).
            kind = "JobFacet" if prop["$ref"].endswith("JobFacet") else "RunFacet"
            names[f"{kind}:{name}"] = uri + prop["$ref"]
    registry = Registry().with_resources((u, Resource.from_contents(d)) for u, d in resources)
    return registry, names


class Structure:
    """Rebuild an event from its JSON with openlineage-python's attrs classes: their
    validators run (UUID run ids, ISO date-times with a time, URLs), every field's type is
    checked, a required field missing or a field the class does not know is an error, a
    facet must be of the kind its slot holds (an input facet under `inputFacets`), and a
    known facet's `_schemaURL` must be the one its class emits."""

    def __init__(self) -> None:
        from openlineage.client.generated import base

        self.facets = _facet_classes()
        self.base = base
        self.unknown_facets: set[str] = set()
        self.airflow_registry, self.airflow_names = _airflow_facet_schemas()
        self.airflow_deviations: set[str] = set()  # the provider's facets against its schemas
        self.checked_airflow: set[str] = set()

    def event(self, data: dict[str, Any]) -> list[str]:
        from openlineage.client.event_v2 import RunEvent

        errors: list[str] = []
        self.build(RunEvent, data, "event", errors)
        if (
            data.get("schemaURL")
            != "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
        ):
            errors.append(f"event.schemaURL: {data.get('schemaURL')}")
        return errors

    def build(self, cls: type, data: Any, path: str, errors: list[str]) -> Any:
        if not isinstance(data, dict):
            errors.append(
                f"{path}: expected an object for {cls.__name__}, got {type(data).__name__}"
            )
            return None
        attr.resolve_types(cls)
        fields = {f.name: f for f in attr.fields(cls)}
        for key in data:
            if key not in fields:
                errors.append(f"{path}.{key}: not a field of {cls.__name__}")
        kwargs = {}
        for name, f in fields.items():
            if not f.init:
                continue
            if name not in data:
                if f.default is attr.NOTHING:
                    errors.append(f"{path}.{name}: required by {cls.__name__}, missing")
                continue
            kwargs[f.alias] = self.value(f.type, data[name], f"{path}.{name}", errors, name)
        try:
            obj = cls(**kwargs)
        except Exception as exc:  # a validator refused a value
            errors.append(f"{path}: {cls.__name__} refused it: {exc}")
            return None
        for name, f in fields.items():
            if not f.init and name in data and data[name] != getattr(obj, name):
                errors.append(
                    f"{path}.{name}: {data[name]!r}, {cls.__name__} emits {getattr(obj, name)!r}"
                )
        return obj

    def value(self, tp: Any, value: Any, path: str, errors: list[str], name: str = "") -> Any:
        origin = typing.get_origin(tp)
        if origin in (typing.Union, types.UnionType):
            args = typing.get_args(tp)
            if value is None:
                if type(None) not in args:
                    errors.append(f"{path}: null not allowed")
                return None
            options = [a for a in args if a is not type(None)]
            if len(options) == 1:
                return self.value(options[0], value, path, errors, name)
            tagged = [a for a in options if attr.has(a) and isinstance(value, dict)
                      and getattr(a, "__attrs_attrs__", None) is not None
                      and any(f.name == "type" and f.default == value.get("type") for f in attr.fields(a))]  # fmt: skip
            for option in tagged or options:
                trial: list[str] = []
                out = self.value(option, value, path, trial, name)
                if not trial:
                    return out
            errors.append(f"{path}: matches none of {options}")
            return None
        if origin is list:
            if not isinstance(value, list):
                errors.append(f"{path}: expected a list")
                return None
            (item,) = typing.get_args(tp)
            return [self.value(item, v, f"{path}[{i}]", errors) for i, v in enumerate(value)]
        if origin is dict:
            if not isinstance(value, dict):
                errors.append(f"{path}: expected an object")
                return None
            _, item = typing.get_args(tp)
            if isinstance(item, type) and issubclass(item, self.base.BaseFacet):
                return {k: self.facet(item, v, f"{path}.{k}", errors) for k, v in value.items()}
            return value
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            try:
                return tp(value)
            except ValueError:
                errors.append(f"{path}: {value!r} is not one of {[e.value for e in tp]}")
                return None
        if isinstance(tp, type) and attr.has(tp):
            return self.build(tp, value, path, errors)
        if tp is Any or tp is typing.Any:
            return value
        if tp is bool and not isinstance(value, bool):
            errors.append(f"{path}: expected a boolean, got {value!r}")
        elif tp is int and (not isinstance(value, int) or isinstance(value, bool)):
            errors.append(f"{path}: expected an integer, got {value!r}")
        elif tp is float and (not isinstance(value, int | float) or isinstance(value, bool)):
            errors.append(f"{path}: expected a number, got {value!r}")
        elif tp is str and not isinstance(value, str):
            errors.append(f"{path}: expected a string, got {value!r}")
        return value

    def facet(self, slot: type, value: Any, path: str, errors: list[str]) -> Any:
        if not isinstance(value, dict):
            errors.append(f"{path}: a facet must be an object")
            return value
        for key in ("_producer", "_schemaURL"):
            if not isinstance(value.get(key), str) or "://" not in value[key]:
                errors.append(f"{path}.{key}: missing or not a URL: {value.get(key)!r}")
        url = str(value.get("_schemaURL", ""))
        cls = self.facets.get(url)
        if cls is None:
            # Not an OpenLineage facet (Airflow's own, pointing at the core schema): its
            # `_schemaURL` must name the kind of its slot, and the provider's own schema of it,
            # when it ships one, must accept it.
            name = f"{slot.__name__}:{path.rsplit('.', 1)[-1]}"
            if not url.endswith(f"#/$defs/{slot.__name__}"):
                errors.append(f"{path}: unknown facet whose _schemaURL is not {slot.__name__}")
            if name in self.airflow_names:
                from jsonschema import Draft202012Validator, FormatChecker

                v = Draft202012Validator({"$ref": self.airflow_names[name]},
                                         registry=self.airflow_registry, format_checker=FormatChecker())  # fmt: skip
                for e in v.iter_errors(value):
                    where = "/".join(map(str, e.absolute_path))
                    self.airflow_deviations.add(f"{name}: {where}: {e.message}")
                self.checked_airflow.add(name)
            else:
                self.unknown_facets.add(f"{name} ({url})")
            return value
        if not issubclass(cls, slot):
            errors.append(f"{path}: {cls.__name__} is not a {slot.__name__}")
        return self.build(cls, value, path, errors)


# --- end to end --------------------------------------------------------------------------------


class Receiver:
    """An OpenLineage HTTP endpoint on a free loopback port: every POSTed event, in order."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        received = self.events

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append({"path": self.path, "event": json.loads(body)})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def run(
    tmp_path_factory: pytest.TempPathFactory, lake_server: LakeServer
) -> Iterator[dict[str, Any]]:
    from buildout_tracker.generator import BucketSink, generate

    var = tmp_path_factory.mktemp("lineage-var")
    client = make_client(lake_server.settings())
    ensure_buckets(client, (LANDING, LAKE))
    landing, lake = Bucket(LANDING, client), Bucket(LAKE, client)
    landing.delete_prefix("")
    lake.delete_prefix("")
    generate([WEEK], scale="small", seed=5, sink=BucketSink(landing))
    landing_keys = [o.key for o in landing.list("")]
    with Receiver() as receiver:
        env = {**os.environ, **lake_server.env()}
        env.update({
            "BUILDOUT_LANDING_BUCKET": LANDING, "BUILDOUT_LAKE_BUCKET": LAKE,
            "BUILDOUT_VAR_DIR": str(var), "BUILDOUT_PII_HMAC_KEY": "lineage-test-key",
            "BUILDOUT_ALERT_WEBHOOK": "", "AIRFLOW_HOME": str(var / "airflow"),
            "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps({
                "type": "http", "url": f"http://127.0.0.1:{receiver.port}", "endpoint": "api/v1/lineage",
            }),
            "AIRFLOW__OPENLINEAGE__NAMESPACE": NAMESPACE,
            "AIRFLOW__OPENLINEAGE__EXTRACTORS": lineage.EXTRACTOR_PATH,
        })  # fmt: skip
        env.pop("AIRFLOW__CORE__DAGS_FOLDER", None)
        env.pop("AIRFLOW__OPENLINEAGE__DISABLED", None)
        out = subprocess.run(
            [sys.executable, "-m", "buildout_tracker.cli", "run-week", "--week", WEEK],
            env=env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
    (var / "run-week.out").write_text(out.stdout + "\n--- stderr ---\n" + out.stderr)
    (var / "events.json").write_text(json.dumps([r["event"] for r in receiver.events], indent=1))
    yield {
        "out": out, "events": [r["event"] for r in receiver.events], "paths": {r["path"] for r in receiver.events},
        "landing": landing, "lake": lake, "landing_keys": landing_keys, "var": var,
    }  # fmt: skip


def _task_events(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """job name (`<dag_id>.<task_id>`) -> its task events in order (DAG-run events left out)."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ev in events:
        if "." in ev["job"]["name"]:
            out[ev["job"]["name"]].append(ev)
    return out


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_every_task_sends_start_and_an_end(run: dict[str, Any]) -> None:
    assert run["out"].returncode == 0, run["out"].stdout[-3000:] + run["out"].stderr[-3000:]
    assert run["paths"] == {"/api/v1/lineage"}
    tasks = _task_events(run["events"])
    expected = {f"{f.dag_id}.{f.task_id}" for f in registry.FEEDS}
    expected |= {
        f"{registry.PUBLISH_DAG}.select_weeks",
        f"{registry.PUBLISH_DAG}.{lineage.PUBLISH_TASK}",
    }
    assert expected <= set(tasks), sorted(tasks)
    for job, evs in tasks.items():
        assert job.split(".")[0] in TASK_DAGS, job
        by_run: dict[str, list[str]] = defaultdict(list)
        for ev in evs:
            by_run[ev["run"]["runId"]].append(ev["eventType"])
        for types_ in by_run.values():
            assert types_[0] == "START", (job, types_)
            assert types_[-1] in ("COMPLETE", "FAIL"), (job, types_)
        for ev in evs:
            assert ev["job"]["namespace"] == NAMESPACE
    dag_runs = [ev for ev in run["events"] if "." not in ev["job"]["name"]]
    assert {ev["job"]["name"] for ev in dag_runs if ev["eventType"] == "COMPLETE"} >= set(TASK_DAGS)


@pytest.mark.slow
def test_every_event_is_structurally_valid(run: dict[str, Any]) -> None:
    check = Structure()
    bad = {}
    for i, ev in enumerate(run["events"]):
        errors = check.event(ev)
        if errors:
            bad[f"{i} {ev.get('eventType')} {ev.get('job', {}).get('name')}"] = errors[:5]
    assert not bad, json.dumps(bad, indent=1)[:4000]
    assert len(run["events"]) > 20
    print(f"{len(run['events'])} events structurally valid")
    print(f"Airflow facets checked against the provider's schemas: {sorted(check.checked_airflow)}")
    print(f"the provider's facets against its own schemas: {sorted(check.airflow_deviations)}")
    print(f"facets with no schema at all: {sorted(check.unknown_facets)}")


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("OPENLINEAGE_SPEC_DIR"), reason="no OpenLineage spec copy")
def test_every_event_matches_the_openlineage_json_schemas(run: dict[str, Any]) -> None:
    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry, Resource

    spec = Path(os.environ["OPENLINEAGE_SPEC_DIR"])
    docs = [
        json.loads(p.read_text())
        for p in [spec / "OpenLineage.json", *map(Path, glob.glob(str(spec / "facets" / "*.json")))]
    ]
    reg = Registry().with_resources(
        [(d["$id"], Resource.from_contents(d)) for d in docs if "$id" in d]
    )
    known = {d["$id"] for d in docs if "$id" in d}

    def validate(url: str, doc: Any) -> list[str]:
        v = Draft202012Validator({"$ref": url}, registry=reg, format_checker=FormatChecker())
        return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(doc)]

    bad: dict[str, list[str]] = {}
    checked = 0
    for i, ev in enumerate(run["events"]):
        errors = validate(docs[0]["$id"] + "#/$defs/RunEvent", ev)
        groups = [ev["run"].get("facets", {}), ev["job"].get("facets", {})]
        for ds in [*ev.get("inputs", []), *ev.get("outputs", [])]:
            groups += [ds.get("facets", {}), ds.get("inputFacets", {}), ds.get("outputFacets", {})]
        for facets in groups:
            for name, facet in facets.items():
                if facet.get("_schemaURL", "").split("#")[0] in known:
                    checked += 1
                    errors += [f"{name}: {e}" for e in validate(facet["_schemaURL"], facet)]
        if errors:
            bad[f"{i} {ev['eventType']} {ev['job']['name']}"] = errors[:5]
    assert not bad, json.dumps(bad, indent=1)[:4000]
    print(f"{len(run['events'])} events and {checked} facets valid against {spec}")


def _complete(run: dict[str, Any], job: str) -> dict[str, Any]:
    evs = [e for e in _task_events(run["events"])[job] if e["eventType"] == "COMPLETE"]
    assert len(evs) == 1, job
    return evs[0]


def _names(datasets: list[dict[str, Any]], namespace: str) -> set[str]:
    return {d["name"] for d in datasets if d["namespace"] == namespace}


@pytest.mark.slow
def test_the_datasets_of_the_week_are_the_objects_it_wrote(run: dict[str, Any]) -> None:
    lake: Bucket = run["lake"]
    lake_ns, landing_ns = f"s3://{LAKE}", f"s3://{LANDING}"
    ingest = [_complete(run, f"{f.dag_id}.{f.task_id}") for f in registry.FEEDS]
    publish = _complete(run, f"{registry.PUBLISH_DAG}.{lineage.PUBLISH_TASK}")

    # Every landing file of the week was read, by its own feed's task at least (a task whose
    # rules need the reference ingests it first: those tasks read the reference files too).
    read = {d["name"] for ev in ingest for d in ev["inputs"] if d["namespace"] == landing_ns}
    assert read == set(run["landing_keys"])
    for f, ev in zip(registry.FEEDS, ingest, strict=True):
        own = {k for k in run["landing_keys"] if k.startswith(f"{f.name}/")}
        assert own <= _names(ev["inputs"], landing_ns), f.name

    # What the ingest tasks say they wrote is what the lake holds in the zones of data.
    listed = [o.key for o in lake.list("")]
    data = {k for k in listed
            if k.startswith(("validated/", "quarantine/", "reports/feeds/"))
            or (k.startswith("state/") and not k.endswith("/_meta.json"))}  # fmt: skip
    written = [d["name"] for ev in ingest for d in ev["outputs"] if d["namespace"] == lake_ns]
    assert sorted(set(written)) == sorted(data)
    assert any(k.startswith(f"validated/po_lines/week={WEEK}/") for k in written)
    for f in registry.FEEDS:
        for name in f.states:
            assert zones.state_table(name, WEEK) in written

    # The publication: the six tables (one dataset each, this week's partition) and the manifest.
    manifest = lake.get_json(zones.manifest_key(WEEK))
    outs = {d["name"]: d for d in publish["outputs"]}
    assert set(outs) == {*(f"curated/{t}" for t in TABLE_NAMES), zones.manifest_key(WEEK)}
    assert {d["namespace"] for d in publish["outputs"]} == {lake_ns}
    for table in TABLE_NAMES:
        assert lake.exists(zones.table_key(table, WEEK))
        d, entry = outs[f"curated/{table}"], manifest["tables"][table]
        part = d["outputFacets"]["subset"]["outputCondition"]
        assert part == {
            "type": "partition",
            "partitions": [{"identifier": f"week={WEEK}", "dimensions": {"week": WEEK}}],
        }
        assert d["outputFacets"]["outputStatistics"]["rowCount"] == entry["rows"]
        assert [(f["name"], f["type"]) for f in d["facets"]["schema"]["fields"]] == [
            (c["name"], c["type"]) for c in entry["schema"]
        ]
    # It read the state in force: every state object the ingests wrote for the week.
    states = {zones.state_table(n, WEEK) for f in registry.FEEDS for n in f.states}
    assert states <= _names(publish["inputs"], lake_ns)
    assert not any(n.startswith("curated/_staging/") for n in _names(publish["outputs"], lake_ns))

    # GX results ride on the landing files as assertions: rule, column, success, no values.
    reports = {f.name: lake.get_json(zones.feed_report(f.name, WEEK)) for f in registry.FEEDS}
    po = next(ev for ev in ingest if ev["job"]["name"].endswith(".ingest_po_lines"))
    checked = 0
    for d in po["inputs"]:
        if d["namespace"] != landing_ns or not d["name"].startswith("procurement/"):
            continue  # the reference files it also read carry the reference report's results
        checked += 1
        entry = next(f for f in reports["procurement"]["files"] if f["key"] == d["name"])
        got = d["inputFacets"]["dataQualityAssertions"]["assertions"]
        assert [a["assertion"] for a in got] == [r["rule"] for r in entry["rule_stats"]]
        assert [a["success"] for a in got] == [
            int(r["rows_failed"]) == 0 for r in entry["rule_stats"]
        ]
        assert {k for a in got for k in a} <= {
            "assertion",
            "success",
            "column",
            "severity",
            "params",
        }
        assert any(a.get("column") == "po_number" for a in got)
        assert d["inputFacets"]["inputStatistics"]["rowCount"] == entry["rows_in"]
    assert checked >= 1


@pytest.mark.slow
def test_start_carries_the_expected_datasets(run: dict[str, Any]) -> None:
    tasks = _task_events(run["events"])
    start = next(
        e for e in tasks["ingest_procurement_weekly.ingest_po_lines"] if e["eventType"] == "START"
    )
    assert _names(start["inputs"], f"s3://{LANDING}") == {"procurement/"}
    assert zones.state_table("po_lines", WEEK) in _names(start["outputs"], f"s3://{LAKE}")
    start = next(
        e
        for e in tasks[f"{registry.PUBLISH_DAG}.{lineage.PUBLISH_TASK}"]
        if e["eventType"] == "START"
    )
    assert _names(start["outputs"], f"s3://{LAKE}") == {
        *(f"curated/{t}" for t in TABLE_NAMES),
        zones.manifest_key(WEEK),
    }


@pytest.mark.slow
def test_no_secret_in_any_event(run: dict[str, Any], lake_server: LakeServer) -> None:
    text = json.dumps(run["events"])
    assert lake_server.secret_key not in text and "lineage-test-key" not in text
    assert str(uuid.UUID(run["events"][0]["run"]["runId"]))
