"""audit_week: a clean week passes; each kind of defect is caught and named."""

from __future__ import annotations

import dataclasses

import pyarrow as pa
import pytest

from buildout_tracker.tables import SCHEMAS, arrow, compute_all
from buildout_tracker.tables.audit import audit_week

from . import factory as f


@pytest.fixture(scope="module")
def week():  # type: ignore[no-untyped-def]
    w47_in = f.sample_inputs("2026-W47")
    inputs = f.sample_inputs("2026-W48", prior=f.as_prior(compute_all(w47_in)))
    return inputs, compute_all(inputs)


def _edit(tables, name, fn):  # type: ignore[no-untyped-def]
    df = tables[name].to_pandas()
    df = fn(df) if fn else df
    return {**tables, name: arrow.to_table(df, SCHEMAS[name])}


def _checks(failures) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {(x.table, x.check) for x in failures}


def test_clean_week_passes(week) -> None:  # type: ignore[no-untyped-def]
    inputs, tables = week
    assert audit_week(tables, inputs) == []


def test_duplicate_key(week) -> None:  # type: ignore[no-untyped-def]
    inputs, tables = week
    t = tables["hiring_weekly"]
    bad = {**tables, "hiring_weekly": pa.concat_tables([t, t.slice(0, 1)])}
    assert ("hiring_weekly", "unique_keys") in _checks(audit_week(bad, inputs))


def test_wrong_reconciliation(week) -> None:  # type: ignore[no-untyped-def]
    inputs, tables = week

    def plus_100(df):  # type: ignore[no-untyped-def]
        df.loc[0, "committed_usd"] += 100.0
        return df

    found = _checks(audit_week(_edit(tables, "procurement_weekly", plus_100), inputs))
    assert ("procurement_weekly", "reconcile_committed_usd") in found
    # the scorecard no longer agrees with the procurement table either
    assert ("program_scorecard", "reconcile_committed_usd") in found


def test_wrong_received_total(week) -> None:  # type: ignore[no-untyped-def]
    inputs, tables = week

    def shift(df):  # type: ignore[no-untyped-def]
        df.loc[0, "received_usd"] -= 0.02  # just above the 0.01 tolerance
        return df

    assert ("procurement_weekly", "reconcile_received_usd") in _checks(
        audit_week(_edit(tables, "procurement_weekly", shift), inputs)
    )


def test_program_not_sum_of_workstreams(week) -> None:  # type: ignore[no-untyped-def]
    inputs, tables = week

    def bump(df):  # type: ignore[no-untyped-def]
        df.loc[df["area"] == "program", "budget_total_usd"] += 1.0
        return df

    assert ("program_scorecard", "program_budget_total_usd") in _checks(
        audit_week(_edit(tables, "program_scorecard", bump), inputs)
    )


def test_hiring_totals(week) -> None:  # type: ignore[no-untyped-def]
    inputs, tables = week

    def bump(df):  # type: ignore[no-untyped-def]
        df.loc[0, "hires_to_date"] += 1
        return df

    assert ("hiring_weekly", "reconcile_hires") in _checks(
        audit_week(_edit(tables, "hiring_weekly", bump), inputs)
    )


def test_inconsistent_prior(week) -> None:  # type: ignore[no-untyped-def]
    inputs, tables = week

    def prior(df):  # type: ignore[no-untyped-def]
        df.loc[df["area"] == "program", "committed_usd_prior"] = 1.0
        df.loc[df["area"] == "ai_software", "rag_prior"] = (
            "green"
            if df.loc[df["area"] == "ai_software", "rag_prior"].iloc[0] != "green"
            else "red"
        )
        return df

    def change(df):  # type: ignore[no-untyped-def]
        df.loc[0, "committed_change_usd"] = 5.0
        return df

    def slip(df):  # type: ignore[no-untyped-def]
        df.loc[0, "slip_change_days"] = 3
        return df

    found = _checks(audit_week(_edit(tables, "program_scorecard", prior), inputs))
    assert ("program_scorecard", "committed_usd_prior") in found
    assert ("program_scorecard", "rag_prior") in found
    assert ("procurement_weekly", "committed_change_usd") in _checks(
        audit_week(_edit(tables, "procurement_weekly", change), inputs)
    )
    assert ("milestone_status_weekly", "slip_change_days") in _checks(
        audit_week(_edit(tables, "milestone_status_weekly", slip), inputs)
    )


