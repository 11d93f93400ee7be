"""OpenLineage datasets of the DAG tasks: what each task really read and wrote in S3.

Off unless OpenLineage is configured (`AIRFLOW__OPENLINEAGE__TRANSPORT`, `OPENLINEAGE_URL`, ...:
the provider's own settings); then the provider's listener emits START and COMPLETE (or FAIL)
for every task, and this module gives the task events of the ingest, decision, publish and
freshness tasks their datasets:

- **COMPLETE / FAIL: what the task did.** `recorded(rt)` wraps a task body. It registers a
  botocore event handler on the task's own S3 client (`rt.landing.client`, `rt.lake.client`;
  nothing global is patched, and the handler goes when the body ends) that notes every
  successful GetObject, PutObject, CopyObject and CompleteMultipartUpload. When the body ends,
  normally or not, those become the task's runtime `inlets` / `outlets` as OpenLineage
  `InputDataset` / `OutputDataset` objects, which the listener sends on COMPLETE or FAIL.
- **START: what the task is expected to touch.** START is sent before the body runs, so it
  cannot know what landed. With `BuildoutTaskExtractor` registered
  (`AIRFLOW__OPENLINEAGE__EXTRACTORS=buildout_tracker.orchestration.lineage.BuildoutTaskExtractor`)
  START carries the names the run's week already fixes: exact keys where they are known (a
  state object, a feed-week report, the six tables and the manifest) and prefixes ending in
  `/` where the object names depend on what landed (the feed's landing folder, the validated
  and quarantine folders of the week). Without it START has no datasets; COMPLETE is the same.

Naming (the OpenLineage object-storage convention): namespace `s3://<bucket>`, name the key.
A published table is one dataset per table, `curated/<table>` (its Athena LOCATION, and what a
Spark or Athena job reading it names it), with the week partition in the `subset` facet
(`OutputSubsetOutputDatasetFacet` / `InputSubsetInputDatasetFacet`, partition `week=W`), so
that every week's publication and every reader meet on one node. Objects that are not data
are left out: the ledger, GX results and Data Docs, alert markers, staging, `_meta.json`.

Facets: a published table's schema (the manifest's, with the data dictionary's descriptions)
and row count (`outputStatistics`, from the manifest); a written Parquet object's schema and
row count (from its own footer); a landing file's GX results as `dataQualityAssertions`
(rule, column, success, severity: from the feed-week report's `rule_stats`, never a value)
and its `inputStatistics` (rows read, bytes).
"""

from __future__ import annotations

import contextlib
import json
import logging
import posixpath
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from buildout_tracker import registry, zones

if TYPE_CHECKING:
    from buildout_tracker.pipeline.runtime import Runtime

log = logging.getLogger(__name__)

EXTRACTOR_PATH = f"{__name__}.BuildoutTaskExtractor"
_WRITES = ("PutObject", "CopyObject", "CompleteMultipartUpload")
_READS = ("GetObject",)
_LISTS = ("ListObjectsV2", "ListObjects")
_PENDING = "buildout_lineage"  # our entry in botocore's per-call request context
# Lake zones that hold data (prefix match); everything else in the lake bucket is bookkeeping.
DATA_ZONES = (
    "validated/",
    "quarantine/",
    "state/",
    "reports/feeds/",
    "reports/freshness/",
    "curated/",
)
# Under curated/, `_` folders other than the manifests are the publisher's own (staging, the
# publication lease, withdrawn copies): readers skip them, and so does lineage.
_NOT_DATA = ("curated/_",)
PUBLISH_TASK = "publish_weekly_tables"


def lineage_enabled() -> bool:
    """OpenLineage is configured and not disabled (the provider's own test)."""
    try:
        from airflow.providers.openlineage.conf import is_disabled
    except ImportError:  # the provider is not installed
        return False
    return not is_disabled()


# --- what a task did -------------------------------------------------------------------------


@dataclass
class ObjectNote:
    """What the handler kept of one object: never its content, only its shape."""

    size: int | None = None
    rows: int | None = None
    schema: list[tuple[str, str]] | None = None
    copied_from: tuple[str, str] | None = None


