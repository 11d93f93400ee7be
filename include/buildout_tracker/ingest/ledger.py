"""The deliveries ledger (`ledger/` in the lake): what every run of a feed-week decided about
every landing file, the content index that makes the same bytes count once, the files an
operator declared superseded, the late files a later week took, and the misplaced objects
already announced. A re-run reads it to skip what is done; nothing here parses a file.

The feed-week's ledger record (`ledger/feed=F/week=W.json`) is its commit: written last
(`commit_week`), after everything the week's files left in the lake, its state, its report,
its Data Docs and its alerts, so a run killed before it is redone whole by the next run (the
same bytes again), and a run killed after it left nothing undone.

Overlapping runs (two runs of a feed-week, or a re-run of week W while W+1 runs) never
read-modify-write a shared object: the content index keeps one object per delivery of the
same bytes, and a late file goes to the week that claimed it first (one claim object per
week, the earliest by the server's clock wins, `claim_late`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
import urllib.parse
from typing import Any

from buildout_tracker import zones
from buildout_tracker.ingest.landing import Delivery
from buildout_tracker.ingest.report import FeedWeekReport, FileOutcome
from buildout_tracker.lake import Bucket, WriteBatch
from buildout_tracker.weeks import parse_week

log = logging.getLogger(__name__)

LATE_CLAIM_SETTLE_ENV = "BUILDOUT_LATE_CLAIM_SETTLE_SECONDS"
"""Between writing a late-file claim and reading the claims back (default 1.5 s: more than
the one-second resolution of S3's LastModified, so of two claims the first is seen by both)."""


def previous_run(lake: Bucket, feed: str, week: str) -> dict[str, FileOutcome] | None:
    """The files an earlier run of the feed-week recorded, by landing key (None: never run)."""
    previous = lake.get_json_or_none(zones.ledger_week(feed, week))
    if previous is None:
        return None
    return {f["key"]: FileOutcome(**f) for f in previous.get("files", [])}


def record_week(lake: Bucket, feed: str, week: str, outcomes: list[FileOutcome]) -> None:
    lake.put_json(
        zones.ledger_week(feed, week),
        {"feed": feed, "week": week, "files": [f.record() for f in outcomes]},
    )


def commit_week(lake: Bucket, report: FeedWeekReport) -> None:
    """The feed-week's last writes: the misplaced objects its alerts announced, then its
    ledger record (module docstring)."""
    if report.misplaced_new:
        record_misplaced(lake, report.feed, report.misplaced_new)
    record_week(lake, report.feed, report.week, report.files)


def known_keys(lake: Bucket, feed: str, week: str) -> set[str] | None:
    """Landing keys the feed-week's ledger knows (None: the week never ran)."""
    ledger = lake.get_json_or_none(zones.ledger_week(feed, week))
    return None if ledger is None else {f["key"] for f in ledger.get("files", [])}


def ingested_validated_key(lake: Bucket, feed: str, week: str, key: str) -> str | None:
    """The validated rows of a file the feed-week ingested (None when it did not)."""
    ledger = lake.get_json_or_none(zones.ledger_week(feed, week))
    for f in (ledger or {}).get("files", []):
        if f["key"] == key and f["outcome"] == "ingested":
            return f.get("validated_key")
    return None


class ContentIndex:
    """The ledger's content index: every key seen for each SHA-256.

    A file is a duplicate when the same bytes were delivered under another key that comes
    first in delivery order (delivery date, then key), whatever order weeks are run in.
    One object per delivery (`ledger/sha256/<ab>/<sha256>/<date>_<key>.json`), written once
    and never rewritten: two runs recording deliveries of the same bytes at the same time
    both keep theirs. (Lakes written before kept one object per SHA-256,
    `ledger/sha256/<ab>/<sha256>.json`; it is still read.)

    With `writes`, the entries this index records go into that batch, written when the
    feed-week flushes it (before its GX results and its commit), not one request at a time.
    """

    def __init__(self, lake: Bucket, writes: WriteBatch | None = None) -> None:
        self.lake = lake
        self._writer: Bucket | WriteBatch = lake if writes is None else writes
        self._recorded: dict[str, list[dict[str, str]]] = {}  # by this object, by sha

    @staticmethod
    def _prefix(sha: str) -> str:
        return zones.ledger_content(sha).removesuffix(".json") + "/"

    # A segment of the local lake is a file name (255 bytes at most): a key too long once
    # percent-encoded is named by its hash, and the object's body names it.
    _MAX_QUOTED = 160

    def _key(self, sha: str, delivery_date: str, key: str) -> str:
        quoted = urllib.parse.quote(key, safe="")
        if len(quoted) > self._MAX_QUOTED:
            quoted = "~" + hashlib.sha256(key.encode()).hexdigest()
        return f"{self._prefix(sha)}{delivery_date}_{quoted}.json"

    def deliveries(self, sha: str) -> list[dict[str, str]]:
        """Every delivery of these bytes recorded so far (key, delivery_date, week).

        One listing finds both forms: `<sha256>.json` (older lakes), read only when listed,
        and the objects under `<sha256>/` (a request a file less than reading the older
        form every time)."""
        legacy_key = zones.ledger_content(sha)
        prefix = self._prefix(sha)
        found: dict[str, dict[str, str]] = {}
        names = []
        for obj in self.lake.iter(legacy_key.removesuffix(".json")):
            if obj.key == legacy_key:
                legacy = self.lake.get_json_or_none(legacy_key) or {}
                found.update({d["key"]: d for d in legacy.get("deliveries", [])})
            elif obj.key.startswith(prefix):
                names.append(obj.key)
        for key_of_entry in names:
            name = key_of_entry[len(prefix) :].removesuffix(".json")
            day, _, quoted = name.partition("_")
            if quoted.startswith("~"):  # a long key, named by its hash: the body has it
                body = self.lake.get_json_or_none(key_of_entry)
                if body is not None:
                    found.setdefault(body["key"], {"key": body["key"], "delivery_date": day})
                continue
            key = urllib.parse.unquote(quoted)
            found.setdefault(key, {"key": key, "delivery_date": day})
        return sorted(found.values(), key=lambda d: (d["delivery_date"], d["key"]))

    def owner(
        self,
        sha: str,
        delivery: Delivery,
        week: str,
        listed: list[dict[str, str]] | None = None,
    ) -> dict[str, str]:
        """The first delivery of these bytes in their feed, this one recorded if new.
        `listed`: `deliveries(sha)` read ahead (by `prefetched`); what this index recorded
        since is added, so a run's two files of the same bytes still see each other."""
        entries = list(self.deliveries(sha) if listed is None else listed)
        seen = {d["key"] for d in entries}
        entries += [d for d in self._recorded.get(sha, []) if d["key"] not in seen]
        if not any(d["key"] == delivery.key for d in entries):
            mine = {
                "key": delivery.key,
                "delivery_date": delivery.delivery_date.isoformat(),
                "week": week,
                "sha256": sha,
            }
            self._writer.put_json(self._key(sha, mine["delivery_date"], delivery.key), mine)
            self._recorded.setdefault(sha, []).append(mine)
            entries.append(mine)
        same_feed = [d for d in entries if d["key"].startswith(f"{delivery.feed}/")]
        return min(same_feed, key=lambda d: (d["delivery_date"], d["key"]))


def supersede_file(
    lake: Bucket,
    feed: str,
    week: str,
    key: str,
    reason: str,
    *,
    by: str | None = None,
    at: str | None = None,
    correction: str | None = None,
    via: str = "make supersede",
) -> dict[str, Any]:
    """Declare a delivered file replaced by a correction (docs/feeds.md: a correction arrives
    as a new file): from the next run of its week on, its rows and failures no longer count,
    so a week it blocked can publish. Its bytes, quarantine and validation results stay.
    The record keeps who decided, when, how (`make supersede` or the Airflow UI) and why."""
    entry = lake.get_json_or_none(zones.superseded(feed, week)) or {"feed": feed, "week": week}
    record: dict[str, Any] = {"reason": reason, "by": by, "at": at, "via": via}
    if correction:
        record["correction"] = correction
    entry.setdefault("files", {})[key] = record
    lake.put_json(zones.superseded(feed, week), entry)
    return entry


def superseded_files(lake: Bucket, feed: str, week: str) -> dict[str, dict[str, Any]]:
    """Landing key -> the operator's record, for the files of a feed-week declared replaced."""
    return dict((lake.get_json_or_none(zones.superseded(feed, week)) or {}).get("files", {}))


def keep_blocked(
    lake: Bucket, feed: str, week: str, reason: str, *, by: str | None, at: str, via: str
) -> dict[str, Any]:
    """Record a decision to keep a blocked feed-week blocked (`by` None: nobody answered in
    time, the default held). Records accumulate: each is a person's act, kept as taken."""
    entry = lake.get_json_or_none(zones.kept_blocked(feed, week)) or {"feed": feed, "week": week}
    record = {"reason": reason, "by": by, "at": at, "via": via}
    if record not in entry.setdefault("decisions", []):
        entry["decisions"].append(record)
    lake.put_json(zones.kept_blocked(feed, week), entry)
    return entry


def week_decisions(lake: Bucket, week: str, feeds: tuple[str, ...]) -> list[dict[str, Any]]:
    """Every recorded decision about the week's blocked feed-weeks, for its manifest: files
    declared superseded (by whom, when, how, why, by which correction) and decisions to keep
    a feed-week blocked, in a stable order."""
    out: list[dict[str, Any]] = []
    for feed in feeds:
        for key, rec in sorted(superseded_files(lake, feed, week).items()):
            out.append({"feed": feed, "decision": "superseded", "file": key, **rec})
        kept = lake.get_json_or_none(zones.kept_blocked(feed, week)) or {}
        for rec in kept.get("decisions", []):
            out.append({"feed": feed, "decision": "kept_blocked", **rec})
    return out


def _claims_prefix(feed: str, key: str) -> str:
    return zones.late_pickup(feed, key).removesuffix(".json") + "/"


def _winner(lake: Bucket, feed: str, key: str) -> str | None:
    """The week that takes a late file: an old-style marker's, else the earliest claim by
    the server's clock (ties: the earlier week)."""
    marker = lake.get_json_or_none(zones.late_pickup(feed, key))
    if marker is not None:
        return str(marker["taken_in"])
    prefix = _claims_prefix(feed, key)
    claims = {
        k[len(prefix) :].removesuffix(".json"): at for k, at in lake.last_modified(prefix).items()
    }
    if not claims:
        return None
    return min(claims, key=lambda w: (claims[w], parse_week(w)))


def claim_late(lake: Bucket, feed: str, key: str, week: str) -> str:
    """Claim a file that landed after its own week ran for `week`'s run; returns the week
    that takes it: this one, or one whose run claimed it first. Write the claim unless
    another is there, wait, read the claims back: every claimant decides on the same set
    (a claim written within the wait of another is seen by both; ties go to the earlier
    week). A claim is never rewritten: a retried run keeps its place."""
    marker = lake.get_json_or_none(zones.late_pickup(feed, key))
    if marker is not None:
        return str(marker["taken_in"])
    winner = _winner(lake, feed, key)
    if winner == week:
        return week
    if winner is None:
        lake.put_json(f"{_claims_prefix(feed, key)}{week}.json", {"key": key, "claimed_by": week})
    time.sleep(float(os.environ.get(LATE_CLAIM_SETTLE_ENV) or 1.5))
    return _winner(lake, feed, key) or week


def mark_taken_late(lake: Bucket, feed: str, key: str, week: str) -> None:
    """A file of an earlier week that landed after its week ran is taken by `week`'s run
    (an operator's or a test's shortcut: runs claim, `claim_late`)."""
    lake.put_json(zones.late_pickup(feed, key), {"key": key, "taken_in": week})


def taken_late_by(lake: Bucket, feed: str, key: str) -> str | None:
    """The week whose run took a late file, if one did."""
    return _winner(lake, feed, key)


def new_misplaced(lake: Bucket, feed: str, stray: list[str], record: bool = True) -> list[str]:
    """The misplaced landing objects not announced before (each is alerted once); `record`
    False leaves recording them to `commit_week`, after the alert is sent."""
    if not stray:
        return []
    seen = set(lake.get_json_or_none(zones.misplaced_seen(feed)) or [])
    new = [k for k in stray if k not in seen]
    if new and record:
        record_misplaced(lake, feed, new)
    return new


def record_misplaced(lake: Bucket, feed: str, keys: list[str]) -> None:
    seen = set(lake.get_json_or_none(zones.misplaced_seen(feed)) or [])
    if not set(keys) <= seen:
        lake.put_json(zones.misplaced_seen(feed), sorted(seen | set(keys)))
