"""Where each zone keeps its objects in the lake bucket: every key the project reads or
writes is built here, so keys never drift. (Landing keys, `<feed>/<YYYY-MM-DD>/<file>`,
are the source systems': `ingest/landing.py` reads them.)"""

from __future__ import annotations

import hashlib
import posixpath
import re

PART = "part-00000.parquet"


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def file_id(key: str, sha256: str) -> str:
    """Stable short name of a landing file in other zones: its delivery date, up to 80 plain
    characters of its name (any other character as "_"), and its content hash, which keeps
    two files apart whatever their names."""
    stem = _UNSAFE.sub("_", posixpath.basename(key).rsplit(".", 1)[0])[:80]
    return f"{posixpath.basename(posixpath.dirname(key))}_{stem}-{sha256[:12]}"


def ledger_week(feed: str, week: str) -> str:
    return f"ledger/feed={feed}/week={week}.json"


def superseded(feed: str, week: str) -> str:
    """Files of a feed-week an operator declared replaced by a correction (`buildout supersede`)."""
    return f"ledger/superseded/feed={feed}/week={week}.json"


def kept_blocked(feed: str, week: str) -> str:
    """Decisions to keep a blocked feed-week blocked (a person's, or the decision's timeout)."""
    return f"ledger/kept_blocked/feed={feed}/week={week}.json"


def misplaced_seen(feed: str) -> str:
    """Landing keys outside the layout already announced (each is alerted once)."""
    return f"ledger/misplaced/feed={feed}.json"


def late_pickup(feed: str, key: str) -> str:
    """Marks a file a later week's run took (it landed after its own week had run)."""
    return f"ledger/late/feed={feed}/{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def ledger_content(sha256: str) -> str:
    return f"ledger/sha256/{sha256[:2]}/{sha256}.json"


def validated_file(feed: str, kind: str, week: str, fid: str) -> str:
    return f"validated/{kind}/week={week}/{fid}.parquet"


def quarantine_rows(feed: str, kind: str, week: str, fid: str) -> str:
    return f"quarantine/{feed}/week={week}/{kind}/{fid}.rows.parquet"


def quarantine_file(feed: str, week: str, fid: str, suffix: str) -> str:
    return f"quarantine/{feed}/week={week}/files/{fid}.{suffix}"


def validation_result(feed: str, week: str, fid: str) -> str:
    return f"reports/validation/{feed}/week={week}/{fid}.json"


def data_docs_prefix(week: str, feed: str) -> str:
    return f"reports/data_docs/week={week}/{feed}/"


def state_table(name: str, week: str) -> str:
    return f"state/{name}/week={week}/{name}.parquet"


def state_prefix(name: str) -> str:
    return f"state/{name}/"


def state_meta(name: str, week: str) -> str:
    """What a state object was built from (its checksum, the week and checksum of its base)."""
    return f"state/{name}/week={week}/_meta.json"


FEED_REPORTS_PREFIX = "reports/feeds/"


def feed_report(feed: str, week: str) -> str:
    return f"{FEED_REPORTS_PREFIX}week={week}/{feed}.json"


FEED_REPORT_KEY = re.compile(r"^reports/feeds/week=(\d{4}-W\d{2})/([a-z_]+)\.json$")  # week, feed


def table_prefix(table: str, week: str) -> str:
    return f"curated/{table}/week={week}/"


def table_key(table: str, week: str) -> str:
    """A published table's week partition: one object, replaced whole."""
    return f"{table_prefix(table, week)}{PART}"


def manifest_key(week: str) -> str:
    return f"curated/_manifests/week={week}.json"


MANIFESTS_PREFIX = "curated/_manifests/"
MANIFEST_KEY = re.compile(r"^curated/_manifests/week=(\d{4}-W\d{2})\.json$")  # week


def staging_prefix(week: str) -> str:
    """Where a publication stages its tables (invisible to readers: `_` names are skipped)."""
    return f"curated/_staging/week={week}/"


def withdrawals(week: str) -> str:
    """Every withdrawal and re-publication of a week: who, when, why."""
    return f"curated/_withdrawn/week={week}/history.json"


def withdrawn_copy_prefix(week: str, at: str) -> str:
    """Where a withdrawal keeps the manifest and partitions it took out of `curated/`."""
    stamp = "".join(c if c.isalnum() else "-" for c in at)
    return f"curated/_withdrawn/week={week}/{stamp}/"


def alert_sent(digest: str) -> str:
    """Marks an alert delivered: the same (kind, week, subject, text) is sent once."""
    return f"reports/alerts/{digest[:2]}/{digest}.json"


def freshness(week: str) -> str:
    """What the freshness watchdog found for a week: each feed delivered, or late since when."""
    return f"reports/freshness/week={week}.json"
