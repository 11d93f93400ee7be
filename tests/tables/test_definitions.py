"""Shared definitions: plan to date, FX in force, live lines, percentiles, RAG bands."""

from __future__ import annotations

from datetime import date

import pytest

from buildout_tracker.tables import definitions as d
from buildout_tracker.tables import rag

from . import factory as f


@pytest.mark.parametrize(
    ("quarter", "status_date", "share"),
    [
        # 2026-Q4: Oct 1 .. Dec 31 = 31 + 30 + 31 = 92 days.
        ("2026-Q4", date(2026, 11, 29), 60 / 92),  # Oct 31 + Nov 29 = 60 days elapsed
        ("2026-Q4", date(2026, 10, 1), 1 / 92),  # the first day counts itself
        ("2026-Q4", date(2026, 12, 31), 1.0),  # ended on the status date: in full
        ("2026-Q4", date(2026, 9, 30), 0.0),  # not begun
        ("2026-Q3", date(2026, 10, 4), 1.0),  # ended before
        # 2027-Q1: Jan 1 .. Mar 31 = 31 + 28 + 31 = 90 days; Feb 14 is day 31 + 14 = 45.
        ("2027-Q1", date(2027, 2, 14), 45 / 90),
    ],
)
def test_plan_share_to_date(quarter: str, status_date: date, share: float) -> None:
    assert d.plan_share_to_date(quarter, status_date) == pytest.approx(share)


def test_plan_to_date_sums_whole_and_current_quarters() -> None:
    plan = f.budget_plan(
        ("ai_software", "2026-Q3", 300.0),  # ended 2026-09-30: 300 in full
        ("ai_software", "2026-Q4", 920.0),  # 920 x 60 / 92 = 600
        ("ai_software", "2027-Q1", 500.0),  # not begun: 0
    )
    got = d.plan_to_date(plan, "budget_usd", date(2026, 11, 29))
    assert got.tolist() == pytest.approx([300.0, 600.0, 0.0])
    assert got.sum() == pytest.approx(900.0)


def test_fx_latest_rate_on_or_before_status_date() -> None:
    fx = f.fx_rates(
        ("EUR", "2026-11-01", 1.05),
        ("EUR", "2026-11-29", 1.10),  # on the status date: in force
        ("EUR", "2026-11-30", 2.00),  # after the status date: ignored
        ("CNY", "2026-10-01", 0.14),
        ("CNY", "2026-11-15", 0.15),
        ("JPY", "2026-12-01", 0.007),  # only a later rate: no rate in force
    )
    rates = d.fx_in_force(fx, date(2026, 11, 29))
    assert rates == {"EUR": 1.10, "CNY": 0.15, "USD": 1.0}


def test_live_and_duplicate_current_lines() -> None:
    po = f.po_lines(
        {"po_number": "0000000001", "po_line": 1},
        {"po_number": "0000000002", "po_line": 1, "deleted": True},
        {"po_number": "0000000003", "po_line": 1, "status": "cancelled"},
        {"po_number": "0000000004", "po_line": 1, "status": "closed"},
        # the same line twice: the later change wins, counted once
        {
            "po_number": "0000000005",
            "po_line": 1,
            "change_ts": "2026-10-01T00:00:00Z",
            "quantity": 1,
        },
        {
            "po_number": "0000000005",
            "po_line": 1,
            "change_ts": "2026-11-01T00:00:00Z",
            "quantity": 3,
        },
    )
    cur = d.current_lines(po)
    assert len(cur) == 5
    assert cur.loc[cur["po_number"] == "0000000005", "quantity"].tolist() == [3.0]
    live = d.live_mask(cur)
    assert dict(zip(cur["po_number"], live, strict=True)) == {
        "0000000001": True,
        "0000000002": False,
        "0000000003": False,
        "0000000004": True,  # closed is still live: it committed money
        "0000000005": True,
    }


def test_percentile_linear_interpolation() -> None:
    # sorted 10, 20, 30, 40: p50 at rank 0.5 x 3 = 1.5 -> 20 + 0.5 x 10 = 25;
    # p90 at rank 0.9 x 3 = 2.7 -> 30 + 0.7 x 10 = 37
    assert d.percentile([40, 10, 30, 20], 50) == pytest.approx(25.0)
    assert d.percentile([40, 10, 30, 20], 90) == pytest.approx(37.0)
    assert d.percentile([7], 90) == 7.0
    assert d.percentile([], 50) is None


def test_ratio_null_when_denominator_zero() -> None:
    assert d.ratio(3, 0) is None
    assert d.ratio(0, 4) == 0.0
    assert d.ratio(3, 4) == 0.75


