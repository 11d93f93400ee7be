"""docs/feeds.md stays honest: every rule, file-level refusal, feed and file name the code
knows is in it, each column is described with its real type and required-ness, each rule's
stated severity is the code's, and it names no path outside the repository."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from buildout_tracker import registry
from buildout_tracker.feeds import all_specs
from buildout_tracker.feeds.schema import hashed_name
from buildout_tracker.feeds.spec import FileSpec

ROOT = Path(__file__).resolve().parents[2]
DOC_PATH = ROOT / "docs" / "feeds.md"
PACKAGE = ROOT / "include" / "buildout_tracker"
PARSING = PACKAGE / "feeds" / "parsing.py"
DECISION = PACKAGE / "ingest" / "decision.py"

# File-level refusals of the parser (`FileError.rule`), and the rows it refuses before any
# rule runs. Kept explicit so that the doc's list is reviewed when the parser changes: the
# test below also collects them from the source and fails when the two lists differ.
PARSER_FILE_RULES = (
    "file_too_large",
    "empty_file",
    "compressed",
    "binary",
    "header_only",
    "encoding",
    "missing_columns",
    "duplicate_columns",
    "unparseable",
)
PARSER_ROW_RULES = ("structure:field_count", "structure:line_too_long", "format:json_line")
# Rules the parser names after a column, like `type:<column>`: documented once, generically.
PARSER_COLUMN_RULES = ("no_control_characters",)
# Rules recorded by the decision made before parsing (a refused or superseded file).
DECISION_RULES = ("layout", "file_name", "superseded", "file_too_large")
SEVERITIES = ("critical", "warning", "info")


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC_PATH.read_text(encoding="utf-8")


def backticked(text: str) -> set[str]:
    return set(re.findall(r"`([^`\n]+)`", text))


def section(doc: str, heading: re.Pattern[str]) -> str:
    """The text from the first heading matching `heading` to the next heading of its level
    or above."""
    lines = doc.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"(#+) ", line)
        if m and heading.search(line):
            level = len(m.group(1))
            end = len(lines)
            for j in range(i + 1, len(lines)):
                n = re.match(r"(#+) ", lines[j])
                if n and len(n.group(1)) <= level:
                    end = j
                    break
            return "\n".join(lines[i:end])
    raise AssertionError(f"docs/feeds.md has no heading matching {heading.pattern!r}")


def feed_section(doc: str, feed: str) -> str:
    return section(doc, re.compile(rf"^## {re.escape(feed)}\b"))


def spec_section(doc: str, spec: FileSpec) -> str:
    """The block of a file kind: the first heading naming its file name in backticks."""
    feed = registry.feed(spec.feed)
    name = feed.file_names[feed.kinds.index(spec.kind)]
    return section(doc, re.compile(rf"^#+ .*`{re.escape(name)}`"))


def table_rows(text: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("|") and line.endswith("|") and not re.match(r"^\|[-| :]+\|$", line):
            rows.append([c.strip() for c in line[1:-1].split("|")])
    return rows


def type_rules(spec: FileSpec) -> list[str]:
    """The `type:<column>` rules the parser can raise on a file of this kind: every kept
    column with a type to coerce to, and in JSON Lines every kept field (text must be a
    JSON string)."""
    return [
        f"type:{c.name}" for c in spec.kept_columns if c.type != "text" or spec.format == "jsonl"
    ]


SPECS = all_specs()
SPEC_IDS = [f"{s.feed}:{s.kind}" for s in SPECS]


def test_specs_are_found():
    assert {s.feed for s in SPECS} == set(registry.NAMES)


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_every_rule_is_documented_in_its_feed_section(doc, spec):
    everywhere = backticked(doc)
    in_feed = backticked(feed_section(doc, spec.feed))
    in_spec = backticked(spec_section(doc, spec))
    for rule in spec.all_rules:
        assert rule.id in everywhere, f"{rule.id} is not in docs/feeds.md"
        assert rule.id in in_feed, f"{rule.id} is not in the {spec.feed} section"
        assert rule.id in in_spec, f"{rule.id} is not in the section of {spec.kind}"
    for rule_id in type_rules(spec):
        assert rule_id in in_spec, f"{rule_id} is not in the section of {spec.kind}"


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_every_column_is_described_with_its_type_and_rules(doc, spec):
    rows = {r[0]: r for r in table_rows(spec_section(doc, spec)) if len(r) >= 4}
    for col in spec.columns:
        name = f"`{col.name}`"
        assert name in rows, f"{spec.kind}: no row for column {col.name}"
        row = rows[name]
        assert row[1].split()[0] == col.type, f"{spec.kind}.{col.name}: type {row[1]!r}"
        required = row[2].split()[0]
        assert required == ("yes" if col.required else "no"), f"{spec.kind}.{col.name}"
        listed = backticked(row[3])
        kept_as = hashed_name(col.name) if col.pii == "hash" else col.name
        expected = {
            r.id
            for r in spec.all_rules
            if col.pii != "drop" and (col.name in r.columns or kept_as in r.columns)
        }
        if f"type:{col.name}" in type_rules(spec):
            expected.add(f"type:{col.name}")
        missing = expected - listed
        assert not missing, f"{spec.kind}.{col.name}: rule ids not listed: {sorted(missing)}"
        unknown = listed - expected
        assert not unknown, f"{spec.kind}.{col.name}: rule ids that do not check it: {unknown}"


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_every_rule_has_its_severity_stated(doc, spec):
    """Each spec's own rules (and `no_personal_data`) have a row in a rules table with the
    code's severity and level; a row that states a severity never contradicts the code."""
    rows = table_rows(spec_section(doc, spec))
    by_id = {r.id: r for r in spec.all_rules}
    stated: dict[str, tuple[str, str]] = {}
    for row in rows:
        if len(row) < 3 or row[1] not in SEVERITIES:
            continue
        for rule_id in backticked(row[0]) & by_id.keys():
            rule = by_id[rule_id]
            assert row[1] == rule.severity, f"{rule_id}: doc says {row[1]}, code {rule.severity}"
            assert row[2] == rule.level, f"{rule_id}: doc says {row[2]}, code {rule.level}"
            stated[rule_id] = (row[1], row[2])
    own = [r.id for r in spec.rules] + [r.id for r in spec.all_rules if r.id == "no_personal_data"]
    missing = [r for r in own if r not in stated]
    assert not missing, f"{spec.kind}: no severity row for {missing}"


