"""Freshness before the run: a weekly feed with nothing delivered for the week once its
delivery is due is alerted once, naming the feed, its last delivery and its owner."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from buildout_tracker import pipeline, zones
from buildout_tracker.pipeline import freshness
from tests.publish import helpers as h
from tests.test_alerts import Webhook

W38 = h.W38
DUE = datetime(2026, 9, 21, 5, tzinfo=UTC)  # W38 closes Monday 2026-09-21 00:00; due at 05:00


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    w = Webhook()
    w.thread.start()
    monkeypatch.setenv("BUILDOUT_ALERT_WEBHOOK", w.url)
    try:
        yield w
    finally:
        w.server.shutdown()
        w.server.server_close()


def test_a_silent_feed_is_alerted_once_after_its_deadline(
    rt: pipeline.Runtime, hook: Webhook
) -> None:
    h.deliver(rt.landing, h.W37)
    h.deliver(rt.landing, W38, skip=("hiring",))

    before = freshness.check(rt, W38, datetime(2026, 9, 21, 4, 59, tzinfo=UTC))
    assert not any(f.late for f in before) and hook.of_kind("feed_late") == []

    found = {f.feed: f for f in freshness.check(rt, W38, DUE)}
    assert set(found) == {"fx_rates", "procurement", "milestones", "hiring"}  # weekly feeds
    assert [f for f, s in found.items() if s.late] == ["hiring"]
    assert found["hiring"].due == "2026-09-21T05:00:00+00:00"
    assert found["hiring"].last_delivery == "2026-09-08"  # W37's snapshot
    assert found["procurement"].files == 1 and not found["procurement"].late
    (alert,) = hook.of_kind("feed_late")
    assert alert["week"] == W38 and alert["area"] == "hiring"
    assert "last delivery: 2026-09-08" in alert["reason"]
    assert "the talent systems (ATS) team" in alert["reason"]

    freshness.check(rt, W38, datetime(2026, 9, 21, 6, tzinfo=UTC))  # the next hourly check
    assert len(hook.of_kind("feed_late")) == 1
    status = rt.lake.get_json(zones.freshness(W38))
    assert [f["feed"] for f in status["feeds"] if f["late"]] == ["hiring"]


def test_the_deadline_is_a_setting(rt: pipeline.Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUILDOUT_DELIVERY_DEADLINE_HOURS_HIRING", "30")
    assert freshness.due_at("hiring", W38) == datetime(2026, 9, 22, 6, tzinfo=UTC)
    assert freshness.due_at("procurement", W38) == DUE
