"""What changed this week: `reports/program/week=<W>/summary.json`.

Built from the published tables only (`History`), compared with the previous ISO week only:
when that week was not published, every comparison is null and nothing is said to have
changed. Deterministic (the same tables give the same bytes: sorted keys, fixed order, no clock)
and without personal data (areas, sites, categories, role families, feeds and file names only).

Drivers are exact contributions to the area's change since last week. For a sum (committed
or received USD) a driver's contribution is its own change. For a ratio R = N / D over the
area's rows (SPI = EV / PV, CPI = EV / AC, hiring attainment = hires / planned hires, on-time
delivery = on-time lines / fully received lines) it is (dN - R_last x dD) / D_now, and the
drivers' contributions add up to the area's change of R. Spend pace = received / budget to date
has no budget per category: a category's contribution is d(received) / budget to date now, and
the budget's own share, -R_last x d(budget to date) / budget to date now, is given on the area
(`spend_pace_budget_effect`). For EAC = BAC x AC / EV a site's contribution is BAC_now x (dAC -
r_last x dEV) / EV_now + dBAC x r_last, with r = AC / EV; these add up too. A row absent in one
of the two weeks counts as zero in it. Drivers are listed largest absolute contribution first
(ties by key), at most 5, zeros left out. Numbers are rounded: USD to the cent, ratios to 6
decimals, contributions to ratios to 9.

JSON keys (`schema` = "buildout-tracker/program-report-summary/1"):

- `week`, `status_date`, `previous_week`, `previous_week_published` (bool), `run_id`,
  `code_version`, `manifest` (the manifest's key): the week and the publication described.
- `areas`: the five areas, `program` first, each with
  - `area`, `rag`, `rag_prior` (null when last week was not published), `rag_changed` (bool),
    `rag_reasons` (the scorecard's);
  - `measures`: list of {`measure`, `value`, `prior`, `change`} for committed_usd,
    received_usd, budget_to_date_usd, spend_pace, hiring_attainment, otd_rate and, for
    `program` and `data_centers`, spi, cpi, bac_usd, eac_usd, vac_usd, tcpi (null when
    unknown);
  - `rule_changes`: every RAG rule (`tables.rag.RATED_MEASURES`) whose band changed since last
    week: {`rule`, `from`, `to` (green, amber, red, or null when not rated), `value`, `prior`,
    `drivers` (the key of `drivers` that explains it)};
  - `drivers`: by measure, the list of drivers. `committed_usd`, `received_usd`: procurement
    categories {`workstream`, `category`, `value`, `prior`, `contribution`}; `spend_pace`:
    categories {`workstream`, `category`, `received_change_usd`, `contribution`}; `otd_rate`:
    categories {`workstream`, `category`, `on_time_change`, `fully_received_change`,
    `contribution`};
    `hiring_attainment`: role families {`workstream`, `role_family`, `hires_change`,
    `plan_change`, `contribution`}; `spi`, `cpi`, `eac_usd` (site areas only): sites
    {`site_id`, `site_name`, `ev_change_usd`, `pv_change_usd`, `ac_change_usd`,
    `go_live_slip_change_days`, `contribution`}; `go_live_slip_days` (site areas only): sites
    {`site_id`, `site_name`, `go_live_slip_days`, `prior`, `contribution`} (the change in days);
  - `spend_pace_budget_effect`: the budget's share of the change in spend pace (null when
    unknown);
  - `sentence`: one sentence when the area's colour or a rule's band changed, else null.
- `forecast`: the program's estimate at completion, {`eac_usd`, `prior`, `change`, `bac_usd`,
  `vac_usd`, `drivers` (as `eac_usd` above), `sentence`}; null when the program has no EAC.
- `milestones`: milestones whose health turned `late` or `at_risk` since last week
  (`milestone_status_weekly`), late first, then by slip: {`site_id`, `site_name`,
  `milestone_code`, `health`, `health_prior`, `slip_days`, `slip_days_prior`,
  `forecast_date`, `baseline_date`, `sentence`}.
- `stale_sites`: sites that went stale (no report this week, last week's was fresh):
  {`site_id`, `site_name`, `report_status_date` (the report carried), `sentence`}.
- `feeds`: feeds that are blocked, silent (a feed the scorecard depends on that delivered
  nothing) or late (files taken this week that were delivered in an earlier week's folder),
  one entry per feed and problem: {`feed`, `problem` (blocked, silent or late), `reason`,
  `files` (late files' keys), `sentence`}.
- `data_quality`: one row per feed from the delivery rows of `data_quality_weekly` and the
  manifest's data quality: {`feed`, `delivered`, `blocked`, `files_received`,
  `duplicates_skipped`, `files_quarantined`, `files_taken_late`, `rows_in`,
  `rows_quarantined`, `share_refused` (rows_quarantined / rows_in, null when no rows)}.
- `sentences`: every sentence above, in order: areas, forecast (when last week was published),
  milestones, stale sites, feeds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from buildout_tracker import registry
from buildout_tracker.model import TABLE_FEEDS
from buildout_tracker.report import fmt
from buildout_tracker.report.history import History
from buildout_tracker.tables import rag
from buildout_tracker.tables.definitions import AREAS, PROGRAM, WORKSTREAMS
from buildout_tracker.tables.program_scorecard import SITE_AREAS
from buildout_tracker.zones import manifest_key

SCHEMA = "buildout-tracker/program-report-summary/1"
DRIVERS = 5
IN_SENTENCE = 3
TILE_MEASURES = (
    "committed_usd",
    "received_usd",
    "budget_to_date_usd",
    "spend_pace",
    "hiring_attainment",
    "otd_rate",
)
SITE_MEASURES = ("spi", "cpi", "bac_usd", "eac_usd", "vac_usd", "tcpi")
RULE_DRIVERS = {
    "spi": "spi",
    "cpi": "cpi",
    "spend_pace": "spend_pace",
    "hiring_attainment": "hiring_attainment",
    "otd_rate": "otd_rate",
}
TURNED = ("late", "at_risk")
EPS = 1e-12


def area_order() -> list[str]:
    return [PROGRAM, *sorted(a for a in AREAS if a != PROGRAM)]


def workstreams(area: str) -> tuple[str, ...]:
    return tuple(WORKSTREAMS) if area == PROGRAM else (area,)


def _r(v: Any, digits: int = 6) -> float | None:
    f = fmt.num(v)
    return None if f is None else round(f, digits)


def _money(v: Any) -> float | None:
    return _r(v, 2)


def _int(v: Any) -> int | None:
    f = fmt.num(v)
    return None if f is None else round(f)


def _s(v: Any) -> str | None:
    return None if fmt.isnull(v) else str(v)


def _reasons(v: Any) -> list[str]:
    return [] if v is None or isinstance(v, float) else [str(x) for x in v]


def _flag(v: Any) -> bool | None:
    return None if fmt.isnull(v) else bool(v)


def _date(v: Any) -> str | None:
    if fmt.isnull(v):
        return None
    return v.isoformat()[:10] if hasattr(v, "isoformat") else str(v)[:10]


class Merged:
    """Now and last week side by side on `keys`, as plain rows: `row[col]` this week,
    `row[col + "_0"]` last week; a row absent in a week counts 0 in it."""

    def __init__(
        self,
        now: pd.DataFrame | None,
        prior: pd.DataFrame | None,
        keys: list[str],
        cols: Iterable[str],
    ) -> None:
        self.keys, self.cols = keys, list(cols)
        a, b = self._index(now), self._index(prior)
        self.rows: list[dict[str, Any]] = []
        for key in sorted(set(a) | set(b)):
            row: dict[str, Any] = dict(zip(keys, key, strict=True))
            for c in self.cols:
                row[c] = a.get(key, {}).get(c, 0.0)
                row[f"{c}_0"] = b.get(key, {}).get(c, 0.0)
            self.rows.append(row)

    def _index(self, df: pd.DataFrame | None) -> dict[tuple[str, ...], dict[str, float]]:
        if df is None or df.empty:
            return {}
        keys = zip(*(df[k].tolist() for k in self.keys), strict=True)
        values = [
            [0.0 if fmt.num(v) is None else float(v) for v in df[c].tolist()] for c in self.cols
        ]
        out: dict[tuple[str, ...], dict[str, float]] = {}
        for i, key in enumerate(keys):
            out[tuple("" if fmt.isnull(k) else str(k) for k in key)] = {
                c: values[j][i] for j, c in enumerate(self.cols)
            }
        return out

    def total(self, col: str) -> float:
        return float(sum(r[col] for r in self.rows))

    def change(self, row: dict[str, Any], col: str) -> float:
        return float(row[col] - row[f"{col}_0"])


def _top(rows: list[dict[str, Any]], keys: list[str]) -> list[dict[str, Any]]:
    rows = [r for r in rows if r["contribution"] is not None and abs(r["contribution"]) > EPS]
    rows.sort(key=lambda r: (-abs(r["contribution"]), *[str(r[k]) for k in keys]))
    return rows[:DRIVERS]


def _ratio_drivers(m: Merged, n: str, d: str) -> list[float | None]:
    """Each row's exact contribution (dN - R0 dD) / D1 to the change of R = sum N / sum D."""
    n0, d0, d1 = m.total(f"{n}_0"), m.total(f"{d}_0"), m.total(d)
    if d0 == 0 or d1 == 0:
        return [None] * len(m.rows)
    r0 = n0 / d0
    return [(m.change(r, n) - r0 * m.change(r, d)) / d1 for r in m.rows]


