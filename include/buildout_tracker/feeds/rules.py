"""Rule builders: the checks a feed module composes its rules from, each with its mask and
its GX expectations (see `schema.Rule`)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from .pii import EMAIL_PATTERN, contains_email
from .schema import Exp, Level, Rule, RuleContext, Severity, When, sorted_values


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
        row_wise=True,
    )


def in_set(
    col: str,
    values: Iterable[str] | Callable[[RuleContext], Iterable[str]],
    rule_id: str | None = None,
    severity: Severity = "critical",
    description: str | None = None,
    needs: tuple[str, ...] = (),
) -> Rule:
    def values_for(ctx: RuleContext) -> tuple[str, ...]:
        vals = values(ctx) if callable(values) else values
        return sorted_values(vals)

    return Rule(
        id=rule_id or f"enum:{col}",
        severity=severity,
        description=description or f"{col} is one of the allowed values",
        level="row",
        columns=(col,),
        mask=lambda f, ctx: f[col].notna() & ~is_in(f[col], values_for(ctx)),
        expect=lambda ctx: [
            Exp(
                "ExpectColumnValuesToBeInSet",
                {"column": col, "value_set": list(values_for(ctx))},
            )
        ],
        needs=needs,
        row_wise=True,
    )


@functools.lru_cache(maxsize=64)
def _arrow_values(vals: tuple[str, ...], arrow_type: Any) -> Any:
    import pyarrow as pa

    return pa.array(vals, type=arrow_type)


def is_in(s: pd.Series, values: tuple[str, ...]) -> pd.Series:
    """`s.isin(values)` for a column of text, with the value set made an Arrow array once
    per set: pandas converts the set value by value on every call, which for the known
    sites (2,000 at SCALE=xlarge) on each of a week's 2,000 site reports cost more than
    the rest of the rule. The same answer as `Series.isin` (missing values are not in)."""
    import pyarrow.compute as pc

    arrow = getattr(s.array, "__arrow_array__", None)
    if arrow is None or not isinstance(s.dtype, pd.StringDtype) or not values:
        return s.isin(values)
    data = arrow()
    hit = pc.is_in(data, value_set=_arrow_values(values, data.type))
    return pd.Series(np.array(hit, dtype=np.bool_), index=s.index)


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
        row_wise=True,
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
        lo, hi = bound(min_value, ctx), bound(max_value, ctx)
        bad = _outside(s, lo, hi, strict_min, strict_max)
        if bad is None:
            bad = _false(f)
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

    return Rule(
        rule_id, severity, description, "row", (col,), mask, expect, needs=needs, row_wise=True
    )


def _numpy_kind(s: pd.Series) -> str:
    """ "f" or "M" for a column of numpy floats or naive datetimes (NaN / NaT for missing),
    else ""."""
    dtype = s.dtype
    return dtype.kind if isinstance(dtype, np.dtype) and dtype.kind in "fM" else ""


def _outside(
    s: pd.Series, lo: Any, hi: Any, strict_min: bool, strict_max: bool
) -> pd.Series | None:
    """`between`'s failing rows computed on the column's numpy values, for a float or a
    datetime column with number or timestamp bounds (about 20 pandas operations a file
    fewer); None for any other column, which takes the pandas path. The same answer: a
    missing value (NaN, NaT) compares False in numpy as it does, filled, in pandas."""
    kind = _numpy_kind(s)
    if not kind:
        return None
    bounds = [b for b in (lo, hi) if b is not None]
    if kind == "f":
        if not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds):
            return None
        lo_v, hi_v = lo, hi
    else:
        if not all(isinstance(b, pd.Timestamp) and b.tz is None for b in bounds):
            return None
        lo_v = None if lo is None else lo.to_datetime64()
        hi_v = None if hi is None else hi.to_datetime64()
    v = s.to_numpy()
    bad = np.zeros(len(v), dtype=bool)
    if lo_v is not None:
        bad |= (v <= lo_v) if strict_min else (v < lo_v)
    if hi_v is not None:
        bad |= (v >= hi_v) if strict_max else (v > hi_v)
    return pd.Series(bad, index=s.index, copy=False)


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
        sa, sb = f[a], f[b]
        if _numpy_kind(sa) and _numpy_kind(sa) == _numpy_kind(sb):
            # Float or datetime on both sides: numpy compares a missing value False, as
            # the filled pandas comparison below does.
            va, vb = sa.to_numpy(), sb.to_numpy()
            bad = pd.Series((va < vb) if or_equal else (va <= vb), index=f.index, copy=False)
        else:
            bad = (sa < sb) if or_equal else (sa <= sb)
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
        row_wise=True,
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
            (is_in(f[status_col], statuses) & f[col].isna())
            | (is_in(f[status_col], others) & f[col].notna())
        ),
        lambda ctx: [
            Exp("ExpectColumnValuesToNotBeNull", {"column": col}, When(status_col, "in", statuses)),
            *(
                [Exp("ExpectColumnValuesToBeNull", {"column": col}, When(status_col, "in", others))]
                if others
                else []
            ),
        ],
        row_wise=True,
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
        row_wise=True,
    )


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
    compute = _once_per_frame(compute)

    def mask(f: pd.DataFrame, ctx: RuleContext) -> pd.Series:
        v = compute(f, ctx)
        bad = _outside(v, min_value, max_value, False, False)
        if bad is None:
            bad = ((v < min_value) | (v > max_value)).fillna(False).astype(bool)
        return bad

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


def _once_per_frame(
    compute: Callable[[pd.DataFrame, RuleContext], pd.Series],
) -> Callable[[pd.DataFrame, RuleContext], pd.Series]:
    """`compute`, remembered for each frame alive (and an equal context): a file's row check
    and the helper column handed to GX ask for the same values of the same frame, which
    nothing changes in between (a frame that is changed is copied first). An entry goes
    when its frame does."""
    import weakref

    kept: dict[int, tuple[Any, RuleContext, pd.Series]] = {}

    def forget(k: int) -> Callable[[Any], None]:
        def gone(_ref: Any) -> None:
            kept.pop(k, None)

        return gone

    def remembered(f: pd.DataFrame, ctx: RuleContext) -> pd.Series:
        k = id(f)
        hit = kept.get(k)
        if hit is not None and hit[0]() is f and hit[1] == ctx:
            return hit[2]
        v = compute(f, ctx)
        kept[k] = (weakref.ref(f, forget(k)), ctx, v)
        return v

    return remembered


def when_mask(f: pd.DataFrame, when: When) -> pd.Series:
    s = f[when.column]
    if when.op == "==":
        return (s == when.value).fillna(False).astype(bool)
    if when.op == ">":
        return (s > when.value).fillna(False).astype(bool)
    values = tuple(when.value)
    if all(isinstance(v, str) for v in values):
        return is_in(s, values)
    return s.isin(list(values))
