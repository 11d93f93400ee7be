"""What a publication reads: the validated state in force for the week, each feed's status,
the week's rule results and last week's published tables, as one `WeekInputs`."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from buildout_tracker import registry, zones
from buildout_tracker.ingest import state
from buildout_tracker.ingest.report import read_report
from buildout_tracker.lake import Bucket
from buildout_tracker.model import FeedWeekStatus, WeekInputs
from buildout_tracker.tables.arrow import with_partition
from buildout_tracker.weeks import previous, status_date

log = logging.getLogger(__name__)

# Every feed's week, reference included (its delivery row in data_quality_weekly; the
# scorecard greys areas only on the feeds whose status matters to it).
REPORTED_FEEDS: tuple[str, ...] = (*registry.STATUS_FEEDS, "reference")

_DTYPES = {
    "text": "str",
    "date": "datetime64[us]",
    "timestamp": "datetime64[us, UTC]",
    "decimal": "float64",
    "number": "float64",
    "integer": "Int64",
    "boolean": "bool",
}


def empty_frame(kind: str) -> pd.DataFrame:
    """No rows, but the columns and dtypes a validated file of this kind has."""
    from buildout_tracker import feeds
    from buildout_tracker.feeds.schema import hashed_name

    spec = next(s for specs in feeds.SPECS.values() for s in specs if s.kind == kind)
    cols = {
        (hashed_name(c.name) if c.pii == "hash" else c.name): pd.Series(
            dtype="str" if c.pii == "hash" else _DTYPES[c.type]
        )
        for c in spec.kept_columns
    }
    return pd.DataFrame(cols)


def _state(lake: Bucket, name: str, week: str) -> pd.DataFrame:
    """The state in force at the week; a typed empty frame when there is none (or it is
    empty because nothing valid ever arrived), so the tables see the feed's columns."""
    frame = state.read_state_at(lake, name, week)
    if frame is None or (len(frame) == 0 and len(frame.columns) == 0):
        return empty_frame(name.removeprefix("reference_"))
    return frame


def feed_statuses(lake: Bucket, week: str) -> dict[str, FeedWeekStatus]:
    """Each feed's week, reference included."""
    out = {}
    for feed in REPORTED_FEEDS:
        report = read_report(lake, feed, week)
        if report is None:
            out[feed] = FeedWeekStatus(
                feed, delivered=False, blocked=False, reason=f"{feed}: not ingested for {week}"
            )
            continue
        s = report.summary()
        out[feed] = FeedWeekStatus(
            feed,
            delivered=report.delivered,
            blocked=report.blocked,
            reason=report.block_reason,
            files_received=s["files_received"],
            duplicates_skipped=s["duplicates_skipped"],
            files_quarantined=s["files_quarantined"],
            rows_in=s["rows_in"],
            rows_quarantined=s["rows_quarantined"],
            unused="; ".join(w for w in report.stray_warnings if UNUSED_SNAPSHOT in w) or None,
        )
    return out


UNUSED_SNAPSHOT = "snapshot of"  # ingest.state's warning: "hiring snapshot of <day> not used: ..."


def dq_rule_rows(lake: Bucket, week: str) -> pd.DataFrame:
    """Every rule's result of the week, per file, for data_quality_weekly."""
    rows: list[dict[str, Any]] = []
    for feed in REPORTED_FEEDS:
        report = read_report(lake, feed, week)
        if report is None:
            continue
        for f in report.files:
            if f.outcome == "quarantined":
                rows.append(
                    {"feed": feed, "file": f.key, "rule": f"file:{f.rule}", "severity": "critical",
                     "rows_checked": f.rows_in, "rows_failed": f.rows_in, "success": False}
                )  # fmt: skip
            for r in f.rule_stats:
                rows.append(
                    {"feed": feed, "file": f.key, "rule": r["rule"], "severity": r["severity"],
                     "rows_checked": int(r["rows_checked"]), "rows_failed": int(r["rows_failed"]),
                     "success": int(r["rows_failed"]) == 0}
                )  # fmt: skip
            stated = {r["rule"] for r in f.rule_stats}
            for t in f.table_failures:
                if t["rule"] in stated:
                    continue
                rows.append(
                    {"feed": feed, "file": f.key, "rule": t["rule"], "severity": t["severity"],
                     "rows_checked": f.rows_in, "rows_failed": 0, "success": False}
                )  # fmt: skip
    cols = ["feed", "file", "rule", "severity", "rows_checked", "rows_failed", "success"]
    return pd.DataFrame(rows, columns=cols)


