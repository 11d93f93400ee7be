"""GX as the pipeline imports it (`gx_suite.gx_module`): without pyspark, and with scipy's
statistics loaded only when used. The validations give the same results as under GX's own
full import, on files where every rule of every feed fails at least once; scipy's
statistics still work when something asks for them, and pyspark stays importable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Both children validate the parity frames of tests/feeds/test_rules.py with one validator
# and print the results without what differs between any two runs (`test_gx_memo._stable`).
VALIDATE = """
import json, sys
from tests.feeds.conftest import CTX
from tests.feeds.test_gx_memo import _stable
from tests.feeds.test_rules import frames_for_parity
from buildout_tracker.feeds.gx_suite import GxValidator
validator = GxValidator()
out = []
for spec, frame in frames_for_parity():
    r = validator.validate(spec, frame, f"{spec.feed}/import/{spec.kind}", CTX)
    out.append([spec.kind, r.success, r.max_severity_failure, r.element_count,
                r.failed_rules, _stable(r.results)])
"""

LIGHT = (
    VALIDATE
    + """
seen = {"pyspark": "pyspark" in sys.modules,
        "scipy_stats_loaded": "scipy.stats._stats_py" in sys.modules}
from scipy import stats
seen["entropy"] = float(stats.entropy([0.5, 0.5]))
seen["scipy_stats_loaded_after_use"] = "scipy.stats._stats_py" in sys.modules
import importlib.util
if importlib.util.find_spec("pyspark") is not None:
    import pyspark
    seen["pyspark_imports"] = bool(pyspark.__version__)
print(json.dumps({"seen": seen, "results": out}, default=str))
"""
)

FULL = (
    """
import buildout_tracker.feeds.gx_suite  # (names `__main__`: pyspark ends a bare `python -c`)
import great_expectations  # GX's own import first: pyspark, scipy.stats and all
import sys
"""
    + VALIDATE
    + """
print(json.dumps({"seen": {"pyspark": "pyspark" in sys.modules,
                           "scipy_stats_loaded": "scipy.stats._stats_py" in sys.modules},
                  "results": out}, default=str))
"""
)


def _run(code: str) -> dict:
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=ROOT
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_light_import_validates_the_same_and_leaves_pyspark_and_scipy_stats_out() -> None:
    light, full = _run(LIGHT), _run(FULL)
    assert light["seen"]["pyspark"] is False
    assert light["seen"]["scipy_stats_loaded"] is False
    assert full["seen"]["scipy_stats_loaded"] is True  # what the light import saves
    assert len(light["results"]) >= 8
    assert light["results"] == full["results"]
    # Deferred, not removed: scipy's statistics load on first use; pyspark still imports.
    assert abs(light["seen"]["entropy"] - 0.6931471805599453) < 1e-12
    assert light["seen"]["scipy_stats_loaded_after_use"] is True
    assert light["seen"].get("pyspark_imports", True) is True