@dataclass
class S3Recorder:
    """Every successful object read, write and listing of the clients it is attached to."""

    reads: dict[tuple[str, str], ObjectNote] = field(default_factory=dict)
    writes: dict[tuple[str, str], ObjectNote] = field(default_factory=dict)
    listed: set[tuple[str, str]] = field(default_factory=set)
    # JSON documents written that the facets are built from: manifests and feed-week reports.
    documents: dict[tuple[str, str], Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build.s3", self._before, unique_id=_uid(self))
        client.meta.events.register("after-call.s3", self._after, unique_id=_uid(self, "after"))

    def detach(self, client: Any) -> None:
        client.meta.events.unregister("before-parameter-build.s3", unique_id=_uid(self))
        client.meta.events.unregister("after-call.s3", unique_id=_uid(self, "after"))

    def _before(
        self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        op = model.name
        if op not in (*_WRITES, *_READS, *_LISTS):
            return
        bucket, key = str(params.get("Bucket", "")), str(params.get("Key", ""))
        note, doc = ObjectNote(), None
        if op in _LISTS:
            key = str(params.get("Prefix", ""))
        elif op == "PutObject":
            body: Any = params.get("Body")
            if hasattr(body, "getvalue"):  # botocore may have wrapped the bytes in a BytesIO
                body = body.getvalue()
            if isinstance(body, bytes | bytearray):
                note = _shape(key, bytes(body))
                doc = _document(key, bytes(body))
        elif op == "CopyObject":
            src = params.get("CopySource")
            if isinstance(src, dict):
                note.copied_from = (str(src.get("Bucket", "")), str(src.get("Key", "")))
            elif isinstance(src, str):  # botocore's own form: quoted "bucket/key[?versionId=]"
                from urllib.parse import unquote

                bucket_, _sep, key_ = unquote(src.split("?", 1)[0]).lstrip("/").partition("/")
                note.copied_from = (bucket_, key_)
        context[_PENDING] = (op, bucket, key, note, doc)

    def _after(
        self, http_response: Any, parsed: Any, model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        pending = context.pop(_PENDING, None)
        if pending is None or getattr(http_response, "status_code", 500) >= 300:
            return
        op, bucket, key, note, doc = pending
        with self._lock:
            if op in _LISTS:
                self.listed.add((bucket, key))
            elif op in _READS:
                size = (parsed or {}).get("ContentLength")
                self.reads.setdefault((bucket, key), ObjectNote(size=size))
            else:
                if note.copied_from is not None:
                    src = self.writes.get(note.copied_from) or ObjectNote()
                    note = ObjectNote(src.size, src.rows, src.schema, note.copied_from)
                self.writes[(bucket, key)] = note
                if doc is not None:
                    self.documents[(bucket, key)] = doc


def _uid(rec: S3Recorder, what: str = "before") -> str:
    return f"buildout-lineage-{id(rec)}-{what}"


def _shape(key: str, body: bytes) -> ObjectNote:
    """Size, and for Parquet the row count and schema from the footer (no row is read)."""
    note = ObjectNote(size=len(body))
    if key.endswith(".parquet") and _is_data(key):
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq

            meta = pq.read_metadata(pa.BufferReader(pa.py_buffer(body)))
            note.rows = meta.num_rows
            note.schema = [(f.name, str(f.type)) for f in meta.schema.to_arrow_schema()]
        except Exception:  # not Parquet after all: size only
            pass
    return note


def _document(key: str, body: bytes) -> Any:
    if key.startswith((zones.MANIFESTS_PREFIX, "reports/feeds/")) and key.endswith(".json"):
        with contextlib.suppress(ValueError):
            return json.loads(body)
    return None


def _is_data(key: str) -> bool:
    if key.startswith(zones.MANIFESTS_PREFIX):
        return True
    if key.startswith(_NOT_DATA) or not key.startswith(DATA_ZONES):
        return False
    return not posixpath.basename(key).startswith("_")


def table_partition(key: str) -> tuple[str, str] | None:
    """`curated/<table>/week=W/part-00000.parquet` -> (`curated/<table>`, W)."""
    parts = key.split("/")
    if (
        len(parts) == 4
        and parts[0] == "curated"
        and not parts[1].startswith("_")
        and parts[2].startswith("week=")
    ):
        return f"curated/{parts[1]}", parts[2].removeprefix("week=")
    return None


def dataset_name(key: str, landing: bool) -> str | None:
    """The dataset an object belongs to, or None when it is not data."""
    if landing:
        return key if key and not key.endswith("/") else None
    if not _is_data(key):
        return None
    table = table_partition(key)
    return table[0] if table else key


# --- from what was recorded to OpenLineage datasets ------------------------------------------


@dataclass
class _Group:
    name: str
    bucket: str
    weeks: list[str] = field(default_factory=list)
    notes: list[ObjectNote] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


def task_datasets(
    rec: S3Recorder, landing_bucket: str, lake_bucket: str, listings_are_inputs: bool = False
) -> tuple[list[Any], list[Any]]:
    """(inputs, outputs): OpenLineage datasets of what was read (and not written by the same
    task) and written. A task that read no object of a bucket but listed it (the freshness
    watchdog) has the listed folders as inputs when `listings_are_inputs`."""
    from openlineage.client.event_v2 import InputDataset, OutputDataset

    buckets = {landing_bucket: True, lake_bucket: False}
    outputs = _group(rec.writes, buckets)
    reads = {k: n for k, n in rec.reads.items() if k not in rec.writes}
    inputs = _group(reads, buckets)
    if listings_are_inputs:
        for bucket, prefix in sorted(rec.listed):
            top = prefix.split("/", 1)[0] + "/" if prefix else ""
            if bucket in buckets and top and (bucket, top) not in inputs:
                inputs[(bucket, top)] = _Group(top, bucket)
    manifests = [d for (b, k), d in rec.documents.items() if k.startswith(zones.MANIFESTS_PREFIX)]
    reports = [d for (b, k), d in rec.documents.items() if k.startswith("reports/feeds/")]
    files = _report_files(reports)

    out = []
    for g in outputs.values():
        facets, out_facets = _facets(g, manifests, output=True)
        out.append(OutputDataset(namespace=f"s3://{g.bucket}", name=g.name, facets=facets,
                                 outputFacets=out_facets))  # fmt: skip
    ins = []
    for g in inputs.values():
        facets, in_facets = _facets(g, manifests, output=False)
        if g.bucket == landing_bucket:
            in_facets.update(_landing_facets(g, files))
        ins.append(InputDataset(namespace=f"s3://{g.bucket}", name=g.name, facets=facets,
                                inputFacets=in_facets))  # fmt: skip
    return ins, out


def _group(objects: dict[tuple[str, str], ObjectNote], buckets: dict[str, bool]) -> dict:
    groups: dict[tuple[str, str], _Group] = {}
    for (bucket, key), note in sorted(objects.items()):
        if bucket not in buckets:
            continue
        name = dataset_name(key, landing=buckets[bucket])
        if name is None:
            continue
        g = groups.setdefault((bucket, name), _Group(name, bucket))
        table = table_partition(key) if not buckets[bucket] else None
        if table and table[1] not in g.weeks:
            g.weeks.append(table[1])
        g.notes.append(note)
        g.keys.append(key)
    return groups


def _facets(g: _Group, manifests: list[Any], output: bool) -> tuple[dict, dict]:
    from openlineage.client.facet_v2 import (
        base_subset_dataset as subset,
    )
    from openlineage.client.facet_v2 import (
        input_statistics_input_dataset as ist,
    )
    from openlineage.client.facet_v2 import (
        output_statistics_output_dataset as ost,
    )

    facets: dict[str, Any] = {}
    io: dict[str, Any] = {}
    size = sum(n.size for n in g.notes if n.size is not None) if g.notes else None
    rows = sum(n.rows for n in g.notes if n.rows is not None)
    any_rows = any(n.rows is not None for n in g.notes)
    schema = next((n.schema for n in reversed(g.notes) if n.schema), None)
    if g.weeks:  # a published table: its partitions, and the manifest's schema and rows
        partitions = [
            subset.Partition(dimensions={"week": w}, identifier=f"week={w}") for w in g.weeks
        ]
        condition = subset.PartitionSubsetCondition(partitions=partitions)
        table = g.name.removeprefix("curated/")
        entries = [m["tables"][table] for m in manifests if table in m.get("tables", {})]
        entries = [e for e in entries if e.get("files")]
        if entries:
            rows, any_rows = sum(int(e["rows"]) for e in entries), True
            facets["schema"] = _table_schema(table, entries[-1].get("schema") or [])
        if output:
            io["subset"] = subset.OutputSubsetOutputDatasetFacet(outputCondition=condition)
        else:
            io["subset"] = subset.InputSubsetInputDatasetFacet(inputCondition=condition)
    elif schema:
        facets["schema"] = _schema_facet([(n, t, None) for n, t in schema])
    stats_cls = (
        ost.OutputStatisticsOutputDatasetFacet if output else ist.InputStatisticsInputDatasetFacet
    )
    stats_key = "outputStatistics" if output else "inputStatistics"
    if any_rows or size:
        io[stats_key] = stats_cls(rowCount=rows if any_rows else None, size=size or None,
                                  fileCount=len(g.keys))  # fmt: skip
    return facets, io


def _schema_facet(fields: list[tuple[str, str, str | None]]) -> Any:
    from openlineage.client.facet_v2 import schema_dataset as sd

    return sd.SchemaDatasetFacet(
        fields=[sd.SchemaDatasetFacetFields(name=n, type=t, description=d) for n, t, d in fields]
    )


def _table_schema(table: str, manifest_schema: list[dict[str, str]]) -> Any:
    """The manifest's schema of a table, with the data dictionary's description of each column."""
    descriptions: dict[str, str] = {}
    try:
        from buildout_tracker.tables import SCHEMAS
        from buildout_tracker.tables.arrow import description

        if table in SCHEMAS:
            descriptions = {f.name: description(f) for f in SCHEMAS[table]}
    except Exception:  # descriptions are a courtesy
        pass
    return _schema_facet(
        [(c["name"], c["type"], descriptions.get(c["name"])) for c in manifest_schema]
    )


def _report_files(reports: list[Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Landing key -> (feed, its entry in the feed-week report this task wrote last)."""
    out = {}
    for report in reports:
        for f in report.get("files", []):
            out[f["key"]] = (report.get("feed", ""), f)
    return out


def _landing_facets(g: _Group, files: dict[str, tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """A landing file's GX results and the rows read, from the feed-week report."""
    from openlineage.client.facet_v2 import data_quality_assertions_dataset as dqa
    from openlineage.client.facet_v2 import input_statistics_input_dataset as ist

    found = files.get(g.name)
    if found is None:
        return {}
    feed, f = found
    columns = _rule_columns(feed, g.name)
    assertions = []
    stated = set()
    for r in f.get("rule_stats") or []:
        rule = str(r["rule"])
        stated.add(rule)
        ok = int(r.get("rows_failed") or 0) == 0
        assertions.append(_assertion(rule, ok, r.get("severity"), columns))
    for t in f.get("table_failures") or []:
        if t["rule"] not in stated:
            assertions.append(_assertion(str(t["rule"]), False, t.get("severity"), columns))
    if f.get("outcome") == "quarantined" and f.get("rule"):
        assertions.append(dqa.Assertion(assertion=f"file:{f['rule']}", success=False,
                                        severity="critical"))  # fmt: skip
    out: dict[str, Any] = {}
    if assertions:
        out["dataQualityAssertions"] = dqa.DataQualityAssertionsDatasetFacet(assertions=assertions)
    if f.get("outcome") == "ingested":
        size = g.notes[0].size if g.notes and g.notes[0].size is not None else f.get("size")
        out["inputStatistics"] = ist.InputStatisticsInputDatasetFacet(
            rowCount=int(f.get("rows_in") or 0), size=size, fileCount=1
        )
    return out


def _rule_columns(feed: str, key: str) -> dict[str, tuple[str, ...]]:
    """Rule id -> the columns it checks, from the feed's spec for the file's name."""
    try:
        from buildout_tracker import feeds

        spec = feeds.spec_for(feed, posixpath.basename(key))
    except Exception:
        return {}
    return {} if spec is None else {r.id: tuple(r.columns) for r in spec.all_rules}


def _assertion(
    rule: str, success: bool, severity: str | None, columns: dict[str, tuple[str, ...]]
) -> Any:
    """One rule's result: its column when it checks one; the columns it relates, in
    `params`, when it checks several (`net_value_matches`: quantity, unit_price, net_value)."""
    from openlineage.client.facet_v2 import data_quality_assertions_dataset as dqa

    cols = columns.get(rule)
    if cols is None:  # parse rules are named `<check>:<column>` (type:quantity, required:...)
        kind, _, col = rule.partition(":")
        cols = (col,) if col and kind in ("type", "required", "enum", "format") else ()
    return dqa.Assertion(
        assertion=rule,
        success=success,
        column=cols[0] if len(cols) == 1 else None,
        severity=severity,
        params={"columns": list(cols)} if len(cols) > 1 else {},
    )


# --- in a task ---------------------------------------------------------------------------------


@contextlib.contextmanager
def recorded(
    rt: Runtime, *, task: Any = None, listings_are_inputs: bool = False, enabled: bool | None = None
) -> Iterator[Runtime]:
    """Record what the body does through `rt`'s S3 clients and make it the current task's
    OpenLineage inlets and outlets (also when the body fails: FAIL carries what happened
    before). Does nothing when OpenLineage is off. Never fails the task for lineage's sake."""
    if enabled is None:
        enabled = lineage_enabled()
    if not enabled:
        yield rt
        return
    rec = S3Recorder()
    clients = list({id(b.client): b.client for b in (rt.landing, rt.lake)}.values())
    for client in clients:
        rec.attach(client)
    try:
        yield rt
    finally:
        for client in clients:
            rec.detach(client)
        try:
            inputs, outputs = task_datasets(rec, rt.landing.name, rt.lake.name, listings_are_inputs)
            set_task_lineage(inputs, outputs, task)
        except Exception:
            log.warning(
                "OpenLineage: could not describe what this task read and wrote", exc_info=True
            )


def set_task_lineage(inputs: list[Any], outputs: list[Any], task: Any = None) -> None:
    """The runtime inlets and outlets the listener reports on COMPLETE / FAIL; the task's
    Airflow assets stay in its outlets (they schedule the publisher)."""
    from openlineage.client.event_v2 import Dataset

    if task is None:
        from airflow.sdk import get_current_context

        task = get_current_context()["task"]
    task.inlets = [i for i in (task.inlets or []) if not isinstance(i, Dataset)] + list(inputs)
    task.outlets = [o for o in (task.outlets or []) if not isinstance(o, Dataset)] + list(outputs)
    log.info(
        "OpenLineage: %d input and %d output dataset(s): %s", len(inputs), len(outputs),
        ", ".join(sorted(f"{d.namespace}/{d.name}" for d in outputs))[:2000],
    )  # fmt: skip


# --- on START ----------------------------------------------------------------------------------


def expected_datasets(dag_id: str, task_id: str, weeks: list[str]) -> tuple[list[Any], list[Any]]:
    """What a task will touch, from its week(s) alone: exact keys where the week fixes them,
    prefixes (ending in `/`) where object names depend on what landed."""
    from openlineage.client.event_v2 import InputDataset, OutputDataset
    from openlineage.client.facet_v2 import base_subset_dataset as subset

    from buildout_tracker import settings

    landing = f"s3://{settings.landing_bucket()}"
    lake = f"s3://{settings.lake_bucket()}"
    inputs: list[Any] = []
    outputs: list[Any] = []
    feed = next((f for f in registry.FEEDS if (f.dag_id, f.task_id) == (dag_id, task_id)), None)
    if feed is not None:
        for week in weeks:
            inputs.append(InputDataset(namespace=landing, name=f"{feed.name}/"))
            for kind in feed.kinds:
                outputs.append(OutputDataset(namespace=lake, name=f"validated/{kind}/week={week}/"))
            outputs.append(
                OutputDataset(namespace=lake, name=f"quarantine/{feed.name}/week={week}/")
            )
            for name in feed.states:
                outputs.append(OutputDataset(namespace=lake, name=zones.state_table(name, week)))
            outputs.append(OutputDataset(namespace=lake, name=zones.feed_report(feed.name, week)))
    elif (dag_id, task_id) == (registry.PUBLISH_DAG, PUBLISH_TASK) and weeks:
        from buildout_tracker.tables import TABLE_NAMES

        parts = [subset.Partition(dimensions={"week": w}, identifier=f"week={w}") for w in weeks]
        condition = subset.PartitionSubsetCondition(partitions=parts)
        for f in registry.FEEDS:
            for name in f.states:
                inputs.append(InputDataset(namespace=lake, name=zones.state_prefix(name)))
        for week in weeks:
            for f in registry.FEEDS:
                inputs.append(InputDataset(namespace=lake, name=zones.feed_report(f.name, week)))
        for table in TABLE_NAMES:
            outputs.append(OutputDataset(
                namespace=lake, name=f"curated/{table}",
                outputFacets={"subset": subset.OutputSubsetOutputDatasetFacet(outputCondition=condition)},
            ))  # fmt: skip
        outputs.extend(OutputDataset(namespace=lake, name=zones.manifest_key(w)) for w in weeks)
    return inputs, outputs


def _weeks_of_run(task_id: str, context: Any) -> list[str]:
    from buildout_tracker.orchestration.dag_support import run_week

    params = context.get("params") or {}
    if task_id == PUBLISH_TASK and not params.get("week"):
        ti = context.get("ti") or context.get("task_instance")
        weeks = ti.xcom_pull(task_ids="select_weeks") if ti is not None else None
        return [str(w) for w in weeks or []]
    return [run_week(context)]


def _base_extractor() -> type:
    try:
        from airflow.providers.openlineage.extractors.base import BaseExtractor

        return BaseExtractor
    except ImportError:  # without the provider the class is never used
        return object


class BuildoutTaskExtractor(_base_extractor()):  # type: ignore[misc]
    """The OpenLineage extractor of the project's `@task` tasks (register it with
    `AIRFLOW__OPENLINEAGE__EXTRACTORS`): START with the expected datasets of the run's week,
    COMPLETE and FAIL with what `recorded` saw. A `@task` it does not know gets nothing from
    it, and the provider falls back to hook lineage and inlets / outlets as usual."""

    @classmethod
    def get_operator_classnames(cls) -> list[str]:
        return ["_PythonDecoratedOperator"]

    def _execute_extraction(self) -> Any:
        from airflow.providers.openlineage.extractors.base import OperatorLineage

        try:
            from airflow.sdk import get_current_context

            op = self.operator
            weeks = _weeks_of_run(op.task_id, get_current_context())
            inputs, outputs = expected_datasets(op.dag_id, op.task_id, weeks)
        except Exception as exc:  # no run context, no week: START without datasets
            log.debug("OpenLineage: no expected datasets for START (%s)", exc)
            inputs, outputs = [], []
        return OperatorLineage(inputs=inputs, outputs=outputs)

    def extract_on_complete(self, task_instance: Any) -> Any:
        from airflow.providers.openlineage.extractors.base import OperatorLineage
        from openlineage.client.event_v2 import Dataset

        op = self.operator
        return OperatorLineage(
            inputs=[i for i in op.inlets or [] if isinstance(i, Dataset)],
            outputs=[o for o in op.outlets or [] if isinstance(o, Dataset)],
        )
