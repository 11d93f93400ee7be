"""GX Data Docs that render offline: no CDN, no network request, readable without JavaScript.

GX's page templates load Bootstrap, bootstrap-table, jQuery, popper, vega, font-awesome and a
logo from CDNs, and the index's tables are filled by bootstrap-table from a JavaScript literal.
Offline (how the docs are read here: from disk or from the lake, no internet) a page shows
unstyled text and the index shows two buttons. GX 1.x has no option to point those templates
elsewhere (its logo even overrides the local `static_images_dir`), and no third-party file may
ship with the project, so `make_offline` post-processes the built site instead:

- every external `<script>`, `<link>` and `<img>`, and every inline script (all of them call
  the libraries above), is removed; external links become plain text; CSS `url()`s to the
  internet, and GX's dark-mode overrides (made for the CDN's dark Bootstrap), are dropped;
- bootstrap-table tables are rendered into plain HTML from the literal GX wrote for them
  (sorted as GX asked), with a link per row to its page;
- font-awesome icons become text glyphs; the JavaScript-only controls (filters, collapse
  toggles, marketing footers) are dropped, and the validation page's "Failed only" filter
  works with CSS alone;
- a small stylesheet of our own is inlined;
- relative links are checked against the site's files and percent-encoded, so they work from
  `file://` and from an HTTP server under any prefix; static files no page uses are deleted;
- with `notes` (from `notes_from_context`), each validation page gets the file key and its
  rules (rule id, severity, level, columns, expectation, result, unexpected count) and each
  suite page its rules; the index lists each validation's file and failed rules. Those come
  from the stored results, which the validator has already scrubbed: no value is added.
"""

from __future__ import annotations

import ast
import html
import logging
import os
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

log = logging.getLogger(__name__)

MARKER = "buildout-offline-data-docs"
LOGO = "static/images/logo-long.png"
FAVICON = "static/images/favicon.ico"


@dataclass(frozen=True)
class RuleLine:
    """One expectation of a suite, with its result on a validation page."""

    rule: str
    severity: str
    level: str
    columns: tuple[str, ...]
    expectation: str
    description: str = ""
    success: bool | None = None  # None: a suite page (no result)
    unexpected: int | None = None
    error: bool = False


@dataclass(frozen=True)
class PageNote:
    """What a page of the site is about, in the project's terms."""

    heading: str  # the file key (validation page) or the suite name (suite page)
    lines: tuple[RuleLine, ...]
    file_key: str | None = None
    suite: str = ""
    rows: int | None = None
    success: bool | None = None

    @property
    def failed(self) -> tuple[RuleLine, ...]:
        return tuple(line for line in self.lines if line.success is False)


# --- notes from a GX context ------------------------------------------------------------------


def notes_from_context(context: Any) -> dict[str, PageNote]:
    """Notes for the pages GX builds from `context`: keys are page paths in the site."""
    notes: dict[str, PageNote] = {}
    try:
        suites = list(context.suites.all())
    except Exception:  # a broken suite must not stop the docs
        log.warning("data docs: could not list the suites", exc_info=True)
        suites = []
    for suite in suites:
        lines = tuple(_rule_line(cfg) for cfg in suite.expectation_configurations)
        path = "expectations/" + "/".join(suite.name.split(".")) + ".html"
        notes[path] = PageNote(heading=suite.name, lines=lines, suite=suite.name)
    store = context.validation_results_store
    for key in store.list_keys():
        result = store.get(key)
        meta = result.meta or {}
        lines = tuple(_rule_line(r.expectation_config, r) for r in result.results)
        counts: list[int] = [
            n for r in result.results if isinstance(n := (r.result or {}).get("element_count"), int)
        ]
        file_key = meta.get("file_key")
        path = "validations/" + "/".join(str(p) for p in key.to_tuple()) + ".html"
        notes[path] = PageNote(
            heading=str(file_key or getattr(result, "suite_name", "") or path),
            lines=lines,
            file_key=str(file_key) if file_key else None,
            suite=str(getattr(result, "suite_name", "") or ""),
            rows=max(counts) if counts else None,
            success=bool(result.success),
        )
    return notes