def string_args(path: Path, func: str, position: int) -> set[str]:
    """String constants passed at `position` to calls of `func` in a module."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == func
            and len(node.args) > position
            and isinstance(node.args[position], ast.Constant)
            and isinstance(node.args[position].value, str)
        ):
            found.add(node.args[position].value)
    return found


def test_parser_rules_are_the_ones_the_source_raises():
    source = PARSING.read_text(encoding="utf-8")
    for rule in (*PARSER_FILE_RULES, *PARSER_ROW_RULES):
        assert f'"{rule}"' in source, f"{rule} is no longer in parsing.py"
    raised = string_args(PARSING, "_failed", 2) | string_args(PARSING, "FileError", 0)
    assert raised == set(PARSER_FILE_RULES), "the parser's file rules changed: update the doc"
    rejected = string_args(PARSING, "_reject", 1)
    assert rejected == set(PARSER_ROW_RULES), "the parser's row rules changed: update the doc"
    # Coercion names its rules after the column: `type:<column>` and `required:<column>`.
    assert 'f"type:{col.name}"' in source and 'f"required:{col.name}"' in source
    named = set(re.findall(r'f"([a-z_]+):\{col\.name\}"', source)) - {"type", "required"}
    assert named == set(PARSER_COLUMN_RULES), "the parser's column rules changed: update the doc"


def decision_rules() -> set[str]:
    tree = ast.parse(DECISION.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        # `return "layout", (...)` in layout_refusal
        if (
            isinstance(node, ast.Return)
            and isinstance(node.value, ast.Tuple)
            and node.value.elts
            and isinstance(node.value.elts[0], ast.Constant)
            and isinstance(node.value.elts[0].value, str)
        ):
            found.add(node.value.elts[0].value)
        # `Decision(Action.X, "<rule>", ...)`
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "Decision"
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            found.add(node.args[1].value)
    return found


def test_decision_rules_are_the_ones_the_source_records():
    source = DECISION.read_text(encoding="utf-8")
    for rule in DECISION_RULES:
        assert f'"{rule}"' in source, f"{rule} is no longer in decision.py"
    assert decision_rules() == set(DECISION_RULES), "decision rules changed: update the doc"


@pytest.mark.parametrize("rule", [*PARSER_FILE_RULES, *PARSER_ROW_RULES, *DECISION_RULES])
def test_file_level_rules_are_documented(doc, rule):
    assert rule in backticked(doc), f"{rule} is not in docs/feeds.md"


def test_generic_parse_rules_are_documented(doc):
    ticks = backticked(doc)
    assert "type:<column>" in ticks and "required:<column>" in ticks
    for rule in PARSER_COLUMN_RULES:
        assert f"{rule}:<column>" in ticks, f"{rule}:<column> is not in docs/feeds.md"


def test_limits_match_the_code(doc):
    """The limits a file must stay within (`feeds/limits.py`) are the ones the page states."""
    from buildout_tracker.feeds import limits

    text = section(doc, re.compile(r"^### Limits"))
    assert limits.size_text(limits.DEFAULT_MAX_FILE_BYTES) in text
    assert limits.size_text(limits.DEFAULT_MAX_LINE_BYTES) in text
    assert limits.MAX_FILE_BYTES_ENV in text and limits.MAX_LINE_BYTES_ENV in text
    assert f"{limits.MAX_JSON_DEPTH} levels" in text
    for day in (limits.MIN_DATE, limits.MAX_DATE):
        assert f"`{day.isoformat()}`" in text
    for rule in ("file_too_large", "structure:line_too_long"):
        assert f"`{rule}`" in text


@pytest.mark.parametrize("feed", registry.FEEDS, ids=registry.NAMES)
def test_feed_names_file_names_and_owners_are_documented(doc, feed):
    ticks = backticked(doc)
    assert feed.name in ticks
    for name in feed.file_names:
        assert name in ticks, f"{feed.name}: file name {name} is not in docs/feeds.md"
        assert name in backticked(feed_section(doc, feed.name))
    for name in (feed.dag_id, feed.task_id):
        assert name in ticks, f"{feed.name}: {name} is not in docs/feeds.md"
    assert feed.source_owner in doc


def test_thresholds_and_paths_match_the_code(doc):
    from buildout_tracker import settings, zones

    assert f"{settings.DEFAULT_QUARANTINE_THRESHOLD:.0%}".replace("%", " %") in doc
    for name in ("BUILDOUT_QUARANTINE_THRESHOLD", "BUILDOUT_LATE_LOOKBACK_WEEKS"):
        assert name in doc
    assert zones.feed_report("<feed>", "W") in backticked(doc)
    assert zones.quarantine_file("<feed>", "W", "<file id>", "json") in backticked(doc)
    assert zones.quarantine_rows("<feed>", "<file kind>", "W", "<file id>") in backticked(doc)
    assert "make supersede FILE=" in doc


def test_doc_names_no_path_outside_the_repository(doc):
    assert "../" not in doc
    assert "shared/" not in doc
    assert "/work/" not in doc
    for target in re.findall(r"\]\(([^)]+)\)", doc):
        assert target.startswith("#"), f"link outside this page: {target}"


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation but `-` and `_` dropped,
    spaces made hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_links_within_the_page_resolve(doc):
    anchors = {slug(m) for m in re.findall(r"^#+ (.+)$", doc, flags=re.MULTILINE)}
    for target in re.findall(r"\]\(#([^)]+)\)", doc):
        assert target in anchors, f"no heading for the link #{target}"
