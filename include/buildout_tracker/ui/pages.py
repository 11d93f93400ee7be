"""The plugin's pages: what each reads (through `LakeView`) and how it is shown.

- `home_page`: the Buildout page: a published week (the latest unless picked) with its
  scorecard and weekly program report, the RAG history (areas x published weeks) and the
  feed-health grid (weeks x feeds), whose cells open `feed_week_page`.
- `run_page`: a DAG run's view: for an ingest DAG, the feed-week report of each of its feeds
  for the run's week; for the publishing DAG, the manifest of each week it published.
- `feed_week_page`: one feed's week (the same section as in a run view).
- `quarantine_page`, `quarantine_rows_page`: a feed-week's quarantine (names, sizes, rules)
  and one file's refused rows, personal columns dropped.
- `receipt_page`: a delivery receipt.

Nothing here shows a value of a personal column: files are listed by key, rules by id, rows
by number; a refused-row table drops every column the file's spec marks sensitive.
"""

from __future__ import annotations

import io
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from buildout_tracker import registry
from buildout_tracker.lake import ObjectInfo
from buildout_tracker.ui import paths
from buildout_tracker.ui.html import e, link, num, page, pill, row_numbers, share, stat, table
from buildout_tracker.ui.lakeview import (
    PROGRAM_PREFIX,
    AreaRag,
    FeedHealth,
    LakeView,
    ManifestInfo,
    week_sort,
)
from buildout_tracker.ui.runs import RunInfo
from buildout_tracker.weeks import status_date

MAX_TABLE_ROWS = 500
SCROLL_WEEKS = 48  # more weeks than this in the RAG history: it opens on the latest
RAG_ORDER = {"red": 0, "amber": 1, "grey": 2, "green": 3}


class NotFound(LookupError):
    """A page for something that does not exist (404)."""


def feed_title(feed: str) -> str:
    return {
        "fx_rates": "FX rates",
        "procurement": "Procurement",
        "milestones": "Milestones",
        "hiring": "Hiring",
        "reference": "Reference",
    }.get(feed, feed)


def area_title(area: str) -> str:
    words = area.replace("_", " ").split()
    if not words:
        return area
    words = ["AI" if w.lower() == "ai" else w for w in words]
    first = words[0] if words[0] == "AI" else words[0].capitalize()
    return " ".join([first, *words[1:]])


def week_label(week: str, first: bool = False) -> str:
    """`W37` (with its year on the first column and on each year's first week)."""
    return week if first or week.endswith("-W01") else week[5:]


def _day(week: str) -> str:
    return f"{status_date(week):%a %d %b %Y}"


# --- the Buildout page -----------------------------------------------------------------


@dataclass
class ProgramReport:
    html_key: str | None
    sentences: list[str]


def program_report(view: LakeView, week: str) -> ProgramReport:
    objects = {o.key: o for o in view.listing(f"{PROGRAM_PREFIX}week={week}/")}
    html_key = f"{PROGRAM_PREFIX}week={week}/index.html"
    summary_key = f"{PROGRAM_PREFIX}week={week}/summary.json"
    sentences: list[str] = []
    if summary_key in objects:
        obj = objects[summary_key]

        def read() -> list[str]:
            raw = view.lake.get_json_or_none(obj.key) or {}
            said = raw.get("sentences") if isinstance(raw, dict) else None
            return [str(s) for s in said] if isinstance(said, list) else []

        sentences = view._cached(view.small, f"summary:{obj.key}", obj.etag, read)
    return ProgramReport(html_key if html_key in objects else None, sentences)


def _areas(cards: dict[str, list[AreaRag]]) -> list[str]:
    seen: dict[str, None] = {}
    for week in reversed(list(cards)):
        for a in cards[week]:
            seen.setdefault(a.area, None)
    names = list(seen)
    return sorted(names, key=lambda a: (a != "program", names.index(a)))