def _rule_line(cfg: Any, result: Any = None) -> RuleLine:
    meta = dict(cfg.meta or {})
    kwargs = dict(cfg.kwargs or {})
    columns = [kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k)]
    columns += list(kwargs.get("column_list") or [])
    severity = getattr(cfg, "severity", None)
    severity = str(getattr(severity, "value", severity) or "critical").lower()
    line = RuleLine(
        rule=str(meta.get("rule") or cfg.type),
        severity=severity,
        level=str(meta.get("level") or ("row" if "column" in kwargs else "table")),
        columns=tuple(str(c) for c in columns),
        expectation=str(cfg.type),
        description=str(meta.get("description") or ""),
    )
    if result is None:
        return line
    count = (result.result or {}).get("unexpected_count")
    error = bool((result.exception_info or {}).get("raised_exception"))
    return replace(
        line,
        success=bool(result.success),
        unexpected=int(count) if isinstance(count, int) else None,
        error=error,
    )


# --- the site ---------------------------------------------------------------------------------


def make_offline(site_dir: Path, notes: Mapping[str, PageNote] | None = None) -> None:
    """Rewrite the Data Docs site in `site_dir` in place to render offline (module doc)."""
    site = Path(site_dir)
    notes = dict(notes or {})
    used: set[Path] = set()  # the files of the site the pages refer to
    for page in sorted(site.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        if MARKER in text:  # already done
            used.update(
                t for _, ref in local_references(site, page) if (t := resolve(site, page, ref))
            )
            continue
        rel = page.relative_to(site).as_posix()
        text, refs = _offline_page(text, site, page, notes.get(rel), notes)
        page.write_text(text, encoding="utf-8")
        used |= refs
    for css in sorted(site.rglob("*.css")):
        css.write_text(_clean_css(css.read_text(encoding="utf-8")), encoding="utf-8")
    _prune_static(site, used)


def local_references(site: Path, page: Path) -> list[tuple[str, str]]:
    """Every (attribute, value) of `src`/`href` in a page of the site, in order."""
    collector = _RefCollector()
    collector.feed(page.read_text(encoding="utf-8"))
    collector.close()
    return collector.refs


def resolve(site: Path, page: Path, ref: str) -> Path | None:
    """The file of the site a relative reference of `page` names; None if none."""
    parts = urlsplit(ref)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    base = site if parts.path.startswith("/") else page.parent
    target = Path(os.path.normpath(base / unquote(parts.path).lstrip("/")))
    root = Path(os.path.normpath(site))
    if root != target and root not in target.parents:
        return None
    return target if target.is_file() else None


def _prune_static(site: Path, used: set[Path]) -> None:
    """Delete files under static/ that no page of the site refers to (GX copies 4 MB of fonts
    and images, most of which no page uses)."""
    static = site / "static"
    if not static.is_dir():
        return
    for path in sorted(static.rglob("*"), reverse=True):
        if path.is_file() and Path(os.path.normpath(path)) not in used:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    if static.is_dir() and not any(static.iterdir()):
        static.rmdir()


# --- one page ---------------------------------------------------------------------------------


def _offline_page(
    text: str, site: Path, page: Path, note: PageNote | None, notes: Mapping[str, PageNote]
) -> tuple[str, set[Path]]:
    """The page, offline; and the files of the site it refers to."""
    tables = _bootstrap_tables(text)
    for table_id, (columns, data, options) in tables.items():
        text = _fill_table(text, table_id, _render_table(columns, data, options, notes))
    passed_sections = re.findall(
        r'id="(section-\d+)-content-block-\d+"\s+class="[^"]*'
        r"hide-succeeded-validations-column-section-target-child",
        text,
    )
    crumb = re.search(r'aria-current="page"\s*>(.*?)</li>', text, re.S)
    if note is not None:
        title = f"Data Docs: {note.heading}"
    elif crumb:
        title = f"Data Docs: {html.unescape(re.sub(r'<[^>]+>', '', crumb.group(1))).strip()}"
    else:
        title = "Data Docs"
    rewriter = _Rewriter(site, page, title, _style(passed_sections), _note_html(note))
    rewriter.feed(text)
    rewriter.close()
    return "".join(rewriter.out), rewriter.used


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
_URL_ATTRS = {"src", "href", "srcset", "action", "formaction", "poster", "background", "data"}
_DROP = {"script", "footer", "iframe", "object", "noscript", "template"}
_GLYPHS = {
    "fa-check-circle": ("\u2714", "Passed"),
    "fa-check": ("\u2714", "Passed"),
    "fa-times": ("\u2718", "Failed"),
    "fa-times-circle": ("\u2718", "Failed"),
    "fa-exclamation-triangle": ("\u26a0", "Warning"),
    "fa-question-circle": ("?", "Help"),
    "fa-comment": ("\u2026", "Note"),
}
_EXTERNAL_URL = re.compile(r"url\(\s*(['\"]?)\s*(?:[a-z][a-z0-9+.-]*:)?//[^)]*\)", re.I)
_IMPORT = re.compile(r"@import\s+[^;]*;", re.I)


def _is_external(value: str) -> bool:
    v = value.strip()
    if v.startswith("//"):
        return True
    scheme = urlsplit(v).scheme.lower()
    return bool(scheme) and scheme not in ("data",)


class _Rewriter(HTMLParser):
    def __init__(self, site: Path, page: Path, title: str, style: str, note_html: str) -> None:
        super().__init__(convert_charrefs=False)
        self.site, self.page = site, page
        self.title, self.style, self.note_html = title, style, note_html
        self.out: list[str] = []
        self.used: set[Path] = set()
        self._skip_tag: str | None = None
        self._skip = 0
        self._unwrap = 0  # open <a> turned into <span>
        self._cdata: str | None = None
        self._title_done = False
        self._note_done = not note_html
        self._tab_label: str | None = None
        self._tab_labels: dict[str, str] = {}
        self._tab_text: list[str] = []

    # -- helpers

    def _emit(self, s: str) -> None:
        self.out.append(s)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], close: bool = False) -> str:
        parts = [tag]
        for k, v in attrs:
            parts.append(k if v is None else f'{k}="{html.escape(v, quote=True)}"')
        return "<" + " ".join(parts) + (" />" if close else ">")

    def _local(self, value: str) -> str | None:
        """A relative reference, checked against the site and percent-encoded; None if it
        names nothing of the site."""
        v = value.strip()
        if v.startswith("#") or v == "":
            return v
        parts = urlsplit(v)
        candidates = [parts.path]
        if "#" in v or "?" in v:
            candidates.append(v)  # a file name with '#' or '?' GX did not encode
        for raw in candidates:
            target = resolve(self.site, self.page, raw)
            if target is None and "static/" in raw:
                target = resolve(self.site, self.site / "x", raw[raw.index("static/") :])
            if target is None:
                continue
            self.used.add(target)
            rel = posixpath.relpath(target.as_posix(), self.page.parent.as_posix())
            frag = f"#{parts.fragment}" if raw == parts.path and parts.fragment else ""
            return quote(rel, safe="/") + frag
        return None

    # -- parser callbacks

    def handle_decl(self, decl: str) -> None:
        if not self._skip:
            self._emit(f"<!{decl}>")

    def unknown_decl(self, data: str) -> None:
        if not self._skip:
            self._emit(f"<![{data}]>")

    def handle_pi(self, data: str) -> None:
        if not self._skip:
            self._emit(f"<?{data}>")

    def handle_comment(self, data: str) -> None:
        return  # GX's comments say nothing a reader needs

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs, selfclosing=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs, selfclosing=False)

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]], selfclosing: bool) -> None:
        if self._skip:
            if tag == self._skip_tag and not selfclosing and tag not in _VOID:
                self._skip += 1
            return
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        opens = not selfclosing and tag not in _VOID

        def drop() -> None:
            if opens:
                self._skip_tag, self._skip = tag, 1

        if tag in _DROP:
            return drop()
        if tag == "title":
            if not self._title_done:
                self._emit(f"<title>{html.escape(self.title)}</title>")
                self._title_done = True
            return drop()
        if tag == "button" and any(k.startswith("on") for k in a):
            return drop()  # JavaScript-only controls (Clear Filters)
        if tag == "a" and a.get("data-toggle") == "collapse":
            return drop()  # the collapsed part is shown, its toggle has nothing to do
        if tag == "link":
            href = a.get("href") or ""
            local = None if _is_external(href) else self._local(href)
            if local is None:
                return None  # CDN stylesheets; GX's favicon path when it names no file
        if tag == "img":
            src = a.get("src") or ""
            local = None if _is_external(src) else self._local(src)
            if local is None and "Great Expectations" in (a.get("alt") or ""):
                local = self._local(posixpath.relpath(LOGO, self._rel_dir()))
            if local is None:
                if a.get("alt"):
                    self._emit(f'<span class="bt-alt">{html.escape(a["alt"] or "")}</span>')
                return None
            a["src"] = local
            a.pop("class", None)  # NO-CACHE
        new: list[tuple[str, str | None]] = []
        for k, v in attrs:
            if k not in a or k.startswith("on") or k in ("integrity", "crossorigin", "data-href"):
                continue
            v = a[k]
            if k == "style" and v:
                v = _EXTERNAL_URL.sub("none", v)
            if k in _URL_ATTRS and v is not None and tag not in ("img",):
                if tag == "a" and k == "href" and (_is_external(v) or self._local(v) is None):
                    # a link out (GX's site, tutorials): its text stays, as text
                    self._emit('<span class="bt-link-text">')
                    self._unwrap += 1
                    return None
                local = None if _is_external(v) else self._local(v)
                if local is None:
                    continue
                v = local
            if k == "srcset" and v and _is_external(v):
                continue
            new.append((k, v))
        if tag == "label" and "hideSucceededValidations()" in (a.get("onclick") or ""):
            new = _add_class(new, "bt-failed-only")
        if tag == "i" and any(c.startswith("fa-") for c in classes):
            glyph, label = next((_GLYPHS[c] for c in classes if c in _GLYPHS), ("\u2022", ""))
            new = _add_class(new, "bt-icon")
            if label:
                new.append(("title", label))
                new.append(("aria-label", label))
            self._emit(self._start(tag, new) + html.escape(glyph))
            if selfclosing:
                self._emit("</i>")
            return None
        if tag == "a" and a.get("data-toggle") == "tab" and a.get("aria-controls"):
            self._tab_label, self._tab_text = a["aria-controls"], []
        self._emit(self._start(tag, new, close=selfclosing))
        if tag in ("script", "style") and opens:
            self._cdata = tag
        if tag == "div" and "tab-pane" in classes and a.get("id") in self._tab_labels:
            label = html.escape(self._tab_labels[a.get("id") or ""])
            self._emit(f'<h3 class="bt-pane-title">{label}</h3>')
        if tag == "div" and "col-md-10" in classes and not self._note_done:
            self._emit(self.note_html)
            self._note_done = True

    def _rel_dir(self) -> str:
        return self.page.parent.relative_to(self.site).as_posix() or "."

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            if tag == self._skip_tag:
                self._skip -= 1
                if not self._skip:
                    self._skip_tag = None
            return
        if tag in _VOID:
            return
        if tag == "a" and self._tab_label is not None:
            self._tab_labels[self._tab_label] = " ".join("".join(self._tab_text).split())
            self._tab_label = None
        if tag == "a" and self._unwrap:
            self._unwrap -= 1
            self._emit("</span>")
            return
        if tag == self._cdata:
            self._cdata = None
        if tag == "head":
            if not self._title_done:
                self._emit(f"<title>{html.escape(self.title)}</title>")
                self._title_done = True
            self._emit(f'<meta name="generator" content="{MARKER}">\n<style>{self.style}</style>\n')
        self._emit(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._cdata == "style":
            data = _clean_css(data)
        if self._tab_label is not None:
            self._tab_text.append(data)
        self._emit(data)

    def handle_entityref(self, name: str) -> None:
        if not self._skip:
            if self._tab_label is not None:
                self._tab_text.append(html.unescape(f"&{name};"))
            self._emit(f"&{name};")

    def handle_charref(self, name: str) -> None:
        if not self._skip:
            self._emit(f"&#{name};")


def _add_class(attrs: list[tuple[str, str | None]], cls: str) -> list[tuple[str, str | None]]:
    out, done = [], False
    for k, v in attrs:
        if k == "class" and not done:
            v, done = f"{v or ''} {cls}".strip(), True
        out.append((k, v))
    return out if done else [*out, ("class", cls)]


class _RefCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for k, v in attrs:
            if k in ("src", "href") and v is not None:
                self.refs.append((k, v))


def _clean_css(css: str) -> str:
    """No `url()` or `@import` to the internet; no dark-mode overrides made for the CDN's
    dark Bootstrap (which is not loaded: they would paint dark tables on a light page)."""
    css = _drop_at_media(css, "prefers-color-scheme: dark")
    css = _IMPORT.sub(lambda m: "" if "//" in m.group(0) else m.group(0), css)
    return _EXTERNAL_URL.sub("none", css)


def _drop_at_media(css: str, query: str) -> str:
    out, i = [], 0
    pattern = re.compile(
        r"@media\s*\(\s*" + re.escape(query).replace(r"\ ", r"\s*") + r"\s*\)\s*\{"
    )
    while True:
        m = pattern.search(css, i)
        if not m:
            out.append(css[i:])
            return "".join(out)
        out.append(css[i : m.start()])
        depth, j = 1, m.end()
        while j < len(css) and depth:
            depth += {"{": 1, "}": -1}.get(css[j], 0)
            j += 1
        i = j


# --- bootstrap-table tables, rendered as HTML --------------------------------------------------

_BT_CALL = re.compile(
    r"""\$\(\s*['"]#([\w:.-]+)['"]\s*\)\s*\.bootstrapTable\(\s*Object\.assign\(\s*"""
)


def _bootstrap_tables(text: str) -> dict[str, tuple[list[Any], list[Any], dict[str, Any]]]:
    """GX's bootstrap-table calls: table id -> (columns, data, options). GX writes columns,
    data and options as Python literals (`str()` of its lists and dicts)."""
    found: dict[str, tuple[list[Any], list[Any], dict[str, Any]]] = {}
    for m in _BT_CALL.finditer(text):
        try:
            first, end = _balanced(text, m.end())
            rest = text[end:].lstrip()
            options: dict[str, Any] = {}
            if rest.startswith(","):
                k = end + text[end:].index(",") + 1
                while text[k].isspace():
                    k += 1
                if text[k] == "{":
                    options = ast.literal_eval(_balanced(text, k)[0])
            columns = _js_field(first, "columns")
            data = _js_field(first, "data")
        except (ValueError, SyntaxError, IndexError, TypeError):
            log.warning("data docs: table %s not rendered (unexpected GX output)", m.group(1))
            continue
        if isinstance(columns, list) and isinstance(data, list):
            found[m.group(1)] = (columns, data, options if isinstance(options, dict) else {})
    return found


def _balanced(text: str, i: int) -> tuple[str, int]:
    """The bracketed literal starting at text[i] ('[' or '{'), strings skipped; and its end."""
    if text[i] not in "[{(":
        raise ValueError(f"no literal at {i}")
    depth, j, quote_char = 0, i, None
    while j < len(text):
        c = text[j]
        if quote_char:
            if c == "\\":
                j += 1
            elif c == quote_char:
                quote_char = None
        elif c in "'\"":
            quote_char = c
        elif c in "[{(":
            depth += 1
        elif c in "]})":
            depth -= 1
            if depth == 0:
                return text[i : j + 1], j + 1
        j += 1
    raise ValueError("unbalanced literal")


def _js_field(obj: str, name: str) -> Any:
    """The value of `name:` in a JavaScript object literal whose values are Python literals."""
    depth, j, quote_char = 0, 0, None
    pattern = re.compile(rf"\b{name}\s*:\s*")
    while j < len(obj):  # find `name:` at depth 1 (not inside a value)
        c = obj[j]
        if quote_char:
            if c == "\\":
                j += 1
            elif c == quote_char:
                quote_char = None
        elif c in "'\"":
            quote_char = c
        elif c in "[{(":
            depth += 1
        elif c in "]})":
            depth -= 1
        elif depth == 1:
            m = pattern.match(obj, j)
            if m and (j == 0 or not (obj[j - 1].isalnum() or obj[j - 1] == "_")):
                return ast.literal_eval(_balanced(obj, m.end())[0])
        j += 1
    raise ValueError(f"no {name} in table")


_PLAIN_FIELDS = {"run_time", "run_name", "asset_name"}


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, bool) or value is None:
        return (2, str(value))
    if isinstance(value, (int, float)):
        return (0, value)
    return (1, re.sub(r"<[^>]+>", "", str(value)).strip().lower())


