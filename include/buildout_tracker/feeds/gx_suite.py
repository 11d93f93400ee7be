"""Great Expectations suites built from the feed rules, run on parsed frames, data docs.

GX is imported inside methods only, through `gx_module` (about 2-3 s and 210 MB per
process, 3.4-3.8 s and 290 MB with the pyspark and scipy statistics it leaves out: the DAG
processor must never pay it). One `GxValidator` holds one ephemeral GX context for a run: suites,
validation results and data docs live in it.

Each rule gives one or more expectations with the rule's `severity` and
`meta={"rule": id, "level": row|table}`. Results are kept at BASIC detail, and before they
are returned or stored (data docs render the stored ones) every raw value of a
personal-data or free-text column is removed, and any e-mail-like value elsewhere masked.

Speed (1M PO lines: about 0.9 s instead of 3.6-4.9 s), with the same expectations on the
same rows and values, and the same unexpected counts and partial lists:
- GX validates a view of the frame (`_gx_frame`) in dtypes its pandas code computes
  vectorised: naive dates as datetime64[ns] (between on datetime64[us] runs per value in
  Python), Int64 as int64/float64, low-cardinality text as categoricals; only the
  columns the suite names (and the rules' helper columns, as before).
- Expectations that filter rows (row conditions, column pairs, column lists) run on a frame
  of only their own columns: GX filters the whole batch frame for each of their metrics.
  The two results are merged into one suite result, in suite order.
- GX's pandas batch fingerprint (a hash of every value, metadata only) is turned off.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from .pii import mask_value
from .rules import when_mask
from .schema import SEVERITY_ORDER, Exp, RuleContext
from .spec import FileSpec

RAW_VALUE_KEYS = (
    "partial_unexpected_list",
    "partial_unexpected_counts",
    "partial_unexpected_index_list",
    "unexpected_list",
    "unexpected_index_list",
    "unexpected_index_query",
    "unexpected_rows",
)
DOCS_SITE = "buildout_local"


@dataclass
class GxFileResult:
    file_key: str
    feed: str
    kind: str
    success: bool
    max_severity_failure: str | None
    # rule, severity, level, expectation, unexpected_count (one entry per failed expectation)
    failed_rules: list[dict[str, Any]]
    results: dict[str, Any]  # the suite result, JSON-able, scrubbed
    element_count: int = 0
    descriptions: dict[str, str] = field(default_factory=dict)

    @property
    def blocking_failures(self) -> list[dict[str, Any]]:
        """Failed table-level critical expectations: these block the feed's week."""
        return [
            f for f in self.failed_rules if f["level"] == "table" and f["severity"] == "critical"
        ]

    def unexpected_by_rule(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.failed_rules:
            out[f["rule"]] = out.get(f["rule"], 0) + int(f["unexpected_count"] or 0)
        return out


class GxValidator:
    # Build each expectation's configuration once per validation (`_configurations_built_once`);
    # False only in the test that proves the results are the same either way.
    memoise_configurations = True

    def __init__(self) -> None:
        self._context: Any = None
        self._datasource: Any = None
        self._validations: dict[str, Any] = {}
        self._splits: dict[str, Any] = {}
        self._runs = 0
        self._kept: list[tuple[Any, dict[str, Any]]] = []  # (result id, JSON) for Data Docs

    @property
    def runs(self) -> int:
        """GX suite runs so far (a suite split in two parts counts once)."""
        return self._runs

    # --- context and suites --------------------------------------------------------------

    def _ctx(self) -> Any:
        if self._context is None:
            os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
            logging.getLogger("great_expectations._docs_decorators").setLevel(logging.WARNING)
            logging.getLogger("great_expectations").setLevel(logging.WARNING)
            gx = gx_module()
            from great_expectations.data_context.types.base import ProgressBarsConfig

            _no_batch_fingerprint()
            ctx = gx.get_context(mode="ephemeral")
            ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
            self._datasource = ctx.data_sources.add_pandas("buildout_feeds")
            self._context = ctx
        return self._context

    def suite_name(self, spec: FileSpec, ctx: RuleContext) -> str:
        digest = hashlib.sha256(repr(ctx.fingerprint()).encode()).hexdigest()[:8]
        return f"{spec.feed}.{spec.kind}.{ctx.week or 'any'}.{digest}"

    def build_suite(self, spec: FileSpec, ctx: RuleContext) -> Any:
        gx = gx_module()

        # The suite that `add_expectation` one by one would build: GX's suite is a set, which
        # drops an expectation "equalish" to one already in it (same type and fields, meta and
        # notes aside). `add_expectation` finds that by comparing each new expectation's
        # `dict()` with every earlier one's, a deep copy of each value set every time (about
        # 0.3 s a suite, again every week); here each `dict()` is taken once.
        kept: list[Any] = []
        seen: list[tuple[str, dict[str, Any]]] = []
        for rule in spec.all_rules:
            if not rule.applies(ctx):
                continue
            for exp in rule.expect(ctx):
                gx_exp = _to_gx(
                    exp,
                    rule.severity,
                    {"rule": rule.id, "level": rule.level, "description": rule.description},
                )
                key = (gx_exp.expectation_type, gx_exp.dict(exclude=_NOT_IDENTITY))
                if key not in seen:
                    seen.append(key)
                    kept.append(gx_exp)
        return gx.ExpectationSuite(
            name=self.suite_name(spec, ctx),
            expectations=kept,
            meta={"feed": spec.feed, "file_kind": spec.kind},
        )

    def _validation(self, spec: FileSpec, ctx: RuleContext) -> Any:
        gx = gx_module()

        name = self.suite_name(spec, ctx)
        if name not in self._validations:
            context = self._ctx()
            asset_name = f"{spec.feed}.{spec.kind}"
            try:
                asset = self._datasource.get_asset(asset_name)
            except LookupError:
                asset = self._datasource.add_dataframe_asset(asset_name)
                asset.add_batch_definition_whole_dataframe("whole_file")
            batch_def = asset.get_batch_definition("whole_file")
            suite = context.suites.add(self.build_suite(spec, ctx))
            self._validations[name] = context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=batch_def, suite=suite)
            )
        return self._validations[name]

    def _split_suite(self, spec: FileSpec, ctx: RuleContext, vd: Any) -> Any:
        """The suite in two parts: expectations that filter rows, and the others.

        GX's pandas engine applies a row condition, or drops the rows a column pair or list
        ignores, by filtering the whole batch frame, every column, for every metric it
        computes (about 4 per expectation). Those expectations run on a frame of only the
        columns they name (same rows, same values, same results); the others on the whole
        frame. Results are merged back in suite order, as one suite result.
        """
        name = self.suite_name(spec, ctx)
        if name in self._splits:
            return self._splits[name]
        gx = gx_module()

        exps = _expectations(spec, ctx)
        configs = vd.suite.expectation_configurations
        split = None
        if len(exps) == len(configs):
            narrow = [
                i
                for i, e in enumerate(exps)
                if e.when is not None or "column_A" in e.kwargs or "column_list" in e.kwargs
            ]
            wide = [i for i in range(len(exps)) if i not in set(narrow)]
            if narrow and wide:
                cols: set[str] = set()
                for i in narrow:
                    cols |= _columns_of(dict(exps[i].kwargs))
                    when = exps[i].when
                    if when is not None:
                        cols.add(when.column)
                split = (
                    gx.ExpectationSuite(name=name, expectations=[configs[i] for i in wide]),
                    wide,
                    gx.ExpectationSuite(name=name, expectations=[configs[i] for i in narrow]),
                    narrow,
                    sorted(cols),
                )
        self._splits[name] = split
        return split

    # --- validation ----------------------------------------------------------------------

    def validate(
        self,
        spec: FileSpec,
        frame: pd.DataFrame,
        file_key: str,
        ctx: RuleContext | None = None,
    ) -> GxFileResult:
        """Validate one parsed file's frame (all rows that parsed, before quarantine).

        `ctx` gives the week's facts (sites, currencies, status date, requisitions); rules
        that need an unknown fact are left out of the suite, as `check_rows` skips them.
        """
        ctx = ctx or RuleContext()
        vd = self._validation(spec, ctx)
        validator, results = self._run_suite(spec, ctx, vd, _gx_frame(spec, frame, ctx))
        return self._finish(spec, vd, validator, results, file_key, len(frame))

    def validate_files(
        self,
        spec: FileSpec,
        files: Sequence[tuple[str, pd.DataFrame]],
        ctx: RuleContext | None = None,
    ) -> list[GxFileResult]:
        """One result per file, for files of one kind and one rule context.

        GX's cost is mostly fixed per validation (about 1 s for a milestones suite, however
        few its rows), so the files are validated together once. Every expectation is a map
        over rows and each file's helper columns are derived from that file alone, so when
        every expectation passes on the files together, each passes on every file alone; each
        file then gets the group's result recounted on its own rows (its element and missing
        counts; no row is unexpected). When anything fails together, GX's complete result
        names the unexpected rows: the files holding them are validated on their own (as
        `validate`), the others together again; a failure that names no row (an exception,
        a table-level expectation) splits the files in halves, down to single files. A
        file's result is never another file's, and one bad file among two hundred costs four
        validations, not two hundred and one. When a result holds a field this cannot
        recount, each file is validated on its own.
        """
        ctx = ctx or RuleContext()
        if len(files) <= 1:
            return [self.validate(spec, frame, key, ctx) for key, frame in files]
        vd = self._validation(spec, ctx)
        exps = _by_identity(spec, ctx)
        # The GX frame of all the files at once (helpers derived per file), then each file's
        # rows by position: one conversion of dtypes, not one per file.
        helped = [_with_helpers(spec, frame, ctx) for _, frame in files]
        bounds, start = [], 0
        for h in helped:
            bounds.append((start, start + len(h)))
            start += len(h)
        whole = _gx_dtypes(spec, pd.concat(helped, ignore_index=True), ctx)
        return self._validate_group(spec, ctx, vd, exps, list(files), whole, bounds)

    def _validate_group(
        self,
        spec: FileSpec,
        ctx: RuleContext,
        vd: Any,
        exps: dict[tuple[Any, ...], Exp] | None,
        files: list[tuple[str, pd.DataFrame]],
        whole: pd.DataFrame,
        bounds: list[tuple[int, int]],
    ) -> list[GxFileResult]:
        """`validate_files` on files[i] = rows bounds[i] of `whole` (index = row position)."""
        if len(files) == 1:
            key, frame = files[0]
            return [self.validate(spec, frame, key, ctx)]
        group = _rows_of(whole, bounds)
        validator, together = self._run_suite(spec, ctx, vd, group)
        if together.success:
            template = together.to_json_dict() if exps is not None else None
            counted = (
                _recounted(template, exps, whole, bounds)
                if template is not None and exps and len(exps) == len(together.results)
                else None
            )
            if counted is None:
                return [self.validate(spec, frame, key, ctx) for key, frame in files]
            return [
                self._finish_doc(spec, vd, validator, together.meta, doc, key, len(frame))
                for (key, frame), doc in zip(files, counted, strict=True)
            ]
        # Which files hold the unexpected rows: GX's complete result lists them by index.
        # Those are validated alone, the others together again (they pass, and are
        # recounted). A failure no row explains (an exception, a table-level rule): halves.
        _, complete = self._run_suite(spec, ctx, vd, group, result_format="COMPLETE")
        bad = _files_with_unexpected_rows(complete, bounds)
        if not bad:
            half = len(files) // 2
            return self._validate_group(
                spec, ctx, vd, exps, files[:half], whole, bounds[:half]
            ) + self._validate_group(spec, ctx, vd, exps, files[half:], whole, bounds[half:])
        clean = [i for i in range(len(files)) if i not in bad]
        out: dict[int, GxFileResult] = {}
        for i in sorted(bad):
            key, frame = files[i]
            out[i] = self.validate(spec, frame, key, ctx)
        if clean:
            again = self._validate_group(
                spec, ctx, vd, exps, [files[i] for i in clean], whole, [bounds[i] for i in clean]
            )
            out.update(zip(clean, again, strict=True))
        return [out[i] for i in range(len(files))]

    def _run_suite(
        self,
        spec: FileSpec,
        ctx: RuleContext,
        vd: Any,
        batch: pd.DataFrame,
        result_format: Any = "BASIC",
    ) -> Any:
        """(GX validator, suite result) of the suite on a GX batch frame."""
        from great_expectations.validator.v1_validator import Validator

        split = self._split_suite(spec, ctx, vd)

        def run(suite: Any, data: pd.DataFrame) -> tuple[Any, Any]:
            v = Validator(
                batch_definition=vd.batch_definition,
                batch_parameters={"dataframe": data},
                result_format=result_format,
            )
            with _configurations_built_once(self.memoise_configurations):
                return v, v.validate_expectation_suite(suite)

        self._runs += 1
        if split is None:
            return run(vd.suite, batch)
        from great_expectations.validator.validator import calc_validation_statistics

        wide_suite, wide_pos, narrow_suite, narrow_pos, narrow_cols = split
        validator, results = run(wide_suite, batch)
        _, side = run(narrow_suite, batch[[c for c in narrow_cols if c in batch.columns]])
        by_pos = dict(zip(wide_pos + narrow_pos, results.results + side.results, strict=True))
        results.results = [by_pos[i] for i in sorted(by_pos)]
        stats = calc_validation_statistics(results.results)
        results.success = stats.success
        results.suite_name = vd.suite.name
        results.statistics = {
            "evaluated_expectations": stats.evaluated_expectations,
            "successful_expectations": stats.successful_expectations,
            "unsuccessful_expectations": stats.unsuccessful_expectations,
            "success_percent": stats.success_percent,
        }
        return validator, results

    def _finish(
        self, spec: FileSpec, vd: Any, validator: Any, results: Any, file_key: str, rows: int
    ) -> GxFileResult:
        """Name the result for its file, scrub it, keep it (Data Docs), summarise it."""
        sensitive = set(spec.sensitive_columns)
        for r in results.results:
            _scrub(r, sensitive)
        return self._finish_doc(spec, vd, validator, results.meta, None, file_key, rows, results)

    def _finish_doc(
        self,
        spec: FileSpec,
        vd: Any,
        validator: Any,
        meta: Any,
        doc: dict[str, Any] | None,
        file_key: str,
        rows: int,
        results: Any = None,
    ) -> GxFileResult:
        """The file's result from its JSON form `doc` (a recounted group result, which has
        nothing to scrub) or from the GX `results` object (scrubbed): named for its file,
        kept for Data Docs, summarised."""
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.util import convert_to_json_serializable

        run_name = _run_name(file_key)
        run_id = RunIdentifier(run_name=run_name, run_time=datetime.now(UTC))
        mine = {
            **dict(meta or {}),
            "validation_id": vd.id,
            "checkpoint_id": None,
            "run_id": run_id,
            "validation_time": run_id.run_time,
            "batch_parameters": {"dataframe": "<file frame>"},
            "file_key": file_key,
        }
        if results is not None:
            results.meta = mine
            doc = results.to_json_dict()
        else:
            assert doc is not None
            doc["meta"] = convert_to_json_serializable(mine)
        _, result_id = vd._get_expectation_suite_and_validation_result_ids(
            validator=validator, run_id=run_id
        )
        self._kept.append((result_id, doc))
        failed: list[dict[str, Any]] = []
        for r in doc["results"]:
            if r["success"]:
                continue
            cfg = r["expectation_config"]
            rule_meta = cfg.get("meta") or {}
            failed.append(
                {
                    "rule": rule_meta.get("rule", cfg["type"]),
                    "severity": _severity(cfg.get("severity")),
                    "level": rule_meta.get("level", "row"),
                    "expectation": cfg["type"],
                    "unexpected_count": (r.get("result") or {}).get("unexpected_count"),
                    "exception": bool((r.get("exception_info") or {}).get("raised_exception")),
                }
            )
        max_sev = None
        if failed:
            max_sev = max((f["severity"] for f in failed), key=lambda s: SEVERITY_ORDER[s])
        return GxFileResult(
            file_key=file_key,
            feed=spec.feed,
            kind=spec.kind,
            success=bool(doc["success"]),
            max_severity_failure=max_sev,
            failed_rules=failed,
            results=_jsonable(doc),
            element_count=rows,
            descriptions={r.id: r.description for r in spec.all_rules},
        )

    def _store_kept(self) -> None:
        """Put the results kept since the last call into GX's results store (what Data Docs
        render), serialized as the store itself would (`ValidationResultsStore.serialize`,
        from the JSON form already made): only when Data Docs are built."""
        if not self._kept:
            return
        store = self._ctx().validation_results_store
        schema = store._expectationSuiteValidationResultSchema
        for result_id, doc in self._kept:
            store._validate_key(result_id)
            store._store_backend.set(
                store.key_to_tuple(result_id), schema.dumps(doc, indent=2, sort_keys=True)
            )
        self._kept.clear()

    def has_results(self) -> bool:
        """Whether anything was validated since the last `forget_results`."""
        return bool(self._kept) or (
            self._context is not None and bool(self._context.validation_results_store.list_keys())
        )

    def forget_results(self) -> None:
        """Drop the validation results kept so far (suites stay): Data Docs built next show
        only what is validated from now on (one feed-week's files)."""
        self._kept.clear()
        if self._context is None:
            return
        store = self._context.validation_results_store
        for key in store.list_keys():
            store.remove_key(key)

    def _drop_suites_not_shown(self) -> None:
        """Remove from the context the suites no kept result was validated with (earlier
        weeks', other feeds'): Data Docs render a page for every suite in the context, and a
        suite is rebuilt, the same, when it is needed again."""
        context = self._ctx()
        self._store_kept()
        store = context.validation_results_store
        shown = {store.get(key).suite_name for key in store.list_keys()}
        for name in [n for n in self._validations if n not in shown]:
            context.validation_definitions.delete(name)
            context.suites.delete(name)
            self._validations.pop(name)
            self._splits.pop(name, None)

    def build_data_docs(self, out_dir: Path) -> Path:
        """Write GX Data Docs (HTML) of the validation results kept; return index.html.

        The site is made to render offline (`data_docs.make_offline`): GX's pages load their
        CSS and JavaScript from CDNs, which the machines reading them cannot reach. Each
        validation page also names its file and rules, from the (scrubbed) stored results.
        """
        from .data_docs import make_offline, notes_from_context

        context = self._ctx()
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        base = str(out_dir.resolve())
        site = (context.get_config().data_docs_sites or {}).get(DOCS_SITE)
        if site is not None and site["store_backend"]["base_directory"] != base:
            context.delete_data_docs_site(DOCS_SITE)  # built into another folder before
            site = None
        if site is None:
            context.add_data_docs_site(
                site_name=DOCS_SITE,
                site_config={
                    "class_name": "SiteBuilder",
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": base,
                    },
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                    "show_how_to_buttons": False,  # tutorials and a walkthrough, online only
                },
            )
        self._drop_suites_not_shown()
        context.build_data_docs(site_names=[DOCS_SITE])
        make_offline(out_dir, notes_from_context(context))
        return out_dir / "index.html"