def home_page(view: LakeView, week: str | None = None) -> str:
    # The listings at once: they are most of a warm page's time.
    pub = view.submit(view.published)
    rep_weeks = view.submit(view.report_weeks)
    prog = view.submit(program_report, view, week) if week else None
    published = pub.result()
    reports = view.current_reports(published, rep_weeks.result())
    if not published:
        body = (
            "<h1>Buildout</h1><div class='card placeholder'>No week is published yet: the "
            "Buildout page shows the latest week once <span class='mono'>curated/_manifests/"
            "</span> holds a manifest.</div>"
        )
        return page("Buildout", body + _health_card(view, reports, None), [("Buildout", None)])
    manifests = view.manifests(published)
    weeks = week_sort(manifests)
    latest = weeks[-1]
    note = ""
    if week and week not in manifests:
        note = (
            f"<div class='callout warn'>{e(week)} is not published: showing the latest "
            f"published week, {e(latest)}.</div>"
        )
    selected = week if week in manifests else latest
    cards = view.scorecards(manifests)
    m = manifests[selected]
    report = prog.result() if prog is not None and selected == week else None
    if report is None:
        report = program_report(view, selected)

    options = "".join(
        f"<option value='{e(w)}'{' selected' if w == selected else ''}>{e(w)}"
        f"{' (latest)' if w == latest else ''}</option>"
        for w in reversed(weeks)
    )
    program = next((a for a in cards.get(selected, []) if a.area == "program"), None)
    head = (
        "<div class='row' style='align-items:center'>"
        f"<div><h1>Program · {e(selected)} "
        + (pill(program.rag, program.rag) if program else "")
        + (" " + pill("latest", "info") if selected == latest else "")
        + f"</h1><p class='sub'>Status as of {e(_day(selected))} · published by run "
        f"<span class='mono'>{e(m.run_id)}</span> · {len(weeks)} published week"
        f"{'s' if len(weeks) != 1 else ''}</p></div>"
        f"<form class='picker' method='get' action='{e(paths.home())}'>"
        f"<label for='week' class='muted'>Week</label><select id='week' name='week'>{options}"
        "</select><button type='submit'>Show</button></form></div>"
    )
    # The chosen week's column in the RAG history, marked by a rule of this page only: the
    # history itself is the same for every week shown, and kept.
    mark = (
        f"<style>.hist td[data-week='{e(selected)}'] a{{outline:2px solid #14213d;"
        "outline-offset:0}</style>"
    )
    history = view.fragment(
        "history",
        [f"{w} {manifests[w].etag}" for w in weeks],
        lambda: _history_card(cards, _areas(cards)),
    )
    body = (
        mark
        + head
        + note
        + _scorecard_card(cards.get(selected, []), m)
        + history
        + _health_card(view, reports, set(weeks))
        + _report_card(report, selected)
    )
    return page(f"Buildout {selected}", body, [("Buildout", None), (selected, None)])


def _scorecard_card(areas: list[AreaRag], m: ManifestInfo) -> str:
    if not areas:
        return "<div class='card placeholder'>This week's scorecard is not in its manifest.</div>"
    items = []
    for a in sorted(areas, key=lambda a: (a.area != "program", RAG_ORDER.get(a.rag, 9), a.area)):
        reasons = "".join(f"<li>{e(r)}</li>" for r in a.reasons[:4])
        items.append(
            f"<div class='area {e(a.rag)}' data-area='{e(a.area)}'><div class='name'>"
            f"<span>{e(area_title(a.area))}</span>{pill(a.rag, a.rag)}</div>"
            + (f"<ul>{reasons}</ul>" if reasons else "")
            + "</div>"
        )
    withheld = [f"{e(n)}: {e(t['withheld'])}" for n, t in m.tables.items() if t.get("withheld")]
    extra = (
        f"<div class='callout warn small'>Withheld this week: {'; '.join(withheld)}</div>"
        if withheld
        else ""
    )
    return (
        "<section class='card'><div class='card-head'><h2>Scorecard</h2>"
        f"<span class='muted small'>program_scorecard, {e(m.week)}</span>"
        "<div class='links'><a href='#report'>Weekly program report ↓</a></div></div>"
        f"<div class='areas'>{''.join(items)}</div>{extra}</section>"
    )


def _report_card(report: ProgramReport, week: str) -> str:
    if report.html_key is None:
        inner = (
            "<div class='placeholder'>The weekly program report for "
            f"{e(week)} is not built yet. It appears here once "
            f"<span class='mono'>reports/program/week={e(week)}/index.html</span> is in the "
            "lake.</div>"
        )
        return (
            "<section class='card' id='report'><div class='card-head'><h2>Weekly program "
            f"report</h2></div>{inner}</section>"
        )
    url = paths.lake_object(report.html_key)
    said = "".join(f"<li>{e(s)}</li>" for s in report.sentences[:8])
    return (
        "<section class='card' id='report'><div class='card-head'><h2>Weekly program report"
        f"</h2><span class='muted small'>{e(week)}</span>"
        f"<div class='links'>{link(url, 'Open the report on its own')}</div></div>"
        + (f"<ul class='said'>{said}</ul>" if said else "")
        + f"<iframe class='report' src='{e(url)}' title='Weekly program report {e(week)}'>"
        "</iframe></section>"
    )