def _in_area(df: pd.DataFrame | None, area: str) -> pd.DataFrame | None:
    if df is None:
        return None
    return df[df["workstream"].astype(object).isin(workstreams(area))]


def procurement_drivers(
    now: pd.DataFrame, prior: pd.DataFrame | None, area: str, budget_now: float | None
) -> dict[str, list[dict[str, Any]]]:
    keys = ["workstream", "category"]
    cols = ["committed_usd", "received_usd", "on_time_lines", "fully_received_lines"]
    m = Merged(_in_area(now, area), _in_area(prior, area), keys, cols)
    out: dict[str, list[dict[str, Any]]] = {}
    for col in ("committed_usd", "received_usd"):
        out[col] = _top(
            [
                {
                    "workstream": r["workstream"],
                    "category": r["category"],
                    "value": _money(r[col]),
                    "prior": _money(r[f"{col}_0"]),
                    "contribution": _money(m.change(r, col)),
                }
                for r in m.rows
            ],
            keys,
        )
    out["spend_pace"] = _top(
        [
            {
                "workstream": r["workstream"],
                "category": r["category"],
                "received_change_usd": _money(m.change(r, "received_usd")),
                "contribution": _r(m.change(r, "received_usd") / budget_now, 9)
                if budget_now
                else None,
            }
            for r in m.rows
        ],
        keys,
    )
    contrib = _ratio_drivers(m, "on_time_lines", "fully_received_lines")
    out["otd_rate"] = _top(
        [
            {
                "workstream": r["workstream"],
                "category": r["category"],
                "on_time_change": _int(m.change(r, "on_time_lines")),
                "fully_received_change": _int(m.change(r, "fully_received_lines")),
                "contribution": _r(c, 9),
            }
            for r, c in zip(m.rows, contrib, strict=True)
        ],
        keys,
    )
    return out


