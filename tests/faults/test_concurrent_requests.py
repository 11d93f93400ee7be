"""Independent S3 requests made together (`lake.concurrently`, `lake.prefetched`): results in
the caller's order, at most the allowed number ahead, the first failure raised after every
call has ended, and one after another with `BUILDOUT_S3_IO_THREADS=1`."""

from __future__ import annotations

import threading
import time

import pytest

from buildout_tracker import lake


class _Gauge:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.most = 0
        self.ended: list[int] = []

    def call(self, x: int) -> int:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(0.01 * (x % 3))  # finish out of order
        with self.lock:
            self.now -= 1
            self.ended.append(x)
        if x == 7:
            raise OSError("request 7 failed")
        return x * x


def test_concurrently_keeps_order_and_raises_the_first_failure_after_all_ended(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(lake.IO_THREADS_ENV, "4")
    g = _Gauge()
    assert lake.concurrently(g.call, [x for x in range(12) if x != 7]) == [
        x * x for x in range(12) if x != 7
    ]
    assert 1 < g.most <= 4
    g = _Gauge()
    with pytest.raises(OSError, match="request 7"):
        lake.concurrently(g.call, range(12))
    assert sorted(g.ended) == list(range(12)), "every call ended before the failure is raised"


def test_prefetched_yields_in_order_with_a_bounded_number_ahead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(lake.IO_THREADS_ENV, "8")
    g = _Gauge()
    seen = []
    for x, y in lake.prefetched(g.call, [x for x in range(20) if x != 7], ahead=3):
        seen.append((x, y))
        with g.lock:
            assert g.now <= 3
    assert seen == [(x, x * x) for x in range(20) if x != 7] and g.most <= 3
    got = []
    with pytest.raises(OSError, match="request 7"):
        for x, _ in lake.prefetched(g.call, range(20), ahead=3):
            got.append(x)
    assert got == list(range(7)), "a failure is raised when its item is reached"


def test_one_thread_runs_them_one_after_another(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(lake.IO_THREADS_ENV, "1")
    g = _Gauge()
    assert lake.concurrently(g.call, [1, 2, 3]) == [1, 4, 9] and g.most == 1
    assert [y for _, y in lake.prefetched(g.call, [4, 5])] == [16, 25] and g.most == 1
    monkeypatch.setenv(lake.IO_THREADS_ENV, "many")
    assert lake.io_threads() == 8


def test_the_first_object_of_each_folder_is_written_before_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`put_json_many`: the local lake makes a folder on the first write into it, so that
    write ends before any other write into the folder starts."""
    monkeypatch.setenv(lake.IO_THREADS_ENV, "4")
    events: list[tuple[str, str]] = []
    guard = threading.Lock()

    class Recorder:
        def put_json(self, key: str, obj: object) -> None:
            with guard:
                events.append(("start", key))
            time.sleep(0.005)
            with guard:
                events.append(("end", key))

    items = [(f"receipts/f/2026-09-0{d}/file{i}.json", {"i": i}) for d in (1, 2) for i in range(5)]
    lake.put_json_many(Recorder(), items)  # type: ignore[arg-type]
    ended = {k for e, k in events if e == "end"}
    assert ended == {k for k, _ in items}
    for folder, leader in (("2026-09-01", items[0][0]), ("2026-09-02", items[5][0])):
        leader_end = events.index(("end", leader))
        others = [
            i for i, (e, k) in enumerate(events) if e == "start" and folder in k and k != leader
        ]
        assert others and min(others) > leader_end


def test_folder_waves_never_race_two_writes_to_make_one_folder() -> None:
    """`folder_waves`: within a wave no two keys share a folder that no earlier wave made,
    at any depth (the content index's `ledger/sha256/<ab>/<sha256>/` folders are new
    two levels deep); every key is in exactly one wave."""
    keys = [
        "ledger/sha256/ab/1111/2026-09-08_a.json",
        "ledger/sha256/ab/2222/2026-09-08_b.json",
        "ledger/sha256/cd/3333/2026-09-08_c.json",
        "validated/hiring/offers/week=2026-W37/f1.parquet",
        "validated/hiring/offers/week=2026-W37/f2.parquet",
        "top.json",
    ]
    waves = lake.folder_waves(keys)
    assert sorted(i for w in waves for i in w) == list(range(len(keys)))
    made: set[tuple[str, ...]] = set()
    for wave in waves:
        new = [
            tuple(keys[i].split("/")[:d])
            for i in wave
            for d in range(1, keys[i].count("/") + 1)
            if tuple(keys[i].split("/")[:d]) not in made
        ]
        assert len(new) == len(set(new)), f"two writes of a wave make one folder: {new}"
        made.update(new)
    assert [keys[i] for i in waves[0]] == [keys[0], keys[3]]  # one per top folder