def _history_card(cards: dict[str, list[AreaRag]], areas: list[str]) -> str:
    weeks = list(cards)
    head = "".join(
        f"<th><div class='wk'>{e(week_label(w, i == 0))}</div></th>" for i, w in enumerate(weeks)
    )
    rows = []
    for area in areas:
        cells = []
        for w in weeks:
            found = next((a for a in cards[w] if a.area == area), None)
            rag = found.rag if found else "none"
            tip = f"{area_title(area)} {w}: {rag}" + (
                f" — {'; '.join(found.reasons[:3])}" if found and found.reasons else ""
            )
            cells.append(
                f"<td class='cell' data-week='{e(w)}'><a class='{e(rag)}' "
                f"href='{e(paths.home(w))}' title='{e(tip)}' data-rag='{e(rag)}'></a></td>"
            )
        rows.append(
            f"<tr data-area='{e(area)}'><th class='area-name'>{e(area_title(area))}</th>"
            f"{''.join(cells)}</tr>"
        )
    legend = "".join(f"<span>{pill(r, r)}</span>" for r in ("green", "amber", "red", "grey"))
    return (
        "<section class='card'><div class='card-head'><h2>RAG history</h2>"
        f"<span class='muted small'>areas × {len(weeks)} published weeks; a square opens its "
        "week</span></div>"
        # Many weeks scroll, the latest in view first (a right-to-left scroller).
        f"<div class='scroll{' rtl' if len(weeks) > SCROLL_WEEKS else ''}'><table class='hist'>"
        f"<thead><tr><th></th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div><div class='legend'>{legend}"
        "</div></section>"
    )


def health_class(h: FeedHealth | None, feed: str) -> tuple[str, str]:
    """(css class, one word) for a feed-week cell."""
    if h is None:
        return "none", "not run"
    if h.blocked:
        return "bad", "blocked"
    if not h.delivered:
        if registry.feed(feed).status_feed:
            return "warn", "silent"
        return "none", "no delivery"
    if h.files_refused or h.rows_refused:
        return "warn", "refusals"
    if h.late or h.duplicates:
        return "ok", "delivered"
    return "ok", "delivered"


def _health_cell(h: FeedHealth | None, feed: str, week: str) -> str:
    cls, word = health_class(h, feed)
    bits = []
    if h is not None and h.delivered:
        bits.append(f"{h.files} file{'s' if h.files != 1 else ''}")
        if h.rows_in:
            bits.append(f"{share(h.rows_refused, h.rows_in)} rows refused")
        if h.files_refused:
            bits.append(f"{h.files_refused} file{'s' if h.files_refused != 1 else ''} refused")
        if h.duplicates:
            bits.append(f"{h.duplicates} dup")
        if h.late:
            bits.append(f"{h.late} late")
    detail = " · ".join(bits)
    tip = f"{feed} {week}: {word}" + (f" — {h.block_reason}" if h and h.block_reason else "")
    return (
        f"<td class='cell'><a class='h {cls}' href='{e(paths.feed_week(feed, week))}' "
        f"title='{e(tip)}' data-feed='{e(feed)}' data-week='{e(week)}' data-state='{e(word)}'>"
        f"<b>{e(word)}</b>" + (f"<br>{e(detail)}" if detail else "") + "</a></td>"
    )


def _health_card(
    view: LakeView, reports: dict[tuple[str, str], ObjectInfo], published: set[str] | None
) -> str:
    parts = [f"{w} {f} {o.etag}" for (w, f), o in sorted(reports.items())]
    parts += [f"published {w}" for w in sorted(published or ())]
    return view.fragment("health", parts, lambda: _health_table(view, reports, published))


def _health_table(
    view: LakeView, reports: dict[tuple[str, str], ObjectInfo], published: set[str] | None
) -> str:
    grid = view.health_grid(reports)
    weeks = week_sort({w for w, _ in reports} | (published or set()))
    if not weeks:
        return (
            "<section class='card'><div class='card-head'><h2>Feed health</h2></div>"
            "<div class='placeholder'>No feed-week has run yet.</div></section>"
        )
    head = "".join(f"<th>{e(feed_title(f))}</th>" for f in registry.NAMES)
    rows = []
    for w in reversed(weeks):
        tag = "" if published is None or w in published else " " + pill("not published", "none")
        cells = "".join(_health_cell(grid.get((w, f)), f, w) for f in registry.NAMES)
        rows.append(f"<tr><th class='week'>{e(w)}{tag}</th>{cells}</tr>")
    legend = (
        f"{pill('delivered', 'ok')} {pill('refusals', 'warn')} rows or files refused "
        f"{pill('silent', 'warn')} nothing delivered {pill('blocked', 'bad')} "
        f"{pill('not run', 'none')}"
    )
    return (
        "<section class='card'><div class='card-head'><h2>Feed health</h2>"
        f"<span class='muted small'>weeks × feeds, from the feed-week reports; a cell opens "
        "the feed's week</span></div>"
        f"<div class='scroll tall'><table class='health'><thead><tr><th>Week</th>{head}"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        f"<div class='legend'>{legend}</div></section>"
    )


