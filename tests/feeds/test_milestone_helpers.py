"""The milestones helper columns (`_site_anomalies`, `_order_violations`) give, row for row,
the numbers of their plain pandas forms (a groupby and a merge on site_id), on reports built
at random with every oddity the rules look for: unknown and missing codes, missing sites,
duplicates, several sites a file, missing dates, completion out of order."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from buildout_tracker.feeds import milestones as m
from buildout_tracker.feeds.enums import MILESTONE_CODES, MILESTONE_ORDER


def _site_anomalies_pandas(f: pd.DataFrame) -> pd.Series:
    known = f["milestone_code"].where(f["milestone_code"].isin(MILESTONE_CODES))
    distinct = known.groupby(f["site_id"], dropna=False).transform("nunique")
    rows = f.groupby(f["site_id"], dropna=False)["milestone_code"].transform("size")
    out = (len(MILESTONE_CODES) - distinct) + (rows - distinct)
    return out.where(f["site_id"].notna(), 0).astype("float64")


def _order_violations_pandas(f: pd.DataFrame) -> pd.Series:
    result = pd.Series(0.0, index=f.index)
    done = f["status"].eq("complete").fillna(False).astype(bool) & f["site_id"].notna()
    if not done.any():
        return result
    base = pd.DataFrame(
        {
            "site_id": f["site_id"].astype(object),
            "order": f["milestone_code"].map(MILESTONE_ORDER).astype("float64"),
            "complete": f["status"].eq("complete").fillna(False).astype(bool),
            "actual": f["actual_date"],
        }
    )
    base = base[base["order"].notna() & base["site_id"].notna()]
    left = base[done.loc[base.index]].reset_index(names="idx")
    pairs = left.merge(base, on="site_id", suffixes=("", "_e"))
    pairs = pairs[pairs["order_e"] < pairs["order"]]
    later = (pairs["actual_e"] > pairs["actual"]).fillna(False).astype(bool)
    bad = ~pairs["complete_e"] | later
    counts = pairs[bad.to_numpy()].groupby("idx").size()
    result.loc[counts.index] = counts.to_numpy(dtype=np.float64)
    return result


def _report(rng: random.Random, n: int) -> pd.DataFrame:
    sites = ["DC-SG-01", "DC-US-02", "DC-JP-01", None]
    codes = [*MILESTONE_CODES, "UNKNOWN", None]
    rows = []
    for _ in range(n):
        status = rng.choice(["complete", "in_progress", "not_started", None])
        actual = None
        if rng.random() < 0.7:
            actual = pd.Timestamp("2026-01-01") + pd.Timedelta(days=rng.randrange(0, 40))
        rows.append(
            {
                "site_id": rng.choice(sites),
                "milestone_code": rng.choice(codes),
                "status": status,
                "actual_date": actual,
            }
        )
    f = pd.DataFrame(rows, columns=["site_id", "milestone_code", "status", "actual_date"])
    f["site_id"] = f["site_id"].astype("string")
    f["milestone_code"] = f["milestone_code"].astype("string")
    f["status"] = f["status"].astype("string")
    f["actual_date"] = pd.to_datetime(f["actual_date"]).astype("datetime64[us]")
    if n and rng.random() < 0.2:  # a date outside the nanosecond range (as parsed: us)
        f.loc[f.index[0], "actual_date"] = pd.Timestamp("9999-12-31").as_unit("us")
    return f.set_index(pd.Index(rng.sample(range(10 * n + 10), n)))  # any index


@pytest.mark.parametrize("seed", range(40))
def test_helpers_equal_their_pandas_forms(seed: int) -> None:
    rng = random.Random(seed)
    f = _report(rng, rng.choice([0, 1, 8, 9, 16, 40, 200]))
    pd.testing.assert_series_equal(
        m._site_anomalies(f, None),
        _site_anomalies_pandas(f),
        check_names=False,  # type: ignore[arg-type]
    )
    pd.testing.assert_series_equal(
        m._order_violations(f, None),
        _order_violations_pandas(f),
        check_names=False,  # type: ignore[arg-type]
    )


def test_a_complete_report_in_order_has_no_anomaly() -> None:
    codes = sorted(MILESTONE_CODES, key=MILESTONE_ORDER.get)
    f = pd.DataFrame(
        {
            "site_id": pd.array(["DC-SG-01"] * 8, dtype="string"),
            "milestone_code": pd.array(codes, dtype="string"),
            "status": pd.array(["complete"] * 3 + ["not_started"] * 5, dtype="string"),
            "actual_date": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01"] + [None] * 5),
        }
    )
    assert m._site_anomalies(f, None).tolist() == [0.0] * 8  # type: ignore[arg-type]
    assert m._order_violations(f, None).tolist() == [0.0] * 8  # type: ignore[arg-type]
    f.loc[1, "actual_date"] = pd.Timestamp("2026-04-01")  # completed after the third
    assert m._order_violations(f, None).tolist() == [0.0, 0.0, 1.0] + [0.0] * 5  # type: ignore[arg-type]
