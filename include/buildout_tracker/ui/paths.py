"""The plugin's URLs and which lake keys it may serve: pure, no Airflow, no S3.

The proxy (`/buildout/lake/<key>`) serves lake objects to the browser so that no browser
needs S3 credentials. It serves only report objects, read from the lake bucket and no other:

- `reports/data_docs/week=<W>/<feed>/...`: the week's GX Data Docs (pages, styles, images, fonts);
- `reports/validation/<feed>/week=<W>/<file>.json`: GX validation results (already scrubbed);
- `reports/program/week=<W>/<file>`: the weekly program report (`index.html`, `summary.json`);
- `receipts/<feed>/<YYYY-MM-DD>/<file>.json`: delivery receipts (counts and row numbers only).

Quarantine is never served as objects: the plugin renders its listings and refused-row tables
itself, personal columns dropped (`/buildout/quarantine/...`).

`check_key` refuses, before any S3 call, what is not such a key: `.` or `..` segments, empty
segments, an absolute key, backslashes, NUL and other control characters, `%` (the path is
percent-decoded once by the server: a `%` left means double encoding), a scheme or another
bucket's name, and any key outside the prefixes above or with a file type not served.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from buildout_tracker import registry

URL_PREFIX = "/buildout"
NAV_ROUTE = "buildout"  # the UI shows the nav view at /plugin/buildout
RUN_ROUTE = "buildout-run"  # ... and the run tab at /dags/<dag>/runs/<run>/plugin/buildout-run
LAKE = "/lake/"

WEEK = r"\d{4}-W\d{2}"
DAY = r"\d{4}-\d{2}-\d{2}"
_FEEDS = "|".join(re.escape(n) for n in registry.NAMES)
WEEK_RE = re.compile(rf"^{WEEK}$")
DAY_RE = re.compile(rf"^{DAY}$")

# The only keys the proxy serves (full matches), with the extensions each may have.
SERVED: tuple[tuple[re.Pattern[str], frozenset[str]], ...] = (
    (
        re.compile(rf"^reports/data_docs/week={WEEK}/(?:{_FEEDS})/.+$"),
        frozenset({"html", "css", "png", "svg", "ico", "gif", "jpg", "jpeg", "otf", "ttf", "woff", "woff2", "json"}),
    ),
    (re.compile(rf"^reports/validation/(?:{_FEEDS})/week={WEEK}/[^/]+$"), frozenset({"json"})),
    (re.compile(rf"^reports/program/week={WEEK}/[^/]+$"), frozenset({"html", "json", "svg", "png", "css"})),
    (re.compile(rf"^receipts/(?:{_FEEDS})/{DAY}/[^/]+$"), frozenset({"json"})),
)  # fmt: skip

CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "json": "application/json",
    "png": "image/png",
    "svg": "image/svg+xml",
    "ico": "image/vnd.microsoft.icon",
    "gif": "image/gif",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "otf": "font/otf",
    "ttf": "font/ttf",
    "woff": "font/woff",
    "woff2": "font/woff2",
}
MAX_KEY = 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class KeyRefused(ValueError):
    """A key the proxy will not serve; `status` is the HTTP status to answer (400 or 404)."""

    def __init__(self, status: int, why: str) -> None:
        super().__init__(why)
        self.status = status
        self.why = why


def check_key(key: str) -> str:
    """The key itself when the proxy may serve it; else KeyRefused (400 for a malformed or
    hostile key, 404 for a well-formed key outside what is served)."""
    if not isinstance(key, str) or not key:
        raise KeyRefused(400, "empty key")
    if len(key) > MAX_KEY:
        raise KeyRefused(400, "key too long")
    if _CONTROL.search(key):
        raise KeyRefused(400, "control character in key")
    if "\\" in key:
        raise KeyRefused(400, "backslash in key")
    if "%" in key:
        raise KeyRefused(400, "percent sign in key (double encoding?)")
    if key.startswith("/") or key.startswith("~"):
        raise KeyRefused(400, "absolute key")
    if "://" in key or key.lower().startswith("s3:") or key.lower().startswith("arn:"):
        raise KeyRefused(400, "a key names no scheme and no bucket")
    segments = key.split("/")
    if any(s in ("", ".", "..") for s in segments):
        raise KeyRefused(400, "empty, '.' or '..' segment in key")
    ext = segments[-1].rsplit(".", 1)[-1].lower() if "." in segments[-1] else ""
    for pattern, extensions in SERVED:
        if pattern.match(key):
            if ext not in extensions:
                raise KeyRefused(404, "file type not served")
            return key
    raise KeyRefused(404, "not a report object")


def check_name(name: str) -> str:
    """One path segment naming an object (no folder, nothing hostile)."""
    if not name or len(name) > 255 or name.startswith(".") or ".." in name or "/" in name:
        raise KeyRefused(400, "not a plain object name")
    if _CONTROL.search(name) or "\\" in name or "%" in name:
        raise KeyRefused(400, "not a plain object name")
    return name


def content_type(key: str) -> str:
    ext = key.rsplit(".", 1)[-1].lower()
    return CONTENT_TYPES[ext]


def check_week(week: str) -> str:
    from buildout_tracker.weeks import parse_week

    if not isinstance(week, str) or not WEEK_RE.match(week):
        raise KeyRefused(400, "not an ISO week like 2026-W48")
    try:
        parse_week(week)
    except ValueError as exc:
        raise KeyRefused(400, str(exc)) from None
    return week


def check_feed(feed: str) -> str:
    if feed not in registry.BY_NAME:
        raise KeyRefused(404, "no such feed")
    return feed


def check_day(day: str) -> str:
    from datetime import date

    if not isinstance(day, str) or not DAY_RE.match(day):
        raise KeyRefused(400, "not a date like 2026-09-14")
    try:
        date.fromisoformat(day)
    except ValueError:
        raise KeyRefused(400, "not a date") from None
    return day


# --- URLs (absolute paths on the Airflow host; the plugin app is mounted at URL_PREFIX) ---


def _q(part: str) -> str:
    return quote(part, safe="")


def home(week: str | None = None) -> str:
    return f"{URL_PREFIX}/" + (f"?week={_q(week)}" if week else "")


def feed_week(feed: str, week: str) -> str:
    return f"{URL_PREFIX}/feeds/{_q(feed)}/weeks/{_q(week)}"


def run_view(dag_id: str, run_id: str) -> str:
    return f"{URL_PREFIX}/dags/{_q(dag_id)}/runs/{_q(run_id)}"


def lake_object(key: str) -> str:
    return f"{URL_PREFIX}{LAKE}{quote(key, safe='/=')}"


def data_docs(week: str, feed: str) -> str:
    return lake_object(f"reports/data_docs/week={week}/{feed}/index.html")


def quarantine(feed: str, week: str) -> str:
    return f"{URL_PREFIX}/quarantine/{_q(feed)}/weeks/{_q(week)}"


def quarantine_rows(feed: str, week: str, kind: str, name: str) -> str:
    return f"{quarantine(feed, week)}/rows/{_q(kind)}/{_q(name)}"


def receipt_page(receipt_key: str) -> str:
    """`receipts/<feed>/<date>/<name>.json` -> its page in the plugin."""
    _, feed, day, name = receipt_key.split("/", 3)
    return f"{URL_PREFIX}/receipts/{_q(feed)}/{_q(day)}/{_q(name)}"


def in_airflow_ui(path: str) -> str:
    """A plugin page opened inside the Airflow UI (the nav view keeps the iframe's path)."""
    return f"/plugin/{NAV_ROUTE}{path}"
