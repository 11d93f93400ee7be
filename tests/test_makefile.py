"""The Makefile: every documented target defined once (make warns and keeps the last
definition of a repeated target, silently changing what `make lake-down` does)."""

from __future__ import annotations

import re
from collections import Counter

from buildout_tracker.settings import PROJECT_ROOT

EXPECTED = {"help", "install", "run", "run-week", "test", "lint", "format", "up", "backfill",
            "down", "lake-up", "lake-down", "lake-status", "sql", "generate", "supersede", "withdraw", "report",
            "bench", "clean",
            "compose-env", "compose-up", "compose-down"}  # fmt: skip


def test_targets_defined_once_each_with_help() -> None:
    text = (PROJECT_ROOT / "Makefile").read_text()
    targets = re.findall(r"^([a-z][a-z-]*):", text, flags=re.M)
    repeated = [t for t, n in Counter(targets).items() if n > 1]
    assert repeated == []
    helped = set(re.findall(r"^([a-z][a-z-]*):.*## ", text, flags=re.M))
    assert helped >= EXPECTED
    phony = set(re.search(r"^\.PHONY: (.*)$", text, flags=re.M).group(1).split())  # type: ignore[union-attr]
    assert phony >= EXPECTED
    assert (
        "bash .ci/run" not in text
        and (PROJECT_ROOT / ".ci/run").read_text().count("make test") == 1
    )
