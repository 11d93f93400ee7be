"""The weekly program report as one self-contained HTML page.

Inline CSS, inline SVG, no script, no font or image to fetch, no link to follow: the file is
the report, readable with JavaScript off, by a screen reader (every chart has its numbers as a
table) and on paper (A4 or Letter: print styles, a page break before each section, charts
scaled to the width). Nothing on the page depends on when it was built.
"""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Any

from buildout_tracker import registry
from buildout_tracker.report import fmt
from buildout_tracker.report.charts import DQ_STATES, RAG_COLOURS, Figure
from buildout_tracker.report.history import History
from buildout_tracker.tables import rag

CSS = """
:root{--ink:#1f2933;--muted:#52606d;--rule:#d9dee3;--panel:#f5f7fa;--green:#2e7d32;
--amber:#e8a200;--red:#c62828;--grey:#8a939b}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;color:var(--ink);background:#fff;font:15px/1.45 -apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Helvetica,Arial,"Liberation Sans","DejaVu Sans",sans-serif}
.page{max-width:1180px;margin:0 auto;padding:28px 32px 40px}
header.masthead{border-bottom:3px solid var(--ink);padding-bottom:14px;margin-bottom:8px}
.kicker{text-transform:uppercase;letter-spacing:.08em;font-size:12px;color:var(--muted);
font-weight:600}
h1{font-size:30px;line-height:1.15;margin:4px 0 6px;font-weight:700}
h1 .date{font-weight:400;color:var(--muted);font-size:20px;margin-left:10px}
h2{font-size:20px;margin:30px 0 12px;padding-bottom:6px;border-bottom:1px solid var(--rule)}
h3{font-size:15px;margin:0}
.meta{display:flex;flex-wrap:wrap;gap:4px 26px;margin:8px 0 0;font-size:13px;color:var(--muted)}
.meta div{display:flex;gap:6px}.meta dt{font-weight:600}.meta dd{margin:0;
font-family:ui-monospace,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12.5px;color:var(--ink)}
.lede{font-size:16px;margin:14px 0 0;max-width:70em}
.tiles{display:grid;grid-template-columns:repeat(5,minmax(0,1fr));gap:12px}
@media (max-width:1100px){.tiles{grid-template-columns:repeat(3,minmax(0,1fr))}}
@media (max-width:700px){.tiles{grid-template-columns:1fr}}
.tile{border:1px solid var(--rule);border-top:6px solid var(--grey);border-radius:6px;
padding:12px 14px 10px;background:#fff;break-inside:avoid}
.tile.green{border-top-color:var(--green)}.tile.amber{border-top-color:var(--amber)}
.tile.red{border-top-color:var(--red)}
.tile header{display:flex;justify-content:space-between;align-items:center;gap:8px}
.tile h3{font-size:15px;font-weight:700;line-height:1.2}
.tile .code{display:block;font-size:11px;font-weight:400;color:var(--muted);
font-family:ui-monospace,Menlo,Consolas,"DejaVu Sans Mono",monospace}
.pill{display:inline-block;border-radius:999px;padding:2px 10px;font-size:12px;font-weight:700;
letter-spacing:.06em;color:#fff;background:var(--grey);white-space:nowrap}
.pill.green{background:var(--green)}.pill.amber{background:var(--amber);color:#1f2933}
.pill.red{background:var(--red)}
.was{font-size:12.5px;color:var(--muted);margin:4px 0 6px}
.was b{color:var(--ink)}
ul.reasons{margin:0 0 8px;padding-left:18px;font-size:12.5px;color:var(--ink)}
ul.reasons li{margin:1px 0}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
table.measures{width:100%;table-layout:fixed;font-size:12.5px;border-top:1px solid var(--rule);
margin-top:4px}
table.measures col.m{width:38%}table.measures col.v{width:33%}table.measures col.c{width:29%}
table.measures thead th{font-size:11px;color:var(--muted);font-weight:400;text-align:right;
padding:4px 0 2px}
table.measures thead th:first-child{text-align:left}
table.measures tbody th{text-align:left;font-weight:400;color:var(--ink);padding:2px 2px 2px 0;
line-height:1.25}
table.measures td{text-align:right;padding:2px 0 2px 4px;white-space:nowrap;font-weight:600}
table.measures td.chg{color:var(--muted);font-size:11px;font-weight:400}
.dot{display:inline-block;width:8px;height:8px;border-radius:50%;margin-right:5px;
background:transparent;vertical-align:1px}
.dot.green{background:var(--green)}.dot.amber{background:var(--amber)}.dot.red{background:var(--red)}
.narrative h3{font-size:14px;margin:16px 0 6px;color:var(--muted);text-transform:uppercase;
letter-spacing:.05em}
ul.news{margin:0;padding:0;list-style:none}
ul.news li{display:grid;grid-template-columns:84px 1fr;gap:10px;align-items:baseline;
margin:0;padding:7px 0;border-bottom:1px solid #eef0f2;max-width:80em}
.chip{display:inline-block;text-align:center;border-radius:4px;padding:1px 6px;font-size:11px;
font-weight:700;letter-spacing:.04em;text-transform:uppercase;color:#fff;background:var(--grey)}
.chip.green{background:var(--green)}.chip.amber{background:var(--amber);color:#1f2933}
.chip.red{background:var(--red)}.chip.ink{background:#3e4c59}.chip.blue{background:#4f9fd9}
.quiet{color:var(--muted)}
table.data{font-size:12.5px;margin:6px 0}
table.data th,table.data td{border-bottom:1px solid var(--rule);padding:4px 10px 4px 0;text-align:right}
table.data th:first-child,table.data td:first-child,table.data th.t,table.data td.t{text-align:left}
table.data thead th{color:var(--muted);font-weight:600;border-bottom:1.5px solid var(--ink)}
table.data caption{text-align:left;color:var(--muted);font-size:12px;padding-bottom:4px}
td.bad{color:var(--red);font-weight:600}
figure{margin:0 0 34px;break-inside:avoid;page-break-inside:avoid}
figure h3{font-size:16px;margin:0 0 6px}
figure{display:grid;grid-template-columns:minmax(0,800px) minmax(0,1fr);column-gap:28px;
align-items:start}
figure>h3,figure>.legend{grid-column:1/-1}
figure>figcaption{padding-top:24px}
@media (max-width:1150px){figure{grid-template-columns:minmax(0,1fr)}
figure>figcaption{padding-top:0}}
.chart{overflow-x:auto}
.chart svg{display:block;max-width:100%;height:auto}
p.caption{font-size:13px;color:var(--muted);margin:6px 0 4px;max-width:62em}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12.5px;margin:2px 0 4px;padding:0;
list-style:none}
.legend li{display:flex;align-items:center;gap:6px}
.swatch{display:inline-block;width:22px;height:0;border-top:3px solid}
.swatch.dashed{border-top-style:dashed}.swatch.dotted{border-top-style:dotted}
.swatch.box{width:12px;height:12px;border:0}
.swatch.band{width:14px;height:12px;border:0;opacity:.28}
details{margin:4px 0 0;font-size:13px}
details summary{cursor:pointer;color:var(--muted)}
details .scroll{max-height:26em;overflow:auto;border:1px solid var(--rule);padding:0 8px;margin-top:6px}
footer{margin-top:36px;padding-top:10px;border-top:1px solid var(--rule);font-size:12.5px;color:var(--muted)}
code{font-family:ui-monospace,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:.92em}
@page{margin:12mm}
@media print{
body{font-size:10pt}
.page{max-width:none;padding:0}
h1{font-size:22pt}h2{font-size:15pt;margin-top:0}
section.sheet{break-before:page;page-break-before:always}
section.sheet.first{break-before:auto;page-break-before:auto}
.tiles{grid-template-columns:repeat(3,1fr);gap:8px}
.tile{padding:8px 10px}
figure{margin-bottom:14px}
figure{grid-template-columns:minmax(0,1fr)}figure>figcaption{padding-top:0}
.chart{overflow:visible}
details .scroll{max-height:none;overflow:visible;border:0}
details summary{color:var(--muted)}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""

NEWS_SHOWN = 8  # items of a group of the narrative shown before "more"
BAND_WORD = {rag.GREEN: "green", rag.AMBER: "amber", rag.RED: "red", rag.GREY: "grey"}


def _e(v: Any) -> str:
    return escape("" if v is None else str(v), quote=True)


def _long_date(iso: str | None) -> str:
    if not iso:
        return ""
    d = date.fromisoformat(iso)
    return f"{d:%A} {d.day} {d:%B %Y}"


def _pill(colour: str | None) -> str:
    c = colour or rag.GREY
    return f'<span class="pill {_e(c)}">{_e(c.upper())}</span>'


def masthead(h: History, s: dict[str, Any]) -> str:
    rows = [
        ("Status date", s["status_date"]),
        ("Run", s["run_id"]),
        ("Code", s["code_version"]),
        ("Manifest", s["manifest"]),
        (
            "Compared with",
            s["previous_week"] + ("" if s["previous_week_published"] else " (not published)"),
        ),
        ("Weeks shown", f"{h.weeks[0]} to {h.weeks[-1]} ({len(h.weeks)})"),
    ]
    meta = "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in rows)
    counts = {c: 0 for c in rag.RAG_VALUES}
    for a in s["areas"]:
        counts[a["rag"] or rag.GREY] = counts.get(a["rag"] or rag.GREY, 0) + 1
    program = next(a for a in s["areas"] if a["area"] == "program")
    parts = [f"{n} {c}" for c, n in counts.items() if n]
    lede = (
        f"The program is <b>{_e(program['rag'])}</b> this week"
        + (f" (was {_e(program['rag_prior'])})" if program["rag_prior"] else "")
        + f". Areas: {_e(', '.join(parts))}."
    )
    return (
        '<header class="masthead" id="week">'
        '<div class="kicker">Buildout Tracker &middot; weekly program report</div>'
        f'<h1>Week {_e(s["week"])}<span class="date">{_e(_long_date(s["status_date"]))}</span></h1>'
        f'<dl class="meta">{meta}</dl>'
        f'<p class="lede">{lede}</p>'
        "</header>"
    )


def dq_summary(s: dict[str, Any]) -> str:
    head = ["feed", "delivered", "files received", "taken late", "duplicates", "files refused",
            "rows in", "rows refused", "share refused", "blocked"]  # fmt: skip
    body = []
    for r in s["data_quality"]:
        share = "" if r["share_refused"] is None else f"{r['share_refused']:.2%}"
        if r["delivered"]:
            delivered, delivered_class = "yes", ""
        elif r["feed"] in registry.STATUS_FEEDS:
            delivered, delivered_class = "no: silent", " bad"
        else:
            delivered, delivered_class = "no (not due)", " quiet"
        blocked = r["blocked"]
        cells = [
            f'<td class="t">{_e(r["feed"])}</td>',
            f'<td class="t{delivered_class}">{delivered}</td>',
            f"<td>{_e(fmt.count(r['files_received']))}</td>",
            f"<td>{_e(fmt.count(r['files_taken_late']))}</td>",
            f"<td>{_e(fmt.count(r['duplicates_skipped']))}</td>",
            f"<td>{_e(fmt.count(r['files_quarantined']))}</td>",
            f"<td>{_e(fmt.count(r['rows_in']))}</td>",
            f"<td>{_e(fmt.count(r['rows_quarantined']))}</td>",
            f"<td>{_e(share)}</td>",
            f'<td class="t{" bad" if blocked else ""}">'
            + (_e("yes: " + (r["blocked_reason"] or "")) if blocked else "no")
            + "</td>",
        ]
        body.append(f'<tr data-feed="{_e(r["feed"])}">{"".join(cells)}</tr>')
    ths = "".join(
        f'<th scope="col"{" class=t" if i in (0, 1, 9) else ""}>{_e(c)}</th>'
        for i, c in enumerate(head)
    )
    return (
        '<section class="sheet first" id="data-quality-summary" aria-labelledby="dq-h">'
        '<h2 id="dq-h">Data quality this week</h2>'
        '<table class="data" id="dq-table"><caption>Each feed\'s delivery of the week '
        "(data_quality_weekly delivery rows and the manifest's data quality).</caption>"
        f"<thead><tr>{ths}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        "</section>"
    )


def tile(a: dict[str, Any]) -> str:
    colour = a["rag"] or rag.GREY
    was = (
        f"was <b>{_e(a['rag_prior'])}</b> last week"
        if a["rag_prior"]
        else "no comparison: last week not published"
    )
    if a["rag_changed"]:
        was = f"turned <b>{_e(colour)}</b>, " + was
    reasons = "".join(f"<li>{_e(r)}</li>" for r in a["rag_reasons"]) or "<li>every rule green</li>"
    rows = []
    for m in a["measures"]:
        name = m["measure"]
        band = rag.band(name, m["value"])[0] if name in rag.RATED_MEASURES else None
        dot = f'<span class="dot {_e(band)}" aria-hidden="true"></span>' if band else ""
        change = "" if m["change"] is None else fmt.measure_change(name, m["change"])
        rows.append(
            f'<tr data-measure="{_e(name)}"><th scope="row">{dot}{_e(fmt.label(name))}</th>'
            f'<td class="v">{_e(fmt.measure(name, m["value"]))}</td>'
            f'<td class="chg">{_e(change)}</td></tr>'
        )
    return (
        f'<article class="tile {_e(colour)}" data-area="{_e(a["area"])}" data-rag="{_e(colour)}" '
        f'aria-label="{_e(a["area"])}: {_e(colour)}">'
        f'<header><h3>{_e(fmt.area_name(a["area"]))}<span class="code">{_e(a["area"])}</span>'
        f"</h3>{_pill(colour)}</header>"
        f'<p class="was">{was}</p>'
        f'<ul class="reasons">{reasons}</ul>'
        '<table class="measures"><colgroup><col class="m"><col class="v"><col class="c"></colgroup>'
        '<thead><tr><th scope="col">measure</th><th scope="col">now</th>'
        f'<th scope="col">change</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
        "</article>"
    )


def tiles(s: dict[str, Any]) -> str:
    return (
        '<section class="sheet" id="areas" aria-labelledby="areas-h">'
        '<h2 id="areas-h">Areas</h2>'
        f'<div class="tiles">{"".join(tile(a) for a in s["areas"])}</div>'
        '<p class="quiet" style="font-size:12.5px;margin-top:10px">Change: since '
        f"{_e(s['previous_week'])}. Dots: the measure's RAG band. Every number is defined in "
        "docs/data-dictionary.md (<code>program_scorecard</code>).</p>"
        "</section>"
    )


def _chip(text: str, colour: str) -> str:
    return f'<span class="chip {_e(colour)}">{_e(text)}</span>'


def narrative(s: dict[str, Any]) -> str:
    """Every sentence of the summary, grouped, each with a chip that says what kind of news."""
    health = {"late": rag.RED, "at_risk": rag.AMBER}
    groups = [
        ("Areas", [(_chip(a["rag"] or rag.GREY, a["rag"] or rag.GREY), a["sentence"])
                   for a in s["areas"] if a["sentence"]]),
        ("Forecast", [(_chip("EAC", "ink"), s["forecast"]["sentence"])]
         if s["forecast"] and s["previous_week_published"] else []),
        ("Milestones", [(_chip(m["health"].replace("_", " "), health[m["health"]]), m["sentence"])
                        for m in s["milestones"]]),
        ("Sites", [(_chip("stale", rag.GREY), m["sentence"]) for m in s["stale_sites"]]),
        ("Feeds", [(_chip(f["problem"], rag.RED if f["problem"] == "blocked" else
                          rag.GREY if f["problem"] == "silent" else "blue"), f["sentence"])
                   for f in s["feeds"]]),
    ]  # fmt: skip
    out = []
    if not s["previous_week_published"]:
        out.append(
            f'<p class="quiet">{_e(s["previous_week"])} was not published: there is no '
            "comparison this week.</p>"
        )
    elif not any(items for title, items in groups if title in ("Areas", "Milestones", "Sites")):
        out.append(
            '<p class="quiet">No area or rule changed colour, no milestone turned late or at '
            "risk and no site went stale.</p>"
        )
    for title, items in groups:
        if not items:
            continue
        lis = [f"<li>{chip}<span>{_e(text)}</span></li>" for chip, text in items]
        out.append(f'<h3>{_e(title)}</h3><ul class="news">{"".join(lis[:NEWS_SHOWN])}</ul>')
        if len(lis) > NEWS_SHOWN:  # every item stays in the page, the rest one click away
            out.append(
                f"<details><summary>{len(lis) - NEWS_SHOWN} more</summary>"
                f'<ul class="news">{"".join(lis[NEWS_SHOWN:])}</ul></details>'
            )
    return (
        '<section class="sheet narrative" id="what-changed" aria-labelledby="changed-h">'
        f'<h2 id="changed-h">What changed since {_e(s["previous_week"])}</h2>'
        f"{''.join(out)}</section>"
    )


def _legend(items: list[tuple[str, str, str]]) -> str:
    if not items:
        return ""
    lis = []
    for label, colour, style in items:
        box = style in ("box", "band")
        css = f"background:{colour}" if box else f"border-top-color:{colour}"
        lis.append(
            f'<li><span class="swatch {_e(style)}" style="{_e(css)}" aria-hidden="true"></span>'
            f"{_e(label)}</li>"
        )
    return f'<ul class="legend" aria-label="legend">{"".join(lis)}</ul>'


def figure(f: Figure) -> str:
    head = "".join(
        f'<th scope="col"{"" if i else " class=t"}>{_e(c)}</th>' for i, c in enumerate(f.columns)
    )
    text_cols = {i for i, c in enumerate(f.columns) if c in ("site", "week", "area", "feed", "workstream", "status date", "RAG", "band", "SPI band", "CPI band", "state", "blocked", "go-live baseline", "go-live forecast")}  # fmt: skip
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=t' if i in text_cols else ''}>{_e(v)}</td>" for i, v in enumerate(row)
        )
        + "</tr>"
        for row in f.rows
    )
    svg = f.svg or '<p class="quiet">No data to chart.</p>'
    return (
        f'<figure id="{_e(f.id)}" aria-labelledby="{_e(f.id)}-h">'
        f'<h3 id="{_e(f.id)}-h">{_e(f.title)}</h3>'
        f"{_legend(f.legend)}"
        f'<div class="chart">{svg}</div>'
        f'<figcaption><p class="caption">{_e(f.caption)}</p>'
        f"<details><summary>The numbers of this chart ({len(f.rows)} rows)</summary>"
        f'<div class="scroll"><table class="data"><caption>{_e(f.title)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div></details>"
        "</figcaption></figure>"
    )


def charts(figs: list[Figure]) -> str:
    return (
        '<section class="sheet" id="charts" aria-labelledby="charts-h">'
        '<h2 id="charts-h">Charts</h2>'
        f"{''.join(figure(f) for f in figs)}</section>"
    )


def page(h: History, s: dict[str, Any], figs: list[Figure]) -> str:
    title = f"Buildout program report {s['week']}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title>"
        f"<style>{CSS}</style></head>"
        '<body><div class="page">'
        f"{masthead(h, s)}"
        "<main>"
        f"{dq_summary(s)}{tiles(s)}{narrative(s)}{charts(figs)}"
        "</main>"
        "<footer>Built from the tables published for this week and the weeks before it "
        f"(<code>curated/</code>, manifest <code>{_e(s['manifest'])}</code>); the same tables "
        "give the same page. Definitions of every number: docs/data-dictionary.md. What changed "
        f"is also in <code>reports/program/week={_e(s['week'])}/summary.json</code>.</footer>"
        "</div></body></html>\n"
    )


__all__ = ["CSS", "DQ_STATES", "RAG_COLOURS", "page"]
