"""The audit of a computed week, run before anything is published (write-audit-publish).

`audit_week` returns every failure it finds (an empty list means the week may be published):
the schema and the week columns of every table, unique keys at each table's grain, ratios in
their range, the week-over-week fields against last week's published values, the totals against
the inputs they come from, the earned-value forecasts against their identities (EAC = AC + ETC,
VAC = BAC - EAC, TCPI null exactly when BAC - AC <= 0, the scorecard's areas against their
sites), and the absence of personal data.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import pyarrow as pa

from buildout_tracker.model import WeekInputs
from buildout_tracker.tables import (
    KEYS,
    SCHEMAS,
    TABLE_NAMES,
    audit_failure,
    data_quality_weekly,
    hiring_weekly,
    milestone_status_weekly,
    procurement_weekly,
    program_scorecard,
    site_progress_weekly,
)
from buildout_tracker.tables import (
    definitions as d,
)
from buildout_tracker.tables.audit_failure import AuditFailure

__all__ = ["AuditFailure", "audit_week"]

# Ratios that are shares of a whole.
UNIT_RATIOS: dict[str, tuple[str, ...]] = {
    procurement_weekly.NAME: ("otd_rate", "top_supplier_share"),
    hiring_weekly.NAME: ("offer_acceptance_rate",),
    program_scorecard.NAME: ("otd_rate",),
}
# Ratios that may pass 1 (ahead of plan, under cost) but never go below 0.
NON_NEGATIVE: dict[str, tuple[str, ...]] = {
    site_progress_weekly.NAME: ("spi", "cpi"),
    hiring_weekly.NAME: ("attainment",),
    program_scorecard.NAME: ("spi", "cpi", "spend_pace", "hiring_attainment"),
}
# Money that may be null: the forecasts at completion (null when CPI is null or 0) and, on the
# scorecard, the earned-value money of the areas without sites. Every other *_usd column is
# always a number, except those that look back a week (*_change_usd, *_prior).
NULLABLE_MONEY: dict[str, tuple[str, ...]] = {
    site_progress_weekly.NAME: ("eac_usd", "etc_usd", "vac_usd"),
    program_scorecard.NAME: ("bac_usd", "eac_usd", "vac_usd"),
}


def audit_week(tables: Mapping[str, pa.Table], inputs: WeekInputs) -> list[AuditFailure]:
    out: list[AuditFailure] = []
    frames: dict[str, pd.DataFrame] = {}
    for name in TABLE_NAMES:
        table = tables.get(name)
        if table is None:
            out.append(AuditFailure(name, "present", "table missing from the week"))
            continue
        found = _structure(name, table, inputs)
        out.extend(found)
        if not any(f.check == "schema" for f in found):
            frames[name] = table.to_pandas()
    for name in set(tables) - set(TABLE_NAMES):
        out.append(AuditFailure(name, "unknown_table", "not a published table"))
    for name, df in frames.items():
        out.extend(_ranges(name, df))
    if not frames:
        return out

    def run(name: str, fn, *args) -> None:  # type: ignore[no-untyped-def]
        if name in frames:
            try:
                out.extend(fn(tables[name], inputs, *args))
            except Exception as exc:  # a check that cannot run is a failed check, with its cause
                out.append(AuditFailure(name, "check_error", f"{type(exc).__name__}: {exc}"))

    try:
        lines = d.line_amounts(inputs)
    except Exception as exc:
        out.append(AuditFailure(procurement_weekly.NAME, "inputs", f"{type(exc).__name__}: {exc}"))
        lines = None
    if lines is not None:
        run(procurement_weekly.NAME, procurement_weekly.check, lines)
    run(milestone_status_weekly.NAME, milestone_status_weekly.check)
    run(site_progress_weekly.NAME, site_progress_weekly.check)
    run(hiring_weekly.NAME, hiring_weekly.check)
    run(
        program_scorecard.NAME,
        program_scorecard.check,
        tables.get(procurement_weekly.NAME) if procurement_weekly.NAME in frames else None,
        tables.get(hiring_weekly.NAME) if hiring_weekly.NAME in frames else None,
        tables.get(site_progress_weekly.NAME) if site_progress_weekly.NAME in frames else None,
    )
    run(data_quality_weekly.NAME, data_quality_weekly.check)
    out.extend(_site_rows(frames, inputs))
    return out


def _structure(name: str, table: pa.Table, inputs: WeekInputs) -> list[AuditFailure]:
    out: list[AuditFailure] = []
    expected = SCHEMAS[name]
    for column in table.column_names:
        lowered = column.lower()
        if any(marker in lowered for marker in audit_failure.PERSONAL_DATA_MARKERS):
            out.append(
                AuditFailure(
                    name, "personal_data", f"column {column!r} may hold personal data or free text"
                )
            )
    if not table.schema.equals(expected, check_metadata=False):
        got = [(f.name, str(f.type)) for f in table.schema]
        want = [(f.name, str(f.type)) for f in expected]
        diff = [g for g in got if g not in want] + [w for w in want if w not in got]
        out.append(
            AuditFailure(
                name, "schema", f"schema differs from the published one: {diff or 'column order'}"
            )
        )
        return out
    if table.num_rows:
        weeks_ = set(table.column("week").to_pylist())
        dates_ = set(table.column("status_date").to_pylist())
        if weeks_ != {inputs.week} or dates_ != {inputs.status_date}:
            out.append(
                AuditFailure(
                    name,
                    "week",
                    f"rows carry weeks {sorted(map(str, weeks_))} / dates {sorted(map(str, dates_))}",
                )
            )
        keys = ["week", *KEYS[name]]
        df = table.select(keys).to_pandas()
        dup = df[df.duplicated(keys, keep=False)]
        if len(dup):
            sample = dup.drop_duplicates().head(3).to_dict("records")
            out.append(
                AuditFailure(
                    name,
                    "unique_keys",
                    f"{len(dup)} rows share a key at grain {keys}, e.g. {sample}",
                )
            )
    return out


def _ranges(name: str, df: pd.DataFrame) -> list[AuditFailure]:
    out: list[AuditFailure] = []
    for column in UNIT_RATIOS.get(name, ()):
        v = pd.to_numeric(df[column], errors="coerce").dropna()
        if ((v < 0) | (v > 1)).any():
            out.append(
                AuditFailure(
                    name,
                    f"{column}_range",
                    f"{column} outside [0, 1]: {sorted(v[(v < 0) | (v > 1)])[:3]}",
                )
            )
    for column in NON_NEGATIVE.get(name, ()):
        v = pd.to_numeric(df[column], errors="coerce").dropna()
        if (v < 0).any():
            out.append(AuditFailure(name, f"{column}_range", f"{column} below 0"))
    for column in df.columns:
        if (
            column.endswith("_usd")
            and not column.endswith(("change_usd", "sv_usd", "cv_usd"))
            and not column.endswith("_prior")
            and column not in NULLABLE_MONEY.get(name, ())
        ):
            v = pd.to_numeric(df[column], errors="coerce")
            if v.isna().any():
                out.append(
                    AuditFailure(
                        name, f"{column}_null", f"{column} has nulls: money is always a number"
                    )
                )
    return out


def _site_rows(frames: Mapping[str, pd.DataFrame], inputs: WeekInputs) -> list[AuditFailure]:
    """Both site tables cover exactly the register's sites that have reported at least once."""
    out: list[AuditFailure] = []
    reported = set(d.keyed(inputs.milestones, ["site_id"])["site_id"])
    register = set(d.keyed(inputs.sites, ["site_id"])["site_id"])
    want = reported & register
    for name in (milestone_status_weekly.NAME, site_progress_weekly.NAME):
        if name in frames:
            got = set(frames[name]["site_id"].astype(str)) if len(frames[name]) else set()
            if got != want:
                out.append(
                    AuditFailure(
                        name,
                        "rows",
                        f"sites missing {sorted(want - got)}, unexpected {sorted(got - want)}",
                    )
                )
    return out