def hiring_drivers(
    now: pd.DataFrame, prior: pd.DataFrame | None, area: str
) -> list[dict[str, Any]]:
    keys = ["workstream", "role_family"]
    cols = ["hires_to_date", "planned_hires_to_date"]
    m = Merged(_in_area(now, area), _in_area(prior, area), keys, cols)
    contrib = _ratio_drivers(m, "hires_to_date", "planned_hires_to_date")
    return _top(
        [
            {
                "workstream": r["workstream"],
                "role_family": r["role_family"],
                "hires_change": _int(m.change(r, "hires_to_date")),
                "plan_change": _r(m.change(r, "planned_hires_to_date"), 4),
                "contribution": _r(c, 9),
            }
            for r, c in zip(m.rows, contrib, strict=True)
        ],
        keys,
    )


def site_drivers(now: pd.DataFrame, prior: pd.DataFrame | None) -> dict[str, list[dict[str, Any]]]:
    keys = ["site_id"]
    m = Merged(now, prior, keys, ["ev_usd", "pv_usd", "ac_usd", "bac_usd"])
    names: dict[str, str | None] = {}
    for df in (prior, now):
        if df is not None:
            names.update(
                {str(s): _s(n) for s, n in zip(df["site_id"], df["site_name"], strict=True)}
            )
    slip_now = _by_site(now, "go_live_slip_days")
    slip_prior = _by_site(prior, "go_live_slip_days")

    def slip_change(site: str) -> int | None:
        a, b = slip_now.get(site), slip_prior.get(site)
        return None if a is None or b is None else a - b

    def base(r: dict[str, Any]) -> dict[str, Any]:
        return {
            "site_id": r["site_id"],
            "site_name": names.get(r["site_id"]),
            "ev_change_usd": _money(m.change(r, "ev_usd")),
            "pv_change_usd": _money(m.change(r, "pv_usd")),
            "ac_change_usd": _money(m.change(r, "ac_usd")),
            "go_live_slip_change_days": slip_change(r["site_id"]),
        }

    out: dict[str, list[dict[str, Any]]] = {}
    for measure, (n, d) in {"spi": ("ev_usd", "pv_usd"), "cpi": ("ev_usd", "ac_usd")}.items():
        contrib = _ratio_drivers(m, n, d)
        out[measure] = _top(
            [{**base(r), "contribution": _r(c, 9)} for r, c in zip(m.rows, contrib, strict=True)],
            keys,
        )
    # EAC = BAC x AC / EV: contribution BAC1 (dAC - r0 dEV) / EV1 + dBAC r0, r0 = AC0 / EV0
    ev0, ac0, ev1 = m.total("ev_usd_0"), m.total("ac_usd_0"), m.total("ev_usd")
    ac1, bac1 = m.total("ac_usd"), m.total("bac_usd")
    eac_rows = []
    if ev0 and ev1 and ac0 and ac1:
        r0 = ac0 / ev0
        for r in m.rows:
            c = bac1 * (m.change(r, "ac_usd") - r0 * m.change(r, "ev_usd")) / ev1
            c += m.change(r, "bac_usd") * r0
            eac_rows.append({**base(r), "contribution": _money(c)})
    out["eac_usd"] = _top(eac_rows, keys)
    slips = []
    for site in sorted(set(slip_now) | set(slip_prior)):
        change = slip_change(site)
        slips.append(
            {
                "site_id": site,
                "site_name": names.get(site),
                "go_live_slip_days": slip_now.get(site),
                "prior": slip_prior.get(site),
                "contribution": change,
            }
        )
    out["go_live_slip_days"] = _top(slips, keys)
    return out