@pytest.mark.parametrize(
    ("rule", "value", "colour"),
    [
        ("spi", 0.95, "green"),
        ("spi", 0.9499, "amber"),
        ("spi", 0.90, "amber"),
        ("spi", 0.8999, "red"),
        ("cpi", 1.30, "green"),
        ("cpi", 0.90, "amber"),
        ("cpi", 0.89, "red"),
        ("hiring_attainment", 0.95, "green"),
        ("hiring_attainment", 0.85, "amber"),
        ("hiring_attainment", 0.8499, "red"),
        ("hiring_attainment", 2.0, "green"),
        ("otd_rate", 0.90, "green"),
        ("otd_rate", 0.8999, "amber"),
        ("otd_rate", 0.80, "amber"),
        ("otd_rate", 0.7999, "red"),
        ("spend_pace", 0.85, "green"),
        ("spend_pace", 1.10, "green"),
        ("spend_pace", 0.8499, "amber"),
        ("spend_pace", 0.75, "amber"),
        ("spend_pace", 0.7499, "red"),
        ("spend_pace", 1.1001, "amber"),
        ("spend_pace", 1.20, "amber"),
        ("spend_pace", 1.2001, "red"),
        ("spend_pace", 0.0, "red"),
    ],
)
def test_band_boundaries(rule: str, value: float, colour: str) -> None:
    got, reason = rag.band(rule, value)
    assert got == colour
    assert (reason is None) == (colour == "green")


def test_band_float_noise_on_a_boundary_stays_in_the_better_band() -> None:
    noisy = 0.1 + 0.2 + 0.65  # 0.9500000000000001 or 0.95 minus noise
    assert rag.band("spi", noisy - 1e-15)[0] == "green"
    assert rag.band("spend_pace", 1.1 + 1e-13)[0] == "green"


def test_band_reasons_text() -> None:
    assert rag.band("spi", 0.87) == ("red", "spi 0.87 < 0.90 (red)")
    assert rag.band("cpi", 0.92) == ("amber", "cpi 0.92 < 0.95 (amber)")
    assert rag.band("spend_pace", 1.15) == ("amber", "spend_pace 1.15 > 1.10 (amber)")
    assert rag.band("spend_pace", 1.25) == ("red", "spend_pace 1.25 > 1.20 (red)")
    assert rag.band("spend_pace", 0.80) == ("amber", "spend_pace 0.80 < 0.85 (amber)")
    # 0.8999 printed with two decimals would read "0.90 < 0.90": more digits are shown
    assert rag.band("otd_rate", 0.8999) == ("amber", "otd_rate 0.8999 < 0.90 (amber)")
    assert rag.band("spi", None) == (None, None)


def _far(s, value: str = "9999-12-31"):  # type: ignore[no-untyped-def]
    """A date column as the validated zone and the state hold it (microseconds), with its
    first value moved to `value`."""
    import pandas as pd

    out = s.astype("datetime64[us]").copy()
    out.iloc[0] = pd.Timestamp(value)
    return out


def test_dates_keep_every_date_the_state_can_hold() -> None:
    """`9999-12-31` (or year 1) in the state stopped every publication with
    OutOfBoundsDatetime: dates are computed in microseconds, like the state stores them."""
    import pandas as pd

    s = pd.Series(pd.to_datetime(["2026-11-29", "9999-12-31", "0001-01-01", None]))
    s = s.astype("datetime64[us]")
    got = d.dates(s)
    assert str(got.dtype) == "datetime64[us]"
    assert got.iloc[:3].dt.year.tolist() == [2026, 9999, 1] and pd.isna(got.iloc[3])
    tz = pd.Series(pd.to_datetime(["9999-12-31T23:00:00Z"], utc=True)).astype("datetime64[us, UTC]")
    assert d.dates(tz).tolist() == [pd.Timestamp("9999-12-31")]


def test_a_date_far_in_the_future_flows_through_every_table() -> None:
    """The probe of 2026-W48: a PO line due 9999-12-31 in the state. Every table is computed
    and passes its audit, and the other lines' figures are those of the same week without it."""
    from buildout_tracker.tables import audit, compute_all

    normal = f.sample_inputs()
    poisoned = f.sample_inputs()
    po = poisoned.po_lines
    poisoned.po_lines = po.assign(requested_delivery_date=_far(po["requested_delivery_date"]))
    ms = poisoned.milestones
    poisoned.milestones = ms.assign(forecast_date=_far(ms["forecast_date"]))
    req = poisoned.requisitions
    poisoned.requisitions = req.assign(opened_date=_far(req["opened_date"], "1900-01-01"))
    tables = compute_all(poisoned)
    assert audit.audit_week(tables, poisoned) == []
    assert set(tables) == set(compute_all(normal))
    # Figures that do not depend on the moved dates are unchanged.
    a = tables["procurement_weekly"].to_pandas().sort_values(["workstream"]).reset_index(drop=True)
    b = compute_all(normal)["procurement_weekly"].to_pandas()
    b = b.sort_values(["workstream"]).reset_index(drop=True)
    assert a["committed_usd"].tolist() == b["committed_usd"].tolist()
