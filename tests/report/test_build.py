"""The week's report built from published tables in the test lake: summary.json and one
self-contained index.html whose numbers are the tables'."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from buildout_tracker.lake import Bucket, json_bytes
from buildout_tracker.report import build_report, keys, report_bytes, save_local
from buildout_tracker.report.changes import what_changed
from buildout_tracker.report.history import read_history
from tests.report import scenario as sc

NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
SECTIONS = ("week", "data-quality-summary", "areas", "what-changed", "charts")
FIGURES = ("s-curve", "s-curve-sites", "cpi-spi", "spend-pace", "hiring", "milestone-trend",
           "rag-history", "data-quality")  # fmt: skip


class Page(HTMLParser):
    """The parts of the page the tests look at: ids, tiles, tables, text, references."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.tiles: dict[str, dict[str, str]] = {}
        self.tables: dict[str, list[list[str]]] = {}  # figure or table id -> rows of cells
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value) that could load
        self.svg_in: dict[str, int] = {}
        self._stack: list[tuple[str, dict[str, str]]] = []
        self._figure: str | None = None
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._tile: str | None = None
        self._measure: str | None = None
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self._stack.append((tag, a))
        if "id" in a:
            self.ids.add(a["id"])
        for attr in ("src", "href", "xlink:href", "action", "poster", "srcset"):
            if attr in a:
                self.refs.append((tag, attr, a[attr]))
        if tag in ("script", "link", "iframe", "img", "object", "embed", "image"):
            self.refs.append((tag, "", ""))
        if tag == "figure":
            self._figure = a["id"]
        if tag == "svg" and self._figure:
            self.svg_in[self._figure] = self.svg_in.get(self._figure, 0) + 1
        if tag == "article" and "data-area" in a:
            self._tile = a["data-area"]
            self.tiles[self._tile] = {"rag": a["data-rag"]}
        if tag == "tr" and "data-measure" in a:
            self._measure = a["data-measure"]
        if tag == "table":
            self._table = self._figure or a.get("id")
            if self._table and self._table not in self.tables:
                self.tables[self._table] = []
        if tag == "tr" and (self._table or self._tile):
            self._row = []
        if tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if self._stack:
            self._stack.pop()
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        if tag == "tr" and self._row is not None:
            if self._table:
                self.tables[self._table].append(self._row)
            if self._tile and self._measure:
                self.tiles[self._tile][self._measure] = self._row[1]
            self._row, self._measure = None, None
        if tag == "table":
            self._table = None
        if tag == "figure":
            self._figure = None
        if tag == "article":
            self._tile = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        self.text.append(data)


@pytest.fixture
def lake(fresh_buckets: tuple[Bucket, Bucket]) -> Bucket:
    _, lake = fresh_buckets
    for w in (sc.W47, sc.W48):
        sc.publish(lake, w)
    return lake


@pytest.fixture
def built(lake: Bucket) -> tuple[Bucket, str]:
    result = build_report(lake, sc.W48)
    assert result.html_key == keys.html(sc.W48) == "reports/program/week=2026-W48/index.html"
    assert result.summary_key == "reports/program/week=2026-W48/summary.json"
    return lake, lake.get_bytes(result.html_key).decode("utf-8")


def test_summary_json_is_what_changed(built: tuple[Bucket, str]) -> None:
    lake, _ = built
    got = lake.get_bytes(keys.summary(sc.W48))
    assert got == json_bytes(what_changed(read_history(lake, sc.W48)))
    assert json.loads(got)["areas"][2]["area"] == "chip_development"


def test_every_section_and_chart_is_on_the_page(built: tuple[Bucket, str]) -> None:
    _, html = built
    page = Page(html)
    assert set(SECTIONS) <= page.ids
    for fig in FIGURES:
        assert fig in page.ids, fig
        assert page.svg_in.get(fig, 0) >= 1, f"{fig}: no chart"
        assert len(page.tables[fig]) > 1, f"{fig}: no numbers"  # header + rows
    assert "<figcaption>" in html and "<details>" in html
    assert "2026-W48" in html and "Sunday 29 November 2026" in "".join(page.text)
    assert "test-run" in html  # the manifest's run id