# --- one feed's week (run view and feed-week page) ---------------------------------------


@dataclass
class FeedWeekData:
    feed: str
    week: str
    report: Any  # FeedWeekReport | None
    rules: dict[str, dict[str, list[int]]]  # landing key -> rule -> row numbers
    validation: dict[str, str]  # file id or name -> validation result key
    data_docs: bool
    receipts: dict[str, str]  # landing key -> receipt key (written)
    quarantine_objects: int


def feed_week_data(view: LakeView, feed: str, week: str) -> FeedWeekData:
    """What a feed-week section shows, in two rounds of parallel reads: the report and the
    listings (quarantine, validation results, Data Docs), then the refused rows' numbers and
    the receipts of the report's delivery dates."""
    from buildout_tracker.ingest.receipts import delivered_files, receipt_key_of, receipt_prefix

    q_prefix = f"quarantine/{feed}/week={week}/"
    first: list[Callable[[], Any]] = [
        lambda: view.feed_report(week, feed),
        lambda: view.listing(q_prefix),
        lambda: view.listing(f"reports/validation/{feed}/week={week}/"),
        lambda: view.listing(f"reports/data_docs/week={week}/{feed}/index.html"),
    ]
    report, q_objects, v_objects, d_objects = view.map(lambda fn: fn(), first)
    quarantine = {o.key: o for o in q_objects}
    validation = {posixpath.basename(o.key)[: -len(".json")]: o.key for o in v_objects}
    docs = any(o.key.endswith("/index.html") for o in d_objects)
    rules: dict[str, dict[str, list[int]]] = {}
    receipts: dict[str, str] = {}
    if report is not None:
        todo = [
            (f.key, quarantine[f.quarantine_key])
            for f in report.files
            if f.quarantine_key
            and f.quarantine_key in quarantine
            and f.quarantine_key.endswith(".rows.parquet")
        ]
        files = delivered_files(report)
        days = sorted({f.delivery_date for f in files})
        second: list[Callable[[], Any]] = [
            *(lambda o=o: view.rows_by_rule(o) for _, o in todo),
            *(lambda d=d: {o.key for o in view.listing(receipt_prefix(feed, d))} for d in days),
        ]
        found = view.map(lambda fn: fn(), second)
        rules = {key: r for (key, _), r in zip(todo, found[: len(todo)], strict=True)}
        existing: set[str] = set().union(*found[len(todo) :]) if days else set()
        for f in files:
            key = receipt_key_of(feed, f)
            if key in existing:
                receipts[f.key] = key
    return FeedWeekData(feed, week, report, rules, validation, docs, receipts, len(quarantine))


def _rules_cell(f: Any, rows: dict[str, list[int]]) -> str:
    if f.outcome == "quarantined":
        return f"<span class='mono'>{e(f.rule)}</span> (whole file)"
    counts = dict(f.top_rules)
    for r, found in rows.items():
        counts[r] = len(found)
    if not counts and not f.table_failures:
        return "<span class='muted'>none</span>"
    items = []
    for rule, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        numbers = rows.get(rule)
        where = f": rows {row_numbers(numbers)}" if numbers else ""
        items.append(
            f"<li><span class='mono'>{e(rule)}</span> · {num(int(n))} row"
            f"{'s' if n != 1 else ''}{e(where)}</li>"
        )
    for t in f.table_failures:
        items.append(
            f"<li><span class='mono'>{e(t.get('rule'))}</span> (table, {e(t.get('severity'))})</li>"
        )
    return f"<ul class='rules'>{''.join(items)}</ul>"


OUTCOME_CLASS = {
    "ingested": "ok",
    "quarantined": "bad",
    "duplicate": "none",
    "superseded": "warn",
    "taken_late": "none",
    "ignored": "none",
}
OUTCOME_WORD = {"quarantined": "refused", "taken_late": "taken by a later week"}


