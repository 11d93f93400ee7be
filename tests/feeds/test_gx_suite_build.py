"""`GxValidator.build_suite` builds, for every file kind, the suite GX's own
`ExpectationSuite.add_expectation` would build one expectation at a time: the same
expectations in the same order, an "equalish" repeat dropped as GX drops it."""

from __future__ import annotations

import dataclasses
from typing import Any

from buildout_tracker.feeds import GxValidator, all_specs
from buildout_tracker.feeds.gx_suite import _to_gx
from buildout_tracker.feeds.spec import FileSpec

from .conftest import CTX


def _one_by_one(spec: FileSpec) -> Any:
    """The suite as `add_expectation` builds it (GX's own de-duplication)."""
    import great_expectations as gx

    gx.get_context(mode="ephemeral")  # add_expectation asks the active context
    suite = gx.ExpectationSuite(name="one-by-one", meta={"feed": spec.feed, "file_kind": spec.kind})
    for rule in spec.all_rules:
        if rule.applies(CTX):
            for exp in rule.expect(CTX):
                meta = {"rule": rule.id, "level": rule.level, "description": rule.description}
                suite.add_expectation(_to_gx(exp, rule.severity, meta))
    return suite


def _configs(suite: Any) -> list[dict[str, Any]]:
    return [e.configuration.to_json_dict() for e in suite.expectations]


def test_every_kind_gets_the_suite_add_expectation_would_build() -> None:
    built = 0
    for spec in all_specs():
        suite = GxValidator().build_suite(spec, CTX)
        expected = _one_by_one(spec)
        assert _configs(suite) == _configs(expected), spec.kind
        assert suite.meta == expected.meta
        built += len(suite.expectations)
    assert built > 100


def test_a_repeated_expectation_is_dropped_as_gx_drops_it() -> None:
    spec = next(s for s in all_specs() if s.kind == "po_lines")
    own = next(r for r in spec.rules if r.applies(CTX) and list(r.expect(CTX)))
    # The same rule again, and again under another id (meta differs: still the same one).
    twice = dataclasses.replace(
        spec, rules=(*spec.rules, own, dataclasses.replace(own, id=own.id + ":again"))
    )
    suite = GxValidator().build_suite(twice, CTX)
    assert len(suite.expectations) == len(GxValidator().build_suite(spec, CTX).expectations)
    assert _configs(suite) == _configs(_one_by_one(twice))
