"""The pages' frame and small pieces: one stylesheet, inline; no script, no font or image to
fetch (the pages render inside the Airflow UI's sandboxed iframe and offline)."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from buildout_tracker.ui import paths

CSS = """
:root{--bg:#f5f6f8;--card:#fff;--line:#e2e5ea;--text:#1d2733;--muted:#5d6b7a;--link:#0b57d0;
--green:#137333;--green-bg:#e6f4ea;--amber:#a05a00;--amber-bg:#fef3d6;--red:#b3261e;--red-bg:#fce8e6;
--grey:#5f6368;--grey-bg:#eef0f2;--blue-bg:#e8f0fe}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:14px/1.45 -apple-system,BlinkMacSystemFont,
"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
a{color:var(--link);text-decoration:none}a:hover{text-decoration:underline}
header.top{display:flex;align-items:center;gap:16px;padding:9px 20px;background:#fff;
border-bottom:1px solid var(--line)}
.brand{font-weight:700;letter-spacing:.2px;font-size:14px;color:#14213d;display:flex;gap:8px;align-items:center}
.brand i{display:inline-block;width:14px;height:14px;border-radius:3px;
background:linear-gradient(90deg,#34a853 0 33%,#f9ab00 33% 66%,#d93025 66%)}
.crumbs{color:var(--muted);font-size:13px}.crumbs a{color:var(--muted)}
main{padding:16px 20px 28px;max-width:1500px}
h1{font-size:22px;margin:4px 0 2px}h2{font-size:16px;margin:0}h3{font-size:14px;margin:14px 0 6px}
.sub{color:var(--muted);margin:0 0 12px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px;margin:0 0 14px}
.card-head{display:flex;flex-wrap:wrap;align-items:center;gap:10px;margin-bottom:10px}
.card-head .links{margin-left:auto;display:flex;gap:14px;flex-wrap:wrap;font-size:13px}
.row{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}
.pill{display:inline-block;border-radius:999px;padding:1px 9px;font-size:12px;font-weight:600;
white-space:nowrap;background:var(--grey-bg);color:var(--grey)}
.green,.ok{background:var(--green-bg);color:var(--green)}.amber,.warn{background:var(--amber-bg);color:var(--amber)}
.red,.bad{background:var(--red-bg);color:var(--red)}.grey,.none{background:var(--grey-bg);color:var(--grey)}
.info{background:var(--blue-bg);color:#174ea6}
.areas{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:10px}
.area{border:1px solid var(--line);border-left:5px solid var(--grey);border-radius:8px;padding:9px 11px}
.area.green{border-left-color:var(--green);background:#fff}.area.amber{border-left-color:#e8a000;background:#fff}
.area.red{border-left-color:var(--red);background:#fff}.area.grey{border-left-color:#9aa0a6;background:#fff}
.area .name{font-weight:600;display:flex;justify-content:space-between;gap:8px}
.area ul{margin:6px 0 0;padding-left:16px;color:var(--muted);font-size:12.5px}
ul.said{margin:0 0 12px;padding-left:18px}ul.said li{margin:0 0 3px}
.stats{display:flex;flex-wrap:wrap;gap:8px 22px;margin:2px 0 10px}
.stat b{display:block;font-size:18px}.stat>span{display:block;color:var(--muted);font-size:12px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;color:var(--muted);font-weight:600;background:#fafbfc}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.scroll{overflow:auto}.tall{max-height:460px}
.hist{width:auto}.hist td,.hist th{padding:0;border:none}
.hist th.area-name{padding:3px 10px 3px 0;font-size:12.5px;color:var(--text);white-space:nowrap;
position:sticky;left:0;background:#fff}
.hist .wk{font-size:10px;color:var(--muted);font-weight:500;writing-mode:vertical-rl;transform:rotate(180deg);
padding:2px 0 4px;height:58px;white-space:nowrap}
.rtl{direction:rtl}.rtl>*{direction:ltr}
.hist .cell a,.hist .cell span{display:block;width:16px;height:20px;margin:1px;border-radius:3px}
.hist .cell .green{background:#34a853}.hist .cell .amber{background:#f9ab00}.hist .cell .red{background:#d93025}
.hist .cell .grey{background:#bdc1c6}.hist .cell .none{background:transparent;border:1px dashed #d5d9de}
.health td.cell{padding:3px}
.health a.h{display:block;border-radius:6px;padding:4px 7px;font-size:12px;line-height:1.3;color:var(--text)}
.health a.h b{font-size:12px}.health a.h:hover{text-decoration:none;filter:brightness(.96)}
.health .ok{background:var(--green-bg)}.health .warn{background:var(--amber-bg)}
.health .bad{background:var(--red-bg)}.health .none{background:var(--grey-bg);color:var(--muted)}
.health th.week{white-space:nowrap}
.legend{display:flex;gap:12px;flex-wrap:wrap;font-size:12px;color:var(--muted);margin-top:8px}
.callout{border-radius:8px;padding:10px 12px;margin:8px 0}
.callout.bad{border:1px solid #f3b8b3}.callout.warn{border:1px solid #f5d68a}.callout.info{border:1px solid #c6dafc}
.muted{color:var(--muted)}.small{font-size:12px}.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px}
.rules{margin:0;padding:0;list-style:none}.rules li{margin:0 0 3px}
form.picker{display:flex;gap:8px;align-items:center;margin-left:auto}
select,button{font:inherit;padding:5px 8px;border:1px solid #c4cad3;border-radius:6px;background:#fff}
button{background:#14213d;color:#fff;border-color:#14213d;cursor:pointer}
iframe.report{width:100%;height:900px;border:1px solid var(--line);border-radius:8px;background:#fff}
.placeholder{border:2px dashed #cfd5dd;border-radius:10px;padding:22px;text-align:center;color:var(--muted)}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;margin:0}dl.kv dt{color:var(--muted)}dl.kv dd{margin:0}
footer{color:var(--muted);font-size:12px;padding:0 20px 18px}
"""


def e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def page(title: str, body: str, crumbs: Iterable[tuple[str, str | None]] = ()) -> str:
    trail = " / ".join(
        f'<a href="{e(href)}">{e(label)}</a>' if href else e(label) for label, href in crumbs
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{e(title)} · Buildout Tracker</title><style>{CSS}</style></head><body>"
        f"<header class='top'><a class='brand' href='{e(paths.home())}'><i></i>Buildout Tracker</a>"
        f"<span class='crumbs'>{trail}</span></header><main>{body}</main>"
        "<footer>Counts, rule ids and row numbers only: no personal value is shown. "
        "Served from the lake by the Airflow api-server.</footer></body></html>"
    )


def pill(text: str, cls: str) -> str:
    return f"<span class='pill {e(cls)}'>{e(text)}</span>"


def link(href: str, text: str) -> str:
    return f"<a href='{e(href)}'>{e(text)}</a>"


def stat(value: Any, label: str) -> str:
    return f"<div class='stat'><b>{e(value)}</b><span>{e(label)}</span></div>"


def num(n: int | float | None) -> str:
    if n is None:
        return "–"
    return f"{n:,}" if isinstance(n, int) else f"{n:,.2f}"


def share(part: int, whole: int) -> str:
    if not whole:
        return "–"
    pct = 100.0 * part / whole
    return "0 %" if part == 0 else f"{pct:.1f} %" if pct >= 0.1 else "<0.1 %"


def row_numbers(rows: list[int], limit: int = 12) -> str:
    """`3, 7-9, 12` for a sorted list of row numbers (ranges collapsed), at most `limit` items."""
    parts: list[str] = []
    i = 0
    while i < len(rows) and len(parts) < limit:
        j = i
        while j + 1 < len(rows) and rows[j + 1] == rows[j] + 1:
            j += 1
        parts.append(str(rows[i]) if i == j else f"{rows[i]}–{rows[j]}")
        i = j + 1
    more = len(rows) - i
    return ", ".join(parts) + (f" … (+{more:,})" if more > 0 else "")


def table(head: list[str], rows: list[list[str]], num_cols: Iterable[int] = ()) -> str:
    nums = set(num_cols)
    th = "".join(f"<th{' class=num' if i in nums else ''}>{e(h)}</th>" for i, h in enumerate(head))
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=num' if i in nums else ''}>{c}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"
