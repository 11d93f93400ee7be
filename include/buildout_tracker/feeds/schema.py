"""The declarative machinery every feed module uses: columns, rules, file specs.

A feed module declares its columns and rules once; parsing (`parsing.py`), the row checks
(`checks.py`) and the GX suites (`gx_suite.py`) all read the same declaration.

A `Rule` carries two expressions of the same check:

* `mask(frame, ctx)`: a vectorised boolean Series, True for rows that FAIL. Row-level
  quarantine is decided from masks (fast, exact row numbers).
* `expect(ctx)`: the GX expectation(s) that state the same check, as GX-free `Exp`
  descriptions turned into GX objects lazily by `gx_suite.py` (importing GX costs seconds
  and hundreds of MB; nothing here imports it). A test checks that, rule by rule, GX's
  unexpected_count equals the mask's failing count.

Cross-row checks that GX cannot state on pandas (sums per site, order within a site,
`net_value == quantity * unit_price`) give GX a helper column computed by `derive`, and GX
checks that column's values; the helper columns exist only in the frame handed to GX.

Nulls: as in GX, a comparison or set-membership rule passes a null value; only the
`required:<column>` rules fail nulls.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd

Severity = Literal["critical", "warning", "info"]
Level = Literal["row", "table"]
ColumnType = Literal["text", "date", "timestamp", "decimal", "integer", "boolean", "number"]
# "drop": personal data, dropped at parse time; "hash": replaced by an HMAC key at parse
# time; "free_text": kept, scanned for e-mail addresses, never echoed in reports.
PiiKind = Literal["drop", "hash", "free_text"]

SEVERITY_ORDER: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}

# An e-mail address anywhere in a value (the no_personal_data rule, masking of raw values).
EMAIL_PATTERN = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
EMAIL_RE = re.compile(EMAIL_PATTERN)
MASK = "<masked>"


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType = "text"
    # The value must be present (a `required:<name>` rule), so the file must have the column.
    # Any other column may be left out of a file: it is then null in every row.
    required: bool = False
    pii: PiiKind | None = None
    enum: tuple[str, ...] | None = None  # an `enum:<name>` rule
    pattern: str | None = None  # full-match regex: a `format:<name>` rule


@dataclass(frozen=True)
class RuleContext:
    """What rules need beyond the file itself. None means unknown: the rule is skipped."""

    week: str | None = None
    status_date: date | None = None
    known_site_ids: frozenset[str] | set[str] | None = None
    currencies_with_rate: frozenset[str] | set[str] | None = None  # USD always has a rate
    requisition_ids: frozenset[str] | set[str] | None = None  # same delivery's requisitions

    def fingerprint(self) -> tuple[Any, ...]:
        def fz(s: Iterable[str] | None) -> tuple[str, ...] | None:
            return None if s is None else tuple(sorted(s))

        return (
            self.week,
            self.status_date,
            fz(self.known_site_ids),
            fz(self.currencies_with_rate),
            fz(self.requisition_ids),
        )


@dataclass(frozen=True)
class When:
    """A GX row condition: `column op value` (op: '==', '>', 'in')."""

    column: str
    op: Literal["==", ">", "in"]
    value: Any


@dataclass(frozen=True)
class Exp:
    """A GX expectation, by class name and keyword arguments (GX-free)."""

    kind: str  # e.g. "ExpectColumnValuesToNotBeNull"
    kwargs: Mapping[str, Any]
    when: When | None = None


Mask = Callable[[pd.DataFrame, RuleContext], pd.Series]
Expect = Callable[[RuleContext], list[Exp]]
Derive = Callable[[pd.DataFrame, RuleContext], dict[str, pd.Series]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    description: str
    level: Level
    columns: tuple[str, ...]
    mask: Mask
    expect: Expect
    derive: Derive | None = None
    # Context the rule needs; when any is None in the RuleContext the rule is skipped.
    needs: tuple[str, ...] = ()

    def applies(self, ctx: RuleContext) -> bool:
        return all(getattr(ctx, name) is not None for name in self.needs)

    @property
    def quarantines(self) -> bool:
        """Row-level critical rules send failing rows to quarantine; others only report."""
        return self.level == "row" and self.severity == "critical"


@dataclass(frozen=True)
class FileSpec:
    feed: str
    kind: str  # table the file feeds: po_lines, fx_rates, milestones, requisitions, ...
    pattern: str  # full-match regex on the file name (no folder)
    columns: tuple[Column, ...]
    rules: tuple[Rule, ...] = field(default=())
    format: Literal["csv", "jsonl"] = "csv"

    def matches(self, filename: str) -> bool:
        return re.fullmatch(self.pattern, filename) is not None

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def kept_columns(self) -> tuple[Column, ...]:
        """Columns that survive parsing (personal data dropped; hashed ones renamed later)."""
        return tuple(c for c in self.columns if c.pii != "drop")

    @property
    def sensitive_columns(self) -> frozenset[str]:
        """Columns whose raw values must never be echoed (reports, GX results)."""
        out = {c.name for c in self.columns if c.pii is not None}
        out |= {hashed_name(c.name) for c in self.columns if c.pii == "hash"}
        return frozenset(out)

    @property
    def free_text_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.pii == "free_text")

    @property
    def all_rules(self) -> tuple[Rule, ...]:
        """Column-derived rules (required, enum, format), then the spec's own rules."""
        generated: list[Rule] = []
        for c in self.kept_columns:
            name = hashed_name(c.name) if c.pii == "hash" else c.name
            if c.required:
                generated.append(required(name))
            if c.enum is not None:
                generated.append(in_set(name, c.enum))
            if c.pattern is not None:
                generated.append(matches(name, c.pattern))
        if self.free_text_columns:
            generated.append(no_personal_data(self.free_text_columns))
        return (*generated, *self.rules)


