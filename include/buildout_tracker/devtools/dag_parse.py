"""What a DAG file costs the dag-processor to parse, beyond Airflow itself: used by the DAG
integrity test and `make bench`. Each file is loaded in a fresh interpreter after a trivial
@task DAG (the baseline every DAG pays: Airflow, its providers manager)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HEAVY = ("pandas", "great_expectations", "boto3", "botocore", "pyarrow", "numpy")

BASELINE_DAG = """
from datetime import datetime
from airflow.sdk import Asset, Param, dag, task

@dag(schedule=None, start_date=datetime(2026, 1, 1), params={"week": Param(None, type=["null", "string"])})
def baseline():
    @task(outlets=[Asset(name="baseline", uri="buildout://baseline")])
    def t():
        return 1
    t()

baseline()
"""

PROBE = r"""
import json, sys, time, importlib.util

def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)

t0 = time.perf_counter()
import airflow.sdk
airflow_s = time.perf_counter() - t0
t0 = time.perf_counter()
load("baseline_dag", sys.argv[2])
baseline_s = time.perf_counter() - t0
before = set(sys.modules)
t1 = time.perf_counter()
load("probe_dag", sys.argv[1])
parse = time.perf_counter() - t1
heavy = sorted(m for m in set(sys.modules) - before if m.split(".")[0] in HEAVY)
print(json.dumps({"airflow_import_s": airflow_s, "baseline_dag_s": baseline_s, "parse_s": parse, "heavy": heavy}))
""".replace("HEAVY", repr(HEAVY))


def parse_cost(path: Path, airflow_home: Path | None = None) -> dict[str, Any]:
    """Seconds to parse one DAG file beyond the baseline, and heavy modules it imported."""
    with tempfile.TemporaryDirectory(prefix="dag-parse-") as tmp:
        baseline = Path(tmp) / "baseline_dag.py"
        baseline.write_text(BASELINE_DAG)
        env = dict(os.environ)
        env.update(
            {
                "AIRFLOW_HOME": str(airflow_home or tmp),
                # An endpoint nobody listens on: parsing must not need it.
                "BUILDOUT_S3_ENDPOINT": "http://127.0.0.1:9",
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            }
        )
        out = subprocess.run(
            [sys.executable, "-c", PROBE, str(path), str(baseline)],
            env=env, capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        if out.returncode != 0:
            raise RuntimeError(f"parsing {path.name} failed: {out.stderr[-2000:]}")
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))
