"""GX Data Docs render offline (issue 8, item 10).

The docs are read on machines without internet, from disk or from the lake: every page must
make no network request, link only to files of the site (from `file://` and from an HTTP
server under a prefix), and hold its content in plain HTML (no JavaScript). Built here from
the project's validator on a tiny PO-lines frame; rendered by headless Chromium with the
network off (skipped, with the reason, only where Chromium is missing and CI is not set).
"""

from __future__ import annotations

import filecmp
import functools
import os
import re
import shutil
import struct
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import urlopen

import pytest

from buildout_tracker.feeds import GxFileResult, GxValidator, parse_file
from buildout_tracker.feeds.data_docs import make_offline
from buildout_tracker.feeds.procurement import PO_LINES

from .conftest import CTX, KEY, po, to_csv

BAD_KEY = "procurement/2026-11-23/po_lines_20261123.csv"
# a name with characters a link must encode (space, '#', '%'): validated second, listed first
ODD_KEY = "procurement/2026-11-24/po_lines 2026#11%24.csv"
SECRETS = ("bob.smith@example.com", "Jane Roe")  # personal data in sensitive columns
BAD_ROWS = [
    po(),
    po(po_line="2", currency="GBP"),  # currency_has_rate
    po(po_line="3", status="lost", description=f"ask {SECRETS[0]}"),  # enum:status, pii
    po(po_line="4", supplier_name=SECRETS[1]),
]
FAILED_RULES = ("currency_has_rate", "enum:status", "no_personal_data")
URL_ATTRS = ("src", "href", "srcset", "action", "formaction", "poster", "data", "background")


@dataclass
class Site:
    root: Path
    index: Path
    validation: Path  # the page of BAD_KEY
    odd_validation: Path
    suite: Path
    result: GxFileResult  # of BAD_KEY

    def pages(self) -> list[Path]:
        return sorted(self.root.rglob("*.html"))


def _page_of(root: Path, key: str) -> Path:
    run = key.replace("/", "__")
    (page,) = [p for p in (root / "validations").rglob("*.html") if run in p.parts]
    return page


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    validator = GxValidator()  # its own context: the site holds only these validations
    results = []
    for key, rows in ((BAD_KEY, BAD_ROWS), (ODD_KEY, [po()])):
        parsed = parse_file(PO_LINES, key, to_csv(rows), KEY)
        assert parsed.file_error is None and parsed.rejected.empty
        results.append(validator.validate(PO_LINES, parsed.frame, key, CTX))
    assert sorted(f["rule"] for f in results[0].failed_rules) == sorted(FAILED_RULES)
    root = tmp_path_factory.mktemp("docs") / "site"
    index = validator.build_data_docs(root)
    (suite,) = list((root / "expectations").rglob("*.html"))
    return Site(root, index, _page_of(root, BAD_KEY), _page_of(root, ODD_KEY), suite, results[0])


# --- the HTML itself -----------------------------------------------------------------------------


class _Doc(HTMLParser):
    """What a page holds: its tags with attributes, ids, text (outside script/style), CSS."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.ids: set[str] = set()
        self.text: list[str] = []
        self.css: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if a.get("id"):
            self.ids.add(a["id"] or "")
        if a.get("style"):
            self.css.append(a["style"] or "")
        if tag in ("script", "style"):
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "style":
            self.css.append(data)
        elif self._in is None:
            self.text.append(data)

    @property
    def plain(self) -> str:
        return " ".join("".join(self.text).split())  # as textContent: nodes joined as they are


def parse(source: Path | str) -> _Doc:
    doc = _Doc()
    doc.feed(source.read_text(encoding="utf-8") if isinstance(source, Path) else source)
    doc.close()
    return doc


@functools.cache
def _ids(path: Path) -> frozenset[str]:
    return frozenset(parse(path).ids)


def _is_remote(value: str) -> bool:
    v = value.strip().lower()
    has_scheme = bool(re.match(r"^[a-z][a-z0-9+.-]*:", v))
    return v.startswith("//") or (has_scheme and not v.startswith("data:"))


def test_no_reference_outside_the_site(site: Site) -> None:
    """No src/href/url() to anything outside the site, no script, no inline handler: the
    pages cannot load anything from a network. GX's links to its site and tutorials are kept
    as their text only."""
    pages = site.pages()
    assert len(pages) == 4  # index, one suite, two validations
    for page in pages:
        doc = parse(page)
        for tag, attrs in doc.tags:
            assert tag not in ("script", "iframe", "object", "embed"), (page, tag)
            for name, value in attrs.items():
                assert not name.startswith("on"), (page, tag, name)
                if name in URL_ATTRS and value:
                    assert not _is_remote(value), (page, tag, name, value)
        for css in doc.css:
            for url in re.findall(r"url\(\s*['\"]?([^'\")]*)", css):
                assert not _is_remote(url), (page, url)
            assert "@import" not in css, page
        raw = page.read_text(encoding="utf-8")
        assert not re.search(r"""(?:src|href|srcset)\s*=\s*["']?\s*(?:https?:)?//""", raw), page
    for css in site.root.rglob("*.css"):
        assert not re.search(r"url\(\s*['\"]?\s*(?:https?:)?//", css.read_text()), css
    # GX's credit stays as text, not as a link
    index = parse(site.index)
    assert "Great Expectations" in index.plain
    assert not any("greatexpectations.io" in (v or "") for _, a in index.tags for v in a.values())