_RUN_NAME_MAX = 150  # bytes; Data Docs make a folder of it (a local folder name holds 255)


def _run_name(file_key: str) -> str:
    """The run name a file's result is stored under, which Data Docs make a folder of: the
    key with "/" as "__" (`procurement__2026-11-25__po_lines_1.csv`; Data Docs encode what a
    link must). A name too long for a folder, or with a character that is not printable, is
    cut and made printable, and a digest of the key keeps two such keys apart."""
    flat = file_key.replace("/", "__").replace("\\", "__")
    if len(flat.encode()) <= _RUN_NAME_MAX and flat.isprintable():
        return flat
    plain = "".join(ch if ch.isprintable() else "_" for ch in flat)
    plain = plain.encode()[: _RUN_NAME_MAX - 10].decode("utf-8", "ignore")
    return f"{plain}-{hashlib.sha256(file_key.encode()).hexdigest()[:8]}"


def _expectations(spec: FileSpec, ctx: RuleContext) -> list[Exp]:
    """The suite's expectations, GX-free, in suite order (`build_suite`)."""
    return [e for r in spec.all_rules if r.applies(ctx) for e in r.expect(ctx)]


def _by_identity(spec: FileSpec, ctx: RuleContext) -> dict[tuple[Any, ...], Exp] | None:
    """Each GX-free expectation by what names it in a GX result: its rule, its type and its
    columns (None if two would share a name)."""
    out: dict[tuple[Any, ...], Exp] = {}
    for rule in spec.all_rules:
        if not rule.applies(ctx):
            continue
        for e in rule.expect(ctx):
            ident = (
                rule.id,
                re.sub(r"(?<!^)(?=[A-Z])", "_", e.kind).lower(),
                _columns_key(e.kwargs),
            )
            if ident in out:
                return None
            out[ident] = e
    return out


