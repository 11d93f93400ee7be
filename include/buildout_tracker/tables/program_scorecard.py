"""`program_scorecard`: one red/amber/green line per area, for executives.

Grain: one row per week and area, always five areas: `program` (everything) and the four
workstreams (`ai_software`, `chip_development`, `compute_hardware`, `data_centers`).

Measures of an area:

- budget: the total of the budget plan, and the plan to date (quarters ended in full, the current
  quarter by the share of its days elapsed, status date included);
- committed and received USD: sums of `procurement_weekly` over the area's workstreams;
- spend pace = received / budget to date;
- SPI and CPI from the sums of earned, planned and actual value of `site_progress_weekly`: only
  for `data_centers` and `program` (the sites are data centers), null for the other areas;
- hiring attainment = the sum of hires to date over the sum of planned hires to date
  (`hiring_weekly`);
- on-time delivery rate = on-time lines over fully received lines (`procurement_weekly`);
- forecasts at completion, for `data_centers` and `program` only (null for the other areas):
  `bac_usd` is the sum of the budgets at completion of the area's sites; `eac_usd`, `vac_usd`
  and `tcpi` apply the formulas of `site_progress_weekly` to the sums of BAC, EV and AC over
  those sites, with the area's CPI (sum of EV / sum of AC): EAC = BAC / CPI (null when CPI is
  null or 0), VAC = BAC - EAC (null when EAC is; negative is a forecast overrun), TCPI =
  (BAC - EV) / (BAC - AC) (null when BAC - AC is 0 or less). An area's EAC is therefore not the
  sum of its sites' EACs: a site that has spent nothing yet has no EAC of its own, but its
  budget and earned value count in the area's. The forecasts are not rated: RAG stays the five
  rules below.

Every ratio is null when its denominator is 0. Each measure is banded by its rule:

| rule | green | amber | red |
|---|---|---|---|
| spi | 0.95 or more | 0.90 to below 0.95 | below 0.90 |
| cpi | 0.95 or more | 0.90 to below 0.95 | below 0.90 |
| spend_pace | 0.85 to 1.10, both included | 0.75 to below 0.85, or above 1.10 up to 1.20 | below 0.75 or above 1.20 |
| hiring_attainment | 0.95 or more | 0.85 to below 0.95 | below 0.85 |
| otd_rate | 0.90 or more | 0.80 to below 0.90 | below 0.80 |

The area's `rag` is the worst band among its rated measures; a null measure is not rated, and an
area with no rated measure is `grey` with the reason "no measures". Whatever the numbers, an
area is `grey` when a feed it depends on is blocked for the week or delivered nothing in the
week (a repeated file still counts as a delivery): procurement, fx_rates and hiring for every
area, milestones as well for data_centers and program. `rag_reasons` lists, feed reasons
first, every rule that was not green, for example "procurement blocked: <reason>",
"hiring: no delivery this week", "spi 0.87 < 0.90 (red)". It is empty for a green area.

Every measure, `rag` and every forecast also appears with its value last week,
`<measure>_prior`: the value published for the same area in the previous ISO week, null when that
week published none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import pyarrow as pa

from buildout_tracker import registry
from buildout_tracker.model import WeekInputs
from buildout_tracker.tables import arrow, audit_failure, rag
from buildout_tracker.tables import definitions as d
from buildout_tracker.tables import site_progress_weekly as sp

NAME = "program_scorecard"
KEYS: tuple[str, ...] = ("area",)

MEASURES: tuple[tuple[str, pa.DataType, str], ...] = (
    (
        "budget_total_usd",
        pa.float64(),
        "Sum of budget_usd of the budget plan for the area, all quarters.",
    ),
    ("budget_to_date_usd", pa.float64(), "Budget plan prorated to the status date."),
    ("committed_usd", pa.float64(), "Sum of procurement_weekly.committed_usd over the area."),
    ("received_usd", pa.float64(), "Sum of procurement_weekly.received_usd over the area."),
    (
        "spend_pace",
        pa.float64(),
        "received_usd / budget_to_date_usd; null when budget_to_date_usd is 0.",
    ),
    (
        "spi",
        pa.float64(),
        "Sum of ev_usd / sum of pv_usd of site_progress_weekly; data_centers and program only.",
    ),
    (
        "cpi",
        pa.float64(),
        "Sum of ev_usd / sum of ac_usd of site_progress_weekly; data_centers and program only.",
    ),
    (
        "hiring_attainment",
        pa.float64(),
        "Sum of hires_to_date / sum of planned_hires_to_date of hiring_weekly over the area.",
    ),
    (
        "otd_rate",
        pa.float64(),
        "Sum of on_time_lines / sum of fully_received_lines of procurement_weekly over the area.",
    ),
)
# Earned value at completion of the areas with sites; published after the rated measures and
# their priors, so that the columns published before them keep their places.
FORECASTS: tuple[tuple[str, pa.DataType, str], ...] = (
    (
        "bac_usd",
        pa.float64(),
        "Sum of bac_usd of site_progress_weekly; data_centers and program only.",
    ),
    (
        "eac_usd",
        pa.float64(),
        "Estimate at completion bac_usd / cpi; null when cpi is null or 0; "
        "data_centers and program only.",
    ),
    (
        "vac_usd",
        pa.float64(),
        "Variance at completion bac_usd - eac_usd, negative is an overrun; null when eac_usd is "
        "null; data_centers and program only.",
    ),
    (
        "tcpi",
        pa.float64(),
        "To-complete performance index (bac_usd - sum of ev_usd) / (bac_usd - sum of ac_usd) of "
        "site_progress_weekly; null when bac_usd - sum of ac_usd <= 0; data_centers and program "
        "only.",
    ),
)
SITE_AREAS: tuple[str, ...] = (d.PROGRAM, "data_centers")
PRIOR_COLUMNS: tuple[str, ...] = (
    *(m for m, _, _ in MEASURES),
    "rag",
    *(m for m, _, _ in FORECASTS),
)

SCHEMA = arrow.schema(
    arrow.col("area", pa.string(), "program (all workstreams) or one workstream."),
    *(arrow.col(m, t, d) for m, t, d in MEASURES),
    arrow.col(
        "rag",
        pa.string(),
        "green, amber, red or grey: the worst band of the rated measures, grey per the feed rules.",
    ),
    arrow.col(
        "rag_reasons",
        pa.list_(pa.string()),
        "Every rule that was not green, feed reasons first; empty when green.",
    ),
    *(
        arrow.col(f"{m}_prior", t, f"{m} published for the area last week; null when none.")
        for m, t, _ in MEASURES
    ),
    arrow.col("rag_prior", pa.string(), "rag published for the area last week; null when none."),
    *(arrow.col(m, t, d) for m, t, d in FORECASTS),
    *(
        arrow.col(f"{m}_prior", t, f"{m} published for the area last week; null when none.")
        for m, t, _ in FORECASTS
    ),
)


def _workstreams(area: str) -> tuple[str, ...]:
    return d.WORKSTREAMS if area == d.PROGRAM else (area,)


def _sum(df: pd.DataFrame, col: str, area: str) -> float:
    if not len(df):
        return 0.0
    return float(df.loc[df["workstream"].isin(_workstreams(area)), col].sum())


def feed_reasons(inputs: WeekInputs, area: str) -> list[str]:
    """Why the area is grey whatever its numbers: a feed it depends on blocked, silent, or
    with a delivery the week could not use (its figures are an earlier one's)."""
    reasons = []
    for feed in registry.area_feeds(area):
        st = inputs.feed_status.get(feed)
        if st is None:
            reasons.append(f"{feed}: no feed status for the week")
        elif st.blocked:
            reason = st.reason or "no reason given"
            prefix = f"{feed} blocked"
            reasons.append(reason if reason.startswith(prefix) else f"{prefix}: {reason}")
        elif not st.delivered:
            reasons.append(f"{feed}: no delivery this week")
        elif st.unused:
            reasons.append(st.unused)
    return reasons


def compute(
    inputs: WeekInputs,
    procurement: pa.Table,
    site_progress: pa.Table,
    hiring: pa.Table,
) -> pa.Table:
    proc = procurement.to_pandas()
    sites = site_progress.to_pandas()
    hire = hiring.to_pandas()
    budget = d.keyed(inputs.budget_plan, ["workstream", "quarter"])
    budget = budget.assign(
        _total=pd.to_numeric(budget["budget_usd"], errors="coerce").astype(float).fillna(0.0),
        _to_date=d.plan_to_date(budget, "budget_usd", inputs.status_date),
    )
    prior = d.prior_frame(inputs, NAME)
    prior_by_area = {} if prior is None else {str(r["area"]): r for r in prior.to_dict("records")}

    rows = []
    for area in sorted(d.AREAS):
        received = _sum(proc, "received_usd", area)
        to_date = _sum(budget, "_to_date", area)
        has_sites = area in SITE_AREAS
        ev = float(sites["ev_usd"].sum()) if len(sites) else 0.0
        bac = float(sites["bac_usd"].sum()) if len(sites) else 0.0
        ac = float(sites["ac_usd"].sum()) if len(sites) else 0.0
        fc = d.forecast(bac, ev, ac)
        row: dict[str, object] = {
            "area": area,
            "budget_total_usd": _sum(budget, "_total", area),
            "budget_to_date_usd": to_date,
            "committed_usd": _sum(proc, "committed_usd", area),
            "received_usd": received,
            "spend_pace": d.ratio(received, to_date),
            "spi": d.ratio(ev, float(sites["pv_usd"].sum())) if has_sites and len(sites) else None,
            "cpi": fc.cpi if has_sites and len(sites) else None,
            "hiring_attainment": d.ratio(
                _sum(hire, "hires_to_date", area), _sum(hire, "planned_hires_to_date", area)
            ),
            "otd_rate": d.ratio(
                _sum(proc, "on_time_lines", area), _sum(proc, "fully_received_lines", area)
            ),
        }
        row["rag"], row["rag_reasons"] = rate(row, feed_reasons(inputs, area))
        row["bac_usd"] = bac if has_sites else None
        row["eac_usd"] = fc.eac if has_sites else None
        row["vac_usd"] = fc.vac if has_sites else None
        row["tcpi"] = fc.tcpi if has_sites else None
        last = prior_by_area.get(area)
        for m in PRIOR_COLUMNS:
            v = None if last is None else last.get(m)
            row[f"{m}_prior"] = None if arrow.isnull(v) else v
        rows.append(row)
    df = pd.DataFrame(rows, columns=[f.name for f in SCHEMA][2:])
    return arrow.to_table(arrow.with_week(df, inputs), SCHEMA)


def _check_forecasts(
    by_area: Mapping[str, Mapping[str, Any]], site_progress: pa.Table | None
) -> list[audit_failure.AuditFailure]:
    """The site areas' forecasts: bac_usd is the sites' sum, eac_usd agrees with the area's cpi,
    vac_usd = bac_usd - eac_usd, tcpi null exactly when bac - ac <= 0 (on the sites' sums)."""
    out: list[audit_failure.AuditFailure] = []
    for area in SITE_AREAS:
        rec = by_area[area]
        bac, eac, vac, cpi = (
            sp.number(rec.get(c)) for c in ("bac_usd", "eac_usd", "vac_usd", "cpi")
        )
        if bac is None:
            out.append(audit_failure.AuditFailure(NAME, "bac_usd", f"{area}: bac_usd is null"))
            continue
        # eac agrees with the area's published cpi, vac with eac, whatever the sites say
        want_eac = None if cpi is None or cpi == 0 else bac / cpi
        if not sp.close(eac, want_eac):
            out.append(
                audit_failure.AuditFailure(
                    NAME, "eac_cpi", f"{area}: eac_usd {eac} but bac_usd / cpi is {want_eac}"
                )
            )
        want_vac = None if eac is None else bac - eac
        if not sp.close(vac, want_vac):
            out.append(
                audit_failure.AuditFailure(
                    NAME, "vac_usd", f"{area}: vac_usd {vac} != bac_usd - eac_usd ({want_vac})"
                )
            )
        if site_progress is None:
            continue
        sites = site_progress.select(["bac_usd", "ev_usd", "ac_usd"]).to_pandas()
        s_bac, s_ev, s_ac = (float(sites[c].sum()) for c in ("bac_usd", "ev_usd", "ac_usd"))
        if not sp.close(bac, s_bac):
            out.append(
                audit_failure.AuditFailure(
                    NAME,
                    "reconcile_bac_usd",
                    f"{area}: bac_usd {bac} != sum of site_progress_weekly.bac_usd {s_bac}",
                )
            )
        out.extend(sp.check_forecasts(NAME, area, rec, s_bac, s_ev, s_ac))
    return out


def rate(measures: dict[str, object], feed_problems: list[str]) -> tuple[str, list[str]]:
    """(rag, reasons): the worst rated band; grey for feed problems or nothing rated."""
    worst: str | None = None
    reasons: list[str] = []
    for rule in rag.RATED_MEASURES:
        value = measures.get(rule)
        colour, reason = rag.band(rule, None if value is None else float(value))  # type: ignore[arg-type]
        if colour is None:
            continue
        if worst is None or rag.RAG_ORDER[colour] > rag.RAG_ORDER[worst]:
            worst = colour
        if reason:
            reasons.append(reason)
    if feed_problems:
        return rag.GREY, [*feed_problems, *reasons]
    if worst is None:
        return rag.GREY, ["no measures"]
    return worst, reasons


def check(
    table: pa.Table,
    inputs: WeekInputs,
    procurement: pa.Table | None,
    hiring: pa.Table | None,
    site_progress: pa.Table | None = None,
) -> list[audit_failure.AuditFailure]:
    out: list[audit_failure.AuditFailure] = []
    df = table.to_pandas()
    areas = sorted(df["area"].astype(str)) if len(df) else []
    if areas != sorted(d.AREAS):
        out.append(
            audit_failure.AuditFailure(
                NAME, "areas", f"areas are {areas}, want the five {sorted(d.AREAS)}"
            )
        )
        return out
    by_area = {r["area"]: r for r in df.to_dict("records")}
    for m in ("committed_usd", "received_usd", "budget_total_usd", "budget_to_date_usd"):
        parts = sum(float(by_area[a][m]) for a in d.WORKSTREAMS)
        if abs(float(by_area[d.PROGRAM][m]) - parts) > 0.01:
            out.append(
                audit_failure.AuditFailure(
                    NAME,
                    f"program_{m}",
                    f"program {by_area[d.PROGRAM][m]:.2f} != sum of workstreams {parts:.2f}",
                )
            )
    if procurement is not None:
        total = float(procurement.column("committed_usd").to_pandas().sum())
        if abs(float(by_area[d.PROGRAM]["committed_usd"]) - total) > 0.01:
            out.append(
                audit_failure.AuditFailure(
                    NAME,
                    "reconcile_committed_usd",
                    "program committed_usd != procurement_weekly total",
                )
            )
    if hiring is not None:
        h = hiring.to_pandas()
        att = (
            d.ratio(float(h["hires_to_date"].sum()), float(h["planned_hires_to_date"].sum()))
            if len(h)
            else None
        )
        got = by_area[d.PROGRAM]["hiring_attainment"]
        if (att is None) != arrow.isnull(got) or (att is not None and abs(att - float(got)) > 1e-9):
            out.append(
                audit_failure.AuditFailure(
                    NAME, "reconcile_hiring_attainment", f"program {got} != hiring_weekly {att}"
                )
            )
    for area, rec in by_area.items():
        if rec["rag"] not in rag.RAG_VALUES:
            out.append(
                audit_failure.AuditFailure(NAME, "rag_values", f"{area}: rag {rec['rag']!r}")
            )
        problems = feed_reasons(inputs, area)
        if problems and rec["rag"] != rag.GREY:
            out.append(
                audit_failure.AuditFailure(
                    NAME, "grey_feeds", f"{area}: {rec['rag']} despite {problems}"
                )
            )
        if area not in SITE_AREAS and not (arrow.isnull(rec["spi"]) and arrow.isnull(rec["cpi"])):
            out.append(
                audit_failure.AuditFailure(NAME, "spi_cpi_areas", f"{area}: spi/cpi must be null")
            )
        if area not in SITE_AREAS and not all(arrow.isnull(rec[m]) for m, _, _ in FORECASTS):
            out.append(
                audit_failure.AuditFailure(
                    NAME, "forecast_areas", f"{area}: bac/eac/vac/tcpi must be null"
                )
            )
    out.extend(_check_forecasts(by_area, site_progress))
    prior = d.prior_frame(inputs, NAME)
    last = {} if prior is None else {str(r["area"]): r for r in prior.to_dict("records")}
    for area, rec in by_area.items():
        for m in PRIOR_COLUMNS:
            want: Any = last.get(area, {}).get(m)
            got = rec[f"{m}_prior"]
            if arrow.isnull(want) and arrow.isnull(got):
                continue
            if arrow.isnull(want) or arrow.isnull(got):
                same = False
            elif isinstance(want, str) or isinstance(got, str):
                same = str(want) == str(got)
            else:
                same = abs(float(want) - float(got)) <= 1e-9 * max(1.0, abs(float(want)))
            if not same:
                out.append(
                    audit_failure.AuditFailure(
                        NAME, f"{m}_prior", f"{area}: {got} but last week published {want}"
                    )
                )
    return out
