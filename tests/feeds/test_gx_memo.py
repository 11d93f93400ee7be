"""GX validations with each expectation's configuration built once per validation (the speed-up
in `feeds/gx_suite.py`) give the same results as GX's own way, on files where every rule of
every feed fails at least once (the parity frames of test_rules.py), and GX's property is
restored afterwards."""

from __future__ import annotations

import time
from typing import Any

from buildout_tracker.feeds.gx_suite import GxValidator

from .conftest import CTX
from .test_rules import frames_for_parity

RUN_FIELDS = {
    "run_id", "validation_time", "id", "batch_id", "active_batch_definition", "checkpoint_id",
    "ge_load_time", "validation_id",
}  # fmt: skip


def _stable(value: Any) -> Any:
    """A result without what differs between any two runs (times, run and object ids)."""
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in RUN_FIELDS}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def test_memoised_configurations_give_identical_results() -> None:
    from great_expectations.expectations.expectation import Expectation

    gx_own, memoised = GxValidator(), GxValidator()
    gx_own.memoise_configurations = False
    seconds = {"own": 0.0, "memoised": 0.0}
    compared = 0
    for spec, frame in frames_for_parity():
        key = f"{spec.feed}/memo/{spec.kind}"
        t = time.perf_counter()
        a = gx_own.validate(spec, frame, key, CTX)
        seconds["own"] += time.perf_counter() - t
        t = time.perf_counter()
        b = memoised.validate(spec, frame, key, CTX)
        seconds["memoised"] += time.perf_counter() - t
        assert (a.success, a.max_severity_failure, a.element_count) == (
            b.success, b.max_severity_failure, b.element_count,
        ), spec.kind  # fmt: skip
        assert a.failed_rules == b.failed_rules, spec.kind
        assert _stable(a.results) == _stable(b.results), spec.kind
        compared += 1
    assert compared >= 8
    assert isinstance(Expectation.__dict__["configuration"], property)
    assert Expectation.__dict__["configuration"].fget.__qualname__ == "Expectation.configuration"
    print(f"validations: GX's own {seconds['own']:.2f} s, memoised {seconds['memoised']:.2f} s")
