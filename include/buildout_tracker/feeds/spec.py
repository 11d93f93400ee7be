"""A file kind's declaration: its name pattern, columns and rules (`FileSpec`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from .rules import in_set, matches, no_personal_data, required
from .schema import Column, Rule, hashed_name


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