def hashed_name(column: str) -> str:
    """candidate_id -> candidate_key."""
    return column[: -len("_id")] + "_key" if column.endswith("_id") else column + "_key"


# --- rule builders -------------------------------------------------------------------------


def _false(frame: pd.DataFrame) -> pd.Series:
    return pd.Series(False, index=frame.index)


def required(col: str, severity: Severity = "critical") -> Rule:
    return Rule(
        id=f"required:{col}",
        severity=severity,
        description=f"{col} is present",
        level="row",
        columns=(col,),
        mask=lambda f, ctx: f[col].isna(),
        expect=lambda ctx: [Exp("ExpectColumnValuesToNotBeNull", {"column": col})],
    )


def in_set(
    col: str,
    values: Iterable[str] | Callable[[RuleContext], Iterable[str]],
    rule_id: str | None = None,
    severity: Severity = "critical",
    description: str | None = None,
    needs: tuple[str, ...] = (),
) -> Rule:
    def values_for(ctx: RuleContext) -> list[str]:
        vals = values(ctx) if callable(values) else values
        return sorted(set(vals))

    return Rule(
        id=rule_id or f"enum:{col}",
        severity=severity,
        description=description or f"{col} is one of the allowed values",
        level="row",
        columns=(col,),
        mask=lambda f, ctx: f[col].notna() & ~f[col].isin(values_for(ctx)),
        expect=lambda ctx: [
            Exp("ExpectColumnValuesToBeInSet", {"column": col, "value_set": values_for(ctx)})
        ],
        needs=needs,
    )


def matches(
    col: str, pattern: str, rule_id: str | None = None, severity: Severity = "critical"
) -> Rule:
    # GX's pandas regex is a search: anchor it with \A and \Z (a $ would accept a trailing
    # newline, which fullmatch refuses).
    anchored = rf"\A(?:{pattern})\Z"
    return Rule(
        id=rule_id or f"format:{col}",
        severity=severity,
        description=f"{col} matches {pattern}",
        level="row",
        columns=(col,),
        mask=lambda f, ctx: f[col].notna() & ~f[col].str.fullmatch(pattern).fillna(False),
        expect=lambda ctx: [
            Exp("ExpectColumnValuesToMatchRegex", {"column": col, "regex": anchored})
        ],
    )


def between(
    col: str,
    rule_id: str,
    description: str,
    min_value: Any = None,
    max_value: Any = None,
    strict_min: bool = False,
    strict_max: bool = False,
    severity: Severity = "critical",
    when: When | None = None,
    needs: tuple[str, ...] = (),
) -> Rule:
    """min_value/max_value may be callables of the context (e.g. the status date)."""

    def bound(b: Any, ctx: RuleContext) -> Any:
        b = b(ctx) if callable(b) else b
        return pd.Timestamp(b) if isinstance(b, date) else b

    def mask(f: pd.DataFrame, ctx: RuleContext) -> pd.Series:
        s = f[col]
        bad = _false(f)
        lo, hi = bound(min_value, ctx), bound(max_value, ctx)
        if lo is not None:
            bad |= (s <= lo) if strict_min else (s < lo)
        if hi is not None:
            bad |= (s >= hi) if strict_max else (s > hi)
        bad = bad.fillna(False).astype(bool)
        return bad & when_mask(f, when) if when else bad

    def expect(ctx: RuleContext) -> list[Exp]:
        kw: dict[str, Any] = {"column": col}
        lo, hi = bound(min_value, ctx), bound(max_value, ctx)
        if lo is not None:
            kw["min_value"], kw["strict_min"] = lo, strict_min
        if hi is not None:
            kw["max_value"], kw["strict_max"] = hi, strict_max
        return [Exp("ExpectColumnValuesToBeBetween", kw, when)]

    return Rule(rule_id, severity, description, "row", (col,), mask, expect, needs=needs)


