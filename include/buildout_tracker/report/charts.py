"""The report's charts: each one's numbers (the table the page carries under it) and its
Vega-Lite specification, rendered to SVG on the server by vl-convert.

The specifications are Vega-Lite JSON written as plain dicts: the grammar altair builds, without
altair's object layer, which cost 2 CPU seconds a report (import, chart objects, `to_dict`) of
the 3 the report may take; the tests check every specification against the Vega-Lite schema
altair ships (`tests/report/test_charts.py`).

Rendering is done in the task that builds the report, never at import: a process that has
used vl-convert and then forks gets a child that hangs on its first conversion. Vega lays out
dates in the process's time zone, so `render` pins TZ=UTC first and every date scale is a UTC
scale: the same tables give byte-identical SVG wherever the report is built.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from buildout_tracker import registry
from buildout_tracker.report import fmt
from buildout_tracker.report.changes import area_order, delivery_record
from buildout_tracker.report.history import History
from buildout_tracker.tables import rag
from buildout_tracker.tables.definitions import PROGRAM
from buildout_tracker.weeks import status_date

VL_VERSION = "6.4"  # the Vega-Lite of vl-convert 1.9 (altair 6.3 ships schema v6.4.1)
WIDTH = 700  # plot width, px: about 780 with axes, scaled to the page width in print
SMALL_WIDTH, SMALL_HEIGHT = 210, 120
SITES_SHOWN = 6  # small multiples: the sites that slip most
TREND_SITES = 8  # milestone trend: the sites that slip most
ZOOM_WEEKS = 13  # the program S-curve's zoomed panel: about a quarter
LETTERS_UP_TO = 26  # grids print a letter in each cell up to this many weeks

FONT = "Helvetica, Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif"
INK, MUTED = "#1f2933", "#52606d"
RAG_COLOURS = {
    rag.GREEN: "#2e7d32",
    rag.AMBER: "#e8a200",
    rag.RED: "#c62828",
    rag.GREY: "#8a939b",
}
BAND_OPACITY = 0.13
SERIES = {"PV": "#7b8794", "EV": "#1565c0", "AC": "#d84315"}
SERIES_DASH = {"PV": [5, 3], "EV": [1, 0], "AC": [1, 0]}
BAC_COLOUR, EAC_COLOUR = "#3e4c59", "#c62828"
AREA_COLOURS = {
    PROGRAM: "#1f2933",
    "compute_hardware": "#1565c0",
    "chip_development": "#7b1fa2",
    "data_centers": "#00838f",
    "ai_software": "#8d6e63",
}
SITE_PALETTE = (
    "#1565c0",
    "#7b1fa2",
    "#00838f",
    "#8d6e63",
    "#c2185b",
    "#546e7a",
    "#9e9d24",
    "#ef6c00",
)
DQ_STATES = {  # a feed's week, worst first, and its colour
    "blocked": RAG_COLOURS[rag.RED],
    "silent": "#5f6b75",
    "refused": RAG_COLOURS[rag.AMBER],
    "late": "#4f9fd9",
    "duplicates": "#b39ddb",
    "delivered": RAG_COLOURS[rag.GREEN],
    "not due": "#e4e7eb",
}
DQ_LETTERS = {
    "blocked": "B",
    "silent": "S",
    "refused": "R",
    "late": "L",
    "duplicates": "D",
    "delivered": "",
    "not due": "",
}
RAG_LETTERS = {rag.GREEN: "G", rag.AMBER: "A", rag.RED: "R", rag.GREY: "-"}
CONFIG: dict[str, Any] = {
    "font": FONT,
    "background": "white",
    # Room beside the plot for text: vl-convert measures labels narrower than a browser with
    # only DejaVu fonts draws them (bold end labels about 13 % wider: 20 px on the longest),
    # and an SVG cuts what passes its edge (`tests/report/test_browser.py`).
    "padding": {"left": 16, "top": 4, "right": 40, "bottom": 4},
    "view": {"stroke": None},
    "axis": {
        "labelFontSize": 11,
        "titleFontSize": 11,
        "titleFontWeight": "normal",
        "labelColor": MUTED,
        "titleColor": MUTED,
        "gridColor": "#eef0f2",
        "domainColor": "#9aa5b1",
        "tickColor": "#9aa5b1",
    },
    "title": {
        "fontSize": 13,
        "anchor": "start",
        "color": INK,
        "fontWeight": 600,
        "subtitleColor": MUTED,
        "subtitleFontSize": 11,
    },
    "concat": {"spacing": 24},
}


@dataclass
class Figure:
    """One chart of the page: its specification, then its SVG; its caption; its numbers."""

    id: str
    title: str
    caption: str
    columns: list[str]
    rows: list[list[str]]
    spec: dict[str, Any] | None = None
    svg: str = ""
    legend: list[tuple[str, str, str]] = field(default_factory=list)  # (label, colour, style)
    dense: bool = False  # many marks: rendered without per-mark ARIA labels (the table has them)


# -- Vega-Lite pieces --------------------------------------------------------------------------


def values(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Inline data, JSON-safe (NaN, NA and NaT are null)."""
    out = []
    for r in rows:
        out.append({k: (None if fmt.isnull(v) else v) for k, v in r.items()})
    return {"values": out}


