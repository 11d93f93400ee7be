"""What a feed-week run does with one landing file, decided before its bytes are parsed:
refuse it for its name or place, leave it to the later week that took it, skip it as
superseded, refuse it for its size, skip it as a duplicate or as already done, or process it.
The checks run in that order; the ones before the duplicate check need only the landing
listing (`decide_before_reading`): a file too large is refused without being read.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from buildout_tracker import feeds
from buildout_tracker.feeds import limits
from buildout_tracker.feeds.parsing import too_large_reason
from buildout_tracker.ingest.landing import Delivery
from buildout_tracker.ingest.ledger import ContentIndex
from buildout_tracker.ingest.report import INGESTED, QUARANTINED, FileOutcome


class Action(StrEnum):
    REFUSE = "refuse"  # a name or a place the feed does not accept
    TAKEN_LATE = "taken_late"  # landed after its week ran; a later week's run took it
    SUPERSEDED = "superseded"  # an operator declared it replaced by its correction
    DUPLICATE = "duplicate"  # the same bytes as an earlier delivery of the feed
    ALREADY_DONE = "already_done"  # an earlier run of this week processed these bytes
    PROCESS = "process"  # new: parse, check, split


@dataclass(frozen=True)
class Decision:
    action: Action
    rule: str | None = None
    reason: str | None = None
    duplicate_of: str | None = None
    earlier: FileOutcome | None = None  # what an earlier run of the week recorded for it


@dataclass(frozen=True)
class WeekLedger:
    """What the decision needs to know of the feed-week's ledger."""

    done: dict[str, FileOutcome]  # the earlier run's files, by landing key
    rerun: bool  # the week ran before
    late: frozenset[str]  # late files this run takes from earlier weeks
    replaced: dict[str, dict[str, Any]]  # superseded files, with the operator's record
    taken_late_by: Any  # key -> the week that took it late, or None


def layout_refusal(feed: str, delivery: Delivery, spec: Any) -> tuple[str, str] | None:
    """(rule, reason) when a file under a feed's delivery folder is not one it accepts."""
    folder = f"{feed}/{delivery.delivery_date.isoformat()}/"
    if "/" in delivery.key[len(folder) :]:
        return "layout", (
            f"not directly in the delivery folder {folder} (docs/feeds.md: "
            "<feed>/<date>/<file>); left in landing: deliver it again directly in the folder"
        )
    if spec is None:
        return "file_name", (
            f"{delivery.filename} is not a file name this feed accepts "
            f"({', '.join(feeds.file_patterns(feed))}; plain, uncompressed); left in landing"
        )
    return None


def too_large(delivery: Delivery) -> bool:
    """Whether the listing says the file is above the size limit: its bytes are not read."""
    return delivery.size > limits.max_file_bytes()


def decide_before_reading(
    feed: str, week: str, delivery: Delivery, spec: Any, ledger: WeekLedger
) -> Decision | None:
    """What the landing listing alone decides (None: the decision needs the file's bytes)."""
    refusal = layout_refusal(feed, delivery, spec)
    if refusal is not None:
        return Decision(Action.REFUSE, *refusal)
    key = delivery.key
    if ledger.rerun and key not in ledger.done and key not in ledger.late:
        # A re-run of a week: a file that landed after its first run may have been taken by
        # a later week's run meanwhile (never counted twice).
        taken_in = ledger.taken_late_by(key)
        if taken_in is not None and taken_in != week:
            return Decision(
                Action.TAKEN_LATE, reason=f"landed after {week} ran; ingested by {taken_in}'s run"
            )
    earlier = ledger.done.get(key)
    if key in ledger.replaced:
        # Its rows and its failures no longer count; what it left in the lake stays.
        why = f"superseded: {ledger.replaced[key]['reason']}"
        return Decision(Action.SUPERSEDED, "superseded", why, earlier=earlier)
    if too_large(delivery):
        if earlier is not None and earlier.outcome == INGESTED and earlier.size == delivery.size:
            # ingested by an earlier run of the week under a higher limit: it stands
            return Decision(Action.ALREADY_DONE, earlier=earlier)
        # Refused from the listing: reading it would cost the task its memory. Left in
        # landing (nothing is copied to quarantine), like a file refused for its name.
        reason = too_large_reason(delivery.size, limits.max_file_bytes()) + "; left in landing"
        return Decision(Action.REFUSE, "file_too_large", reason)
    return None


def decide(
    feed: str,
    week: str,
    delivery: Delivery,
    spec: Any,
    sha: str,
    ledger: WeekLedger,
    index: ContentIndex,
    listed: list[dict[str, str]] | None = None,
) -> Decision:
    """What to do with a file read whole (`listed`: its content index entries, read ahead)."""
    early = decide_before_reading(feed, week, delivery, spec, ledger)
    if early is not None:
        return early
    key = delivery.key
    earlier = ledger.done.get(key)
    # The same bytes count once within their feed (docs/feeds.md: same content, any name, any
    # date), an empty file's too; another feed's file is never the original.
    owner = index.owner(sha, delivery, week, listed)
    if owner["key"] != key:
        return Decision(
            Action.DUPLICATE, reason=f"same bytes as {owner['key']}", duplicate_of=owner["key"]
        )
    if earlier is not None and earlier.sha256 == sha and earlier.outcome in (INGESTED, QUARANTINED):
        return Decision(Action.ALREADY_DONE, earlier=earlier)
    return Decision(Action.PROCESS)