def _by_site(df: pd.DataFrame | None, col: str) -> dict[str, int]:
    if df is None or col not in df.columns:
        return {}
    return {
        str(s): int(v) for s, v in zip(df["site_id"], df[col], strict=True) if not fmt.isnull(v)
    }


def _record(df: pd.DataFrame, key: str, value: str) -> dict[str, Any] | None:
    rows = df[df[key].astype(object).map(str) == value]
    return None if rows.empty else fmt.dicts(rows.iloc[:1])[0]


def area_entry(h: History, area: str, has_prior: bool) -> dict[str, Any]:
    week, last = h.week, h.previous
    sc_now = h.part("scorecard", week)
    sc_prior = h.part("scorecard", last) if has_prior else None
    now = _record(sc_now, "area", area) or {"area": area}
    prior = _record(sc_prior, "area", area) if sc_prior is not None else None
    names = [*TILE_MEASURES, *(SITE_MEASURES if area in SITE_AREAS else ())]
    measures = []
    for name in names:
        v = fmt.num(now.get(name))
        p = fmt.num(prior.get(name)) if prior else None
        digits = 2 if name.endswith("_usd") else 6
        measures.append(
            {
                "measure": name,
                "value": _r(v, digits),
                "prior": _r(p, digits),
                "change": None if v is None or p is None else _r(v - p, digits),
            }
        )
    rule_changes = []
    if prior is not None:
        for rule in rag.RATED_MEASURES:
            v, p = fmt.num(now.get(rule)), fmt.num(prior.get(rule))
            to, frm = rag.band(rule, v)[0], rag.band(rule, p)[0]
            if to != frm:
                rule_changes.append(
                    {
                        "rule": rule,
                        "from": frm,
                        "to": to,
                        "value": _r(v),
                        "prior": _r(p),
                        "drivers": RULE_DRIVERS[rule],
                    }
                )
    drivers: dict[str, list[dict[str, Any]]] = {}
    budget_effect = None
    if prior is not None:
        b1, b0 = fmt.num(now.get("budget_to_date_usd")), fmt.num(prior.get("budget_to_date_usd"))
        p0 = fmt.num(prior.get("spend_pace"))
        if b1 and b0 is not None and p0 is not None:
            budget_effect = _r(-p0 * (b1 - b0) / b1, 9)
        drivers.update(
            procurement_drivers(h.part("procurement", week), h.part("procurement", last), area, b1)
        )
        drivers["hiring_attainment"] = hiring_drivers(
            h.part("hiring", week), h.part("hiring", last), area
        )
        if area in SITE_AREAS:
            drivers.update(site_drivers(h.part("sites", week), h.part("sites", last)))
    entry: dict[str, Any] = {
        "area": area,
        "rag": _s(now.get("rag")),
        "rag_prior": _s(prior.get("rag")) if prior else None,
        "rag_reasons": _reasons(now.get("rag_reasons")),
        "measures": measures,
        "rule_changes": rule_changes,
        "drivers": drivers,
        "spend_pace_budget_effect": budget_effect,
    }
    entry["rag_changed"] = prior is not None and entry["rag"] != entry["rag_prior"]
    entry["sentence"] = area_sentence(entry)
    return entry


