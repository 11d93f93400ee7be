"""A real browser renders the report: headless Chromium takes a screenshot and prints it to PDF
on A4 and Letter with no console error, its charts fit a page's width, and the page it shows
says what the tables say."""

from __future__ import annotations

import html as html_module
import json
import os
import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from buildout_tracker.lake import Bucket
from buildout_tracker.report import build_report
from tests.report import scenario as sc

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip(
        "no chromium on this machine (Debian: apt-get install chromium)", allow_module_level=True
    )

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--host-resolver-rules=MAP * ~NOTFOUND",
    "--enable-logging=stderr", "--v=0",
]  # fmt: skip


def chromium(tmp: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM, "CI is set: chromium must be installed"
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def probed(page: Path, tmp: Path, width: int, on_load: str) -> str:
    """The page's DOM after `on_load` (JavaScript) ran in it once loaded, `width` px wide."""
    probe = tmp / f"probe-{len(list(tmp.glob('probe-*')))}.html"
    script = f"<script>addEventListener('load',()=>{{{on_load}}})</script>"
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", script + "</body>"))
    out = chromium(tmp, f"--window-size={width},3000", "--dump-dom", probe.as_uri())
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def console_errors(stderr: str) -> list[str]:
    """What the page said on its console (Chromium logs it as CONSOLE lines)."""
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory, lake_server) -> Path:  # type: ignore[no-untyped-def]
    from buildout_tracker.lake import make_client

    lake = Bucket(lake_server.buckets[1], make_client(lake_server.settings()))
    lake.delete_prefix("")
    for w in (sc.W47, sc.W48):
        sc.publish(lake, w)
    result = build_report(lake, sc.W48)
    path = tmp_path_factory.mktemp("report") / "index.html"
    path.write_bytes(lake.get_bytes(result.html_key))
    lake.delete_prefix("")
    return path


