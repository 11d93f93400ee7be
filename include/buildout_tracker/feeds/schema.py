"""The types every feed module declares itself with: columns, rule context, rules.

A feed module declares its columns and rules once (rule builders in `rules.py`, the file
spec in `spec.py`); parsing (`parsing.py`), the row checks (`checks.py`) and the GX suites
(`gx_suite.py`) all read the same declaration.

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

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import pandas as pd

Severity = Literal["critical", "warning", "info"]
Level = Literal["row", "table"]
ColumnType = Literal["text", "date", "timestamp", "decimal", "integer", "boolean", "number"]
# "drop": personal data, dropped at parse time; "hash": replaced by an HMAC key at parse
# time; "free_text": kept, scanned for e-mail addresses, never echoed in reports.
PiiKind = Literal["drop", "hash", "free_text"]

SEVERITY_ORDER: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}


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


def sorted_values(vals: Iterable[str]) -> tuple[str, ...]:
    """The distinct values, sorted; a frozenset (a context's sites, currencies) is sorted
    once, not once per file of a week (2,000 site reports check 2,000 sites at xlarge)."""
    if isinstance(vals, frozenset):
        return _sorted_frozen(vals)
    return tuple(sorted(set(vals)))


@functools.lru_cache(maxsize=64)
def _sorted_frozen(vals: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(vals))


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
            return None if s is None else sorted_values(s)

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
    # The mask of a row depends on that row's values alone: the mask of files stacked is
    # their masks stacked (`checks.check_files` computes it once for a week's files).
    # Rules across rows (a key unique in the file, a site's eight milestones) leave it False.
    row_wise: bool = False

    def applies(self, ctx: RuleContext) -> bool:
        return all(getattr(ctx, name) is not None for name in self.needs)

    @property
    def quarantines(self) -> bool:
        """Row-level critical rules send failing rows to quarantine; others only report."""
        return self.level == "row" and self.severity == "critical"


def hashed_name(column: str) -> str:
    """candidate_id -> candidate_key."""
    return column[: -len("_id")] + "_key" if column.endswith("_id") else column + "_key"