def _columns_key(kwargs: Any) -> tuple[Any, ...]:
    kw = dict(kwargs)
    return (
        kw.get("column"),
        kw.get("column_A"),
        kw.get("column_B"),
        tuple(kw.get("column_list") or ()),
    )


# The fields of a passing map expectation's BASIC result, and how each is counted on a file.
_NULL_KINDS = ("ExpectColumnValuesToNotBeNull", "ExpectColumnValuesToBeNull")
_RECOUNTED_KEYS = frozenset(
    {
        "element_count",
        "unexpected_count",
        "unexpected_percent",
        "partial_unexpected_list",
        "missing_count",
        "missing_percent",
        "unexpected_percent_total",
        "unexpected_percent_nonmissing",
    }
)


def _missing(exp: Exp, batch: pd.DataFrame, domain: pd.Series) -> pd.Series | None:
    """Per row of the domain: whether GX leaves it out as missing (None: GX counts no
    missing)."""
    kw = dict(exp.kwargs)
    if exp.kind in _NULL_KINDS:
        return None
    if "column" in kw:
        return batch[kw["column"]].isna() & domain
    if "column_A" in kw:
        a, b = batch[kw["column_A"]].isna(), batch[kw["column_B"]].isna()
        ignore = kw.get("ignore_row_if", "both_values_are_missing")
        either = {"either_value_is_missing": a | b, "both_values_are_missing": a & b}
        if ignore not in either:
            raise KeyError(ignore)
        return either[ignore] & domain
    if "column_list" in kw:
        nulls = batch[list(kw["column_list"])].isna()
        ignore = kw.get("ignore_row_if", "all_values_are_missing")
        by = {
            "all_values_are_missing": nulls.all(axis=1),
            "any_value_is_missing": nulls.any(axis=1),
        }
        if ignore not in by:
            raise KeyError(ignore)
        return by[ignore] & domain
    raise KeyError(exp.kind)


