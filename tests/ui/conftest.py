"""A lake with two published weeks (tests/ui/helpers.py), ingested and published in-process
once for the package's tests (they only read it; tests/ui's modules run one after another), and the plugin's app on it (Airflow's auth left out: the real api-server's
auth is tests/ui/test_airflow_ui.py's)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from buildout_tracker import pipeline, registry
from buildout_tracker.devtools.lake_server import LakeServer
from buildout_tracker.lake import Bucket, make_client
from buildout_tracker.pipeline import steps
from tests.publish import helpers as h
from tests.ui import helpers as u


@dataclass
class Published:
    landing: Bucket
    lake: Bucket


@pytest.fixture(scope="package")
def published(lake_server: LakeServer) -> Iterator[Published]:
    from buildout_tracker.feeds.gx_suite import GxValidator

    with pytest.MonkeyPatch.context() as mp:
        for name, value in {**lake_server.env(), **u.HIRING_THRESHOLD_ENV}.items():
            mp.setenv(name, value)
        client = make_client(lake_server.settings())
        landing, lake = (
            Bucket(lake_server.buckets[0], client),
            Bucket(lake_server.buckets[1], client),
        )
        landing.delete_prefix("")
        lake.delete_prefix("")
        rt = pipeline.Runtime(landing, lake, b"test-hmac-key", run_id="ui-test", notify=False)
        rt._validator = GxValidator()
        h.deliver(landing, u.W37)
        u.deliver_w38(landing)
        for week in (u.W37, u.W38):
            for feed in registry.NAMES:
                steps.ingest(rt, feed, week)  # (writes each file's receipt too)
            # No program report: the pages' own report states are tested with objects put in
            # place (the report itself: tests/report).
            steps.publish(rt, week, report=False)
        yield Published(landing, lake)