def feed_week_section(d: FeedWeekData, page_link: bool = True) -> str:
    from buildout_tracker.ingest.receipts import file_name

    feed = registry.feed(d.feed)
    title = f"<h2>{e(feed_title(d.feed))} · {e(d.week)}</h2>"
    links = [link(paths.feed_week(d.feed, d.week), "Feed-week page")] if page_link else []
    if d.data_docs:
        links.append(link(paths.data_docs(d.week, d.feed), "Data Docs"))
    links.append(link(paths.quarantine(d.feed, d.week), f"Quarantine ({d.quarantine_objects})"))
    head_links = f"<div class='links'>{' · '.join(links)}</div>"
    r = d.report
    if r is None:
        return (
            f"<section class='card' data-feed='{e(d.feed)}'><div class='card-head'>{title}"
            f"{pill('not run', 'none')}{head_links}</div><div class='placeholder'>No feed-week "
            f"report for {e(d.feed)} {e(d.week)}: its ingest has not run for this week, or "
            "failed before writing it.</div></section>"
        )
    s = r.summary()
    if r.blocked:
        state = pill("blocked", "bad")
    elif not r.delivered:
        state = pill("silent" if feed.status_feed else "no delivery", "warn")
    elif s["files_quarantined"] or s["rows_quarantined"]:
        state = pill("refusals", "warn")
    else:
        state = pill("delivered", "ok")
    stats = "".join(
        [
            stat(s["files_received"], "files received"),
            stat(s["duplicates_skipped"], "duplicates"),
            stat(s["files_quarantined"], "files refused"),
            stat(num(s["rows_in"]), "rows in"),
            stat(num(s["rows_validated"]), "rows validated"),
            stat(num(s["rows_quarantined"]), "rows refused"),
            stat(share(s["rows_quarantined"], s["rows_in"]), "share refused"),
        ]
    )
    blocks = ""
    if r.blocked:
        blocks += (
            f"<div class='callout bad'><b>Blocked.</b> {e(r.block_reason)} · the tables built "
            f"on {e(d.feed)} are withheld for {e(d.week)}; ask {e(feed.source_owner)} for a "
            "corrected file.</div>"
        )
    refused = [f for f in r.files if f.outcome == "quarantined"]
    for f in refused:
        receipt = d.receipts.get(f.key)
        more = f" · {link(paths.receipt_page(receipt), 'receipt')}" if receipt else ""
        blocks += (
            f"<div class='callout bad refused' data-file='{e(f.key)}'><b>Refused file</b> "
            f"<span class='mono'>{e(f.key)}</span> ({e(f.rule)}): {e(f.reason)}<br>"
            f"<span class='small'>Source owner: <b>{e(feed.source_owner)}</b>{more}</span>"
            "</div>"
        )
    rows = []
    for f in r.files:
        cls = OUTCOME_CLASS.get(f.outcome, "none")
        word = OUTCOME_WORD.get(f.outcome, f.outcome)
        late = ""
        try:
            from buildout_tracker.weeks import week_key

            if week_key(date.fromisoformat(f.delivery_date)) != d.week:
                late = " " + pill("late", "warn")
        except ValueError:
            pass
        extra = []
        v = d.validation.get(f.fid)
        if v:
            extra.append(link(paths.lake_object(v), "validation"))
        receipt = d.receipts.get(f.key)
        if receipt:
            extra.append(link(paths.receipt_page(receipt), "receipt"))
        why = ""
        if f.outcome == "duplicate" and f.duplicate_of:
            why = f"<div class='small muted'>same bytes as {e(f.duplicate_of)}</div>"
        elif f.outcome in ("superseded", "taken_late") and f.reason:
            why = f"<div class='small muted'>{e(f.reason)}</div>"
        ingested = f.outcome == "ingested"
        rows.append(
            [
                f"<span class='mono'>{e(file_name(f.key))}</span>{late}{why}",
                e(f.delivery_date),
                pill(word, cls),
                num(f.rows_in),
                num(f.rows_valid) if ingested else "–",
                num(f.rows_quarantined) if ingested else (num(f.rows_in) if cls == "bad" else "–"),
                _rules_cell(f, d.rules.get(f.key, {})),
                " · ".join(extra) or "<span class='muted'>–</span>",
            ]
        )
    files = (
        table(
            [
                "File",
                "Delivered",
                "Outcome",
                "Rows in",
                "Validated",
                "Refused",
                "Rules broken",
                "Links",
            ],
            rows,
            num_cols=(3, 4, 5),
        )
        if rows
        else "<div class='placeholder'>No file landed for this feed in this week.</div>"
    )
    notes = "".join(f"<li>{e(n)}</li>" for n in r.stray_warnings[:20])
    if notes:
        notes = f"<h3>Notes</h3><ul class='small'>{notes}</ul>"
    validation = ""
    unmatched = [k for fid, k in d.validation.items() if fid not in {f.fid for f in r.files}]
    if unmatched:
        validation = (
            "<p class='small'>Validation results: "
            + " · ".join(link(paths.lake_object(k), posixpath.basename(k)) for k in unmatched)
            + "</p>"
        )
    return (
        f"<section class='card' data-feed='{e(d.feed)}'><div class='card-head'>{title}{state}"
        f"{head_links}</div><div class='stats'>{stats}</div>{blocks}"
        f"<div class='scroll'>{files}</div>{validation}{notes}</section>"
    )