def _cell(field: str, value: Any) -> str:
    if value is None:
        return ""
    s = str(value)
    if field == "run_time":  # wraps between date, time and zone only
        return " ".join(f'<span class="bt-nw">{html.escape(p)}</span>' for p in s.split())
    if field in _PLAIN_FIELDS or "<" not in s:
        return html.escape(s.strip())
    return s.strip()  # GX's own markup (status icon, suite link, batch tooltip)


def _render_table(
    columns: list[Any], data: list[Any], options: dict[str, Any], notes: Mapping[str, PageNote]
) -> str:
    cols = [c for c in columns if isinstance(c, dict) and c.get("field")]
    rows = [r for r in data if isinstance(r, dict)]
    sort_name = options.get("sortName")
    if sort_name:
        field = next(
            (c.get("sortName") or c["field"] for c in cols if c["field"] == sort_name), sort_name
        )
        rows.sort(
            key=lambda r: _sort_key(r.get(field)),
            reverse=str(options.get("sortOrder", "asc")).lower() == "desc",
        )
    row_notes = [notes.get(unquote(str(r.get("_table_row_link_path") or ""))) for r in rows]
    with_files = any(n is not None and n.file_key for n in row_notes)
    if with_files:  # the file key and the suite say what these say, readably
        cols = [c for c in cols if c["field"] not in ("run_name", "batch_identifier", "asset_name")]
    heads = [html.escape(str(c.get("title") or c["field"])) for c in cols]
    if with_files:
        heads[1:1] = ["File", "Failed rules", "Rows"]
    out = ["<thead><tr>", *(f"<th>{h}</th>" for h in heads), "</tr></thead><tbody>"]
    for row, note in zip(rows, row_notes, strict=True):
        link = row.get("_table_row_link_path")
        cells = [_cell(c["field"], row.get(c["field"])) for c in cols]
        status = str(row.get("_validation_success_text") or "")
        if status and cells and cols[0]["field"] == "validation_success":
            cells[0] += f' <span class="bt-status">{html.escape(status)}</span>'
        if with_files:
            file_cell = _path_text(note.file_key) if note and note.file_key else ""
            failed, count = "", ""
            if note is not None:
                worst: dict[str, str] = {}  # each rule once, in suite order, at its worst
                for line in note.failed:
                    if line.rule not in worst or line.severity == "critical":
                        worst[line.rule] = line.severity
                failed = ", ".join(
                    f'<span class="bt-rule bt-{html.escape(severity)}">{html.escape(rule)}</span>'
                    for rule, severity in worst.items()
                )
                count = "" if note.rows is None else str(note.rows)
            cells[1:1] = [file_cell, failed or '<span class="bt-muted">none</span>', count]
        if link:
            href = html.escape(str(link), quote=True)
            target = (
                1
                if with_files
                else next(
                    (
                        i
                        for i, c in enumerate(cols)
                        if c["field"] in ("run_name", "expectation_suite_name")
                        and "<a " not in cells[i]
                    ),
                    None,
                )
            )
            if target is not None:
                cells[target] = f'<a href="{href}">{cells[target] or "open"}</a>'
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    if not rows:
        out.append(f'<tr><td colspan="{len(heads)}" class="bt-muted">Nothing here.</td></tr>')
    out.append("</tbody>")
    return "".join(out)


