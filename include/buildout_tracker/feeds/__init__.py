"""Source feeds: columns, types, rules and GX expectations declared once per feed.

Pure functions on bytes and frames (no S3). The orchestration calls:

- `spec_for(feed, filename)` -> FileSpec | None
- `parse_file(spec, key, data, hmac_key)` -> ParsedFile
- `check_rows(spec, frame, ctx)` -> RowCheck
- `GxValidator().validate(spec, frame, file_key, ctx)` -> GxFileResult; `.build_data_docs(dir)`

Nothing here imports Great Expectations at module import.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from . import fx_rates, hiring, milestones, procurement, reference
from .checks import RowCheck, check_rows
from .gx_suite import GxFileResult, GxValidator
from .parsing import FileError, ParsedFile, parse_file
from .schema import Column, FileSpec, Rule, RuleContext

SPECS: dict[str, tuple[FileSpec, ...]] = {
    "procurement": procurement.SPECS,
    "fx_rates": fx_rates.SPECS,
    "milestones": milestones.SPECS,
    "hiring": hiring.SPECS,
    "reference": reference.SPECS,
}

# The file names each feed accepts, as feeds.md writes them (the specs hold the same as regexes).
FILE_NAMES: dict[str, tuple[str, ...]] = {
    "procurement": ("po_lines_*.csv",),
    "fx_rates": ("fx_rates_*.csv",),
    "milestones": ("*.jsonl",),
    "hiring": ("requisitions_*.csv", "offers_*.csv"),
    "reference": ("sites.csv", "milestone_plan.csv", "budget_plan.csv", "hiring_plan.csv"),
}


def file_patterns(feed: str) -> tuple[str, ...]:
    return FILE_NAMES.get(feed, ())


def spec_for(feed: str, filename: str) -> FileSpec | None:
    """The spec of a landing file (a key or a bare name), or None for a file the feed
    does not know (a stray README, a file of another feed)."""
    name = PurePosixPath(filename).name
    for spec in SPECS.get(feed, ()):
        if spec.matches(name):
            return spec
    return None


def all_specs() -> list[FileSpec]:
    return [s for specs in SPECS.values() for s in specs]


__all__ = [
    "SPECS",
    "Column",
    "FileError",
    "FileSpec",
    "GxFileResult",
    "GxValidator",
    "ParsedFile",
    "RowCheck",
    "Rule",
    "RuleContext",
    "all_specs",
    "check_rows",
    "parse_file",
    "spec_for",
]