# -- sentences -------------------------------------------------------------------------------


def _band(colour: str | None) -> str:
    return colour or "not rated"


def driver_text(measure: str, d: dict[str, Any]) -> str:
    c = d["contribution"]
    if measure in ("committed_usd", "received_usd"):
        return f"{d['workstream']}/{d['category']} {fmt.usd(c, signed=True)}"
    if measure == "spend_pace":
        return (
            f"{d['workstream']}/{d['category']} {fmt.signed(c, 4)} "
            f"(received {fmt.usd(d['received_change_usd'], signed=True)})"
        )
    if measure == "otd_rate":
        return (
            f"{d['workstream']}/{d['category']} {fmt.signed(c, 4)} "
            f"({fmt.signed(d['on_time_change'], 0)} on time of "
            f"{fmt.signed(d['fully_received_change'], 0)} received in full)"
        )
    if measure == "hiring_attainment":
        return (
            f"{d['role_family']} ({d['workstream']}) {fmt.signed(c, 4)} "
            f"({fmt.signed(d['hires_change'], 0)} hires against "
            f"{fmt.signed(d['plan_change'], 1)} planned)"
        )
    if measure in ("spi", "cpi", "eac_usd"):
        shown = fmt.usd(c, signed=True) if measure == "eac_usd" else fmt.signed(c, 4)
        other = "PV" if measure == "spi" else "AC"
        other_change = d["pv_change_usd"] if measure == "spi" else d["ac_change_usd"]
        text = (
            f"{d['site_id']} {shown} (EV {fmt.usd(d['ev_change_usd'], signed=True)}, "
            f"{other} {fmt.usd(other_change, signed=True)}"
        )
        if d.get("go_live_slip_change_days"):
            text += f", go-live {fmt.signed(d['go_live_slip_change_days'], 0)} d"
        return text + ")"
    if measure == "go_live_slip_days":
        return f"{d['site_id']} {fmt.signed(c, 0)} d"
    return f"{d}"


DRIVER_NOUN = {
    "committed_usd": "categories",
    "received_usd": "categories",
    "spend_pace": "categories",
    "otd_rate": "categories",
    "hiring_attainment": "role families",
    "spi": "sites",
    "cpi": "sites",
    "eac_usd": "sites",
    "go_live_slip_days": "sites",
}


def drivers_text(measure: str, drivers: list[dict[str, Any]]) -> str:
    if not drivers:
        return ""
    parts = [driver_text(measure, d) for d in drivers[:IN_SENTENCE]]
    return f"{DRIVER_NOUN[measure]} " + ", ".join(parts)


