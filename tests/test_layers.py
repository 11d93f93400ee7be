"""The package's layers, as docs/architecture.md draws them: no import runs up a layer.

Read from the source with `ast` (every import, at module level or inside a function), so a
lazy import that climbs is caught too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import buildout_tracker

PACKAGE = Path(buildout_tracker.__file__).parent

# What each layer may import from the package, besides itself. Bottom to top.
CORE = {"settings", "weeks", "registry", "zones", "lake", "model", "timing", "alerts"}
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "feeds": {"core"},
    "generator": {"core", "feeds"},
    "ingest": {"core", "feeds"},
    "tables": {"core", "feeds"},
    "publish": {"core", "feeds", "ingest", "tables"},
    "report": {"core", "feeds", "tables"},
    "ui": {"core", "feeds", "ingest", "tables", "publish", "report"},
    "pipeline": {"core", "feeds", "ingest", "tables", "publish", "report"},
    "orchestration": {"core", "feeds", "ingest", "tables", "publish", "report", "pipeline"},
}
ALLOWED["devtools"] = {*ALLOWED["orchestration"], "orchestration", "generator", "ui"}
ALLOWED["cli"] = {*ALLOWED["devtools"], "devtools"}


def layer_of(module: str) -> str:
    """`buildout_tracker.ingest.state` -> `ingest`; a top-level core module -> `core`."""
    parts = module.split(".")
    if len(parts) < 2:
        return "core"
    head = parts[1]
    if head in CORE:
        return "core"
    if head in ALLOWED:
        return head
    raise AssertionError(f"{module}: not in a known layer; add it to tests/test_layers.py")


def imports_of(path: Path, module: str) -> set[str]:
    tree = ast.parse(path.read_text())
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)
    return {m for m in found if m.startswith("buildout_tracker.") and _is_module(m)}


def _is_module(name: str) -> bool:
    rel = Path(*name.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").exists() or (PACKAGE / rel / "__init__.py").exists()


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        out[".".join(["buildout_tracker", *parts])] = path
    return out


def test_no_import_runs_up_a_layer() -> None:
    climbs = []
    for module, path in modules().items():
        if module == "buildout_tracker":
            continue
        mine = layer_of(module)
        for target in imports_of(path, module):
            theirs = layer_of(target)
            if theirs != mine and theirs not in ALLOWED[mine]:
                climbs.append(f"{module} ({mine}) imports {target} ({theirs})")
    assert climbs == []


def test_the_test_sees_a_climb() -> None:
    """The reader of imports finds a relative and a lazy import (the test can fail)."""
    path = PACKAGE / "feeds" / "checks.py"
    assert "buildout_tracker.feeds.pii" in imports_of(path, "buildout_tracker.feeds.checks")
    steps = PACKAGE / "pipeline" / "steps.py"
    assert "buildout_tracker.publish" in imports_of(steps, "buildout_tracker.pipeline.steps")


def test_top_level_keeps_only_what_every_layer_uses() -> None:
    top = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert top == CORE | {"cli"}