def _target(site: Site, page: Path, ref: str) -> tuple[Path, str]:
    """The file and fragment a reference of a page names, as a browser resolves it."""
    url = urlsplit(urljoin(page.as_uri(), ref))
    assert url.scheme == "file", (page, ref)
    return Path(unquote(url.path)), unquote(url.fragment)


def test_every_link_resolves_to_a_file_of_the_site(site: Site) -> None:
    reached: set[Path] = set()
    root = site.root.resolve()
    for page in site.pages():
        for tag, attrs in parse(page).tags:
            for name in ("src", "href"):
                ref = attrs.get(name)
                if ref is None:
                    continue
                assert not ref.startswith("/"), (page, ref)  # works under any prefix
                path, fragment = _target(site, page, ref)
                assert path.resolve().is_relative_to(root), (page, ref)
                assert path.is_file(), (page, tag, ref)
                if fragment:
                    assert fragment in _ids(path), (page, ref)
                if path != page:
                    reached.add(path.resolve())
    # every page is reachable from another one; the index links to each validation and suite
    index_targets = {
        _target(site, site.index, a["href"] or "")[0].resolve()
        for tag, a in parse(site.index).tags
        if tag == "a" and a.get("href") and not (a["href"] or "").startswith("#")
    }
    for page in (site.validation, site.odd_validation, site.suite):
        assert page.resolve() in index_targets, page
    assert {p.resolve() for p in site.pages()} <= reached
    # static files GX copies but no page uses are gone (fonts, unused images: 4 MB)
    static = sorted(
        p.relative_to(site.root).as_posix()
        for p in site.root.rglob("*")
        if p.is_file() and "static" in p.parts
    )
    assert static == ["static/images/favicon.ico", "static/images/logo-long.png"], static


def test_content_is_in_the_html(site: Site) -> None:
    """What bootstrap-table drew with JavaScript is in the HTML: the index's validations (newest
    first) with their file, status and failed rules, each linking to its page; the validation
    page names its file and every rule, with GX's own report below."""
    index = parse(site.index)
    text = index.plain
    for key in (BAD_KEY, ODD_KEY):
        assert key in text, key
    assert text.index(ODD_KEY) < text.index(BAD_KEY)  # GX's order: run time, descending
    for rule in FAILED_RULES:
        assert rule in text
    assert "Failed" in text and "Success" in text
    assert "Validation Results" in text and "Expectation Suites" in text
    assert "procurement.po_lines" in text

    page = parse(site.validation)
    text = page.plain
    assert f"File {BAD_KEY}" in text
    total = site.result.results["statistics"]["evaluated_expectations"]
    met = total - len(FAILED_RULES)
    assert f"Failed · {met} of {total} expectations met · 4 rows validated" in text
    for rule in (*FAILED_RULES, "required:po_number", "site_id_known", "net_value_matches"):
        assert rule in text, rule
    assert "expect_column_values_to_be_in_set" in text
    assert "values must belong to this set" in text  # GX's rendering, kept
    assert "GBP" in text  # a non-personal unexpected value, kept
    assert "Sampled Unexpected Values" in text
    assert "Show more info" not in text  # a toggle without JavaScript to run it
    assert any(t == "label" and "bt-failed-only" in (a.get("class") or "") for t, a in page.tags)

    suite = parse(site.suite)
    assert "Rules of suite procurement.po_lines.2026-W48." in suite.plain
    assert "currency_has_rate" in suite.plain and "currency has an FX rate" in suite.plain

    odd = parse(site.odd_validation)
    assert f"File {ODD_KEY}" in odd.plain and "Passed" in odd.plain


def test_no_personal_data(site: Site) -> None:
    """The validator scrubs results before GX renders them; the post-processing adds rule
    metadata only, never a value."""
    for path in site.root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in SECRETS:
                assert secret.encode() not in data, (path, secret)
                assert secret.split("@")[0].encode() not in data, (path, secret)


def test_make_offline_is_idempotent(site: Site, tmp_path: Path) -> None:
    copy = tmp_path / "again"
    shutil.copytree(site.root, copy)
    make_offline(copy)
    cmp = filecmp.dircmp(site.root, copy)
    assert not cmp.diff_files and not cmp.left_only and not cmp.right_only


# --- in a browser, network off -------------------------------------------------------------------

# Chromium's own services (sign-in, updates, time): not requests of the page
BROWSER_HOSTS = ("google.com", "googleapis.com", "gstatic.com", "gvt1.com")