def _path_text(path: str) -> str:
    """A file key that wraps only at its slashes."""
    return "/<wbr>".join(f'<span class="bt-nw">{html.escape(p)}</span>' for p in path.split("/"))


def _fill_table(text: str, table_id: str, inner: str) -> str:
    m = re.search(r'<table\b[^>]*\bid="' + re.escape(table_id) + r'"[^>]*>', text)
    if not m:
        return text
    start = m.group(0).replace("<table", '<table data-bt-rendered="1"', 1)
    return text[: m.start()] + start + inner + text[m.end() :]


# --- our notes, our stylesheet -------------------------------------------------------------------


def _note_html(note: PageNote | None) -> str:
    if note is None:
        return ""
    is_validation = note.success is not None
    out = ['<section class="bt-note" id="bt-rules">']
    if is_validation:
        failed = note.failed
        verdict = "Passed" if note.success else "Failed"
        cls = "ok" if note.success else "bad"
        out.append(f"<h2>File {_code(note.file_key or note.heading)}</h2>")
        parts = [
            f'<strong class="bt-{cls}">{verdict}</strong>',
            f"{len(note.lines) - len(failed)} of {len(note.lines)} expectations met",
        ]
        if note.rows is not None:
            parts.append(f"{note.rows} row{'s' if note.rows != 1 else ''} validated")
        if note.suite:
            parts.append(f"suite {_code(note.suite)}")
        out.append(f'<p class="bt-verdict">{" · ".join(parts)}</p>')
        if failed:
            out.append("<h3>Rules broken</h3>")
            out.append(_lines_table(failed, results=True))
        passed = [line for line in note.lines if line.success]
        if passed:
            out.append(
                f"<details><summary>Rules met ({len(passed)})</summary>"
                f"{_lines_table(passed, results=True)}</details>"
            )
    else:
        out.append(f"<h2>Rules of suite {_code(note.heading)}</h2>")
        out.append(f'<p class="bt-verdict">{len(note.lines)} expectations</p>')
        out.append(_lines_table(note.lines, results=False))
    out.append(
        '<p class="bt-muted">Rule ids as in docs/feeds.md. The GX report follows, grouped by '
        "column.</p></section>"
    )
    return "".join(out)