def test_ratio_out_of_range(week) -> None:  # type: ignore[no-untyped-def]
    inputs, tables = week

    def bad(df):  # type: ignore[no-untyped-def]
        df.loc[0, "otd_rate"] = 1.5
        return df

    def pct(df):  # type: ignore[no-untyped-def]
        df.loc[0, "percent_complete"] = 120.0
        return df

    assert ("procurement_weekly", "otd_rate_range") in _checks(
        audit_week(_edit(tables, "procurement_weekly", bad), inputs)
    )
    assert ("milestone_status_weekly", "percent_complete_range") in _checks(
        audit_week(_edit(tables, "milestone_status_weekly", pct), inputs)
    )


def test_personal_data_column(week) -> None:  # type: ignore[no-untyped-def]
    inputs, tables = week
    t = tables["hiring_weekly"]
    bad = {
        **tables,
        "hiring_weekly": t.append_column("candidate_email", pa.array(["x"] * t.num_rows)),
    }
    found = _checks(audit_week(bad, inputs))
    assert ("hiring_weekly", "personal_data") in found
    assert ("hiring_weekly", "schema") in found


def test_not_grey_although_feed_blocked(week) -> None:  # type: ignore[no-untyped-def]
    inputs, tables = week
    blocked = dataclasses.replace(
        inputs, feed_status=f.feed_status(hiring={"blocked": True, "reason": "offers_1.csv"})
    )
    assert ("program_scorecard", "grey_feeds") in _checks(audit_week(tables, blocked))


def test_missing_table_and_wrong_week(week) -> None:  # type: ignore[no-untyped-def]
    inputs, tables = week
    found = _checks(
        audit_week({k: v for k, v in tables.items() if k != "data_quality_weekly"}, inputs)
    )
    assert ("data_quality_weekly", "present") in found
    other = dataclasses.replace(
        inputs, week="2026-W49", status_date=inputs.status_date.replace(day=6, month=12)
    )
    assert ("site_progress_weekly", "week") in _checks(audit_week(tables, other))


def test_forecast_identities_on_sites(week) -> None:  # type: ignore[no-untyped-def]
    inputs, tables = week

    def etc(df):  # type: ignore[no-untyped-def]
        df.loc[0, "etc_usd"] += 0.02  # eac = ac + etc no longer holds (beyond a cent)
        return df

    def vac(df):  # type: ignore[no-untyped-def]
        df.loc[0, "vac_usd"] -= 1.0
        return df

    def eac(df):  # type: ignore[no-untyped-def]
        df.loc[0, "eac_usd"] *= 1.01  # no longer bac / cpi, nor ac + etc, nor bac - vac
        return df

    def tcpi(df):  # type: ignore[no-untyped-def]
        df.loc[0, "tcpi"] = None  # bac - ac > 0 on S1: must have a value
        return df

    def cpi_null(df):  # type: ignore[no-untyped-def]
        df.loc[0, "etc_usd"] = None  # eac kept: etc must be there too
        return df

    name = "site_progress_weekly"
    assert ("site_progress_weekly", "etc_usd") in _checks(
        audit_week(_edit(tables, name, etc), inputs)
    )
    assert ("site_progress_weekly", "vac_usd") in _checks(
        audit_week(_edit(tables, name, vac), inputs)
    )
    found = _checks(audit_week(_edit(tables, name, eac), inputs))
    assert {("site_progress_weekly", c) for c in ("eac_usd", "etc_usd", "vac_usd")} <= found
    assert ("site_progress_weekly", "tcpi_null") in _checks(
        audit_week(_edit(tables, name, tcpi), inputs)
    )
    assert ("site_progress_weekly", "etc_usd") in _checks(
        audit_week(_edit(tables, name, cpi_null), inputs)
    )


