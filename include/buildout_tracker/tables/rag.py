"""RAG bands of the program scorecard (docs/data-dictionary.md, `program_scorecard`): each
rule green, amber or red; an area's colour the worst of its rules; grey when a feed it
depends on is blocked or silent, or when no measure is rated."""

from __future__ import annotations

from buildout_tracker.tables.arrow import isnull

GREEN, AMBER, RED, GREY = "green", "amber", "red", "grey"
RAG_ORDER = {GREEN: 0, AMBER: 1, RED: 2}
RAG_VALUES = (GREEN, AMBER, RED, GREY)

# rule -> (amber floor, green floor) for rules where higher is better.
FLOOR_RULES: dict[str, tuple[float, float]] = {
    "spi": (0.90, 0.95),
    "cpi": (0.90, 0.95),
    "hiring_attainment": (0.85, 0.95),
    "otd_rate": (0.80, 0.90),
}
# spend_pace: green 0.85..1.10 inclusive, amber 0.75..<0.85 or >1.10..1.20, red beyond.
SPEND_PACE_BANDS = {"red_below": 0.75, "green_from": 0.85, "green_to": 1.10, "red_above": 1.20}
RATED_MEASURES: tuple[str, ...] = ("spi", "cpi", "spend_pace", "hiring_attainment", "otd_rate")


def _fmt(value: float, threshold: float) -> str:
    """Two decimals, more when two decimals would print the threshold itself."""
    shown = f"{value:.2f}"
    if shown == f"{threshold:.2f}" and value != threshold:
        shown = f"{value:.4f}"
    return shown


def band(rule: str, value: float | None) -> tuple[str | None, str | None]:
    """(colour, reason) of one rule; (None, None) when the measure is null (not rated).

    Values are compared after rounding to 9 decimals so that float noise in a sum (0.9499999999)
    cannot move a measure that is exactly on a boundary into the next band.
    """
    if value is None or isnull(value):
        return None, None
    v = round(float(value), 9)
    if rule in FLOOR_RULES:
        amber_floor, green_floor = FLOOR_RULES[rule]
        if v >= green_floor:
            return GREEN, None
        if v >= amber_floor:
            return AMBER, f"{rule} {_fmt(value, green_floor)} < {green_floor:.2f} (amber)"
        return RED, f"{rule} {_fmt(value, amber_floor)} < {amber_floor:.2f} (red)"
    if rule == "spend_pace":
        b = SPEND_PACE_BANDS
        if b["green_from"] <= v <= b["green_to"]:
            return GREEN, None
        if v < b["red_below"]:
            return RED, f"{rule} {_fmt(value, b['red_below'])} < {b['red_below']:.2f} (red)"
        if v < b["green_from"]:
            return AMBER, f"{rule} {_fmt(value, b['green_from'])} < {b['green_from']:.2f} (amber)"
        if v <= b["red_above"]:
            return AMBER, f"{rule} {_fmt(value, b['green_to'])} > {b['green_to']:.2f} (amber)"
        return RED, f"{rule} {_fmt(value, b['red_above'])} > {b['red_above']:.2f} (red)"
    raise KeyError(f"no RAG rule {rule!r}")
