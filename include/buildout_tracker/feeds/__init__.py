"""Source feeds: columns, types, rules and GX expectations declared once per feed.

Pure functions on bytes and frames (no S3). The orchestration calls:

- `spec_for(feed, filename)` -> FileSpec | None
- `parse_file(spec, key, data, hmac_key)` -> ParsedFile; `parse_files` for many of a kind
- `check_rows(spec, frame, ctx)` -> RowCheck; `check_files` for many of a kind and context
- `GxValidator().validate(spec, frame, file_key, ctx)` -> GxFileResult; `.build_data_docs(dir)`

Nothing here imports Great Expectations at module import.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from buildout_tracker import registry

from . import fx_rates, hiring, milestones, procurement, reference
from .checks import RowCheck, check_files, check_rows
from .gx_suite import GxFileResult, GxValidator
from .parsing import FileError, ParsedFile, parse_file, parse_files
from .schema import Column, Rule, RuleContext
from .spec import FileSpec

# Each feed's module is named for the feed (`feeds/<feed>.py`) and declares its file kinds.
_MODULES = {
    m.__name__.rsplit(".", 1)[-1]: m for m in (fx_rates, hiring, milestones, procurement, reference)
}
SPECS: dict[str, tuple[FileSpec, ...]] = {f.name: _MODULES[f.name].SPECS for f in registry.FEEDS}

# The file names each feed accepts, as docs/feeds.md writes them (the specs hold the same as
# regexes; a test checks they agree).
FILE_NAMES: dict[str, tuple[str, ...]] = {f.name: f.file_names for f in registry.FEEDS}


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
    "check_files",
    "check_rows",
    "parse_file",
    "parse_files",
    "spec_for",
]