def area_sentence(entry: dict[str, Any]) -> str | None:
    if not entry["rag_changed"] and not entry["rule_changes"]:
        return None
    area, now = entry["area"], entry["rag"]
    if entry["rag_changed"]:
        head = f"{area} turned {now} (was {entry['rag_prior']})"
    else:
        head = f"{area} stays {now}"
    clauses = []
    for ch in entry["rule_changes"]:
        rule = ch["rule"]
        clause = (
            f"{rule} {_band(ch['to'])} at {fmt.ratio(ch['value'], rule)} "
            f"(was {fmt.ratio(ch['prior'], rule)}, {_band(ch['from'])})"
        )
        why = drivers_text(ch["drivers"], entry["drivers"].get(ch["drivers"], []))
        if rule == "spend_pace" and entry.get("spend_pace_budget_effect"):
            budget = f"budget to date {fmt.signed(entry['spend_pace_budget_effect'], 4)}"
            why = f"{why}; {budget}" if why else budget
        clauses.append(f"{clause} — {why}" if why else clause)
    if not clauses:  # the colour changed with no rule moving: a feed greyed or ungreyed it
        reasons = [r for r in entry["rag_reasons"] if not _is_rule_reason(r)]
        clauses.append("; ".join(reasons) if reasons else "no rule changed band")
    return f"{head}: " + "; ".join(clauses) + "."


def _is_rule_reason(reason: str) -> bool:
    return any(reason.startswith(f"{rule} ") for rule in rag.RATED_MEASURES)


# -- milestones, sites, feeds -----------------------------------------------------------------


def milestone_changes(h: History) -> list[dict[str, Any]]:
    now, prior = h.milestones.get(h.week), h.milestones.get(h.previous)
    if now is None or prior is None:
        return []
    last = {(str(r["site_id"]), str(r["milestone_code"])): r for r in fmt.dicts(prior)}
    out = []
    for r in fmt.dicts(now):
        p = last.get((str(r["site_id"]), str(r["milestone_code"])))
        health = _s(r.get("health"))
        if p is None or health not in TURNED or health == _s(p.get("health")):
            continue
        item = {
            "site_id": str(r["site_id"]),
            "site_name": _s(r.get("site_name")),
            "milestone_code": str(r["milestone_code"]),
            "milestone_seq": _int(r.get("milestone_seq")),
            "health": health,
            "health_prior": _s(p.get("health")),
            "slip_days": _int(r.get("slip_days")),
            "slip_days_prior": _int(p.get("slip_days")),
            "forecast_date": _date(r.get("forecast_date")),
            "baseline_date": _date(r.get("baseline_date")),
        }
        item["sentence"] = milestone_sentence(item)
        out.append(item)

    def order(i: dict[str, Any]) -> tuple[int, int, str, int]:
        slip = i["slip_days"] if i["slip_days"] is not None else -(10**6)
        return (TURNED.index(i["health"]), -slip, i["site_id"], i["milestone_seq"] or 0)

    out.sort(key=order)
    for i in out:
        i.pop("milestone_seq")
    return out


def milestone_sentence(i: dict[str, Any]) -> str:
    slip = i["slip_days"]
    where = f"{i['site_id']} {i['site_name']}" if i["site_name"] else i["site_id"]
    text = f"{where}: {i['milestone_code']} turned {i['health']}"
    if slip is not None:
        text += f", forecast {i['forecast_date']} is {slip} days after its baseline {i['baseline_date']}"
    else:
        text += f", forecast {i['forecast_date']}"
    was = f"was {i['health_prior'] or 'unrated'}"
    if i["slip_days_prior"] is not None:
        was += f", {i['slip_days_prior']} days"
    return f"{text} ({was})."


