"""`between`'s numpy path (`rules._outside`) gives, row for row, the pandas formula it
replaces on float and datetime columns, missing values included; any other column or
bound takes the pandas path (None)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from buildout_tracker.feeds.rules import _outside, between, is_in, present_exactly_when


def _pandas(s: pd.Series, lo: object, hi: object, strict_min: bool, strict_max: bool) -> pd.Series:
    """The formula `between` used before the numpy path (and still uses off it)."""
    bad = pd.Series(False, index=s.index)
    if lo is not None:
        bad |= (s <= lo) if strict_min else (s < lo)
    if hi is not None:
        bad |= (s >= hi) if strict_max else (s > hi)
    return bad.fillna(False).astype(bool)


FLOATS = pd.Series([-1.0, 0.0, 0.5, 1.0, 100.0, 100.5, np.nan, -np.inf, np.inf], index=range(3, 12))
DATES = pd.Series(
    pd.to_datetime(["2026-11-28", "2026-11-29", "2026-11-30", None, "2020-01-01"]).astype(
        "datetime64[us]"
    ),
    index=[9, 7, 5, 3, 1],
)
DAY = pd.Timestamp("2026-11-29")


@pytest.mark.parametrize("strict_min,strict_max", list(itertools.product([False, True], repeat=2)))
def test_floats_with_number_bounds_match_pandas(strict_min: bool, strict_max: bool) -> None:
    for lo, hi in [(0, None), (None, 100), (0, 100), (0.5, 1.0), (1, 1)]:
        got = _outside(FLOATS, lo, hi, strict_min, strict_max)
        assert got is not None
        pd.testing.assert_series_equal(got, _pandas(FLOATS, lo, hi, strict_min, strict_max))


@pytest.mark.parametrize("strict_min,strict_max", list(itertools.product([False, True], repeat=2)))
def test_datetimes_with_timestamp_bounds_match_pandas(strict_min: bool, strict_max: bool) -> None:
    for unit in ("datetime64[us]", "datetime64[ns]", "datetime64[s]"):
        s = DATES.astype(unit)
        for lo, hi in [(DAY, None), (None, DAY), (pd.Timestamp("2021-01-01"), DAY)]:
            got = _outside(s, lo, hi, strict_min, strict_max)
            assert got is not None
            pd.testing.assert_series_equal(got, _pandas(s, lo, hi, strict_min, strict_max))
    # NaT is never outside: a missing date is the required rule's, not this one's.
    assert not _outside(DATES, DAY, DAY, True, True).loc[3]  # type: ignore[union-attr]


def test_other_columns_and_bounds_take_the_pandas_path() -> None:
    assert _outside(pd.Series([1, None, 3], dtype="Int64"), 0, None, False, False) is None
    assert _outside(pd.Series(["a", "b"], dtype="str"), "a", None, False, False) is None
    assert _outside(FLOATS, DAY, None, False, False) is None
    assert _outside(DATES, 0, None, False, False) is None
    assert _outside(DATES, pd.Timestamp("2026-11-29", tz="UTC"), None, False, False) is None
    assert _outside(FLOATS, True, None, False, False) is None


def test_between_rule_mask_is_the_pandas_formula_on_either_path() -> None:
    frame = pd.DataFrame({"x": FLOATS, "n": pd.Series(range(9), index=FLOATS.index, dtype="Int64")})
    for col in ("x", "n"):
        rule = between(col, "r", "r", min_value=0, max_value=5, strict_min=True)
        got = rule.mask(frame, None)  # type: ignore[arg-type]
        pd.testing.assert_series_equal(
            pd.Series(np.asarray(got, dtype=bool), index=frame.index),
            _pandas(frame[col], 0, 5, True, False),
            check_names=False,
        )


def test_present_exactly_when_with_arrow_is_in_matches_isin() -> None:
    frame = pd.DataFrame(
        {
            "status": pd.Series(["done", "open", None, "other", "done", "open"], dtype="str"),
            "actual": pd.Series([1.0, np.nan, 2.0, 3.0, np.nan, 4.0]),
        }
    )
    rule = present_exactly_when("actual", "status", ("done",), ("open",), "r")
    expected = (frame["status"].isin(("done",)) & frame["actual"].isna()) | (
        frame["status"].isin(("open",)) & frame["actual"].notna()
    )
    assert list(np.asarray(rule.mask(frame, None), dtype=bool)) == list(expected)  # type: ignore[arg-type]
    assert list(is_in(frame["status"], ("done", "open"))) == list(
        frame["status"].isin(("done", "open"))
    )


def test_pair_ge_on_numpy_columns_matches_the_filled_pandas_comparison() -> None:
    from buildout_tracker.feeds.rules import pair_ge

    a = pd.to_datetime(["2026-01-02", None, "2026-01-01", "2026-01-01", None]).astype(
        "datetime64[us]"
    )
    b = pd.to_datetime(["2026-01-01", "2026-01-01", "2026-01-02", "2026-01-01", None]).astype(
        "datetime64[ns]"
    )
    frames = [
        pd.DataFrame({"a": a, "b": b}),
        pd.DataFrame({"a": [2.0, np.nan, 1.0, 1.0, np.nan], "b": [1.0, 1.0, 2.0, 1.0, np.nan]}),
        pd.DataFrame(
            {"a": pd.array([2, None, 1, 1, None], dtype="Int64"), "b": [1.0, 1.0, 2.0, 1.0, 3.0]}
        ),
    ]
    for frame in frames:
        for or_equal in (True, False):
            rule = pair_ge("a", "b", "r", "r", or_equal=or_equal)
            raw = (frame["a"] < frame["b"]) if or_equal else (frame["a"] <= frame["b"])
            expected = raw.fillna(False).astype(bool)
            got = np.asarray(rule.mask(frame, None), dtype=bool)  # type: ignore[arg-type]
            assert list(got) == list(expected), (frame.dtypes.to_dict(), or_equal)


def test_when_in_uses_the_arrow_is_in_with_the_same_answer() -> None:
    from buildout_tracker.feeds.rules import when_mask
    from buildout_tracker.feeds.schema import When

    frame = pd.DataFrame(
        {"status": pd.Series(["a", None, "b", "c"], dtype="str"), "n": [1, 2, 3, 4]}
    )
    assert list(when_mask(frame, When("status", "in", ("a", "c")))) == [True, False, False, True]
    assert list(when_mask(frame, When("n", "in", (2, 4)))) == [False, True, False, True]