def feed_week_page(view: LakeView, feed: str, week: str) -> str:
    d = feed_week_data(view, feed, week)
    f = registry.feed(feed)
    intro = (
        f"<h1>{e(feed_title(feed))} · {e(week)}</h1><p class='sub'>Ingested by "
        f"<span class='mono'>{e(f.dag_id)}</span> (task <span class='mono'>{e(f.task_id)}"
        f"</span>) · source owner: {e(f.source_owner)}</p>"
    )
    return page(
        f"{feed} {week}",
        intro + feed_week_section(d, page_link=False),
        [("Buildout", paths.home(week)), (week, paths.home(week)), (feed_title(feed), None)],
    )


# --- a DAG run ---------------------------------------------------------------------------

STATE_CLASS = {"success": "ok", "failed": "bad", "running": "info", "queued": "info",
               "upstream_failed": "bad", "skipped": "none"}  # fmt: skip


def _run_header(run: RunInfo, weeks: list[str], source: str) -> str:
    state = run.state or "unknown"
    tasks = " ".join(
        f"<span class='small' style='white-space:nowrap'><span class='mono'>{e(t)}</span> "
        f"{pill(s or 'no status', STATE_CLASS.get(s or '', 'none'))}</span>"
        for t, s in sorted(run.tasks.items())
    )
    facts = [
        stat(", ".join(weeks) or "unknown", f"week (from {source})"),
        f"<div class='stat'>{pill(state, STATE_CLASS.get(state, 'none'))}<span> run state</span>"
        "</div>",
        f"<div class='stat'><span class='mono'>{e(run.run_id)}</span><span>run</span></div>",
    ]
    extra = ""
    if tasks:
        extra += f"<div class='small' style='margin-top:4px'>Tasks: {tasks}</div>"
    if run.note:
        extra += f"<div class='small muted' style='margin-top:4px'>Note: {e(run.note)}</div>"
    return (
        f"<section class='card'><div class='stats' style='align-items:flex-end'>{''.join(facts)}"
        f"</div>{extra}</section>"
    )


def _manifest_card(view: LakeView, week: str) -> str:
    published = view.published()
    if week not in published:
        return (
            f"<section class='card'><div class='card-head'><h2>{e(week)}</h2>"
            f"{pill('not published', 'none')}</div><p class='muted'>No manifest for {e(week)} "
            "under curated/_manifests/ (not published, or withdrawn).</p></section>"
        )
    m = view.manifest(week, published[week])
    if m is None:
        raise NotFound(week)
    areas = view.scorecard(m)
    chips = " ".join(
        f"<span data-area='{e(a.area)}'>{e(area_title(a.area))} {pill(a.rag, a.rag)}</span>"
        for a in sorted(areas, key=lambda a: (a.area != "program", a.area))
    )
    tables = table(
        ["Table", "Rows", "Published"],
        [
            [
                f"<span class='mono'>{e(n)}</span>",
                num(int(t.get("rows") or 0)),
                pill("withheld", "warn") + f" <span class='small'>{e(t['withheld'])}</span>"
                if t.get("withheld")
                else pill("published", "ok"),
            ]
            for n, t in m.tables.items()
        ],
        num_cols=(1,),
    )
    dq_rows = []
    for feed, dq in m.data_quality.items():
        dq_rows.append(
            [
                link(paths.feed_week(feed, week), feed_title(feed)),
                pill("blocked", "bad")
                if dq.get("blocked")
                else pill("delivered", "ok")
                if dq.get("delivered")
                else pill("no delivery", "none"),
                num(int(dq.get("files_received") or 0)),
                num(int(dq.get("rows_in") or 0)),
                num(int(dq.get("rows_quarantined") or 0)),
            ]
        )
    quality = table(
        ["Feed", "Status", "Files", "Rows in", "Rows refused"], dq_rows, num_cols=(2, 3, 4)
    )
    return (
        f"<section class='card'><div class='card-head'><h2>Publication of {e(week)}</h2>"
        f"{pill('published', 'ok')}<div class='links'>"
        f"{link(paths.home(week), 'Buildout page of this week')}</div></div>"
        f"<p class='small muted'>Manifest run <span class='mono'>{e(m.run_id)}</span> · status "
        f"date {e(m.status_date)} · code {e(m.code_version)} · {m.inputs} input files</p>"
        f"<p>{chips}</p><div class='row'><div style='flex:1;min-width:320px'>"
        f"<h3>Tables</h3>{tables}</div><div style='flex:1;min-width:320px'><h3>Data quality"
        f"</h3>{quality}</div></div></section>"
    )


