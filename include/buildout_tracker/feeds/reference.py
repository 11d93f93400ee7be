"""reference: `sites.csv`, `milestone_plan.csv`, `budget_plan.csv`, `hiring_plan.csv`.

Severities: row rules critical (quarantine). Table-level critical rules on
milestone_plan: a site's weights sum to 1 (`weights_sum_to_one`) and its baseline dates
are non-decreasing in milestone order (`baselines_in_order`); either failing blocks the
feed's week, and the previous plan stays in force. `site_id_unique` on sites: a duplicated
site would count its budget twice, so all its rows are quarantined.
"""

from __future__ import annotations

import pandas as pd

from .enums import (
    COUNTRY_PATTERN,
    MILESTONE_CODES,
    MILESTONE_ORDER,
    QUARTER_PATTERN,
    REGIONS,
    ROLE_FAMILIES,
    WORKSTREAMS,
)
from .rules import between, helper_rule, unique
from .schema import Column, RuleContext
from .spec import FileSpec

WEIGHT_TOLERANCE = 1e-6

SITE_COLUMNS = (
    Column("site_id", "text", required=True),
    Column("site_name", "text", pii="free_text"),
    Column("country", "text", required=True, pattern=COUNTRY_PATTERN),
    Column("region", "text", required=True, enum=REGIONS),
    Column("planned_mw", "decimal", required=True),
    Column("budget_usd", "decimal", required=True),
)
SITE_RULES = (
    unique(("site_id",), "site_id_unique"),
    between("planned_mw", "planned_mw_positive", "planned_mw > 0", min_value=0, strict_min=True),
    between("budget_usd", "budget_usd_positive", "budget_usd > 0", min_value=0, strict_min=True),
)

PLAN_COLUMNS = (
    Column("site_id", "text", required=True),
    Column("milestone_code", "text", required=True, enum=MILESTONE_CODES),
    Column("baseline_date", "date", required=True),
    Column("weight", "decimal", required=True),
)


def _weight_sum_gap(f: pd.DataFrame, ctx: RuleContext) -> pd.Series:
    total = f["weight"].groupby(f["site_id"], dropna=False).transform("sum")
    return (total - 1.0).where(f["site_id"].notna(), 0.0)


def _baseline_order_violations(f: pd.DataFrame, ctx: RuleContext) -> pd.Series:
    """Per row: earlier milestones of the site whose baseline is after this one's."""
    out = pd.Series(0.0, index=f.index)
    base = pd.DataFrame(
        {
            "site_id": f["site_id"].astype(object),
            "order": f["milestone_code"].map(MILESTONE_ORDER).astype("float64"),
            "baseline": f["baseline_date"],
        }
    )
    base = base[base["order"].notna() & base["site_id"].notna()]
    pairs = base.reset_index(names="idx").merge(base, on="site_id", suffixes=("", "_e"))
    bad = (pairs["order_e"] < pairs["order"]) & (pairs["baseline_e"] > pairs["baseline"]).fillna(
        False
    ).astype(bool)
    counts = pairs[bad.to_numpy()].groupby("idx").size()
    out.loc[counts.index] = counts.to_numpy(dtype="float64")
    return out


PLAN_RULES = (
    between("weight", "weight_non_negative", "weight >= 0", min_value=0),
    helper_rule(
        "weights_sum_to_one",
        "critical",
        "table",
        "a site's milestone weights sum to 1",
        ("site_id", "weight"),
        "_site_weight_sum_minus_1",
        _weight_sum_gap,
        -WEIGHT_TOLERANCE,
        WEIGHT_TOLERANCE,
    ),
    helper_rule(
        "baselines_in_order",
        "critical",
        "table",
        "baseline dates are non-decreasing in milestone order",
        ("site_id", "milestone_code", "baseline_date"),
        "_baseline_order_violations",
        _baseline_order_violations,
        0,
        0,
    ),
)

BUDGET_COLUMNS = (
    Column("workstream", "text", required=True, enum=WORKSTREAMS),
    Column("quarter", "text", required=True, pattern=QUARTER_PATTERN),
    Column("budget_usd", "decimal", required=True),
)
BUDGET_RULES = (between("budget_usd", "budget_usd_non_negative", "budget_usd >= 0", min_value=0),)

HIRING_PLAN_COLUMNS = (
    Column("workstream", "text", required=True, enum=WORKSTREAMS),
    Column("role_family", "text", required=True, enum=ROLE_FAMILIES),
    Column("quarter", "text", required=True, pattern=QUARTER_PATTERN),
    Column("planned_hires", "integer", required=True),
)
HIRING_PLAN_RULES = (
    between("planned_hires", "planned_hires_non_negative", "planned_hires >= 0", min_value=0),
)

SITES = FileSpec("reference", "sites", r"sites\.csv", SITE_COLUMNS, SITE_RULES)
MILESTONE_PLAN = FileSpec(
    "reference", "milestone_plan", r"milestone_plan\.csv", PLAN_COLUMNS, PLAN_RULES
)
BUDGET_PLAN = FileSpec(
    "reference", "budget_plan", r"budget_plan\.csv", BUDGET_COLUMNS, BUDGET_RULES
)
HIRING_PLAN = FileSpec(
    "reference", "hiring_plan", r"hiring_plan\.csv", HIRING_PLAN_COLUMNS, HIRING_PLAN_RULES
)
SPECS = (SITES, MILESTONE_PLAN, BUDGET_PLAN, HIRING_PLAN)