def _rows_of(whole: pd.DataFrame, bounds: list[tuple[int, int]]) -> pd.DataFrame:
    """The rows of `whole` in the given [start, stop) ranges, in order, with their index."""
    if all(x[1] == y[0] for x, y in itertools.pairwise(bounds)):
        return whole.iloc[bounds[0][0] : bounds[-1][1]]
    import numpy as np

    return whole.iloc[np.concatenate([np.arange(a, b) for a, b in bounds])]


def _files_with_unexpected_rows(results: Any, bounds: list[tuple[int, int]]) -> set[int]:
    """The positions (in `bounds`) of the files holding an unexpected row of a failed
    expectation of a COMPLETE result whose frame index is the row position; empty when a
    failure names no row (an exception, an aggregate expectation)."""
    import bisect

    starts = [a for a, _ in bounds]
    bad: set[int] = set()
    for r in results.results:
        if r.success:
            continue
        rows = (r.result or {}).get("unexpected_index_list")
        raised = bool((r.exception_info or {}).get("raised_exception"))
        if raised or not rows or not all(isinstance(i, int) for i in rows):
            return set()
        for i in rows:
            k = bisect.bisect_right(starts, i) - 1
            if k < 0 or not bounds[k][0] <= i < bounds[k][1]:
                return set()
            bad.add(k)
    return bad


