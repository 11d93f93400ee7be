"""Program management office: the program's calendar, its sites and its plans (reference feed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from buildout_tracker import weeks as wk
from buildout_tracker.feeds.enums import MILESTONE_CODES as MILESTONES
from buildout_tracker.feeds.enums import WORKSTREAMS
from buildout_tracker.generator.common import (
    Delivery,
    hamilton,
    rng_for,
)
from buildout_tracker.generator.scales import Scale

# country: (region, currency, cities)
COUNTRIES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "CN": ("china", "CNY", ("Ulanqab", "Guiyang", "Qingyang", "Zhongwei", "Wuhu")),
    "SG": ("apac", "SGD", ("Jurong", "Tuas", "Loyang")),
    "MY": ("apac", "MYR", ("Johor Bahru", "Cyberjaya", "Kulai")),
    "JP": ("apac", "JPY", ("Inzai", "Osaka", "Kitakyushu")),
    "DE": ("emea", "EUR", ("Frankfurt", "Hanau", "Berlin")),
    "IE": ("emea", "EUR", ("Dublin", "Ennis")),
    "NO": ("emea", "NOK", ("Stavanger", "Hamar", "Narvik")),
    "US": ("americas", "USD", ("Ashburn", "Mesa", "Columbus", "Abilene")),
    "BR": ("americas", "BRL", ("Campinas", "Fortaleza")),
}
# Order in which sites are assigned to countries (small programs still cover every region).
COUNTRY_CYCLE = ("SG", "CN", "DE", "US", "MY", "NO", "JP", "BR", "CN", "IE", "US", "CN", "MY", "DE")

# Days from the previous milestone's baseline (LAND_ACQUIRED: the site's start).
MILESTONE_GAP_DAYS = (0, 60, 30, 180, 90, 45, 60, 30)
LAND_WINDOW_DAYS = 75
# Weights as exact decimals: the float sum of each pattern is 1.0.
WEIGHT_PATTERNS = (
    (0.10, 0.05, 0.05, 0.25, 0.20, 0.15, 0.15, 0.05),
    (0.15, 0.05, 0.05, 0.20, 0.20, 0.15, 0.15, 0.05),
)
# Quarterly budget of the workstreams that are not priced by site, USD, first plan quarter.
BASE_BUDGET = {"compute_hardware": 900e6, "chip_development": 240e6, "ai_software": 110e6}
BUDGET_GROWTH = 0.06  # a quarter
HIRING_SHARE = {
    "compute_hardware": 0.2,
    "chip_development": 0.25,
    "data_centers": 0.25,
    "ai_software": 0.3,
}
HIRING_MIX: dict[str, dict[str, float]] = {
    "compute_hardware": {"infrastructure_eng": 0.45, "network_eng": 0.35, "program_mgmt": 0.2},
    "chip_development": {
        "chip_design": 0.6,
        "software_eng": 0.2,
        "ml_engineering": 0.1,
        "program_mgmt": 0.1,
    },
    "data_centers": {
        "dc_operations": 0.55,
        "network_eng": 0.2,
        "infrastructure_eng": 0.15,
        "program_mgmt": 0.1,
    },
    "ai_software": {
        "ml_research": 0.25,
        "ml_engineering": 0.35,
        "software_eng": 0.3,
        "program_mgmt": 0.1,
    },
}


@dataclass
class Site:
    idx: int
    site_id: str
    name: str
    country: str
    region: str
    currency: str
    planned_mw: float
    budget_usd: int
    baselines: list[date]
    weights: tuple[float, ...]
    report_weekday: int  # 4..6: the weekday of its status date
    sensitivity: float  # how much program stress slips it
    phase: int  # weeks its stress curve is shifted by
    miss_rate: float  # chance it skips a weekly report


@dataclass
class Program:
    first_week: str
    n_weeks: int
    scale: Scale
    seed: int
    history_start: date = field(init=False)
    history_weeks: int = field(init=False)
    quarters: list[str] = field(init=False)
    sites: list[Site] = field(init=False)
    budget_plan: dict[str, dict[str, float]] = field(init=False)
    hiring_plan: dict[tuple[str, str], dict[str, int]] = field(init=False)

    def __post_init__(self) -> None:
        first = wk.week_start(self.first_week)
        earliest = first - timedelta(weeks=self.scale.history_weeks)
        q_first, _ = wk.quarter_bounds(wk.quarter_key(earliest))
        self.history_start = wk.week_start(wk.week_key(q_first))
        self.history_weeks = (first - self.history_start).days // 7
        plan_end = max(first + timedelta(weeks=104), first + timedelta(weeks=self.n_weeks + 13))
        self.quarters = []
        d = q_first
        while d <= plan_end:
            self.quarters.append(wk.quarter_key(d))
            d = wk.quarter_bounds(wk.quarter_key(d))[1] + timedelta(days=1)
        self.sites = self._make_sites()
        self.budget_plan = self._make_budget_plan()
        self.hiring_plan = self._make_hiring_plan()

    # calendar -----------------------------------------------------------------------------
    def week_start(self, k: int) -> date:
        return wk.week_start(self.first_week) + timedelta(weeks=k)

    def status_date(self, k: int) -> date:
        return self.week_start(k) + timedelta(days=6)

    def week_key(self, k: int) -> str:
        return wk.week_key(self.week_start(k))

    # plans --------------------------------------------------------------------------------
    def budget_to_date(self, workstream: str, d: date) -> float:
        return plan_to_date(self.budget_plan[workstream], d)

    def hires_planned_to_date(self, workstream: str, role_family: str, d: date) -> float:
        return plan_to_date(self.hiring_plan[(workstream, role_family)], d)

    def _make_sites(self) -> list[Site]:
        rng = rng_for(self.seed, "pmo", "sites", self.scale.name)
        counters: dict[str, int] = {}
        sites = []
        for i in range(self.scale.sites):
            cc = COUNTRY_CYCLE[i % len(COUNTRY_CYCLE)]
            region, currency, cities = COUNTRIES[cc]
            counters[cc] = counters.get(cc, 0) + 1
            n = counters[cc]
            city = cities[(n - 1) % len(cities)]
            campus = chr(ord("A") + (n - 1) // len(cities) % 26)
            mw = float(rng.integers(40, 241)) / 2  # 20 to 120 MW in halves
            budget = int(round(mw * rng.uniform(9.0, 13.0) * 1e6, -3))
            start = self.history_start + timedelta(
                days=int(rng.integers(0, self.scale.site_start_span_weeks * 7))
            )
            baselines = []
            d = start
            for gap in MILESTONE_GAP_DAYS:
                d = d + timedelta(days=round(gap * rng.uniform(0.8, 1.25)))
                baselines.append(d)
            kind = rng.random()
            sensitivity = -0.2 if kind < 0.15 else float(rng.uniform(0.4, 1.8))
            sites.append(
                Site(
                    idx=i,
                    site_id=f"DC-{cc}-{n:02d}",
                    name=f"{city} Campus {campus}",
                    country=cc,
                    region=region,
                    currency=currency,
                    planned_mw=mw,
                    budget_usd=budget,
                    baselines=baselines,
                    weights=WEIGHT_PATTERNS[int(rng.integers(len(WEIGHT_PATTERNS)))],
                    report_weekday=int(rng.integers(4, 7)),
                    sensitivity=sensitivity,
                    phase=int(rng.integers(-6, 7)),
                    miss_rate=float(rng.choice([0.0, 0.04, 0.1])),
                )
            )
        return sites

    def _make_budget_plan(self) -> dict[str, dict[str, float]]:
        plan: dict[str, dict[str, float]] = {}
        for ws, base in BASE_BUDGET.items():
            plan[ws] = {
                q: round(base * (1 + BUDGET_GROWTH) ** i, -3) for i, q in enumerate(self.quarters)
            }
        # Data centers: the sites' planned value, placed in the quarter of each baseline.
        dc = dict.fromkeys(self.quarters, 0.0)
        for s in self.sites:
            for b, w in zip(s.baselines, s.weights, strict=True):
                q = wk.quarter_key(b)
                if q in dc:
                    dc[q] += s.budget_usd * w
        plan["data_centers"] = {q: round(v, -3) for q, v in dc.items()}
        return {ws: plan[ws] for ws in WORKSTREAMS}

    def _make_hiring_plan(self) -> dict[tuple[str, str], dict[str, int]]:
        plan: dict[tuple[str, str], dict[str, int]] = {}
        for ws in WORKSTREAMS:
            mix = HIRING_MIX[ws]
            for i, q in enumerate(self.quarters):
                total = self.scale.hires_per_quarter * HIRING_SHARE[ws] * (0.8 + 0.05 * min(i, 8))
                counts = hamilton(round(total), np.array(list(mix.values())))
                for rf, c in zip(mix, counts, strict=True):
                    plan.setdefault((ws, rf), {})[q] = int(c)
        return plan

    # reference files ----------------------------------------------------------------------
    def reference_deliveries(self, day: date) -> list[Delivery]:
        sites = [
            [s.site_id, s.name, s.country, s.region, _num(s.planned_mw), str(s.budget_usd)]
            for s in self.sites
        ]
        mplan = [
            [s.site_id, code, b.isoformat(), _num(w)]
            for s in self.sites
            for code, b, w in zip(MILESTONES, s.baselines, s.weights, strict=True)
        ]
        bplan = [[ws, q, _num(v)] for ws in WORKSTREAMS for q, v in self.budget_plan[ws].items()]
        hplan = [
            [ws, rf, q, str(n)]
            for (ws, rf), by_q in self.hiring_plan.items()
            for q, n in by_q.items()
        ]
        files = [
            (
                "sites.csv",
                ["site_id", "site_name", "country", "region", "planned_mw", "budget_usd"],
                sites,
            ),
            ("milestone_plan.csv", ["site_id", "milestone_code", "baseline_date", "weight"], mplan),
            ("budget_plan.csv", ["workstream", "quarter", "budget_usd"], bplan),
            ("hiring_plan.csv", ["workstream", "role_family", "quarter", "planned_hires"], hplan),
        ]
        return [Delivery("reference", day, n, h, r, len(r)) for n, h, r in files]


def _num(x: float) -> str:
    """Shortest decimal text of a number (0.05, 42.5, 120)."""
    if float(x).is_integer():
        return str(int(x))
    return repr(float(x))


def plan_to_date(amounts: dict[str, float] | dict[str, int], d: date) -> float:
    """The plan due by `d`: the calendar's share of each quarter due, as the tables use it."""
    return sum(amount * wk.plan_share_to_date(q, d) for q, amount in amounts.items())