def run_page(view: LakeView, run: RunInfo | None, dag_id: str, run_id: str) -> str:
    crumbs = [("Buildout", paths.home()), (dag_id, None), (run_id, None)]
    if run is None:
        body = (
            f"<h1>{e(dag_id)}</h1><div class='card placeholder'>No run "
            f"<span class='mono'>{e(run_id)}</span> of this DAG in Airflow's metadata DB.</div>"
        )
        return page("Run", body, crumbs)
    weeks, source = run.weeks()
    feeds = registry.feeds_of_dag(dag_id)
    body = (
        f"<h1>{e(dag_id)}"
        + (f" · {e(', '.join(weeks))}" if weeks else "")
        + "</h1>"
        + _run_header(run, weeks, source)
    )
    if feeds:
        if not weeks:
            body += "<div class='card placeholder'>The run's week is unknown.</div>"
        pairs = [(f.name, w) for w in weeks for f in feeds]
        data = view.outer_map(lambda p: feed_week_data(view, p[0], p[1]), pairs)
        body += "".join(feed_week_section(d) for d in data)
    elif dag_id == registry.PUBLISH_DAG:
        body += "".join(_manifest_card(view, w) for w in weeks) or (
            "<div class='card placeholder'>This run published no week.</div>"
        )
    else:
        body += (
            "<div class='card placeholder'>Not an ingest or publishing DAG of Buildout Tracker: "
            + (
                "see the " + link(paths.home(weeks[0]), f"Buildout page of {weeks[0]}")
                if weeks
                else "see the " + link(paths.home(), "Buildout page")
            )
            + ".</div>"
        )
    return page(f"{dag_id} run", body, crumbs)


# --- quarantine and receipts ---------------------------------------------------------------


def _spec_of_kind(feed: str, kind: str) -> Any:
    from buildout_tracker import feeds

    for spec in feeds.SPECS.get(feed, ()):
        if spec.kind == kind:
            return spec
    return None


def sensitive_columns(feed: str, kind: str) -> frozenset[str]:
    """The columns never shown for a file kind: its spec's sensitive columns (all of a feed's
    kinds when the kind is unknown)."""
    from buildout_tracker import feeds

    spec = _spec_of_kind(feed, kind)
    if spec is not None:
        return frozenset(spec.sensitive_columns)
    out: set[str] = set()
    for s in feeds.SPECS.get(feed, ()):
        out |= set(s.sensitive_columns)
    return frozenset(out)


def quarantine_page(view: LakeView, feed: str, week: str) -> str:
    prefix = f"quarantine/{feed}/week={week}/"
    objects = view.listing(prefix)
    rows_files = [o for o in objects if o.key.endswith(".rows.parquet")]
    records = [o for o in objects if o.key.endswith(".json") and "/files/" in o.key]
    found = view.map(view.rows_by_rule, rows_files)
    rec = view.map(view.refused_file_record, records)
    lines = []
    for o, rules in zip(rows_files, found, strict=True):
        rel = o.key[len(prefix) :]
        kind, name = rel.split("/", 1) if "/" in rel else ("", rel)
        counts = ", ".join(
            f"{r} ({len(n)})" for r, n in sorted(rules.items(), key=lambda kv: -len(kv[1]))
        )
        lines.append(
            [
                link(paths.quarantine_rows(feed, week, kind, name), name),
                "refused rows",
                num(o.size),
                num(sum(1 for _ in set().union(*rules.values()))) if rules else "0",
                f"<span class='mono small'>{e(counts)}</span>",
            ]
        )
    for o, r in zip(records, rec, strict=True):
        lines.append(
            [
                f"<span class='mono'>{e(posixpath.basename(o.key))}</span>",
                "refused file",
                num(o.size),
                "whole file",
                f"<span class='mono small'>{e(r.get('rule'))}</span>: {e(r.get('reason'))}"
                f"<div class='small muted'>{e(r.get('landing_key'))}</div>",
            ]
        )
    raw = [o for o in objects if o.key.endswith(".raw")]
    body = (
        f"<h1>Quarantine · {e(feed_title(feed))} · {e(week)}</h1>"
        f"<p class='sub'>{len(objects)} object(s) under <span class='mono'>{e(prefix)}</span>"
        + (f"; {len(raw)} refused file(s) kept as raw bytes (not shown here)" if raw else "")
        + "</p><section class='card'>"
        + (
            table(["Object", "What", "Bytes", "Rows", "Rules (rows)"], lines, num_cols=(2, 3))
            if lines
            else "<div class='placeholder'>Nothing was refused.</div>"
        )
        + "</section>"
    )
    return page(
        f"Quarantine {feed} {week}",
        body,
        [("Buildout", paths.home(week)), (feed_title(feed), paths.feed_week(feed, week)),
         ("Quarantine", None)],
    )  # fmt: skip


