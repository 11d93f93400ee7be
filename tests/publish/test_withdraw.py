"""Withdrawing a published week: out of curated/ (consumers' latest week is right again),
copies and a record of who, when and why stay in the lake, automatic publication leaves it
alone, an explicit publication brings it back byte for byte."""

from __future__ import annotations

import pytest

from buildout_tracker import cli, pipeline, zones
from buildout_tracker.devtools.lake_server import LakeServer
from buildout_tracker.pipeline import steps
from buildout_tracker.publish.withdraw import (
    NotPublished,
    WeekWithdrawn,
    history,
    withdraw_week,
)
from buildout_tracker.tables import TABLE_NAMES
from tests.publish import helpers as h

W37, W38 = h.W37, h.W38


def published_weeks(rt: pipeline.Runtime) -> list[str]:
    """What a consumer takes as the published weeks: the manifests."""
    return sorted(
        o.key.removeprefix("curated/_manifests/week=").removesuffix(".json")
        for o in rt.lake.list(zones.MANIFESTS_PREFIX)
    )


@pytest.fixture
def two_weeks(rt: pipeline.Runtime) -> dict[str, bytes]:
    for week in (W37, W38):
        h.deliver(rt.landing, week)
        h.ingest(rt, week)
        steps.publish(rt, week)
    return h.curated(rt.lake)


def test_withdraw_takes_the_week_out_and_keeps_a_record(
    rt: pipeline.Runtime, two_weeks: dict[str, bytes], lake_server: LakeServer, consumer_env: None
) -> None:
    assert published_weeks(rt) == [W37, W38]
    event = withdraw_week(rt.lake, W38, "FX rates of the week were wrong", by="ops-alice")

    assert published_weeks(rt) == [W37]  # consumers' latest week is W37 again
    for table in TABLE_NAMES:
        assert h.partition_objects(rt.lake, table, W38) == []
        assert h.partition_objects(rt.lake, table, W37) != []
    (record,) = history(rt.lake, W38)
    assert record == event
    assert (record["action"], record["by"], record["reason"]) == (
        "withdrawn", "ops-alice", "FX rates of the week were wrong",
    )  # fmt: skip
    assert record["at"].endswith("+00:00") and record["tables"] == sorted(TABLE_NAMES)
    # Nothing is lost: the manifest and every partition are kept beside the record.
    kept = h.objects(rt.lake, record["copies"])
    assert kept[record["copies"] + "manifest.json"] == two_weeks[zones.manifest_key(W38)]
    for table in TABLE_NAMES:
        key = zones.table_key(table, W38)
        assert kept[record["copies"] + key.removeprefix("curated/")] == two_weeks[key]
    # A reader of the curated zone (pyarrow's discovery skips `_` names) sees W37 only.
    files = h.dataset_files(lake_server, rt.lake, "curated/")
    assert files and all("week=2026-W37" in f for f in files if "_manifests" not in f), files
    assert not any("_withdrawn" in f for f in files)


def test_automatic_publication_leaves_a_withdrawn_week_alone_until_published_explicitly(
    rt: pipeline.Runtime, two_weeks: dict[str, bytes]
) -> None:
    withdraw_week(rt.lake, W38, "wrong FX", by="ops-alice")
    with pytest.raises(WeekWithdrawn, match=r"withdrawn by ops-alice .*wrong FX"):
        steps.publish(rt, W38, explicit=False)
    assert published_weeks(rt) == [W37]

    rt.run_id = "run-2"
    steps.publish(rt, W38, explicit=True)
    assert published_weeks(rt) == [W37, W38]
    again = h.curated(rt.lake)
    for table in TABLE_NAMES:  # the same rows, the same bytes
        key = zones.table_key(table, W38)
        assert again[key] == two_weeks[key]
    assert [e["action"] for e in history(rt.lake, W38)] == ["withdrawn", "republished"]
    steps.publish(rt, W38, explicit=False)  # back to normal: automatic runs publish it


def test_an_interrupted_withdrawal_is_finished_by_running_it_again(
    rt: pipeline.Runtime, two_weeks: dict[str, bytes]
) -> None:
    first = withdraw_week(rt.lake, W38, "wrong FX", by="ops-alice")
    # As if the run had died after deleting the manifest, before the partitions.
    for key, data in two_weeks.items():
        if f"week={W38}/" in key:
            rt.lake.put_bytes(key, data)
    again = withdraw_week(rt.lake, W38, "wrong FX", by="ops-bob")
    assert again == first and len(history(rt.lake, W38)) == 1
    assert all(h.partition_objects(rt.lake, t, W38) == [] for t in TABLE_NAMES)


def test_nothing_to_withdraw_and_a_reason_is_required(
    rt: pipeline.Runtime, two_weeks: dict[str, bytes]
) -> None:
    with pytest.raises(NotPublished, match="2026-W39 is not published"):
        withdraw_week(rt.lake, "2026-W39", "why", by="x")
    with pytest.raises(ValueError, match="needs a reason"):
        withdraw_week(rt.lake, W38, "  ", by="x")
    assert published_weeks(rt) == [W37, W38]


def test_make_withdraw(
    rt: pipeline.Runtime, two_weeks: dict[str, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["withdraw", "--week", W38, "--reason", "wrong FX", "--by", "ops-carol"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"{W38} withdrawn by ops-carol" in out and "make run-week WEEK=2026-W38" in out
    assert published_weeks(rt) == [W37]
    assert cli.main(["withdraw", "--week", W38, "--reason", "again"]) == 0  # nothing left: ok
    assert cli.main(["withdraw", "--week", "2026-W30", "--reason", "x"]) == 2
    assert "not published" in capsys.readouterr().out