def test_forecasts_null_where_they_must_be(week) -> None:  # type: ignore[no-untyped-def]
    inputs, tables = week

    # S1's AC raised to its BAC: no budget left, so a published tcpi is wrong (and ac moved)
    def spent(df):  # type: ignore[no-untyped-def]
        df.loc[0, "ac_usd"] = df.loc[0, "bac_usd"]
        df.loc[0, "cv_usd"] = df.loc[0, "ev_usd"] - df.loc[0, "ac_usd"]
        return df

    found = _checks(audit_week(_edit(tables, "site_progress_weekly", spent), inputs))
    assert ("site_progress_weekly", "tcpi_null") in found
    assert ("site_progress_weekly", "eac_usd") in found  # bac / cpi moved with ac

    def orphan(df):  # type: ignore[no-untyped-def]
        df.loc[0, "eac_usd"] = None  # etc and vac left without their eac
        return df

    assert ("site_progress_weekly", "eac_null") in _checks(
        audit_week(_edit(tables, "site_progress_weekly", orphan), inputs)
    )


def test_a_site_without_po_lines_passes_with_null_forecasts(week) -> None:  # type: ignore[no-untyped-def]
    inputs, _ = week
    lines = inputs.po_lines
    no_s2 = dataclasses.replace(
        inputs, po_lines=lines[lines["site_id"] != "S2"].reset_index(drop=True)
    )
    tables = compute_all(no_s2)
    s2 = next(r for r in tables["site_progress_weekly"].to_pylist() if r["site_id"] == "S2")
    assert (s2["ac_usd"], s2["eac_usd"], s2["etc_usd"], s2["vac_usd"]) == (0.0, None, None, None)
    assert audit_week(tables, no_s2) == []  # null forecast money is not "money missing"


def test_go_live_slip_change_against_last_week(week) -> None:  # type: ignore[no-untyped-def]
    inputs, tables = week

    def bump(df):  # type: ignore[no-untyped-def]
        df.loc[0, "go_live_slip_change_days"] = 4  # W47 and W48 both slip 60: the change is 0
        return df

    assert ("site_progress_weekly", "go_live_slip_change_days") in _checks(
        audit_week(_edit(tables, "site_progress_weekly", bump), inputs)
    )


def test_scorecard_forecasts_reconcile_with_the_sites(week) -> None:  # type: ignore[no-untyped-def]
    inputs, tables = week
    name = "program_scorecard"

    def bac(df):  # type: ignore[no-untyped-def]
        df.loc[df["area"] == "data_centers", "bac_usd"] += 1.0
        return df

    def eac(df):  # type: ignore[no-untyped-def]
        df.loc[df["area"] == "program", "eac_usd"] += 5.0
        return df

    def tcpi(df):  # type: ignore[no-untyped-def]
        df.loc[df["area"] == "program", "tcpi"] = None
        return df

    def elsewhere(df):  # type: ignore[no-untyped-def]
        df.loc[df["area"] == "ai_software", "bac_usd"] = 1.0
        return df

    found = _checks(audit_week(_edit(tables, name, bac), inputs))
    assert (name, "reconcile_bac_usd") in found
    assert (name, "eac_cpi") in found  # bac / cpi moved, eac did not
    found = _checks(audit_week(_edit(tables, name, eac), inputs))
    assert {(name, "eac_cpi"), (name, "eac_usd"), (name, "vac_usd")} <= found
    assert (name, "tcpi_null") in _checks(audit_week(_edit(tables, name, tcpi), inputs))
    assert (name, "forecast_areas") in _checks(audit_week(_edit(tables, name, elsewhere), inputs))


def test_scorecard_forecast_priors(week) -> None:  # type: ignore[no-untyped-def]
    inputs, tables = week

    def prior(df):  # type: ignore[no-untyped-def]
        df.loc[df["area"] == "data_centers", "eac_usd_prior"] += 1.0
        return df

    assert ("program_scorecard", "eac_usd_prior") in _checks(
        audit_week(_edit(tables, "program_scorecard", prior), inputs)
    )