@pytest.fixture(scope="module")
def chromium() -> str:
    found = os.environ.get("CHROMIUM") or next(
        (p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None
    )
    if not found:
        reason = (
            "chromium not installed (scripts/system-deps.sh installs it: apt-get install chromium)"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def run_chromium(
    binary: str, url: str, tmp: Path, *, screenshot: Path | None = None, size: str = "1280,1600"
) -> tuple[str, list[str]]:
    """Load `url` with every host name unresolvable; the DOM after load (or "" for a
    screenshot run) and the URLs of the network requests it made."""
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    netlog = profile.with_suffix(".netlog.json")
    args = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        f"--user-data-dir={profile}",
        f"--log-net-log={netlog}",
        f"--window-size={size}",
    ]
    args += [f"--screenshot={screenshot}"] if screenshot else ["--dump-dom"]
    done = subprocess.run([*args, url], capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    log = netlog.read_text(errors="replace") if netlog.exists() else ""
    requests = sorted(set(re.findall(r'"url":"((?:https?|wss?)://[^"]+)"', log)))
    page_requests = [
        u
        for u in requests
        if not (urlsplit(u).hostname or "").endswith(BROWSER_HOSTS)
        and urlsplit(u).hostname != "127.0.0.1"
    ]
    shutil.rmtree(profile, ignore_errors=True)
    return done.stdout, page_requests


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", data[16:24])


def test_pages_render_offline_in_chromium(site: Site, chromium: str, tmp_path: Path) -> None:
    for page, expected, shot in (
        (site.index, [BAD_KEY, ODD_KEY, *FAILED_RULES, "Validation Results"], "index.png"),
        (
            site.validation,
            [f"File {BAD_KEY}", *FAILED_RULES, "expect_column_values_to_be_in_set", "GBP"],
            "validation.png",
        ),
    ):
        dom, requests = run_chromium(chromium, page.as_uri(), tmp_path)
        assert requests == [], (page, requests)
        text = parse(dom).plain
        for s in expected:
            assert s in text, (page, s)
        png = tmp_path / shot
        _, requests = run_chromium(chromium, page.as_uri(), tmp_path, screenshot=png)
        assert requests == [], (page, requests)
        assert _png_size(png) == (1280, 1600)
        assert png.stat().st_size > 20_000, png  # a blank page is about 6 kB


class _Quiet(SimpleHTTPRequestHandler):
    requested: list[str]

    def log_message(self, format: str, *args: object) -> None:
        type(self).requested.append(self.path)


@pytest.fixture
def http_root(site: Site, tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """The site served over HTTP under a lake-like prefix; its URL and the paths requested."""
    prefix = "buildout-lake/reports/data_docs/week=2026-W48/procurement/"
    shutil.copytree(site.root, tmp_path / "www" / prefix)
    handler = type("Handler", (_Quiet,), {"requested": []})
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(tmp_path / "www"))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{prefix}", handler.requested
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_links_work_served_under_a_prefix(
    site: Site, chromium: str, http_root: tuple[str, list[str]], tmp_path: Path
) -> None:
    base, requested = http_root
    dom, requests = run_chromium(chromium, base + "index.html", tmp_path)
    assert requests == [], requests
    doc = parse(dom)
    assert ODD_KEY in doc.plain
    prefix = urlsplit(base).path
    assert requested and all(p.startswith(prefix) for p in requested), requested
    links = {a["href"] or "" for t, a in doc.tags if t == "a" and a.get("href")}
    pages = {urljoin(base + "index.html", h).split("#")[0] for h in links if not h.startswith("#")}
    assert len(pages) >= 3  # two validations, one suite
    for url in sorted(pages):
        with urlopen(url, timeout=30) as resp:  # our loopback server
            assert resp.status == 200, url
            body = resp.read().decode("utf-8")
        for _, a in parse(body).tags:  # and from there on: each page's links resolve too
            for name in ("src", "href"):
                ref = a.get(name)
                if ref and not ref.startswith("#"):
                    target = urljoin(url, ref).split("#")[0]
                    assert urlsplit(target).path.startswith(prefix), (url, ref)
                    with urlopen(target, timeout=30) as r:
                        assert r.status == 200, target


def test_docs_show_only_the_suites_of_the_results_kept(tmp_path: Path) -> None:
    """Suites of earlier weeks stay out of the next Data Docs (GX renders a page for every
    suite in its context): one feed-week's docs have one suite page per kind validated."""
    from dataclasses import replace

    validator = GxValidator()
    frame = parse_file(PO_LINES, BAD_KEY, to_csv([po()]), KEY).frame
    for week in ("2026-W45", "2026-W46", "2026-W47"):
        validator.validate(PO_LINES, frame, BAD_KEY, replace(CTX, week=week))
        validator.forget_results()
    validator.validate(PO_LINES, frame, BAD_KEY, replace(CTX, week="2026-W48"))
    validator.build_data_docs(tmp_path / "docs")
    root = tmp_path / "docs" / "expectations"
    suites = sorted(
        ".".join(p.relative_to(root).with_suffix("").parts) for p in root.rglob("*.html")
    )
    assert suites == [validator.suite_name(PO_LINES, replace(CTX, week="2026-W48"))]
    # an earlier week's suite is rebuilt when needed again
    again = validator.validate(PO_LINES, frame, BAD_KEY, replace(CTX, week="2026-W45"))
    assert again.success