def iso(d: Any) -> str:
    return d.isoformat()[:10] if hasattr(d, "isoformat") else str(d)[:10]


def status(week: str) -> str:
    return status_date(week).isoformat()


def time_x(
    n_weeks: int, field: str = "date", grid: bool = True, width: int = WIDTH
) -> dict[str, Any]:
    """A UTC date axis with ticks that suit the span and the width: weeks up to 20 weeks (at
    most one label per 75 px), else months."""
    if n_weeks <= 20:
        step = max(1, math.ceil(n_weeks / max(1, width // 75)))
        tick: dict[str, Any] = {"interval": "week", "step": step}
        form = "%d %b"
    else:
        months = n_weeks / 4.35
        step = max(1, math.ceil(months / max(1, width // 75)))
        tick = {"interval": "month", "step": 3 if step > 2 else step}
        form = "%b %Y"
    return {
        "field": field,
        "type": "temporal",
        "title": None,
        "scale": {"type": "utc"},
        "axis": {"format": form, "tickCount": tick, "labelAngle": 0, "grid": grid,
                 "labelOverlap": True},
    }  # fmt: skip


def week_x(weeks: Sequence[str]) -> dict[str, Any]:
    """Weeks as columns (grids): every label up to 26 weeks, else one in four."""
    axis: dict[str, Any] = {"title": None, "labelAngle": 0, "ticks": False, "domain": False,
                            "labelFontSize": 10, "orient": "top"}  # fmt: skip
    if len(weeks) <= LETTERS_UP_TO:
        axis["labelExpr"] = "substring(datum.value, 5)"
    else:
        shown = [w for i, w in enumerate(weeks) if i % 4 == 0]
        axis["labelExpr"] = f"indexof({shown!r}, datum.value) >= 0 ? datum.value : ''"
        axis["labelAngle"] = -45
        axis["labelAlign"] = "left"
    return {"field": "week", "type": "ordinal", "sort": list(weeks), "axis": axis,
            "scale": {"paddingInner": 0.08 if len(weeks) <= LETTERS_UP_TO else 0.0}}  # fmt: skip


def _points(n_weeks: int, size: int) -> dict[str, Any]:
    """A dot on each week while weeks can be told apart (up to 26), plain lines beyond."""
    return {"point": {"size": size, "filled": True}} if n_weeks <= LETTERS_UP_TO else {}


def nominal(field: str, colours: dict[str, str], legend: bool = False) -> dict[str, Any]:
    enc: dict[str, Any] = {
        "field": field,
        "type": "nominal",
        "scale": {"domain": list(colours), "range": list(colours.values())},
    }
    enc["legend"] = {"title": None, "orient": "top"} if legend else None
    return enc


def nice_domain(vals: Iterable[float], lo: float, hi: float, step: float) -> list[float]:
    """[lo, hi] widened to the values (plus half a step), on multiples of `step`."""
    v = [x for x in vals if x is not None and not math.isnan(x)]
    low = min([lo, *(x - step / 2 for x in v)])
    high = max([hi, *(x + step / 2 for x in v)])
    return [round(math.floor(low / step) * step, 9), round(math.ceil(high / step) * step, 9)]


def dodge(vals: Sequence[float], min_gap: float) -> list[float]:
    """Label positions near `vals` (same order), at least `min_gap` apart: labels that would
    overlap are spread evenly around their mean; a label with room keeps its value."""
    order = sorted(range(len(vals)), key=lambda i: (vals[i], i))
    clusters: list[list[int]] = []

    def start(c: list[int]) -> float:
        return sum(vals[i] for i in c) / len(c) - min_gap * (len(c) - 1) / 2

    for i in order:
        clusters.append([i])
        while len(clusters) > 1:
            a, b = clusters[-2], clusters[-1]
            if start(a) + min_gap * (len(a) - 1) + min_gap <= start(b) + 1e-12:
                break
            clusters[-2:] = [a + b]
    out = [0.0] * len(vals)
    for c in clusters:
        s0 = start(c)
        for k, i in enumerate(c):
            out[i] = s0 + k * min_gap
    return out


def bands(rule: str, domain: list[float]) -> list[tuple[float, float, str]]:
    """The RAG bands of a rule inside `domain`: (from, to, colour)."""
    lo, hi = domain
    if rule in rag.FLOOR_RULES:
        amber, green = rag.FLOOR_RULES[rule]
        raw = [(lo, amber, rag.RED), (amber, green, rag.AMBER), (green, hi, rag.GREEN)]
    else:
        b = rag.SPEND_PACE_BANDS
        raw = [
            (lo, b["red_below"], rag.RED),
            (b["red_below"], b["green_from"], rag.AMBER),
            (b["green_from"], b["green_to"], rag.GREEN),
            (b["green_to"], b["red_above"], rag.AMBER),
            (b["red_above"], hi, rag.RED),
        ]
    return [(max(a, lo), min(z, hi), c) for a, z, c in raw if min(z, hi) > max(a, lo)]


def band_layers(rule: str, domain: list[float], title: str) -> list[dict[str, Any]]:
    """One fixed-colour rectangle layer per band (a colour scale would merge with the lines')."""
    scale = {"domain": domain, "nice": False, "zero": False}
    return [
        {
            "data": values([{"y0": a, "y1": z}]),
            "mark": {"type": "rect", "color": RAG_COLOURS[c], "opacity": BAND_OPACITY},
            "encoding": {
                "y": {"field": "y0", "type": "quantitative", "title": title, "scale": scale},
                "y2": {"field": "y1"},
            },
        }
        for a, z, c in bands(rule, domain)
    ]


def band_legend(rule: str) -> list[tuple[str, str, str]]:
    """The bands of a rule as legend entries (pale boxes, as drawn behind the lines)."""
    if rule in rag.FLOOR_RULES:
        amber, green = rag.FLOOR_RULES[rule]
        text = {rag.GREEN: f"green band: {green:.2f} or more",
                rag.AMBER: f"amber: {amber:.2f} to below {green:.2f}",
                rag.RED: f"red: below {amber:.2f}"}  # fmt: skip
    else:
        b = rag.SPEND_PACE_BANDS
        text = {rag.GREEN: f"green band: {b['green_from']:.2f} to {b['green_to']:.2f}",
                rag.AMBER: f"amber: {b['red_below']:.2f} to {b['green_from']:.2f}, "
                           f"{b['green_to']:.2f} to {b['red_above']:.2f}",
                rag.RED: "red: beyond"}  # fmt: skip
    return [(text[c], RAG_COLOURS[c], "band") for c in (rag.GREEN, rag.AMBER, rag.RED)]


def end_labels(
    last: list[dict[str, Any]],
    domain: list[float],
    colours: dict[str, str],
    height: float,
    group: str,
    px: float = 13,
) -> dict[str, Any]:
    """Labels at the right end of the lines (`date`, `y`, `label`, group), moved apart so that
    none overlaps another."""  # fmt: skip
    span = (domain[1] - domain[0]) or 1.0
    ys = dodge([r["y"] for r in last], px * span / height)
    rows = [{**r, "_y": y} for r, y in zip(last, ys, strict=True)]
    return {
        "data": values(rows),
        "mark": {"type": "text", "align": "left", "dx": 7, "fontSize": 11, "fontWeight": 600},
        "encoding": {
            "x": {"field": "date", "type": "temporal"},
            "y": {"field": "_y", "type": "quantitative"},
            "text": {"field": "label", "type": "nominal"},
            "color": nominal(group, colours),
        },
    }


# -- earned value ------------------------------------------------------------------------------


def ev_series(sites: pd.DataFrame) -> pd.DataFrame:
    """Cumulative PV, EV, AC and BAC by week (sums over the given site rows)."""
    cols = ["pv_usd", "ev_usd", "ac_usd", "bac_usd"]
    if not len(sites):
        return pd.DataFrame(columns=["week", *cols])
    return sites.groupby("week", sort=True)[cols].sum().reset_index()


def s_curve_spec(
    series: pd.DataFrame, bac: float | None, eac: float | None, title: str | dict[str, Any],
    n_weeks: int, width: int = WIDTH, height: int = 270, small: bool = False,
    zoom: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """PV, EV and AC lines from 0 with the BAC and EAC rules; `zoom`: the lines only, on a scale
    fitted to them (the weeks' movements, which the full scale flattens)."""
    long: list[dict[str, Any]] = [
        {"date": status(r.week), "series": name, "usd_m": float(getattr(r, col)) / 1e6}
        for r in fmt.tuples(series)
        for name, col in (("PV", "pv_usd"), ("EV", "ev_usd"), ("AC", "ac_usd"))
    ]
    top = max([*(x["usd_m"] for x in long), (bac or 0) / 1e6, (eac or 0) / 1e6, 1e-9])
    domain = [0.0, top * 1.1]
    if zoom:
        lo, hi = min(x["usd_m"] for x in long), max(x["usd_m"] for x in long)
        pad = max((hi - lo) * 0.08, hi * 0.002, 1e-6)
        domain = [max(0.0, lo - pad), hi + pad]
        bac = eac = None
    lines = {
        "data": values(long),
        "mark": {"type": "line", "strokeWidth": 1.7 if small else 2.4},
        "encoding": {
            "x": time_x(max(n_weeks, 30) if small else n_weeks, width=width),
            "y": {"field": "usd_m", "type": "quantitative",
                  "title": None if small else "cumulative, $M",
                  "scale": {"domain": domain, "nice": False, "zero": False},
                  "axis": {"format": ",.0f", "tickCount": 3 if small else 6}},
            "color": nominal("series", SERIES),
            "strokeDash": {"field": "series", "type": "nominal", "legend": None,
                           "scale": {"domain": list(SERIES_DASH), "range": list(SERIES_DASH.values())}},
        },
    }  # fmt: skip
    layers: list[dict[str, Any]] = [lines]
    refs = [(n, v, c, d) for n, v, c, d in (("BAC", bac, BAC_COLOUR, [6, 3]),
                                             ("EAC", eac, EAC_COLOUR, [2, 2])) if v]  # fmt: skip
    for _, v, colour, dash in refs:
        layers.append(
            {
                "data": values([{"v": v / 1e6}]),
                "mark": {"type": "rule", "color": colour, "strokeDash": dash, "strokeWidth": 1.3},
                "encoding": {"y": {"field": "v", "type": "quantitative"}},
            }
        )
    px = (domain[1] - domain[0]) / height
    labels: list[dict[str, Any]] = [
        {"v": v / 1e6, "label": f"{n} {fmt.usd(v)}", "name": n} for n, v, _, _ in refs
    ]
    if len(labels) == 2 and abs(labels[0]["v"] - labels[1]["v"]) < 15 * px:
        labels = [{"v": max(x["v"] for x in labels), "name": "both",
                   "label": " / ".join(x["label"] for x in labels)}]  # fmt: skip
    for lab in labels:
        below = lab["name"] == "BAC" and len(labels) == 2 and lab["v"] < max(x["v"] for x in labels)
        layers.append(
            {
                "data": values([lab]),
                "mark": {"type": "text", "align": "right", "baseline": "top" if below else "bottom",
                         "dy": 3 if below else -3, "fontSize": 10 if small else 11, "color": INK},
                "encoding": {"y": {"field": "v", "type": "quantitative"},
                             "x": {"value": width - 2}, "text": {"field": "label"}},
            }
        )  # fmt: skip
    return {"layer": layers, "width": width, "height": height, "title": title}


def ev_legend() -> list[tuple[str, str, str]]:
    return [
        ("PV planned value", SERIES["PV"], "dashed"),
        ("EV earned value", SERIES["EV"], "solid"),
        ("AC actual cost", SERIES["AC"], "solid"),
        ("BAC budget at completion", BAC_COLOUR, "dashed"),
        ("EAC estimate at completion (BAC / CPI)", EAC_COLOUR, "dotted"),
    ]


def _program_row(h: History) -> dict[str, Any]:
    sc = h.part("scorecard", h.week)
    prog = sc[sc["area"] == PROGRAM]
    return fmt.dicts(prog.iloc[:1])[0] if len(prog) else {}


def s_curve_program(h: History) -> Figure:
    series = ev_series(h.part("sites"))
    prog = _program_row(h)
    bac, eac = fmt.num(prog.get("bac_usd")), fmt.num(prog.get("eac_usd"))
    if bac is None and len(series):
        bac = float(series["bac_usd"].iloc[-1])
    rows = [
        [r.week, status(r.week), fmt.money_m(r.pv_usd), fmt.money_m(r.ev_usd),
         fmt.money_m(r.ac_usd)]
        for r in fmt.tuples(series)
    ]  # fmt: skip
    fig = Figure(
        "s-curve",
        "Earned value: program S-curve",
        "Cumulative planned value (PV), earned value (EV) and actual cost (AC) of all the "
        f"data-center sites, $M, week by week up to {h.week}, with the budget at completion "
        f"(BAC {fmt.usd(bac)}) and the estimate at completion (EAC = BAC / CPI, {fmt.usd(eac)}).",
        ["week", "status date", "PV $M", "EV $M", "AC $M"],
        rows,
        legend=ev_legend(),
    )
    if len(series):
        recent = series.tail(ZOOM_WEEKS)
        fig.spec = {
            "hconcat": [
                s_curve_spec(series, bac, eac, {"text": "Program: all data-center sites",
                             "subtitle": "from 0, with BAC and EAC"}, len(h.weeks), 330),
                s_curve_spec(recent, None, None, {"text": f"The last {len(recent)} weeks",
                             "subtitle": "zoomed to the lines"}, len(recent), 330, zoom=True),
            ],
            "spacing": 40,
        }  # fmt: skip
    return fig


def slipping_sites(h: History, n: int) -> list[str]:
    """The sites whose go-live slips most this week (most first, then by site id)."""
    now = h.part("sites", h.week)
    pairs = []
    for site, slip in zip(now["site_id"], now["go_live_slip_days"], strict=True):
        v = fmt.num(slip)
        pairs.append((-(v if v is not None else -1e9), str(site)))
    return [s for _, s in sorted(pairs)[:n]]


def s_curve_sites(h: History) -> Figure:
    chosen = slipping_sites(h, SITES_SHOWN)
    sites = h.part("sites")
    now = {str(r["site_id"]): r for r in fmt.dicts(h.part("sites", h.week))}
    cells: list[dict[str, Any]] = []
    rows: list[list[str]] = []
    for site in chosen:
        r = now[site]
        series = ev_series(sites[sites["site_id"] == site])
        bac, eac, slip = (fmt.num(r.get(c)) for c in ("bac_usd", "eac_usd", "go_live_slip_days"))
        name = "" if fmt.isnull(r.get("site_name")) else str(r["site_name"])
        title = {
            "text": f"{site} {name}".strip(),
            "subtitle": "go-live on baseline" if not slip else
            f"go-live {fmt.signed(slip, 0)} days {'late' if slip > 0 else 'early'}",
            "fontSize": 11,
            "limit": SMALL_WIDTH,
        }  # fmt: skip
        cells.append(
            s_curve_spec(series, bac, eac, title, len(h.weeks), SMALL_WIDTH, SMALL_HEIGHT, True)
        )
        rows.extend(
            [site, s.week, fmt.money_m(s.pv_usd), fmt.money_m(s.ev_usd), fmt.money_m(s.ac_usd),
             fmt.money_m(bac), fmt.money_m(eac)]
            for s in fmt.tuples(series)
        )  # fmt: skip
    fig = Figure(
        "s-curve-sites",
        f"Earned value: the {len(chosen)} sites that slip most",
        f"Cumulative PV, EV and AC, $M, of the {len(chosen)} sites whose go-live forecast is "
        f"furthest behind its baseline in {h.week} (most first), each with its BAC and EAC.",
        ["site", "week", "PV $M", "EV $M", "AC $M", "BAC $M", "EAC $M"],
        rows,
        legend=ev_legend(),
    )
    if cells:
        fig.spec = {
            "vconcat": [{"hconcat": cells[i : i + 3]} for i in range(0, len(cells), 3)],
            "spacing": 22,
        }
    return fig


# -- ratios on their RAG bands -----------------------------------------------------------------


def ratio_spec(
    data: list[dict[str, Any]], group: str, colours: dict[str, str], rule: str,
    floor: tuple[float, float], title: str, y_title: str, n_weeks: int,
    dashes: dict[str, list[int]] | None = None, height: int = 260,
) -> dict[str, Any]:  # fmt: skip
    """Lines of `value` by `group` over `date`, on the bands of `rule`, labelled at the end."""
    data = [d for d in data if d["value"] is not None]
    domain = nice_domain([d["value"] for d in data], *floor, 0.05)
    present = [g for g in colours if any(d[group] == g for d in data)]
    shown = {g: colours[g] for g in present}
    dashes = dashes or {}
    lines = {
        "data": values(data),
        "mark": {"type": "line", "strokeWidth": 2.2, **_points(n_weeks, 16)},
        "encoding": {
            "x": time_x(n_weeks, width=WIDTH - 90),
            "y": {"field": "value", "type": "quantitative",
                  "scale": {"domain": domain, "nice": False, "zero": False}},
            "color": nominal(group, shown),
            "strokeDash": {"field": group, "type": "nominal", "legend": None,
                           "scale": {"domain": present,
                                     "range": [dashes.get(g, [1, 0]) for g in present]}},
        },
    }  # fmt: skip
    last_date = max((d["date"] for d in data), default=None)
    last = [
        {"date": d["date"], group: d[group], "y": d["value"],
         "label": f"{d[group]} {fmt.ratio(d['value'], rule)}"}
        for d in data if d["date"] == last_date
    ]  # fmt: skip
    layers = [*band_layers(rule, domain, y_title), lines]
    if last:
        layers.append(end_labels(last, domain, shown, height, group))
    return {"layer": layers, "width": WIDTH - 90, "height": height, "title": title}


def _area_values(h: History, measure: str) -> list[dict[str, Any]]:
    sc = h.part("scorecard")
    return [
        {"week": w, "date": status(w), "area": a, "value": fmt.num(v)}
        for w, a, v in zip(sc["week"], sc["area"], sc[measure], strict=True)
    ]


def area_legend() -> list[tuple[str, str, str]]:
    return [(a, c, "dashed" if a == PROGRAM else "solid") for a, c in AREA_COLOURS.items()]


def cpi_spi(h: History) -> Figure:
    sc = h.part("scorecard")
    prog = sc[sc["area"] == PROGRAM]
    rows: list[list[str]] = []
    data: list[dict[str, Any]] = []
    for r in fmt.tuples(prog):
        spi, cpi = fmt.num(r.spi), fmt.num(r.cpi)
        rows.append([r.week, status(r.week), fmt.cell(spi), fmt.cell(cpi),
                     rag.band("spi", spi)[0] or "", rag.band("cpi", cpi)[0] or ""])  # fmt: skip
        data += [
            {"week": r.week, "date": status(r.week), "index": "CPI", "value": cpi},
            {"week": r.week, "date": status(r.week), "index": "SPI", "value": spi},
        ]
    colours = {"CPI": "#0d47a1", "SPI": "#6a1b9a"}
    fig = Figure(
        "cpi-spi",
        "Cost and schedule performance: CPI and SPI",
        "The program's cost performance index (CPI = EV / AC) and schedule performance index "
        "(SPI = EV / PV), week by week, on the bands of both rules: green 0.95 or more, amber "
        "0.90 to below 0.95, red below 0.90.",
        ["week", "status date", "SPI", "CPI", "SPI band", "CPI band"],
        rows,
        legend=[
            ("CPI", colours["CPI"], "solid"),
            ("SPI", colours["SPI"], "dashed"),
            *band_legend("spi"),
        ],
    )
    fig.spec = ratio_spec(data, "index", colours, "spi", (0.80, 1.10), "Program CPI and SPI",
                          "index", len(h.weeks), dashes={"SPI": [6, 3]})  # fmt: skip
    return fig


def spend_pace(h: History) -> Figure:
    sc = h.part("scorecard")
    rows = [
        [w, a, fmt.money_m(rec), fmt.money_m(bud), fmt.cell(p),
         rag.band("spend_pace", fmt.num(p))[0] or ""]
        for w, a, rec, bud, p in zip(sc["week"], sc["area"], sc["received_usd"],
                                     sc["budget_to_date_usd"], sc["spend_pace"], strict=True)
    ]  # fmt: skip
    fig = Figure(
        "spend-pace",
        "Spend pace against budget to date",
        "Received (actual cost) over the budget plan prorated to the status date, by area, week "
        "by week: green 0.85 to 1.10, amber 0.75 to below 0.85 or above 1.10 up to 1.20, red "
        "beyond.",
        ["week", "area", "received $M", "budget to date $M", "spend pace", "band"],
        rows,
        legend=[*area_legend(), *band_legend("spend_pace")],
    )
    fig.spec = ratio_spec(_area_values(h, "spend_pace"), "area", AREA_COLOURS, "spend_pace",
                          (0.65, 1.30), "Spend pace by area (received / budget to date)",
                          "spend pace", len(h.weeks), dashes={PROGRAM: [6, 3]})  # fmt: skip
    return fig


def hiring(h: History) -> Figure:
    hire = h.part("hiring")
    att = {(w, a): v for w, a, v in zip(h.part("scorecard")["week"], h.part("scorecard")["area"],
                                        h.part("scorecard")["hiring_attainment"], strict=True)}  # fmt: skip
    rows: list[list[str]] = []
    if len(hire):
        g = hire.groupby(["week", "workstream"], sort=True)[
            ["hires_to_date", "planned_hires_to_date"]
        ].sum()
        rows = [
            [w, ws, fmt.count(r.hires_to_date), fmt.cell(r.planned_hires_to_date, 1),
             fmt.cell(att.get((w, ws)))]
            for (w, ws), r in zip(g.index, fmt.tuples(g, index=False), strict=True)
        ]  # fmt: skip
    fig = Figure(
        "hiring",
        "Hiring attainment by workstream",
        "Hires to date over the hiring plan prorated to the status date, by workstream and for "
        "the program, week by week: green 0.95 or more, amber 0.85 to below 0.95, red below 0.85.",
        ["week", "workstream", "hires to date", "planned to date", "attainment"],
        rows,
        legend=[*area_legend(), *band_legend("hiring_attainment")],
    )
    fig.spec = ratio_spec(_area_values(h, "hiring_attainment"), "area", AREA_COLOURS,
                          "hiring_attainment", (0.70, 1.10), "Hiring attainment (hires / plan to date)",
                          "attainment", len(h.weeks), dashes={PROGRAM: [6, 3]})  # fmt: skip
    return fig


# -- milestones --------------------------------------------------------------------------------


def milestone_trend(h: History) -> Figure:
    chosen = slipping_sites(h, TREND_SITES)
    g = h.part("go_live")
    g = g[g["site_id"].isin(chosen)].sort_values(["site_id", "week"], kind="mergesort")
    colours = {s: SITE_PALETTE[i % len(SITE_PALETTE)] for i, s in enumerate(chosen)}
    rows: list[list[str]] = []
    data: list[dict[str, Any]] = []
    for r in fmt.tuples(g):
        slip = fmt.num(r.slip_days)
        rows.append([r.site_id, r.week, "" if fmt.isnull(r.baseline_date) else iso(r.baseline_date),
                     "" if fmt.isnull(r.forecast_date) else iso(r.forecast_date),
                     fmt.cell(slip, 0)])  # fmt: skip
        if slip is not None:
            data.append(
                {"site_id": r.site_id, "week": r.week, "date": status(r.week), "slip": slip}
            )
    height = 290
    fig = Figure(
        "milestone-trend",
        f"Milestone trend: go-live forecasts of the {len(chosen)} sites that slip most",
        "Each site's go-live forecast minus its baseline, in days, as reported week by week (0 is "
        f"on baseline, above it late), for the sites whose go-live is furthest behind in {h.week}.",
        ["site", "week", "go-live baseline", "go-live forecast", "slip days"],
        rows,
    )
    if not data:
        return fig
    domain = nice_domain([d["slip"] for d in data], 0.0, 10.0, 10.0)
    last_date = max(d["date"] for d in data)
    last = [{"date": d["date"], "site_id": d["site_id"], "y": d["slip"],
             "label": f"{d['site_id']} {fmt.signed(d['slip'], 0)} d"}
            for d in data if d["date"] == last_date]  # fmt: skip
    fig.spec = {
        "layer": [
            {
                "data": values([{"y": 0.0}]),
                "mark": {"type": "rule", "color": BAC_COLOUR, "strokeWidth": 1.2},
                "encoding": {"y": {"field": "y", "type": "quantitative"}},
            },
            {
                "data": values(data),
                "mark": {"type": "line", "strokeWidth": 2.2, "interpolate": "step-after",
                         **_points(len(h.weeks), 14)},
                "encoding": {
                    "x": time_x(len(h.weeks), width=WIDTH - 90),
                    "y": {"field": "slip", "type": "quantitative",
                          "title": "go-live forecast minus baseline, days",
                          "scale": {"domain": domain, "nice": False}},
                    "color": nominal("site_id", colours),
                },
            },
            end_labels(last, domain, colours, height, "site_id"),
        ],
        "width": WIDTH - 90,
        "height": height,
        "title": "Go-live slip by report week",
    }  # fmt: skip
    return fig


# -- grids -------------------------------------------------------------------------------------


def grid_spec(
    data: list[dict[str, Any]], row: str, order: list[str], state: str, colours: dict[str, str],
    weeks: list[str], title: str,
) -> dict[str, Any]:  # fmt: skip
    letters = len(weeks) <= LETTERS_UP_TO
    cell = {"field": row, "type": "nominal", "sort": order, "title": None,
            "scale": {"paddingInner": 0.14 if letters else 0.1},
            "axis": {"ticks": False, "domain": False, "labelFontSize": 11, "labelColor": INK,
                     "labelLimit": 220, "labelPadding": 6}}  # fmt: skip
    layers: list[dict[str, Any]] = [
        {
            "data": values(data),
            "mark": {"type": "rect", "cornerRadius": 2 if letters else 0},
            "encoding": {"x": week_x(weeks), "y": cell, "color": nominal(state, colours)},
        }
    ]
    if letters:
        layers.append(
            {
                "data": values(data),
                "mark": {"type": "text", "fontSize": 10, "fontWeight": 600},
                "encoding": {
                    "x": week_x(weeks),
                    "y": cell,
                    "text": {"field": "letter"},
                    "color": {"field": "ink", "type": "nominal", "scale": None},
                },
            }
        )
    return {"layer": layers, "width": WIDTH - 60, "height": 24 * len(order), "title": title}


def rag_history(h: History) -> Figure:
    sc = h.part("scorecard")
    data = []
    for w, a, c in zip(sc["week"], sc["area"], sc["rag"], strict=True):
        colour = rag.GREY if fmt.isnull(c) else str(c)
        data.append({"week": w, "area": a, "rag": colour, "letter": RAG_LETTERS.get(colour, ""),
                     "ink": INK if colour == rag.AMBER else "white"})  # fmt: skip
    fig = Figure(
        "rag-history",
        "RAG history by area",
        "Each area's RAG colour week by week: the worst band of its rules; grey when a feed it "
        "depends on is blocked or silent, or when nothing is rated.",
        ["week", "area", "RAG"],
        [[d["week"], d["area"], d["rag"]] for d in data],
        legend=[(c, RAG_COLOURS[c], "box") for c in rag.RAG_VALUES],
        dense=len(h.weeks) > LETTERS_UP_TO,
    )
    fig.spec = grid_spec(data, "area", area_order(), "rag", RAG_COLOURS, h.weeks,
                         "RAG by area and week")  # fmt: skip
    return fig


def dq_state(rec: dict[str, Any], feed: str) -> str:
    if rec.get("blocked"):
        return "blocked"
    if not rec.get("delivered"):
        return "silent" if feed in registry.STATUS_FEEDS else "not due"
    if (rec.get("files_quarantined") or 0) > 0 or (rec.get("rows_quarantined") or 0) > 0:
        return "refused"
    if (rec.get("files_taken_late") or 0) > 0:
        return "late"
    if (rec.get("duplicates_skipped") or 0) > 0:
        return "duplicates"
    return "delivered"


def dq_rows(h: History) -> list[dict[str, Any]]:
    """Per week and feed: delivered, taken late, duplicates, refused, blocked."""
    by = {(str(r["week"]), str(r["feed"])): r for r in fmt.dicts(h.part("delivery"))}
    out = []
    for week in h.weeks:
        m = h.manifests[week]
        for feed in registry.NAMES:
            rec = delivery_record(feed, m, by.get((week, feed)))
            if rec is None:
                continue
            rec["week"] = week
            rec["state"] = dq_state(rec, feed)
            out.append(rec)
    return out


def data_quality(h: History) -> Figure:
    recs = dq_rows(h)
    data = [{"week": r["week"], "feed": r["feed"], "state": r["state"],
             "letter": DQ_LETTERS[r["state"]],
             "ink": INK if r["state"] in ("refused", "not due", "duplicates") else "white"}
            for r in recs]  # fmt: skip
    rows = [
        [r["week"], r["feed"], fmt.count(r["files_received"]), fmt.count(r["files_taken_late"]),
         fmt.count(r["duplicates_skipped"]), fmt.count(r["files_quarantined"]),
         fmt.count(r["rows_in"]), fmt.count(r["rows_quarantined"]),
         "" if r["share_refused"] is None else f"{r['share_refused']:.2%}",
         "yes" if r["blocked"] else "no", r["state"]]
        for r in recs
    ]  # fmt: skip
    feeds = [f for f in registry.NAMES if any(r["feed"] == f for r in recs)]
    fig = Figure(
        "data-quality",
        "Data quality by feed and week",
        "What each feed delivered each week, worst first: blocked (B); silent, a feed the "
        "scorecard depends on delivered nothing (S); rows or files refused (R); files taken "
        "late (L); duplicate files skipped (D); delivered clean. The reference data is delivered "
        "when it changes: light grey is a week without a reference delivery.",
        ["week", "feed", "files received", "taken late", "duplicates", "files refused",
         "rows in", "rows refused", "share refused", "blocked", "state"],
        rows,
        legend=[(s, c, "box") for s, c in DQ_STATES.items()],
        dense=len(h.weeks) > LETTERS_UP_TO,
    )  # fmt: skip
    fig.spec = grid_spec(data, "feed", feeds, "state", DQ_STATES, h.weeks,
                         "Deliveries by feed and week")  # fmt: skip
    return fig


def figures(h: History) -> list[Figure]:
    """Every chart of the page, in page order, not rendered yet."""
    return [
        s_curve_program(h),
        s_curve_sites(h),
        cpi_spi(h),
        spend_pace(h),
        hiring(h),
        milestone_trend(h),
        rag_history(h),
        data_quality(h),
    ]


# -- rendering --------------------------------------------------------------------------------


def pin_utc() -> None:
    """Vega lays dates out in the process's zone: pin UTC before any conversion."""
    if os.environ.get("TZ") != "UTC":
        os.environ["TZ"] = "UTC"
        time.tzset()


def warm_up() -> threading.Thread:
    """Start vl-convert's JavaScript engine (about a CPU second) in a thread, while the caller
    reads the history: the engine releases the GIL, so the two overlap. Join before `render`."""
    pin_utc()  # process-wide: before the thread starts

    def start() -> None:
        import vl_convert as vlc

        with contextlib.suppress(Exception):  # render says what is wrong, with the real chart
            vlc.vegalite_to_svg(WARM_SPEC, vl_version=VL_VERSION)

    thread = threading.Thread(target=start, name="vl-convert-warm-up", daemon=True)
    thread.start()
    return thread


WARM_SPEC: dict[str, Any] = {
    "data": {"values": [{"x": 0}]},
    "mark": "point",
    "encoding": {"x": {"field": "x", "type": "quantitative"}},
}


def render(spec: dict[str, Any], dense: bool = False) -> str:
    """One specification as SVG text (no XML prolog, nothing external)."""
    pin_utc()
    import vl_convert as vlc

    config = dict(CONFIG)
    if dense:  # hundreds of cells: no ARIA label on each (the table under the chart has them)
        config["mark"] = {"aria": False}
    svg = vlc.vegalite_to_svg(spec, vl_version=VL_VERSION, config=config)
    start = svg.find("<svg")
    return svg[start:] if start > 0 else svg


def render_all(figs: list[Figure]) -> list[Figure]:
    for f in figs:
        if f.spec is not None:
            f.svg = render(f.spec, f.dense)
    return figs