class PriorWeekIncomplete(RuntimeError):
    """The week before stopped half-way through a republication: publish it first."""


def read_published(lake: Bucket, week: str) -> dict[str, pd.DataFrame]:
    """A week's published tables, read through its manifest (empty when never published)."""
    return _tables_of(lake, lake.get_json_or_none(zones.manifest_key(week)))


def read_prior(lake: Bucket, week: str) -> dict[str, pd.DataFrame]:
    """Last week's published tables, for this week's `*_prior` columns. A publication of
    last week in progress (its lease held) is waited for; one that stopped half-way (its
    manifest taken down, the previous one kept aside) is an error, not an empty prior."""
    from buildout_tracker.publish import lease

    prior = previous(week)
    manifest = lake.get_json_or_none(zones.manifest_key(prior))
    if manifest is None and lease.held_by_other(lake, prior) is not None:
        log.warning("%s: %s is being published: waiting for it (its tables are %s's prior)",
                    week, prior, week)  # fmt: skip
        lease.wait_until_free(lake, prior)
        manifest = lake.get_json_or_none(zones.manifest_key(prior))
    if manifest is None and lake.exists(lease.previous_manifest_key(prior)):
        raise PriorWeekIncomplete(
            f"{prior}'s republication stopped half-way (no manifest; "
            f"{lease.previous_manifest_key(prior)} kept): publish {prior} again, then {week}"
        )
    return _tables_of(lake, manifest)


def _tables_of(lake: Bucket, manifest: dict[str, Any] | None) -> dict[str, pd.DataFrame]:
    """The tables a manifest names, as computed: the files carry every column but `week`
    (their partition path), which is re-added from the manifest's week."""
    if manifest is None:
        return {}
    week = str(manifest["week"])
    return {
        name: with_partition(lake.read_parquet(t["files"][0]), week).to_pandas()
        for name, t in manifest["tables"].items()
        if t.get("files")  # a table withheld in a week never published holds no file
    }


def load_week_inputs(lake: Bucket, week: str) -> WeekInputs:
    milestones = _state(lake, "milestones", week).copy()
    if "_report_week" in milestones:
        milestones["stale"] = milestones["_report_week"] != week
    else:
        milestones["stale"] = pd.Series(True, index=milestones.index, dtype=bool)
    return WeekInputs(
        week=week,
        status_date=status_date(week),
        po_lines=_state(lake, "po_lines", week),
        fx_rates=_state(lake, "fx_rates", week),
        sites=_state(lake, "reference_sites", week),
        milestone_plan=_state(lake, "reference_milestone_plan", week),
        budget_plan=_state(lake, "reference_budget_plan", week),
        hiring_plan=_state(lake, "reference_hiring_plan", week),
        milestones=milestones,
        requisitions=_state(lake, "requisitions", week),
        offers=_state(lake, "offers", week),
        feed_status=feed_statuses(lake, week),
        dq_rules=dq_rule_rows(lake, week),
        prior=read_prior(lake, week),
    )


def input_files(lake: Bucket, week: str) -> list[dict[str, Any]]:
    out = []
    for feed in REPORTED_FEEDS:
        report = read_report(lake, feed, week)
        for f in report.files if report else []:
            out.append({"feed": feed, "key": f.key, "sha256": f.sha256, "outcome": f.outcome})
    return sorted(out, key=lambda d: (d["feed"], d["key"]))
