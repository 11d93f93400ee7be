"""Where each zone keeps its objects in the lake bucket. One place, so keys never drift."""

from __future__ import annotations

import posixpath

# The files each feed receives, in processing order. fx_rates travels with procurement.
FEED_FILES: dict[str, tuple[str, ...]] = {
    "reference": ("sites", "milestone_plan", "budget_plan", "hiring_plan"),
    "fx_rates": ("fx_rates",),
    "procurement": ("po_lines",),
    "milestones": ("milestones",),
    "hiring": ("requisitions", "offers"),
}


def file_id(key: str, sha256: str) -> str:
    """Stable short name of a landing file in other zones: its name plus its content hash."""
    stem = posixpath.basename(key).rsplit(".", 1)[0]
    return f"{posixpath.basename(posixpath.dirname(key))}_{stem}-{sha256[:12]}"


def ledger_week(feed: str, week: str) -> str:
    return f"ledger/feed={feed}/week={week}.json"


def superseded(feed: str, week: str) -> str:
    """Files of a feed-week an operator declared replaced by a correction (`buildout supersede`)."""
    return f"ledger/superseded/feed={feed}/week={week}.json"


def misplaced_seen(feed: str) -> str:
    """Landing keys outside the layout already announced (each is alerted once)."""
    return f"ledger/misplaced/feed={feed}.json"


def late_pickup(feed: str, key: str) -> str:
    """Marks a file a later week's run took (it landed after its own week had run)."""
    import hashlib

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


def state_status(feed: str, week: str) -> str:
    return f"state/_status/feed={feed}/week={week}.json"


def feed_report(feed: str, week: str) -> str:
    return f"reports/feeds/week={week}/{feed}.json"
