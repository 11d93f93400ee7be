"""How the report writes numbers, in its sentences and its page: one way each."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from buildout_tracker.tables import rag

MINUS = "-"  # ASCII: sentences are copied into e-mails, chats and tickets


def isnull(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float) and math.isnan(v)


def tuples(df: pd.DataFrame, index: bool = True) -> list[Any]:
    """A frame's rows as named tuples (typed loosely: columns are known by name only)."""
    return list(df.itertuples(index=index))


def dicts(df: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as dicts keyed by column name."""
    return [{str(k): v for k, v in r.items()} for r in df.to_dict("records")]


def num(v: Any) -> float | None:
    """A float, or None for null, NaN, NA."""
    if isnull(v):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def usd(v: Any, signed: bool = False) -> str:
    """$1.23B, $456.7M, $12.3K, $950; signed: +$4.7M, -$4.7M; n/a for null."""
    f = num(v)
    if f is None:
        return "n/a"
    sign = ("+" if f > 0 else MINUS if f < 0 else "") if signed else (MINUS if f < 0 else "")
    a = abs(f)
    if a >= 1e9:
        body = f"{a / 1e9:,.2f}B"
    elif a >= 1e6:
        body = f"{a / 1e6:,.1f}M"
    elif a >= 1e3:
        body = f"{a / 1e3:,.1f}K"
    else:
        body = f"{a:,.0f}"
    return f"{sign}${body}"


def thresholds(rule: str) -> tuple[float, ...]:
    if rule in rag.FLOOR_RULES:
        return rag.FLOOR_RULES[rule]
    if rule == "spend_pace":
        return tuple(rag.SPEND_PACE_BANDS.values())
    return ()


def ratio(v: Any, rule: str | None = None) -> str:
    """Two decimals; four when two would print a band's threshold the value is not on."""
    f = num(v)
    if f is None:
        return "n/a"
    shown = f"{f:.2f}"
    for t in thresholds(rule) if rule else ():
        if shown == f"{t:.2f}" and round(f, 9) != t:
            return f"{f:.4f}"
    return shown


def signed(v: Any, digits: int = 2, unit: str = "") -> str:
    f = num(v)
    if f is None:
        return "n/a"
    if round(f, digits) == 0:
        return f"0{unit}" if digits == 0 else f"{0:.{digits}f}{unit}"
    sign = "+" if f > 0 else MINUS
    return f"{sign}{abs(f):,.{digits}f}{unit}"


def count(v: Any) -> str:
    f = num(v)
    return "n/a" if f is None else f"{f:,.0f}"


def measure(name: str, v: Any) -> str:
    """A scorecard measure as a tile shows it."""
    if name.endswith("_usd"):
        return usd_short(v)
    return ratio(v, name)


def measure_change(name: str, v: Any) -> str:
    """A tile's change since last week: USD to three significant figures, ratios to 0.001."""
    if name.endswith("_usd"):
        return usd_short(v, signed=True)
    return signed(v, 3)


def usd_short(v: Any, signed: bool = False) -> str:
    """Like `usd`, three significant figures: $212M, $8.8M, $1.02B."""
    f = num(v)
    if f is None:
        return "n/a"
    sign = ("+" if f > 0 else MINUS if f < 0 else "") if signed else (MINUS if f < 0 else "")
    a = abs(f)
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if a >= div:
            x = a / div
            body = f"{x:.0f}" if x >= 100 else f"{x:.1f}" if x >= 10 else f"{x:.2f}"
            return f"{sign}${body}{suffix}"
    return f"{sign}${a:.0f}"


def money_m(v: Any) -> str:
    """USD in millions with two decimals, for the tables under the charts."""
    f = num(v)
    return "" if f is None else f"{f / 1e6:,.2f}"


def cell(v: Any, digits: int = 4) -> str:
    """A ratio or count in a table: empty for null."""
    f = num(v)
    if f is None:
        return ""
    if float(f).is_integer() and digits == 0:
        return f"{int(f):,}"
    return f"{f:.{digits}f}"


def label(name: str) -> str:
    """A measure's name as people say it."""
    return LABELS.get(name, name.replace("_", " "))


def area_name(area: str) -> str:
    """An area as the program office says it (the code stays in the data)."""
    return AREA_NAMES.get(area, area.replace("_", " ").capitalize())


AREA_NAMES = {
    "program": "Program",
    "ai_software": "AI software",
    "chip_development": "Chip development",
    "compute_hardware": "Compute hardware",
    "data_centers": "Data centers",
}
LABELS = {
    "committed_usd": "Committed",
    "received_usd": "Received",
    "budget_total_usd": "Budget total",
    "budget_to_date_usd": "Budget to date",
    "spend_pace": "Spend pace",
    "spi": "SPI",
    "cpi": "CPI",
    "hiring_attainment": "Hiring",
    "otd_rate": "On-time",
    "bac_usd": "BAC",
    "eac_usd": "EAC",
    "vac_usd": "VAC",
    "tcpi": "TCPI",
}