def quarantine_rows_page(view: LakeView, feed: str, week: str, kind: str, name: str) -> str:
    prefix = f"quarantine/{feed}/week={week}/{kind}/"
    objects = {o.key: o for o in view.listing(prefix)}
    key = prefix + name
    if key not in objects or not name.endswith(".rows.parquet") or "/" in name:
        raise NotFound(key)
    import pyarrow.parquet as pq

    hidden = sensitive_columns(feed, kind)
    pf = pq.ParquetFile(io.BytesIO(view.lake.get_bytes(key)))
    names = [c for c in pf.schema_arrow.names if c not in hidden]
    tbl = pf.read(columns=names)
    total = tbl.num_rows
    tbl = tbl.slice(0, MAX_TABLE_ROWS)
    cols = {c: tbl.column(c).to_pylist() for c in names}
    for c in ("raw_values", "detail"):
        if c in cols:
            cols[c] = [_scrub(v, hidden) for v in cols[c]]
    rows = []
    for i in range(tbl.num_rows):
        cells = []
        for c in names:
            v = cols[c][i]
            if isinstance(v, list):
                v = ", ".join(str(x) for x in v)
            cells.append(f"<span class='mono small'>{e(v)}</span>")
        rows.append(cells)
    note = (
        f"Showing {min(total, MAX_TABLE_ROWS):,} of {total:,} refused rows. "
        f"Personal columns are not shown ({', '.join(sorted(hidden)) or 'none in this kind'})."
    )
    body = (
        f"<h1>Refused rows · {e(name)}</h1><p class='sub'>{e(note)}</p>"
        f"<section class='card'><div class='scroll'>{table(names, rows)}</div></section>"
    )
    return page(
        f"Refused rows {name}",
        body,
        [("Buildout", paths.home(week)), (feed_title(feed), paths.feed_week(feed, week)),
         ("Quarantine", paths.quarantine(feed, week)), (name, None)],
    )  # fmt: skip


def _scrub(value: Any, hidden: frozenset[str]) -> Any:
    """Drop the `column=value` parts of a joined string that name a hidden column."""
    if not isinstance(value, str) or not hidden:
        return value
    parts = [p for p in value.split("; ") if p.split("=", 1)[0].split(":", 1)[0] not in hidden]
    return "; ".join(parts)


def receipt_page(view: LakeView, key: str) -> str:
    from buildout_tracker.ingest.receipts import read_receipt

    r = read_receipt(view.lake, key)
    if r is None:
        raise NotFound(key)
    cls = "ok" if r.get("accepted") else "bad" if r.get("outcome") == "quarantined" else "warn"
    facts = [
        ("File", f"<span class='mono'>{e(r.get('landing_key'))}</span>"),
        ("Outcome", pill(OUTCOME_WORD.get(r.get("outcome") or "", r.get("outcome") or ""), cls)),
        ("Delivered", e(r.get("delivery_date"))),
        ("Week", e(r.get("week"))),
        (
            "Rows",
            f"{num(r.get('rows_in'))} in · {num(r.get('rows_accepted'))} accepted · "
            f"{num(r.get('rows_refused'))} refused",
        ),
        ("For", e(r.get("source_owner"))),
        ("SHA-256", f"<span class='mono small'>{e(r.get('sha256'))}</span>"),
    ]
    refused = r.get("refused_file")
    if isinstance(refused, dict):
        facts.append(("Refused", f"<span class='mono'>{e(refused.get('rule'))}</span>: "
                                 f"{e(refused.get('reason'))}"))  # fmt: skip
    kv = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    rules = [
        [
            f"<span class='mono'>{e(x.get('rule'))}</span>",
            e(x.get("severity")),
            num(int(x.get("rows") or 0)),
            e(row_numbers(list(x.get("row_numbers") or []), limit=40))
            + ("" if x.get("row_numbers_complete") else " <span class='muted'>(partial)</span>"),
        ]
        for x in r.get("rules_broken") or []
    ]
    body = (
        f"<h1>Delivery receipt · {e(r.get('file'))}</h1><p class='sub'>{e(r.get('summary'))}</p>"
        f"<section class='card'><div class='card-head'><h2>What became of the file</h2>"
        f"<div class='links'>{link(paths.lake_object(key), 'JSON')}</div></div>"
        f"<dl class='kv'>{kv}</dl></section>"
        + (
            "<section class='card'><h2>Rules broken</h2>"
            + table(["Rule", "Severity", "Rows", "Row numbers"], rules, num_cols=(2,))
            + "</section>"
            if rules
            else ""
        )
    )
    feed, week = str(r.get("feed")), str(r.get("week"))
    return page(
        "Receipt",
        body,
        [("Buildout", paths.home()), (feed_title(feed), paths.feed_week(feed, week)),
         ("Receipt", None)],
    )  # fmt: skip
