"""Generated histories shared by the generator tests (each built once per session)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from buildout_tracker.generator import DirSink, GenerationSummary, generate
from buildout_tracker.weeks import parse_range

DEFAULT_WEEKS = parse_range("2026-W37:2026-W48")


@dataclass
class History:
    root: Path
    weeks: list[str]
    summary: GenerationSummary
    log: Path | None = None


@pytest.fixture(scope="session")
def clean(tmp_path_factory: pytest.TempPathFactory) -> History:
    root = tmp_path_factory.mktemp("clean") / "landing"
    summary = generate(DEFAULT_WEEKS, scale="small", seed=7, sink=DirSink(root))
    return History(root, DEFAULT_WEEKS, summary)


@pytest.fixture(scope="session")
def defective(tmp_path_factory: pytest.TempPathFactory) -> History:
    base = tmp_path_factory.mktemp("defective")
    root, log = base / "landing", base / "defects.jsonl"
    summary = generate(
        DEFAULT_WEEKS, scale="small", seed=7, defects=0.02, sink=DirSink(root), defects_log=log
    )
    return History(root, DEFAULT_WEEKS, summary, log)
