"""`check_files` (the row-wise rules of many files computed once on the files stacked) gives
every file exactly what `check_rows` gives it alone, for every feed's rules on files where
each rule fails at least once (which also holds every rule marked `row_wise` to it: a row's
mask computed among other files' rows is its mask in its own file), and for site reports
with values refused at parse time, as the ingest checks them."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from buildout_tracker.feeds import check_files, check_rows, parse_files
from buildout_tracker.feeds.milestones import MILESTONES
from buildout_tracker.ingest.process import _with_failed_rows

from .conftest import CTX, KEY
from .test_parse_files import report
from .test_parsing import jsonl, ms
from .test_rules import frames_for_parity


def assert_same(together, alone) -> None:
    for name in ("valid", "quarantined", "rule_stats", "warned"):
        pd.testing.assert_frame_equal(
            getattr(together, name), getattr(alone, name), check_exact=True, obj=name
        )
    assert together.table_failures == alone.table_failures
    assert together.skipped_rules == alone.skipped_rules


def chunks(frame: pd.DataFrame, parts: int) -> list[pd.DataFrame]:
    cuts = np.linspace(0, len(frame), parts + 1).astype(int)
    return [frame.iloc[a:b].reset_index(drop=True) for a, b in itertools.pairwise(cuts)]


def test_every_feed_s_rules_checked_together_as_alone() -> None:
    kinds = set()
    for spec, frame in frames_for_parity():
        files = chunks(frame, 3)
        together = check_files(spec, files, CTX)
        for got, f in zip(together, files, strict=True):
            assert_same(got, check_rows(spec, f, CTX))
        assert any(len(c.quarantined) for c in together), spec.kind  # rules did fail
        kinds.add(spec.kind)
    assert "milestones" in kinds and len(kinds) >= 8
    assert any(r.row_wise for r in MILESTONES.all_rules)
    assert not any(r.row_wise for r in MILESTONES.all_rules if r.level == "table")


def test_site_reports_with_values_refused_at_parse_time() -> None:
    ctx = CTX.__class__(**{**CTX.__dict__, "known_site_ids": {"SITE01", "SITE02", "SITE03"}})
    files = [
        ("m/a.jsonl", report("SITE01")),
        ("m/b.jsonl", report("SITE02", {"GROUNDBREAKING": {"percent_complete": "ten"}})),
        ("m/c.jsonl", jsonl(ms(site_id="SITE09", status="done"), "{not json", ms())),
        ("m/d.jsonl", report("SITE03", {"GO_LIVE": {"status": "complete"}})),
    ]
    parsed = parse_files(MILESTONES, files, KEY)
    prepared = [_with_failed_rows(p) for p in parsed]
    frames, refused = [f for f, _ in prepared], [r for _, r in prepared]
    together = check_files(MILESTONES, frames, ctx, refused=refused)
    for got, f, r in zip(together, frames, refused, strict=True):
        assert_same(got, check_rows(MILESTONES, f, ctx, refused=r))
    assert [len(c.quarantined) > 0 for c in together] == [False, True, True, True]
    assert refused[1]  # the value refused at parse time is checked with its file


def test_files_of_other_dtypes_are_checked_one_by_one() -> None:
    spec, frame = next(iter(frames_for_parity()))
    a, b = chunks(frame, 2)
    b = b.astype({c: object for c in b.columns if c != "_row"})
    together = check_files(spec, [a, b], CTX)
    assert_same(together[0], check_rows(spec, a, CTX))
    assert_same(together[1], check_rows(spec, b, CTX))
