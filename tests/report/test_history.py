"""Reading the published history for a report: through the manifests only, compactly, kept
as a running history in the lake that a re-publication or a withdrawal cannot fool."""

from __future__ import annotations

import pandas as pd
import pytest

from buildout_tracker import zones
from buildout_tracker.lake import Bucket
from buildout_tracker.report import keys
from buildout_tracker.report.history import (
    PARTS,
    WeekNotPublished,
    history_from_tables,
    read_history,
)
from tests.report import scenario as sc


class Spy(Bucket):
    """The test lake, noting every listing and every object read."""

    def __init__(self, inner: Bucket) -> None:
        super().__init__(inner.name, inner.client)
        self.listed: list[str] = []
        self.read: list[str] = []

    def iter(self, prefix: str = "", **kwargs):  # type: ignore[no-untyped-def]
        self.listed.append(prefix)
        return super().iter(prefix, **kwargs)

    def get_bytes(self, key: str) -> bytes:
        self.read.append(key)
        return super().get_bytes(key)


@pytest.fixture
def lake(fresh_buckets: tuple[Bucket, Bucket]) -> Spy:
    _, lake = fresh_buckets
    for w in (sc.W47, sc.W48):
        sc.publish(lake, w)
    lake.put_bytes("curated/_staging/week=2026-W48/junk.parquet", b"not read")
    lake.put_bytes("state/po_lines/week=2026-W48/po_lines.parquet", b"not read")
    return Spy(lake)


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


def test_reads_the_manifests_and_their_files_only(lake: Spy) -> None:
    h = read_history(lake, sc.W48)
    assert lake.listed == [zones.MANIFESTS_PREFIX]  # never the rest of the lake
    allowed = {zones.manifest_key(w) for w in (sc.W47, sc.W48)}
    allowed |= {zones.table_key(t, w) for t in sc.ROWS for w in (sc.W47, sc.W48)}
    allowed |= {keys.history_part(p.name) for p in PARTS} | {keys.history_manifests()}
    assert set(lake.read) <= allowed
    assert h.weeks == [sc.W47, sc.W48] and h.stats["history_written"]
    assert h.stats["weeks_reread"] == {p.name: 2 for p in PARTS}
    # the same rows as the history built from the tables in memory
    want = history_from_tables(
        sc.W48, {w: sc.tables(w) for w in h.weeks}, {w: sc.compact(w) for w in h.weeks}
    )
    for p in PARTS:
        same(h.parts[p.name], want.parts[p.name])
    assert h.manifests == want.manifests
    same(h.milestones[sc.W47], want.milestones[sc.W47])
    assert list(h.parts["go_live"]["week"]) == [sc.W47, sc.W47, sc.W48, sc.W48]  # GO_LIVE rows
    assert list(h.parts["delivery"]["feed"]) == list(sc.FEEDS) * 2  # delivery rows only


def test_the_next_build_reads_the_running_history(lake: Spy) -> None:
    first = read_history(lake, sc.W48)
    lake.read.clear()
    again = read_history(lake, sc.W48)
    assert again.stats["weeks_reread"] == {p.name: 0 for p in PARTS}
    assert again.stats["manifests_reread"] == 0 and "history_written" not in again.stats
    tables = {zones.table_key(t, w) for t in sc.ROWS for w in (sc.W47, sc.W48)}
    # only the two weeks' milestone rows are read from the tables (not kept in the history)
    assert {k for k in lake.read if k in tables} == {
        zones.table_key("milestone_status_weekly", w) for w in (sc.W47, sc.W48)
    }
    for p in PARTS:
        same(again.parts[p.name], first.parts[p.name])


def test_a_week_published_again_is_read_again(lake: Spy) -> None:
    read_history(lake, sc.W48)
    t = sc.tables(sc.W47)
    rows = sc._scorecard(sc.W47)
    rows[1]["rag"] = "amber"  # ai_software, republished amber
    t["program_scorecard"] = sc.table("program_scorecard", sc.W47, rows)
    sc.publish(lake, sc.W47, t, run_id="rerun")
    h = read_history(lake, sc.W48)
    assert h.stats["manifests_reread"] == 1
    assert h.stats["weeks_reread"] == {p.name: (1 if p.name == "scorecard" else 0) for p in PARTS}
    ai = h.part("scorecard", sc.W47).set_index("area").loc["ai_software"]
    assert ai["rag"] == "amber" and h.manifests[sc.W47]["run_id"] == "rerun"


def test_a_withdrawn_week_leaves_the_history(lake: Spy) -> None:
    read_history(lake, sc.W48)
    lake.delete([zones.manifest_key(sc.W47)])  # what a withdrawal does to curated/
    h = read_history(lake, sc.W48)
    assert h.weeks == [sc.W48] and not h.published(sc.W47)
    assert set(h.parts["scorecard"]["week"]) == {sc.W48}
    assert sc.W47 not in h.milestones


def test_an_earlier_week_sees_nothing_after_it(lake: Spy) -> None:
    read_history(lake, sc.W48)
    h = read_history(lake, sc.W47)
    assert h.weeks == [sc.W47]
    assert all(set(df["week"]) <= {sc.W47} for df in h.parts.values())
    assert read_history(lake, sc.W48).stats["weeks_reread"] == {p.name: 0 for p in PARTS}


def test_a_broken_running_history_is_read_again(lake: Spy) -> None:
    read_history(lake, sc.W48)
    lake.put_bytes(keys.history_part("sites"), b"PAR1 not parquet PAR1")
    lake.put_bytes(keys.history_manifests(), b'{"format": 0, "weeks": {}}')  # another format
    h = read_history(lake, sc.W48)
    assert h.stats["weeks_reread"] == {p.name: (2 if p.name == "sites" else 0) for p in PARTS}
    assert h.stats["manifests_reread"] == 2
    again = read_history(lake, sc.W48)  # and written anew
    assert again.stats["weeks_reread"]["sites"] == 0 and again.stats["manifests_reread"] == 0
    same(again.parts["sites"], h.parts["sites"])


def test_a_week_not_published_is_refused(lake: Spy) -> None:
    with pytest.raises(WeekNotPublished, match="2026-W49 is not published"):
        read_history(lake, "2026-W49")


def test_without_the_running_history(lake: Spy) -> None:
    h = read_history(lake, sc.W48, store=False)
    assert h.stats["weeks_reread"] == {p.name: 2 for p in PARTS}
    assert not lake.exists(keys.history_manifests())


def test_a_week_being_republished_reads_as_not_published(
    lake: Spy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listed, then taken down before it is read (a republication in progress, publish/write.py):
    left out for now, read again by the next build."""
    real = lake.get_bytes_or_none

    def gone(key: str) -> bytes | None:
        return None if key == zones.manifest_key(sc.W47) else real(key)

    monkeypatch.setattr(lake, "get_bytes_or_none", gone)
    h = read_history(lake, sc.W48)
    assert h.weeks == [sc.W48] and not h.published(sc.W47)
    monkeypatch.setattr(lake, "get_bytes_or_none", real)
    again = read_history(lake, sc.W48)
    assert again.weeks == [sc.W47, sc.W48] and again.stats["manifests_reread"] == 1