def stale_sites(h: History) -> list[dict[str, Any]]:
    if not h.published(h.previous):
        return []
    now, prior = h.part("sites", h.week), h.part("sites", h.previous)
    fresh_last = {
        str(s) for s, st in zip(prior["site_id"], prior["stale"], strict=True) if _flag(st) is False
    }
    carried: dict[str, str | None] = {}
    ms = h.milestones.get(h.week)
    if ms is not None and len(ms):
        for s, d in zip(ms["site_id"], ms["report_status_date"], strict=True):
            carried.setdefault(str(s), _date(d))
    out = []
    for r in fmt.dicts(now):
        site = str(r["site_id"])
        if _flag(r.get("stale")) is not True or site not in fresh_last:
            continue
        item = {
            "site_id": site,
            "site_name": _s(r.get("site_name")),
            "report_status_date": carried.get(site),
        }
        when = (
            f" from its report of {item['report_status_date']}"
            if item["report_status_date"]
            else ""
        )
        item["sentence"] = (
            f"{site} {item['site_name'] or ''}".rstrip()
            + f" went stale: no report this week; its figures are carried{when}."
        )
        out.append(item)
    return sorted(out, key=lambda i: i["site_id"])


def delivery_record(
    feed: str, manifest: dict[str, Any], row: dict[str, Any] | None
) -> dict[str, Any] | None:
    """A feed's delivery in a week: the delivery row of data_quality_weekly, the manifest's
    data quality where the row says nothing, and the late files the manifest lists."""
    st = (manifest.get("data_quality") or {}).get(feed) or {}
    row = row or {}
    if not st and not row:
        return None

    def pick(name: str) -> Any:
        v = row.get(name)
        return st.get(name) if fmt.isnull(v) else v

    late = sum(1 for f in manifest.get("late_inputs") or [] if str(f.get("feed")) == feed)
    taken = _int(row.get("files_taken_late"))
    received = _int(pick("files_received"))
    rows_in, refused = _int(pick("rows_in")), _int(pick("rows_quarantined"))
    blocked = bool(_flag(pick("blocked")))
    delivered = _flag(st.get("delivered"))
    return {
        "feed": feed,
        "delivered": bool(received) if delivered is None else delivered,
        "blocked": blocked,
        "blocked_reason": (_s(row.get("blocked_reason")) or _s(st.get("reason")))
        if blocked
        else None,
        "files_received": received,
        "duplicates_skipped": _int(pick("duplicates_skipped")),
        "files_quarantined": _int(pick("files_quarantined")),
        "files_taken_late": late if taken is None else taken,
        "rows_in": rows_in,
        "rows_quarantined": refused,
        "share_refused": None if not rows_in else _r((refused or 0) / rows_in),
    }


def data_quality(h: History) -> list[dict[str, Any]]:
    manifest = h.manifests[h.week]
    rows = {str(r["feed"]): r for r in fmt.dicts(h.part("delivery", h.week))}
    out = []
    for feed in registry.NAMES:
        rec = delivery_record(feed, manifest, rows.get(feed))
        if rec is not None:
            out.append(rec)
    return out


def feed_problems(h: History, dq: list[dict[str, Any]]) -> list[dict[str, Any]]:
    late_files: dict[str, list[dict[str, Any]]] = {}
    for f in h.manifests[h.week].get("late_inputs") or []:
        late_files.setdefault(str(f["feed"]), []).append(f)
    out = []
    for row in dq:
        feed = row["feed"]
        if row["blocked"]:
            reason = row["blocked_reason"] or "no reason given"
            said = reason if reason.startswith(f"{feed} blocked") else f"{feed} blocked: {reason}"
            withheld = [t for t, fs in TABLE_FEEDS.items() if feed in fs]
            if withheld:
                said += f"; {', '.join(withheld)} withheld for the week"
            if registry.feed(feed).greys:
                said += f"; {_greyed(feed)} grey"
            out.append(
                {"feed": feed, "problem": "blocked", "reason": reason, "files": [],
                 "sentence": said + "."}
            )  # fmt: skip
        if not row["delivered"] and feed in registry.STATUS_FEEDS:
            out.append(
                {
                    "feed": feed,
                    "problem": "silent",
                    "reason": "no delivery this week",
                    "files": [],
                    "sentence": f"{feed} silent: no delivery this week; its tables carry the "
                    f"state in force and {_greyed(feed)} grey.",
                }
            )
        files = late_files.get(feed, [])
        if row["files_taken_late"]:
            weeks = sorted({str(f["delivery_week"]) for f in files})
            keys = [str(f["key"]) for f in files]
            n = row["files_taken_late"]
            shown = ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
            since = f" delivered for {', '.join(weeks)}" if weeks else ""
            out.append(
                {
                    "feed": feed,
                    "problem": "late",
                    "reason": f"{n} file(s) taken late",
                    "files": keys,
                    "sentence": f"{feed}: {n} file(s){since} landed after that week ran and "
                    f"were taken this week" + (f": {shown}." if shown else "."),
                }
            )
    return out