def pair_ge(
    a: str,
    b: str,
    rule_id: str,
    description: str,
    or_equal: bool = True,
    severity: Severity = "critical",
    when: When | None = None,
) -> Rule:
    """a >= b (or a > b) where both are present."""

    def mask(f: pd.DataFrame, ctx: RuleContext) -> pd.Series:
        bad = (f[a] < f[b]) if or_equal else (f[a] <= f[b])
        bad = bad.fillna(False).astype(bool)
        return bad & when_mask(f, when) if when else bad

    return Rule(
        rule_id,
        severity,
        description,
        "row",
        (a, b),
        mask,
        lambda ctx: [
            Exp(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {
                    "column_A": a,
                    "column_B": b,
                    "or_equal": or_equal,
                    "ignore_row_if": "either_value_is_missing",
                },
                when,
            )
        ],
    )


def present_exactly_when(
    col: str, status_col: str, statuses: tuple[str, ...], others: tuple[str, ...], rule_id: str
) -> Rule:
    """`col` present exactly when `status_col` is one of `statuses` (and null for `others`).

    Rows whose status is null or unknown are left to the required/enum rules.
    """
    return Rule(
        rule_id,
        "critical",
        f"{col} is present exactly when {status_col} is one of {', '.join(statuses)}",
        "row",
        (col, status_col),
        lambda f, ctx: (
            (f[status_col].isin(statuses) & f[col].isna())
            | (f[status_col].isin(others) & f[col].notna())
        ),
        lambda ctx: [
            Exp("ExpectColumnValuesToNotBeNull", {"column": col}, When(status_col, "in", statuses)),
            *(
                [Exp("ExpectColumnValuesToBeNull", {"column": col}, When(status_col, "in", others))]
                if others
                else []
            ),
        ],
    )


def unique(cols: tuple[str, ...], rule_id: str, severity: Severity = "critical") -> Rule:
    """Every row of a duplicated key fails (none of them can be trusted to be the one)."""

    def expect(ctx: RuleContext) -> list[Exp]:
        if len(cols) == 1:
            return [Exp("ExpectColumnValuesToBeUnique", {"column": cols[0]})]
        return [Exp("ExpectCompoundColumnsToBeUnique", {"column_list": list(cols)})]

    def mask(f: pd.DataFrame, ctx: RuleContext) -> pd.Series:
        key = f[list(cols)]
        present = key.notna().all(axis=1)
        return present & key.duplicated(keep=False)

    return Rule(
        rule_id, severity, f"({', '.join(cols)}) is unique in the file", "row", cols, mask, expect
    )


def no_personal_data(cols: tuple[str, ...]) -> Rule:
    def mask(f: pd.DataFrame, ctx: RuleContext) -> pd.Series:
        bad = _false(f)
        for c in cols:
            if c in f.columns:
                bad |= contains_email(f[c])
        return bad

    return Rule(
        "no_personal_data",
        "warning",
        "no kept free-text column holds an e-mail address",
        "row",
        cols,
        mask,
        lambda ctx: [
            Exp("ExpectColumnValuesToNotMatchRegex", {"column": c, "regex": EMAIL_PATTERN})
            for c in cols
        ],
    )


def contains_email(s: pd.Series) -> pd.Series:
    """True where the value holds an e-mail address (EMAIL_PATTERN found anywhere).

    The pattern needs an `@`: the regex runs only on the values that hold one (a plain
    substring scan is several times cheaper than the regex on every value).
    """
    has_at = s.str.contains("@", regex=False).fillna(False).to_numpy(dtype=bool)
    found = np.zeros(len(s), dtype=bool)
    idx = np.flatnonzero(has_at)
    if len(idx):
        hit = s.iloc[idx].str.contains(EMAIL_PATTERN, regex=True).fillna(False)
        found[idx] = hit.to_numpy(dtype=bool)
    return pd.Series(found, index=s.index)


def helper_rule(
    rule_id: str,
    severity: Severity,
    level: Level,
    description: str,
    columns: tuple[str, ...],
    helper: str,
    compute: Callable[[pd.DataFrame, RuleContext], pd.Series],
    min_value: float,
    max_value: float,
) -> Rule:
    """A check GX cannot state natively: GX checks the helper column `compute` returns."""

    def mask(f: pd.DataFrame, ctx: RuleContext) -> pd.Series:
        v = compute(f, ctx)
        return ((v < min_value) | (v > max_value)).fillna(False).astype(bool)

    return Rule(
        rule_id,
        severity,
        description,
        level,
        columns,
        mask,
        lambda ctx: [
            Exp(
                "ExpectColumnValuesToBeBetween",
                {"column": helper, "min_value": min_value, "max_value": max_value},
            )
        ],
        derive=lambda f, ctx: {helper: compute(f, ctx)},
    )


def when_mask(f: pd.DataFrame, when: When) -> pd.Series:
    s = f[when.column]
    if when.op == "==":
        return (s == when.value).fillna(False).astype(bool)
    if when.op == ">":
        return (s > when.value).fillna(False).astype(bool)
    return s.isin(list(when.value))