def _recounted(
    template: dict[str, Any],
    exps: dict[tuple[Any, ...], Exp],
    whole: pd.DataFrame,
    bounds: list[tuple[int, int]],
) -> list[dict[str, Any]] | None:
    """The passing suite result of several files (`template`, its JSON form), recounted on
    each file (rows bounds[i] of the GX frame `whole`), as JSON: the same expectations, all
    successful, with that file's element and missing counts (None when a result holds a
    field this does not know how to recount). Each expectation's domain and missing rows
    are found once for all the files and counted per file; the files share the template's
    unchanged parts (configurations)."""
    import numpy as np

    def pct(num: int, den: int) -> float | None:
        return num / den * 100 if den else None

    starts = np.array([a for a, _ in bounds], dtype=np.int64)
    stops = np.array([b for _, b in bounds], dtype=np.int64)

    def per_file(mask: pd.Series) -> list[int]:
        c = np.concatenate([[0], np.cumsum(mask.to_numpy(dtype=bool), dtype=np.int64)])
        return (c[stops] - c[starts]).tolist()

    n_files = len(bounds)
    columns: list[tuple[dict[str, Any], dict[str, Any], list[int], list[int] | None]] = []
    for r in template["results"]:
        cfg = r["expectation_config"]
        ident = ((cfg.get("meta") or {}).get("rule"), cfg["type"], _columns_key(cfg["kwargs"]))
        exp = exps.get(ident)
        res = dict(r.get("result") or {})
        if exp is None or not r["success"] or not set(res) <= _RECOUNTED_KEYS:
            return None
        domain = (
            when_mask(whole, exp.when)
            if exp.when is not None
            else pd.Series(True, index=whole.index)
        )
        try:
            gone = _missing(exp, whole, domain)
        except KeyError:
            return None
        columns.append((r, res, per_file(domain), None if gone is None else per_file(gone)))
    docs = []
    for i in range(n_files):
        results = []
        for r, res, ns, ms in columns:
            n = ns[i]
            missing = None if ms is None else ms[i]
            nonmissing = n - (missing or 0)
            counted: dict[str, Any] = {
                "element_count": n,
                "unexpected_count": 0,
                "unexpected_percent": pct(0, n if missing is None else nonmissing),
                "partial_unexpected_list": [],
                "missing_count": missing,
                "missing_percent": None if missing is None else pct(missing, n),
                "unexpected_percent_total": pct(0, n),
                "unexpected_percent_nonmissing": pct(0, nonmissing),
            }
            results.append({**r, "result": {k: counted[k] for k in res}})
        docs.append({**template, "results": results})
    return docs