def _greyed(feed: str) -> str:
    greys = registry.feed(feed).greys
    if registry.ALL_AREAS in greys:
        return "every area is"
    return (
        ("areas " if len(greys) > 1 else "area ")
        + " and ".join(greys)
        + (" are" if len(greys) > 1 else " is")
    )


def forecast(h: History, areas: list[dict[str, Any]]) -> dict[str, Any] | None:
    program = next(a for a in areas if a["area"] == PROGRAM)
    m = {x["measure"]: x for x in program["measures"]}
    eac = m.get("eac_usd")
    if eac is None or eac["value"] is None:
        return None
    drivers = program["drivers"].get("eac_usd", [])
    out = {
        "eac_usd": eac["value"],
        "prior": eac["prior"],
        "change": eac["change"],
        "bac_usd": m["bac_usd"]["value"],
        "vac_usd": m["vac_usd"]["value"],
        "drivers": drivers,
    }
    text = f"Program EAC {fmt.usd(eac['value'])}"
    if eac["change"] is not None:
        text += f", {fmt.usd(eac['change'], signed=True)} since last week"
    text += f" (BAC {fmt.usd(out['bac_usd'])}, VAC {fmt.usd(out['vac_usd'], signed=True)})"
    why = drivers_text("eac_usd", drivers)
    out["sentence"] = f"{text}" + (f" — {why}." if why else ".")
    return out


def what_changed(h: History) -> dict[str, Any]:
    """The week's summary (module docstring); pure: reads only `h`."""
    manifest = h.manifests[h.week]
    has_prior = h.published(h.previous)
    areas = [area_entry(h, a, has_prior) for a in area_order()]
    dq = data_quality(h)
    summary: dict[str, Any] = {
        "schema": SCHEMA,
        "week": h.week,
        "status_date": manifest.get("status_date"),
        "previous_week": h.previous,
        "previous_week_published": has_prior,
        "run_id": manifest.get("run_id"),
        "code_version": manifest.get("code_version"),
        "manifest": manifest_key(h.week),
        "areas": areas,
        "forecast": forecast(h, areas),
        "milestones": milestone_changes(h),
        "stale_sites": stale_sites(h),
        "feeds": feed_problems(h, dq),
        "data_quality": dq,
    }
    sentences = [a["sentence"] for a in areas if a["sentence"]]
    if summary["forecast"] and has_prior:
        sentences.append(summary["forecast"]["sentence"])
    sentences += [i["sentence"] for k in ("milestones", "stale_sites", "feeds") for i in summary[k]]
    summary["sentences"] = sentences
    return summary


def digest(summary: dict[str, Any], limit: int = 8) -> str:
    """The week in a few lines, for the alert channel: the program's colour, what moved, and
    the first `limit` sentences (the page has them all)."""
    program = next(a for a in summary["areas"] if a["area"] == PROGRAM)
    head = f"{summary['week']}: program {program['rag']}"
    if program["rag_prior"]:
        head += f" (was {program['rag_prior']})"
    counts = [
        (sum(1 for a in summary["areas"] if a["rag_changed"]), "area(s) changed colour"),
        (len(summary["milestones"]), "milestone(s) turned late or at risk"),
        (len(summary["stale_sites"]), "site(s) went stale"),
        (len(summary["feeds"]), "feed problem(s)"),
    ]
    said = [f"{n} {what}" for n, what in counts if n]
    if not summary["previous_week_published"]:
        said.insert(0, f"no comparison ({summary['previous_week']} not published)")
    lines = [head + (": " + "; ".join(said) if said else ": nothing changed colour") + "."]
    lines += [f"- {s}" for s in summary["sentences"][:limit]]
    if len(summary["sentences"]) > limit:
        lines.append(f"- and {len(summary['sentences']) - limit} more in the report")
    return "\n".join(lines)