def _code(text: str, cls: str = "") -> str:
    """`text` as code that may wrap after `_`, `:`, `/` and `.` (long rule and GX names)."""
    inner = re.sub(r"([_:/.,])", "\\1<wbr>", html.escape(text))
    return f'<code class="{cls}">{inner}</code>' if cls else f"<code>{inner}</code>"


def _lines_table(lines: tuple[RuleLine, ...] | list[RuleLine], results: bool) -> str:
    e = html.escape
    head = ["Rule", "Severity", "Level", "Column", "Expectation", "Description"]
    kinds = ["rule", "severity", "level", "column", "expectation", "description"]
    if results:
        head = ["Result", *head, "Unexpected rows"]
        kinds = ["result", *kinds, "count"]
    out = ['<table class="bt-rules"><thead><tr>']
    out += [f"<th>{h}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for line in lines:
        cells = [
            _code(line.rule, "bt-rule"),
            f'<span class="bt-{e(line.severity)}">{e(line.severity)}</span>',
            e(line.level),
            ", ".join(_code(c) for c in line.columns),
            _code(line.expectation),
            e(line.description),
        ]
        if results:
            if line.error:
                res = '<span class="bt-bad">\u2718 error</span>'
            elif line.success:
                res = '<span class="bt-ok">\u2714 met</span>'
            else:
                res = '<span class="bt-bad">\u2718 broken</span>'
            unexpected = "" if line.unexpected is None else str(line.unexpected)
            cells = [res, *cells, unexpected]
        out.append(
            "<tr>"
            + "".join(f'<td class="bt-c-{k}">{c}</td>' for k, c in zip(kinds, cells, strict=True))
            + "</tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


_CSS = """
:root{color-scheme:light;--fg:#1d2733;--muted:#5b6878;--line:#d6dce4;--soft:#f3f5f8;
--ok:#1a7f37;--bad:#c62828;--warn:#9a6700;--link:#0b5cad}
*,*::before,*::after{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,
sans-serif;color:var(--fg);background:#fff}
a{color:var(--link)}
code{font:12.5px/1.3 ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace}
h2{font-size:1.25rem;margin:.2em 0 .4em}h3{font-size:1.05rem;margin:.8em 0 .4em}
h4{font-size:1.1rem;margin:.2em 0}h5{font-size:1rem;margin:0}h6{font-size:.95rem;margin:.5em 0}
p{margin:.3em 0 .6em}ul{margin:.2em 0 .6em}
nav.navbar{display:flex;align-items:center;gap:16px;padding:6px 24px;background:#fff;
border-bottom:1px solid var(--line);height:auto!important;position:sticky;top:0;z-index:20}
nav.navbar nav{display:flex;align-items:center;gap:16px;flex-wrap:wrap}
.navbar-brand img{height:32px!important;width:auto;display:block}
.bt-alt{font-weight:600}
ol.breadcrumb{display:flex;flex-wrap:wrap;list-style:none;margin:0;padding:3px 10px;
background:var(--soft);border-radius:4px}
.breadcrumb-item+.breadcrumb-item::before{content:"/";padding:0 .5em;color:var(--muted)}
.breadcrumb-item.active{color:var(--muted);word-break:break-all}
.container-fluid{padding:16px 24px}
.ge-section.container-fluid{padding:0}
.container-fluid>.row{display:flex;gap:24px;align-items:flex-start}
.container-fluid>.row>.col-lg-2{flex:0 0 230px;max-width:230px}
.container-fluid>.row>.col-lg-10{flex:1 1 0;min-width:0}
@media (max-width:900px){.container-fluid>.row{flex-direction:column}
.container-fluid>.row>.col-lg-2{flex:none;max-width:none;width:100%}}
.sticky{position:sticky;top:64px}
.ge-section{margin:0 0 22px}
.ge-section>.row{display:flex;flex-wrap:wrap;column-gap:16px}
.ge-section>.row>*{flex:1 1 100%;min-width:0}
.ge-section>.row>.col-6,.ge-section>.row>.col-md-6{flex:1 1 calc(50% - 16px)}
.alert{padding:6px 12px;border-radius:4px;margin:0 0 8px;border:1px solid var(--line)}
.alert-secondary{background:var(--soft)}
.alert-info{background:#eef5fd;border-color:#b9d4f3}
.card{border:1px solid var(--line);border-radius:6px;margin:0 0 12px;background:#fff}
.card-header{padding:6px 10px;background:var(--soft);border-bottom:1px solid var(--line)}
.card-body{padding:8px 10px}
.lead{color:var(--muted)}
.nav,.nav-tabs,.nav-pills{list-style:none;margin:0;padding:0}
.ge-navigation-sidebar-link{display:block;padding:2px 6px;text-decoration:none;
border-radius:3px}
.ge-navigation-sidebar-link:hover{background:var(--soft)}
.nav-tabs{display:flex;gap:4px;border-bottom:1px solid var(--line);margin:4px 0 10px}
.nav-tabs .nav-link{display:block;padding:5px 12px;text-decoration:none}
.bt-pane-title{margin:14px 0 6px}
table{border-collapse:collapse;margin:4px 0 12px;background:#fff}
.table,.bt-rules,table[data-bt-rendered]{width:100%}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
thead th{background:var(--soft);font-weight:600}
tbody tr:nth-child(even)>td{background:#fafbfc}
.table-responsive{overflow-x:auto}
td .show-scrollbars{max-height:60vh;overflow:auto}
.badge{display:inline-block;padding:0 6px;margin:1px 0;border-radius:9px;font-size:.85em;
background:#e8ebf0;color:var(--fg)}
.badge-primary{background:#dce9fa;color:#0b4f99}
.text-success,.bt-ok{color:var(--ok)}.text-danger,.bt-bad{color:var(--bad)}
.text-warning{color:var(--warn)}
.bt-icon{font-style:normal;font-weight:700}
.bt-status{font-weight:600}
.bt-muted{color:var(--muted)}
.bt-critical{color:var(--bad);font-weight:600}.bt-warning{color:var(--warn);font-weight:600}
.bt-note{border:1px solid var(--line);border-left:4px solid var(--link);border-radius:6px;
padding:10px 14px;margin:0 0 22px;overflow-x:auto}
.bt-c-rule{min-width:11em}.bt-c-expectation{min-width:12em}.bt-c-description{min-width:12em}
.bt-c-count{text-align:right;width:6em}.bt-c-result{white-space:nowrap}
table[data-bt-rendered] td{overflow-wrap:break-word}
table[data-bt-rendered] td:first-child,.bt-nw{white-space:nowrap}
table[data-bt-rendered] a{word-break:normal!important}
.ge-index-page-tabs-container,.tab-pane{overflow-x:auto}
.bt-verdict{font-size:1.02rem}
details>summary{cursor:pointer;font-weight:600;margin:6px 0}
.btn-group{display:flex;gap:6px;flex-wrap:wrap}
label.btn{border:1px solid var(--line);border-radius:4px;padding:2px 8px;cursor:pointer}
label.btn:has(input:checked){background:#dce9fa;border-color:#8fb6e8}
body:has(.bt-failed-only input:checked) tr:has(>td.hide-succeeded-validation-target-child),
body:has(.bt-failed-only input:checked) .hide-succeeded-validation-target,
body:has(.bt-failed-only input:checked) .ge-section:has(
.hide-succeeded-validations-column-section-target-child){display:none}
"""


def _style(passed_sections: list[str]) -> str:
    rules = [
        f'body:has(.bt-failed-only input:checked) li:has(>a[href="#{s}"])'
        for s in sorted(set(passed_sections))
    ]
    extra = (",\n".join(rules) + "{display:none}\n") if rules else ""
    return _CSS + extra