def _no_batch_fingerprint() -> None:
    """Turn off GX's pandas batch fingerprint (an md5 of `hash_pandas_object` of the frame).

    It is batch metadata, not a check: it costs about 0.5 s per 1M rows and GX already
    skips it for frames over 1 GB. A batch here is known by its file key (and the ledger's
    sha256 of the file's bytes).
    """
    from great_expectations.execution_engine import pandas_execution_engine as engine

    if hasattr(engine, "HASH_THRESHOLD"):
        engine.HASH_THRESHOLD = 0


def _with_helpers(spec: FileSpec, frame: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    helpers: dict[str, pd.Series] = {}
    for rule in spec.all_rules:
        if rule.derive is not None and rule.applies(ctx):
            helpers.update(rule.derive(frame, ctx))
    return frame.assign(**helpers) if helpers else frame


# Columns of these kinds stay text: compared by order, or matched by regex (GX runs
# `astype(str)` first, which would rebuild every string of a categorical).
_TEXT_KINDS = (
    "ExpectColumnValuesToBeBetween",
    "ExpectColumnPairValuesAToBeGreaterThanB",
    "ExpectColumnValuesToMatchRegex",
    "ExpectColumnValuesToNotMatchRegex",
)
_CATEGORICAL_MAX_SHARE = 0.5  # distinct values / rows, on a sample: above it, no dictionary
_SAMPLE_ROWS = 65536
_NS_MIN, _NS_MAX = pd.Timestamp.min, pd.Timestamp.max


def _gx_frame(spec: FileSpec, frame: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    """The frame GX validates: the same rows and values, in dtypes GX computes fast.

    Only representations change, never a value: the columns the suite names (plus the
    helper columns), with
    - naive dates as datetime64[ns] (GX's between is vectorised only for ns or tz-aware
      columns; per value in Python otherwise); a column with a date outside the ns range
      keeps its unit;
    - nullable Int64 as int64, or float64 with NaN for nulls when there are any (exact for
      comparisons with the rules' bounds: a non-zero integer never rounds to 0);
    - low-cardinality text as pandas categoricals (dictionary-encoded by pyarrow): GX
      filters rows for row conditions and column pairs by taking the whole frame, which
      copies every Arrow string but only the integer codes of a categorical; is_in works
      on the distinct values. Columns compared by order or matched by regex stay text.
    """
    used, keep_text = _suite_columns(spec, ctx)
    return _gx_dtypes(spec, _with_helpers(spec, frame, ctx), ctx, used, keep_text)


def _gx_dtypes(
    spec: FileSpec,
    batch: pd.DataFrame,
    ctx: RuleContext,
    used: set[str] | None = None,
    keep_text: set[str] | None = None,
) -> pd.DataFrame:
    """`_gx_frame` of a frame that has its helper columns already."""
    if used is None or keep_text is None:
        used, keep_text = _suite_columns(spec, ctx)
    out: dict[str, Any] = {}
    for name in batch.columns:
        if name not in used:
            continue
        s = batch[name]
        dtype = s.dtype
        if isinstance(dtype, pd.Int64Dtype):
            s = s.astype("float64") if s.isna().any() else s.astype("int64")
        elif pd.api.types.is_datetime64_dtype(dtype) and not isinstance(dtype, pd.DatetimeTZDtype):
            if str(dtype) != "datetime64[ns]":
                lo, hi = s.min(), s.max()
                if pd.isna(lo) or (lo >= _NS_MIN and hi <= _NS_MAX):
                    s = s.astype("datetime64[ns]")
        elif isinstance(dtype, pd.StringDtype) and name not in keep_text:
            s = _categorical(s)
        out[name] = s
    return pd.DataFrame(out, index=batch.index, copy=False)


def _suite_columns(spec: FileSpec, ctx: RuleContext) -> tuple[set[str], set[str]]:
    """The columns the suite names, and those of them that stay text (`_TEXT_KINDS`)."""
    used: set[str] = set()
    keep_text: set[str] = set()
    for rule in spec.all_rules:
        if not rule.applies(ctx):
            continue
        for exp in rule.expect(ctx):
            cols = _columns_of(dict(exp.kwargs))
            used |= cols
            if exp.kind in _TEXT_KINDS:
                keep_text |= cols
            if exp.when is not None:
                used.add(exp.when.column)
                if exp.when.op == ">":
                    keep_text.add(exp.when.column)
    return used, keep_text


def _categorical(s: pd.Series) -> pd.Series:
    import pyarrow as pa

    arr = s.array
    values = arr.__arrow_array__() if hasattr(arr, "__arrow_array__") else pa.array(arr)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    n = len(values)
    if n == 0:
        return s
    sample = values.slice(0, _SAMPLE_ROWS)
    if len(sample.dictionary_encode().dictionary) > _CATEGORICAL_MAX_SHARE * len(sample):
        return s
    encoded = values.dictionary_encode()
    if len(encoded.dictionary) > _CATEGORICAL_MAX_SHARE * n:
        return s
    cat = encoded.to_pandas()
    cat = cat.array if isinstance(cat, pd.Series) else cat
    return pd.Series(cat, index=s.index, name=s.name, copy=False)


# The fields GX's suite leaves out when it decides two expectations are the same one
# (`ExpectationSuite._expectations_are_equalish`).
_NOT_IDENTITY = {"id", "rendered_content", "notes", "meta"}


def _to_gx(exp: Exp, severity: str, meta: dict[str, Any]) -> Any:
    gx_module()
    import great_expectations.expectations as gxe

    cls = getattr(gxe, exp.kind)
    kwargs = dict(exp.kwargs)
    if exp.when is not None:
        from great_expectations.expectations.row_conditions import Column as C

        col = C(exp.when.column)
        if exp.when.op == "==":
            kwargs["row_condition"] = col == exp.when.value
        elif exp.when.op == ">":
            kwargs["row_condition"] = col > exp.when.value
        else:
            kwargs["row_condition"] = col.is_in(list(exp.when.value))
    return cls(severity=severity, meta=meta, **kwargs)


def _severity(value: Any) -> str:
    return str(getattr(value, "value", value) or "critical").lower()


def _columns_of(kwargs: dict[str, Any]) -> set[str]:
    out = set()
    for k in ("column", "column_A", "column_B"):
        if kwargs.get(k):
            out.add(kwargs[k])
    out.update(kwargs.get("column_list") or [])
    return out


def _scrub(result: Any, sensitive: set[str]) -> None:
    """Remove raw values of sensitive columns; mask e-mail-like values everywhere."""
    res = result.result
    if not res:
        return
    cols = _columns_of(dict(result.expectation_config.kwargs))
    if cols & sensitive:
        for key in RAW_VALUE_KEYS:
            if key in res:
                res[key] = []
        return
    for key in ("partial_unexpected_list", "unexpected_list"):
        if res.get(key):
            res[key] = [_mask_deep(v) for v in res[key]]
    if res.get("partial_unexpected_counts"):
        res["partial_unexpected_counts"] = [
            {**c, "value": _mask_deep(c.get("value"))} for c in res["partial_unexpected_counts"]
        ]


def _mask_deep(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return type(v)(_mask_deep(x) for x in v)
    if isinstance(v, dict):
        return {k: _mask_deep(x) for k, x in v.items()}
    return mask_value(v)


def _jsonable(v: Any) -> Any:
    import json

    return json.loads(json.dumps(v, default=str))


@contextmanager
def _configurations_built_once(enabled: bool = True) -> Iterator[None]:
    """During one GX validation, build each expectation's `configuration` once.

    GX rebuilds `Expectation.configuration` (a pydantic `.dict()` and a deep copy of every
    argument, value sets included) dozens of times per expectation per validation, while it
    builds the metric graph and the results: with a large value set (the offers suite's
    requisition ids) that is most of a validation's time. Nothing changes an expectation
    during a validation, so the first build is reused for the same object. The property is
    restored afterwards; one validation runs at a time per process.
    `tests/feeds/test_gx_memo.py` checks the results are identical with and without this.
    """
    if not enabled:
        yield
        return
    from great_expectations.expectations.expectation import Expectation

    original = Expectation.__dict__["configuration"]
    built: dict[int, tuple[Any, Any]] = {}

    def configuration(self: Any) -> Any:
        hit = built.get(id(self))
        if hit is None or hit[0] is not self:  # (the object is kept: its id is not reused)
            hit = built[id(self)] = (self, original.fget(self))
        return hit[1]

    Expectation.configuration = property(configuration)  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        Expectation.configuration = original  # type: ignore[method-assign]


def _before_gx_is_imported() -> None:
    """GX imports pyspark when it is installed (here a test dependency, for the DDL test):
    its pandas-3 warning is noise for a pipeline run, and under `python -c` it must not end
    the program (`main_with_a_file`). Run when this module is imported, before any method
    imports GX."""
    warnings.filterwarnings(
        "ignore", message="PySpark does not yet fully support", category=FutureWarning
    )
    main_with_a_file()


# What GX imports when it is imported and this project never uses: pyspark (GX's Spark
# support, taken only when installed; installed here for a test) and scipy's statistics (for
# distribution expectations). Both are half of GX's import: about 1.5 s a process, paid by
# every ingest task (`make bench WHAT=floors` measures the import).
_NOT_FOR_GX = ("pyspark",)
_DEFERRED_FOR_GX = ("scipy.stats",)


def gx_module() -> Any:
    """`great_expectations`, imported the first time without pyspark (GX then takes Spark for
    not installed: this project validates pandas frames only) and with `scipy.stats`
    loaded only when something uses it (no expectation of ours does). Every GX import of
    this module goes through here first. A module imported before (by a test, or GX itself
    by someone else) is left as it is; pyspark stays importable by anything else."""
    import sys

    if "great_expectations" in sys.modules:
        import great_expectations

        return great_expectations
    blocked = [name for name in _NOT_FOR_GX if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # `import pyspark` fails
    try:
        for name in _DEFERRED_FOR_GX:
            _defer_import(name)
        import great_expectations
    finally:
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
    return great_expectations


def _defer_import(name: str) -> None:
    """Register `name` (a submodule) as a module that loads on its first attribute access
    (`importlib.util.LazyLoader`), bound on its parent package too, so that `from parent
    import sub` binds it without loading it (an import statement that finds it only in
    `sys.modules` would load it)."""
    import importlib.util
    import sys

    if name in sys.modules:
        return
    parent, _, child = name.rpartition(".")
    try:
        spec = importlib.util.find_spec(name)
    except ImportError:
        return
    if spec is None or spec.loader is None:
        return
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    if parent:
        setattr(sys.modules[parent], child, module)


def main_with_a_file() -> None:
    """Under `python -c` the `__main__` module has no file, which pyspark (imported by GX when
    installed) takes for a doctest run: it prints "Skipping doctests" and exits the
    interpreter with status 0, silently ending the caller's program. Give it a name."""
    import sys

    main = sys.modules.get("__main__")
    if (
        main is not None
        and getattr(main, "__spec__", None) is None
        and not hasattr(main, "__file__")
    ):
        main.__file__ = "<python -c>"


_before_gx_is_imported()