def test_console_errors_are_seen(tmp_path: Path) -> None:
    """The check below can fail: a page that errs is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text("<p>x</p><script>console.error('boom'); missing();</script>")
    out = chromium(tmp_path, "--dump-dom", bad.as_uri())
    assert len(console_errors(out.stderr)) == 2, out.stderr[-2000:]


def test_screenshot(page: Path, tmp_path: Path) -> None:
    png = tmp_path / "page.png"
    out = chromium(tmp_path, "--window-size=1280,6000", f"--screenshot={png}", page.as_uri())
    assert out.returncode == 0, out.stderr[-2000:]
    assert console_errors(out.stderr) == []
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1280, 6000) and len(data) > 100_000  # a page, not a blank


@pytest.mark.parametrize(("paper", "size"), [("A4", (595, 842)), ("Letter", (612, 792))])
def test_prints_on_a4_and_letter(
    page: Path, tmp_path: Path, paper: str, size: tuple[int, int]
) -> None:
    sized = tmp_path / f"{paper}.html"
    sized.write_text(
        page.read_text(encoding="utf-8").replace("</style>", f"@page{{size:{paper}}}</style>", 1),
        encoding="utf-8",
    )
    pdf = tmp_path / f"{paper}.pdf"
    out = chromium(tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", sized.as_uri())
    assert out.returncode == 0, out.stderr[-2000:]
    assert console_errors(out.stderr) == []
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert pages >= 4  # a page break before each section: header and data quality, areas, ...
    boxes = {tuple(round(float(x)) for x in m.groups()) for m in re.finditer(
        rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)}  # fmt: skip
    assert boxes == {size}


def test_charts_fit_the_width_of_a_page(page: Path, tmp_path: Path) -> None:
    """At the width of A4 less margins (about 700 px) no chart sticks out of the page."""
    dom = probed(page, tmp_path, 720, (
        "const w=document.documentElement.clientWidth;"
        "const out=[...document.querySelectorAll('figure svg')].filter("
        "s=>s.getBoundingClientRect().right>w+1).length;"
        "document.body.setAttribute('data-overflowing',String(out));"
        "document.body.setAttribute('data-charts',String(document.querySelectorAll('figure svg').length));"
    ))  # fmt: skip
    body = re.search(r"<body[^>]*>", dom)
    assert body is not None
    assert 'data-charts="8"' in body.group(0) and 'data-overflowing="0"' in body.group(0)


class Shown(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rag: dict[str, str] = {}
        self.cells: dict[tuple[str, str], str] = {}
        self._tile = self._measure = None
        self._td: list[str] | None = None
        self._n = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "article" and a.get("data-area"):
            self._tile = a["data-area"]
        if tag == "span" and self._tile and "pill" in (a.get("class") or ""):
            self._td, self._measure = [], "_pill"
        if tag == "tr" and a.get("data-measure"):
            self._measure, self._n = a["data-measure"], 0
        if tag == "td" and self._measure and self._measure != "_pill":
            self._n += 1
            self._td = [] if self._n == 1 else None

    def handle_endtag(self, tag: str) -> None:
        if self._td is not None and tag in ("td", "span") and self._tile and self._measure:
            text = "".join(self._td).strip()
            if self._measure == "_pill":
                self.rag[self._tile] = text
                self._measure = None
            else:
                self.cells[self._tile, self._measure] = text
            self._td = None
        if tag == "article":
            self._tile = None

    def handle_data(self, data: str) -> None:
        if self._td is not None:
            self._td.append(data)


def test_the_rendered_page_says_what_the_tables_say(page: Path, tmp_path: Path) -> None:
    out = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert out.returncode == 0 and console_errors(out.stderr) == []
    shown = Shown()
    shown.feed(out.stdout)
    scorecard = {r["area"]: r for r in sc._scorecard(sc.W48)}
    assert shown.rag == {a: r["rag"].upper() for a, r in scorecard.items()}
    for area, r in scorecard.items():
        assert shown.cells[area, "hiring_attainment"] == f"{r['hiring_attainment']:.2f}"
        assert shown.cells[area, "otd_rate"] == f"{r['otd_rate']:.2f}"
    assert shown.cells["program", "spi"] == "0.93"
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", out.stdout))
    assert "chip_development turned red (was amber)" in text
    assert "DC-AA-01 Alpha Campus A: GO_LIVE turned late" in text


def test_no_text_is_cut_by_its_chart_or_runs_into_its_value(page: Path, tmp_path: Path) -> None:
    """In the browser's own fonts: every chart's text lies inside its SVG (an SVG cuts what
    passes its edge: end labels had lost their last digits), and every area tile's measure
    name fits its cell (a long one had run into its value), and so does every value and
    change (a VAC of -$591M had run into its change, -$39.0M, with no gap)."""
    assert cut_texts(page, tmp_path, (
        "document.querySelectorAll('figure svg').forEach(s=>{const b=s.getBoundingClientRect();"
        "s.querySelectorAll('text').forEach(t=>{const r=t.getBoundingClientRect();"
        "if(r.width&&(r.left<b.left-0.5||r.right>b.right+0.5))cut.push(t.textContent)})});"
        "document.querySelectorAll('table.measures tbody th, table.measures tbody td')"
        ".forEach(c=>{if(c.scrollWidth>c.clientWidth+1)cut.push('tile: '+c.textContent)});"
    )) == []  # fmt: skip

    # The same tiles with the widest value and change `make run`'s history shows
    # (a VAC of -$591M, a change of +$97.7M) in every cell.
    html = page.read_text(encoding="utf-8")
    html = re.sub(r'<td class="v">[^<]*</td>', '<td class="v">-$591M</td>', html)
    html = re.sub(r'<td class="chg">[^<]*</td>', '<td class="chg">+$97.7M</td>', html)
    wide = tmp_path / "wide.html"
    wide.write_text(html, encoding="utf-8")
    assert cut_texts(wide, tmp_path, (
        "document.querySelectorAll('table.measures tbody td, table.measures tbody th')"
        ".forEach(c=>{if(c.scrollWidth>c.clientWidth+1)cut.push(c.textContent)});"
    )) == []  # fmt: skip


def cut_texts(page: Path, tmp: Path, checks: str) -> list[str]:
    """What `checks` (JavaScript pushing the texts it finds cut onto `cut`) found in the
    page, 1280 px wide."""
    dom = probed(page, tmp, 1280, (
        f"const cut=[];{checks}"
        "const p=document.createElement('pre');p.id='cut';p.textContent=JSON.stringify(cut);"
        "document.body.appendChild(p);"
    ))  # fmt: skip
    found = re.search(r'<pre id="cut">(.*?)</pre>', dom, re.S)
    assert found is not None, dom[-2000:]
    return list(json.loads(html_module.unescape(found.group(1))))