def test_no_reference_leaves_the_file(built: tuple[Bucket, str]) -> None:
    _, html = built
    page = Page(html)
    assert page.refs == []  # no src, href, script, link, image, iframe
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", html))
    assert urls <= NAMESPACES, urls - NAMESPACES
    for m in re.finditer(r"https?://", html):  # namespaces only inside an <svg ...> tag
        tag_start = html.rfind("<", 0, m.start())
        assert html.startswith("<svg", tag_start), html[tag_start : m.end() + 20]
    for bad in ("@import", "url(", "@font-face", "<script", "javascript:"):
        assert bad not in html


def test_the_numbers_are_the_tables(built: tuple[Bucket, str]) -> None:
    _, html = built
    page = Page(html)
    assert {a: t["rag"] for a, t in page.tiles.items()} == {
        "program": "red", "ai_software": "green", "chip_development": "red",
        "compute_hardware": "amber", "data_centers": "amber",
    }  # fmt: skip
    assert page.tiles["chip_development"]["hiring_attainment"] == "0.82"  # 45 / 55
    assert page.tiles["compute_hardware"]["otd_rate"] == "0.87"  # 196 / 225
    assert page.tiles["program"]["cpi"] == "0.91"  # 204.6 / 224.6
    assert page.tiles["program"]["eac_usd"] == "$2.20K"  # 2000 x 224.6 / 204.6
    dq = {r[0]: r for r in page.tables["dq-table"][1:]}
    assert dq["procurement"][3] == "1"  # one file taken late
    assert dq["reference"][9].startswith("yes: reference blocked")
    assert dq["reference"][8] == "7.00%"  # 7 of 100 rows refused
    cpi = {r[0]: r for r in page.tables["cpi-spi"][1:]}
    assert cpi["2026-W48"][2:4] == ["0.9300", f"{204.6 / 224.6:.4f}"]
    assert cpi["2026-W47"][2:] == ["0.9600", "1.0000", "green", "green"]
    hiring = {(r[0], r[1]): r for r in page.tables["hiring"][1:]}
    assert hiring["2026-W48", "chip_development"][2:] == ["45", "55.0", "0.8182"]
    trend = {(r[0], r[1]): r for r in page.tables["milestone-trend"][1:]}
    assert trend[sc.S1, "2026-W48"][2:] == ["2027-06-01", "2027-07-11", "40"]
    rag_rows = {(r[0], r[1]): r[2] for r in page.tables["rag-history"][1:]}
    assert rag_rows["2026-W47", "compute_hardware"] == "green"
    assert rag_rows["2026-W48", "compute_hardware"] == "amber"
    text = " ".join(" ".join(page.text).split())
    for sentence in json.loads(json_bytes(what_changed(read_history(built[0], sc.W48))))[
        "sentences"
    ]:
        assert " ".join(sentence.split()) in text


def test_the_same_tables_give_the_same_bytes(built: tuple[Bucket, str], tmp_path: Path) -> None:
    """Built again, and in another process in another time zone: byte-identical."""
    lake, html = built
    assert build_report(lake, sc.W48).html_sha256 == _sha(html)
    env = {**os.environ, "TZ": "America/Los_Angeles"}
    code = (
        "import sys; from buildout_tracker.lake import Bucket, make_client; "
        "from buildout_tracker.report import build_report; "
        f"r = build_report(Bucket({lake.name!r}, make_client()), {sc.W48!r}); "
        "print(r.html_sha256)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == _sha(html)


def _sha(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def test_save_local_and_report_bytes(built: tuple[Bucket, str], tmp_path: Path) -> None:
    lake, html = built
    path = save_local(lake, sc.W48, tmp_path / "r" / "report.html")
    assert path.read_text(encoding="utf-8") == html
    lake.delete([keys.html(sc.W48)])
    assert report_bytes(lake, sc.W48).decode() == html  # built when there is none


def test_a_first_week_has_no_comparison(fresh_buckets: tuple[Bucket, Bucket]) -> None:
    _, lake = fresh_buckets
    sc.publish(lake, sc.W48)
    result = build_report(lake, sc.W48)
    html = lake.get_bytes(result.html_key).decode()
    assert "2026-W47 was not published: there is no comparison this week." in html
    assert result.summary["previous_week_published"] is False
