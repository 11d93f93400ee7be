"""The pages' server time, in-process: `bench_pages(lake)` times each page handler through
FastAPI's TestClient against a lake (Airflow's auth left out, runs looked up from what the
lake says rather than from a metadata DB), first request (cold: nothing in memory) and then
`repeat` warm requests. It asserts nothing; targets are reported beside the times.

Targets (issue 11): the Buildout page <= 300 ms, a run view <= 200 ms, at SCALE=large with
104 published weeks.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from buildout_tracker import registry
from buildout_tracker.lake import Bucket
from buildout_tracker.ui.runs import RunInfo

TARGETS_S = {"home": 0.300, "home_week": 0.300, "run_ingest": 0.200, "run_publish": 0.200,
             "feed_week": 0.200}  # fmt: skip


def mounted(app: Any) -> Any:
    """The plugin app under its prefix, as the api-server mounts it."""
    from fastapi import FastAPI

    from buildout_tracker.ui.paths import URL_PREFIX

    root = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    root.mount(URL_PREFIX, app)
    return root


def bench_pages(lake: Bucket, repeat: int = 7) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from buildout_tracker.ui.app import create_app
    from buildout_tracker.ui.lakeview import LakeView
    from buildout_tracker.ui.paths import feed_week, home, run_view

    probe = LakeView(lake)
    weeks = list(probe.published())
    if not weeks:
        raise RuntimeError(f"{lake}: no published week to show")
    latest, middle = weeks[-1], weeks[len(weeks) // 2]

    def runs(dag_id: str, run_id: str) -> RunInfo:
        return RunInfo(dag_id, run_id, state="success", conf={"week": latest},
                       tasks={f.task_id: "success" for f in registry.feeds_of_dag(dag_id)})  # fmt: skip

    client = TestClient(mounted(create_app(lake=lake, runs=runs, airflow_auth=False)))
    busiest = max(
        registry.INGEST_DAGS,
        key=lambda d: sum(
            len(r.files) if (r := probe.feed_report(latest, f.name)) else 0
            for f in registry.feeds_of_dag(d)
        ),
    )
    urls = {
        "home": home(),
        "home_week": home(middle),
        "run_ingest": run_view(busiest, f"manual__bench_{latest}"),
        "run_publish": run_view(registry.PUBLISH_DAG, f"manual__bench_{latest}"),
        "feed_week": feed_week("procurement", latest),
    }
    out: dict[str, Any] = {"weeks": len(weeks), "latest": latest, "ingest_dag": busiest}
    for name, url in urls.items():
        t = time.perf_counter()
        r = client.get(url)
        cold = time.perf_counter() - t
        if r.status_code != 200:
            raise RuntimeError(f"{url}: {r.status_code} {r.text[:300]}")
        warm = []
        for _ in range(repeat):
            t = time.perf_counter()
            client.get(url)
            warm.append(time.perf_counter() - t)
        out[name] = {
            "url": url,
            "cold_s": round(cold, 4),
            "warm_median_s": round(statistics.median(warm), 4),
            "warm_max_s": round(max(warm), 4),
            "bytes": len(r.content),
            "target_s": TARGETS_S[name],
            "meets_target": statistics.median(warm) <= TARGETS_S[name],
        }
    return out


def main() -> int:
    import json

    from buildout_tracker import settings
    from buildout_tracker.lake import make_client

    print(json.dumps(bench_pages(Bucket(settings.lake_bucket(), make_client())), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
