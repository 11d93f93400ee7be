"""site_progress_weekly's loop over arrays (one sort for all sites) gives the same table, to
the bit, as the per-site pandas form it replaced, kept here as the reference: on many sites
with weights and percentages whose sums depend on the order they are added in, plans that
miss milestones or whole sites, sites without PO lines, stale reports and sites reported out
of order, and repeated plan rows."""

from __future__ import annotations

import random

import pandas as pd

from buildout_tracker.tables import arrow, milestone_status_weekly, site_progress_weekly
from buildout_tracker.tables import definitions as d

from . import factory as f

STATUSES = ["not_started", "in_progress", "complete"]


def _reference(inputs):  # type: ignore[no-untyped-def]
    """The per-site form of `site_progress_weekly.compute` before it ran over arrays."""
    ms = milestone_status_weekly.frame(inputs)
    po = d.line_amounts(inputs)
    sd = d.ts(inputs.status_date)
    sites = (
        d.keyed(inputs.sites, ["site_id"])
        .drop_duplicates("site_id", keep="last")
        .set_index("site_id")
        .to_dict("index")
    )
    plan = d.keyed(inputs.milestone_plan, ["site_id", "milestone_code"])
    plan = plan.drop_duplicates(["site_id", "milestone_code"], keep="last")
    plan = plan.assign(
        baseline_date=d.dates(plan["baseline_date"]),
        weight=pd.to_numeric(plan["weight"], errors="coerce").astype(float).fillna(0.0),
    )
    plan_of = {site: rows for site, rows in plan.groupby("site_id", sort=False, dropna=True)}
    no_plan = plan.iloc[0:0]
    po = d.keyed(po, ["site_id"])
    ac_by_site = po[po["live"].astype(bool)].groupby("site_id")["received_usd"].sum()
    last_slip = site_progress_weekly._last_go_live_slip(inputs)
    rows = []
    for site_id, g in ms.groupby("site_id", sort=True):
        g = g.sort_values("milestone_seq", kind="mergesort")
        by_code = g.set_index("milestone_code")
        site = sites[site_id]
        done = by_code["status"].astype("object").eq("complete")
        bac = float(site["budget_usd"])
        planned_mw = float(site["planned_mw"])
        sp = plan_of.get(site_id, no_plan)
        pv = bac * float(sp.loc[sp["baseline_date"] <= sd, "weight"].sum())
        weights = sp.set_index("milestone_code")["weight"]
        pct = by_code["percent_complete"].astype(float).fillna(0.0)
        ev = bac * float((weights.reindex(pct.index).fillna(0.0) * pct / 100.0).sum())
        ac = float(ac_by_site.get(site_id, 0.0))
        incomplete = g[~g["status"].astype("object").eq("complete")]
        nxt = incomplete.iloc[0] if len(incomplete) else None
        gl = by_code.loc["GO_LIVE"] if "GO_LIVE" in by_code.index else None
        gl_done = bool(done.get("GO_LIVE", False))
        gl_slip = None if gl is None else gl["slip_days"]
        fc = d.forecast(bac, ev, ac)
        rows.append(
            {
                "site_id": site_id,
                "site_name": site["site_name"],
                "region": site["region"],
                "country": site["country"],
                "planned_mw": planned_mw,
                "energized_mw": planned_mw if bool(done.get("POWER_ENERGIZED", False)) else 0.0,
                "live": gl_done,
                "next_milestone": None if nxt is None else nxt["milestone_code"],
                "next_milestone_forecast": None if nxt is None else nxt["forecast_date"],
                "go_live_baseline": None if gl is None else gl["baseline_date"],
                "go_live_forecast": None
                if gl is None
                else (gl["actual_date"] if gl_done else gl["forecast_date"]),
                "go_live_slip_days": gl_slip,
                "stale": bool(g["stale"].any()),
                "bac_usd": bac,
                "pv_usd": pv,
                "ev_usd": ev,
                "ac_usd": ac,
                "spi": d.ratio(ev, pv),
                "cpi": fc.cpi,
                "sv_usd": ev - pv,
                "cv_usd": ev - ac,
                "eac_usd": fc.eac,
                "etc_usd": fc.etc,
                "vac_usd": fc.vac,
                "tcpi": fc.tcpi,
                "go_live_slip_change_days": d.change(gl_slip, last_slip.get(str(site_id))),
            }
        )
    df = pd.DataFrame(rows, columns=[c.name for c in site_progress_weekly.SCHEMA][2:])
    return arrow.to_table(arrow.with_week(df, inputs), site_progress_weekly.SCHEMA)


def _program(seed: int, n_sites: int = 60):  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    reports, plans, register, lines, prior = [], [], [], [], []
    ids = [f"S{i:03d}" for i in range(n_sites)]
    for site in rng.sample(ids, len(ids)):  # reported out of order
        register.append(
            {
                "site_id": site,
                "budget_usd": rng.uniform(1e5, 3e9),
                "planned_mw": rng.uniform(1, 300),
            }
        )
        done = rng.randint(0, 8)  # the first `done` complete, maybe one in progress
        statuses = ["complete"] * done + [rng.choice(STATUSES[:2])] + ["not_started"] * 8
        spec = {}
        for code, status in zip(f.MILESTONES, statuses[:8], strict=True):
            if status == "complete":
                spec[code] = {"status": status, "actual_date": f"2026-{rng.randint(1, 11):02d}-15"}
            elif status == "in_progress":
                spec[code] = {"status": status, "percent_complete": rng.uniform(0.1, 99.9),
                              "forecast_date": f"2027-{rng.randint(1, 12):02d}-01"}  # fmt: skip
        reports.append(f.site_report(site, "2026-11-27", spec, stale=rng.random() < 0.2))
        if rng.random() < 0.8:
            weights = [rng.random() / 7 for _ in f.MILESTONES]
            baselines = [f"20{rng.randint(25, 27)}-{rng.randint(1, 12):02d}-01" for _ in f.MILESTONES]  # fmt: skip
            plan = f.milestone_plan(site, baselines, weights)
            plan = plan.sample(frac=rng.uniform(0.5, 1.0), random_state=seed)
            if rng.random() < 0.3:  # a repeated plan row: the later one counts
                plan = pd.concat([plan.iloc[:1].assign(weight=0.5), plan])
            plans.append(plan)
        if rng.random() < 0.7:
            lines.append({"workstream": "data_centers", "category": "construction",
                          "site_id": site, "quantity": 10, "unit_price": rng.uniform(1e3, 1e7),
                          "received_qty": rng.randint(0, 10),
                          "last_receipt_date": "2026-11-01"})  # fmt: skip
        if rng.random() < 0.5:
            prior.append({"week": "2026-W47", "site_id": site,
                          "go_live_slip_days": float(rng.randint(-30, 30))})  # fmt: skip
    return f.make_inputs(
        sites=f.sites(*register),
        milestone_plan=f.concat(*plans),
        milestones=f.concat(*reports),
        po_lines=f.po_lines(*lines),
        prior={"site_progress_weekly": pd.DataFrame(prior)},
    )


def test_arrays_give_the_per_site_table_to_the_bit() -> None:
    for seed in range(3):
        inputs = _program(seed)
        got, want = site_progress_weekly.compute(inputs), _reference(inputs)
        assert got.num_rows == 60
        assert got.equals(want), seed
        assert got.column("site_id").to_pylist() == sorted(got.column("site_id").to_pylist())
