"""What one feed-week run found: the outcome of every file (`FileOutcome`) and of the feed's
week (`FeedWeekReport`), and how the rest of the project reads them back from the lake.

The report is written to `reports/feeds/week=W/<feed>.json` by every run of the feed-week;
publication, the run printers and the alerts read it from there.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any

import pandas as pd

from buildout_tracker import zones
from buildout_tracker.lake import Bucket, parquet_table

INGESTED, DUPLICATE, QUARANTINED, IGNORED = "ingested", "duplicate", "quarantined", "ignored"
SUPERSEDED = "superseded"  # replaced by a correction, on an operator's word (supersede_file)
TAKEN_LATE = "taken_late"  # landed after its week ran; a later week's run ingested it
NOT_RECEIVED = (IGNORED, TAKEN_LATE)  # received by no run of this week (or by another week's)


@dataclass
class FileOutcome:
    key: str
    sha256: str
    size: int
    delivery_date: str
    week: str
    kind: str | None
    outcome: str
    duplicate_of: str | None = None
    rows_in: int = 0
    rows_valid: int = 0
    rows_quarantined: int = 0
    reason: str | None = None
    rule: str | None = None
    warnings: list[str] = field(default_factory=list)
    rule_stats: list[dict[str, Any]] = field(default_factory=list)
    table_failures: list[dict[str, Any]] = field(default_factory=list)
    top_rules: dict[str, int] = field(default_factory=dict)
    gx_success: bool | None = None
    validated_key: str | None = None
    quarantine_key: str | None = None
    run_id: str | None = None

    @property
    def fid(self) -> str:
        return zones.file_id(self.key, self.sha256)

    def record(self) -> dict[str, Any]:
        """The outcome as the ledger and the report store it: `dataclasses.asdict` without
        its deep copy (the values are JSON values already, written out at once): for the
        2,000 site reports of an xlarge week, 3 ms against asdict's 262 ms, the same JSON."""
        return {name: getattr(self, name) for name in _OUTCOME_FIELDS}


_OUTCOME_FIELDS = tuple(f.name for f in fields(FileOutcome))


def validated_frame(lake: Bucket, written: dict[str, bytes], key: str) -> pd.DataFrame:
    """The valid rows of a file, from `written` (the Parquet bytes a run made, by key) or
    else from the lake."""
    data = written.get(key)
    return lake.read_frame(key) if data is None else parquet_table(data).to_pandas()


@dataclass
class FeedWeekReport:
    feed: str
    week: str
    files: list[FileOutcome]
    blocked: bool = False
    block_reason: str | None = None
    stray_warnings: list[str] = field(default_factory=list)
    # Files processed by this call (not skipped as already in the ledger): what is news.
    processed: list[str] = field(default_factory=list)
    # Landing keys outside the layout seen for the first time by this call (news too).
    misplaced_new: list[str] = field(default_factory=list)
    # The Parquet bytes this call wrote, by validated key: the state update that follows in
    # the same task reads them here instead of from the lake (the same bytes, a request a
    # file fewer); `steps.ingest_feed` lets go of them once the state is written. Not
    # stored with the report.
    validated_bytes: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)

    def validated_frame(self, lake: Bucket, key: str) -> pd.DataFrame:
        """The valid rows of a file, from the bytes this call wrote or else from the lake."""
        return validated_frame(lake, self.validated_bytes, key)

    @property
    def delivered(self) -> bool:
        return any(f.outcome not in NOT_RECEIVED for f in self.files)

    def count(self, outcome: str) -> int:
        return sum(1 for f in self.files if f.outcome == outcome)

    @property
    def rows_in(self) -> int:
        return sum(f.rows_in for f in self.files if f.outcome == INGESTED)

    @property
    def rows_valid(self) -> int:
        return sum(f.rows_valid for f in self.files if f.outcome == INGESTED)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files if f.outcome == INGESTED)

    def top_reasons(self, n: int = 3) -> list[tuple[str, int]]:
        counts: Counter[str] = Counter()
        for f in self.files:
            counts.update(f.top_rules)
            if f.outcome == QUARANTINED and f.rule:
                counts[f"file:{f.rule}"] += 1
        return counts.most_common(n)

    def summary(self) -> dict[str, Any]:
        """What the asset event, the run report and the UI show: counts only, no values."""
        return {
            "feed": self.feed,
            "week": self.week,
            "files_received": sum(1 for f in self.files if f.outcome not in NOT_RECEIVED),
            "duplicates_skipped": self.count(DUPLICATE),
            "files_quarantined": self.count(QUARANTINED),
            "rows_in": self.rows_in,
            "rows_validated": self.rows_valid,
            "rows_quarantined": self.rows_quarantined,
            "blocked": self.blocked,
            "block_reason": self.block_reason,
            "top_reasons": [f"{rule} ({n})" for rule, n in self.top_reasons()],
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "feed": self.feed,
            "week": self.week,
            "blocked": self.blocked,
            "block_reason": self.block_reason,
            "stray_warnings": self.stray_warnings,
            "files": [f.record() for f in self.files],
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> FeedWeekReport:
        return cls(
            feed=obj["feed"],
            week=obj["week"],
            files=[FileOutcome(**f) for f in obj["files"]],
            blocked=obj["blocked"],
            block_reason=obj.get("block_reason"),
            stray_warnings=obj.get("stray_warnings", []),
        )


def read_report(lake: Bucket, feed: str, week: str) -> FeedWeekReport | None:
    raw = lake.get_json_or_none(zones.feed_report(feed, week))
    return None if raw is None else FeedWeekReport.from_json(raw)


def save_report(lake: Bucket, report: FeedWeekReport) -> None:
    lake.put_json(zones.feed_report(report.feed, report.week), report.to_json())


def concat_validated(lake: Bucket, report: FeedWeekReport, kind: str) -> pd.DataFrame | None:
    """The valid rows of every file of a kind the week ingested, in processing order."""
    from buildout_tracker.lake import concurrently

    frames = concurrently(
        lambda key: report.validated_frame(lake, key),
        [
            f.validated_key
            for f in report.files
            if f.outcome == INGESTED and f.kind == kind and f.validated_key
        ],
    )
    return pd.concat(frames, ignore_index=True) if frames else None
