"""State across weeks, kept incrementally: week W is built from W's deliveries plus the
state as of the latest earlier week, never from the whole history.

| state | what it holds at the end of week W |
|---|---|
| `po_lines` | the current version of every PO line: greatest `change_ts`; ties go to the later delivery, then the later row |
| `fx_rates` | every valid rate delivered so far (the tables pick the latest on or before the status date) |
| `milestones` | each site's report in force: latest `status_date`, ties to the later delivery; `stale` when the site did not report in W |
| `reference_<file>` | the version in force of each reference file (a file that fails validation keeps the previous one) |
| `requisitions`, `offers` | the latest valid ATS snapshot (one delivery date) |

A blocked feed-week leaves its state as it was: W's state is W-1's, carried forward.
Each state object records the checksum of the state it was built on, so a week whose base
changed later (an earlier week re-run with new deliveries) is detected and named.

Runs of two weeks may overlap (a re-run of W while W+1 runs): W+1 may be built on W's
state before the re-run replaced it. The check after every run (`stale_later_weeks`) looks
at the run's own week too, not only at later ones: whichever of the two runs finishes
last sees the mismatch and names W+1.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date

import pandas as pd

from buildout_tracker import registry, zones
from buildout_tracker.ingest.ledger import ingested_validated_key
from buildout_tracker.ingest.report import (
    DUPLICATE,
    INGESTED,
    QUARANTINED,
    SUPERSEDED,
    FeedWeekReport,
    FileOutcome,
    concat_validated,
)
from buildout_tracker.lake import Bucket, frame_parquet_bytes
from buildout_tracker.timing import phase
from buildout_tracker.weeks import parse_week, previous, week_dates, week_key

log = logging.getLogger(__name__)

REFERENCE_FILES = registry.feed("reference").kinds
PO_KEY = ["po_number", "po_line"]
ORDER = ["_delivery_date", "_file", "_row"]


@dataclass
class StateRef:
    name: str
    week: str  # the week whose state object this is
    key: str
    sha256: str


def _weeks_with_state(lake: Bucket, name: str) -> list[str]:
    weeks = [f[5:] for f in lake.folders(zones.state_prefix(name)) if f.startswith("week=")]
    return sorted(weeks, key=parse_week)


def latest_state_before(
    lake: Bucket, name: str, week: str, inclusive: bool = False
) -> StateRef | None:
    # The usual case, one read whatever the history's length: the week itself or the one
    # before has its state (every processed week writes one, carried forward if unchanged).
    for w in ([week] if inclusive else []) + [previous(week)]:
        meta = lake.get_json_or_none(zones.state_meta(name, w))
        if meta is not None:
            return StateRef(name, w, zones.state_table(name, w), meta.get("sha256", ""))
    target = parse_week(week)
    candidates = [
        w
        for w in _weeks_with_state(lake, name)
        if (parse_week(w) <= target if inclusive else parse_week(w) < target)
    ]
    if not candidates:
        return None
    w = candidates[-1]
    key = zones.state_table(name, w)
    meta = lake.get_json_or_none(zones.state_meta(name, w)) or {}
    return StateRef(name, w, key, meta.get("sha256", ""))


def read_state(lake: Bucket, ref: StateRef | None) -> pd.DataFrame | None:
    if ref is None:
        return None
    return lake.read_frame(ref.key)


def write_state(
    lake: Bucket, name: str, week: str, frame: pd.DataFrame, base: StateRef | None, note: str
) -> StateRef:
    with phase("state"):
        return _write_state(lake, name, week, frame, base, note)


def _write_state(
    lake: Bucket, name: str, week: str, frame: pd.DataFrame, base: StateRef | None, note: str
) -> StateRef:
    data = frame_parquet_bytes(frame)
    sha = hashlib.sha256(data).hexdigest()
    key = zones.state_table(name, week)
    lake.put_bytes(key, data)
    lake.put_json(
        zones.state_meta(name, week),
        {
            "name": name,
            "week": week,
            "rows": len(frame),
            "sha256": sha,
            "base_week": base.week if base else None,
            "base_sha256": base.sha256 if base else None,
            "note": note,
        },
    )
    return StateRef(name, week, key, sha)


def stale_later_weeks(lake: Bucket, name: str, week: str) -> list[str]:
    """Weeks from `week` on whose state no longer follows from the state before them (need
    a re-run): the first whose base changed, and every week after it, since each is built
    on the last. `week` itself is among them when the state it was built on changed while
    it ran (another run replaced it: module docstring)."""
    weeks = [w for w in _weeks_with_state(lake, name) if parse_week(w) >= parse_week(week)]
    for i, w in enumerate(weeks):
        meta = lake.get_json_or_none(zones.state_meta(name, w)) or {}
        base_week = meta.get("base_week")
        if base_week is None:
            continue
        base_meta = lake.get_json_or_none(zones.state_meta(name, base_week)) or {}
        if base_meta.get("sha256") != meta.get("base_sha256"):
            return weeks[i:]
    return []


def _apply_latest(frame: pd.DataFrame, key: list[str], version: list[str]) -> pd.DataFrame:
    ordered = frame.sort_values([*key, *version, *ORDER], kind="mergesort")
    return ordered.drop_duplicates(subset=key, keep="last").reset_index(drop=True)


def _empty_like(frame: pd.DataFrame | None) -> pd.DataFrame:
    return pd.DataFrame() if frame is None else frame.iloc[0:0]


def update_po_lines(lake: Bucket, week: str, report: FeedWeekReport) -> StateRef:
    base = latest_state_before(lake, "po_lines", week)
    current = read_state(lake, base)
    if report.blocked:
        return write_state(
            lake,
            "po_lines",
            week,
            current if current is not None else pd.DataFrame(),
            base,
            "carried: week blocked",
        )
    new = concat_validated(lake, report, "po_lines")
    parts = [f for f in (current, new) if f is not None and len(f)]
    if not parts:
        merged = current if current is not None else (new if new is not None else pd.DataFrame())
    else:
        merged = _apply_latest(pd.concat(parts, ignore_index=True), PO_KEY, ["change_ts"])
    return write_state(
        lake, "po_lines", week, merged, base, f"{0 if new is None else len(new)} new versions"
    )


def update_fx_rates(lake: Bucket, week: str, report: FeedWeekReport) -> StateRef:
    base = latest_state_before(lake, "fx_rates", week)
    current = read_state(lake, base)
    new = None if report.blocked else concat_validated(lake, report, "fx_rates")
    parts = [f for f in (current, new) if f is not None and len(f)]
    merged = (
        _apply_latest(pd.concat(parts, ignore_index=True), ["currency", "rate_date"], [])
        if parts
        else (current if current is not None else pd.DataFrame())
    )
    return write_state(
        lake,
        "fx_rates",
        week,
        merged,
        base,
        "carried: week blocked" if report.blocked else "merged",
    )


def update_milestones(lake: Bucket, week: str, report: FeedWeekReport) -> StateRef:
    """Each site's report in force; a report counts only when all eight milestones are valid."""
    base = latest_state_before(lake, "milestones", week)
    current = read_state(lake, base)
    new = None if report.blocked else concat_validated(lake, report, "milestones")
    candidates = []
    if current is not None and len(current):
        candidates.append(current.drop(columns=["stale"], errors="ignore"))
    if new is not None and len(new):
        complete = (
            new.groupby(["site_id", "_file", "status_date"])["milestone_code"].transform("nunique")
            == 8
        )
        dropped = new.loc[~complete, "site_id"].unique()
        if len(dropped):
            said = (
                f"reports with refused rows not used (the site keeps its report in force): "
                f"{', '.join(sorted(map(str, dropped)))}"
            )
            log.warning("milestones %s: %s", week, said)
            report.stray_warnings.append(said)
        new = new[complete].copy()
        new["_report_week"] = week
        candidates.append(new)
    if not candidates:
        frame = current if current is not None else pd.DataFrame()
        return write_state(lake, "milestones", week, frame, base, "no reports")
    allrep = pd.concat(candidates, ignore_index=True)
    reports = allrep[["site_id", "status_date", "_delivery_date", "_file"]].drop_duplicates()
    best = reports.sort_values(
        ["site_id", "status_date", "_delivery_date", "_file"]
    ).drop_duplicates("site_id", keep="last")
    chosen = allrep.merge(
        best, on=["site_id", "status_date", "_delivery_date", "_file"], how="inner"
    )
    chosen = chosen.sort_values(["site_id", "milestone_code", "_row"]).drop_duplicates(
        ["site_id", "milestone_code"], keep="last"
    )
    chosen["stale"] = chosen["_report_week"] != week
    return write_state(lake, "milestones", week, chosen.reset_index(drop=True), base, "merged")


def update_hiring(lake: Bucket, week: str, report: FeedWeekReport) -> tuple[StateRef, StateRef]:
    """The week's latest complete ATS snapshot replaces the state; otherwise it is carried.

    A snapshot is one delivery date's requisitions and offers files together. It is complete
    when it has both kinds and none of its files was refused whole: a refused, empty or
    header-only offers file must not read as "every offer withdrawn" (hires would fall to 0).
    A file that repeats earlier bytes (recorded as a duplicate) stands for those bytes.
    An incomplete snapshot is named in the report's warnings.
    """
    bases = {name: latest_state_before(lake, name, week) for name in HIRING_KINDS}
    current = {name: read_state(lake, ref) for name, ref in bases.items()}
    chosen: dict[str, pd.DataFrame] | None = None
    snapshot_day = None
    if not report.blocked:
        days = sorted(
            {
                f.delivery_date
                for f in report.files
                if f.kind in HIRING_KINDS and f.outcome != SUPERSEDED
            }
        )
        in_force = current["requisitions"]
        if in_force is not None and len(in_force) and "_delivery_date" in in_force.columns:
            newest = pd.Timestamp(in_force["_delivery_date"].max()).date().isoformat()
            days = [d for d in days if d > newest]  # a late, older snapshot changes nothing
        for day in reversed(days):
            frames, why = _hiring_snapshot(lake, report, day)
            if frames is not None:
                chosen, snapshot_day = frames, day
                break
            report.stray_warnings.append(
                f"hiring snapshot of {day} not used: {why}; "
                "the latest complete snapshot stays in force"
            )
    refs = []
    for name in HIRING_KINDS:
        if chosen is not None:
            frame, note = chosen[name], f"snapshot of {snapshot_day}"
        else:
            carried = current[name]
            frame = carried if carried is not None else pd.DataFrame()
            note = "carried: " + ("week blocked" if report.blocked else "no complete snapshot")
        refs.append(write_state(lake, name, week, frame, bases[name], note))
    return refs[0], refs[1]


HIRING_KINDS = ("requisitions", "offers")


def _hiring_snapshot(
    lake: Bucket, report: FeedWeekReport, day: str
) -> tuple[dict[str, pd.DataFrame] | None, str]:
    files = [
        f
        for f in report.files
        if f.delivery_date == day and f.kind in HIRING_KINDS and f.outcome != SUPERSEDED
    ]
    refused = [f for f in files if f.outcome == QUARANTINED]
    if refused:
        return None, "; ".join(f"{f.key} refused ({f.rule})" for f in refused)
    frames: dict[str, pd.DataFrame] = {}
    for kind in HIRING_KINDS:
        parts = []
        for f in (f for f in files if f.kind == kind):
            key = f.validated_key if f.outcome == INGESTED else _validated_key_of(lake, f, report)
            if key is None:
                return None, f"no validated rows found for {f.key}"
            parts.append(report.validated_frame(lake, key))
        if not parts:
            return None, f"no {kind} file delivered that day"
        frames[kind] = pd.concat(parts, ignore_index=True)
    return frames, ""


def _validated_key_of(lake: Bucket, duplicate: FileOutcome, report: FeedWeekReport) -> str | None:
    """The validated rows of the file a duplicate repeats (this run's, or from that file's
    week ledger)."""
    if duplicate.outcome != DUPLICATE or not duplicate.duplicate_of:
        return None
    for f in report.files:  # repeated within the week: this run's record (not committed yet)
        if f.key == duplicate.duplicate_of and f.outcome == INGESTED:
            return f.validated_key
    day = date.fromisoformat(duplicate.duplicate_of.split("/")[1])
    feed = duplicate.key.split("/", 1)[0]
    return ingested_validated_key(lake, feed, week_key(day), duplicate.duplicate_of)


def update_reference(lake: Bucket, week: str, report: FeedWeekReport) -> dict[str, str]:
    """Replace each reference file delivered valid this week; keep the previous otherwise."""
    said: dict[str, str] = {}
    for name in REFERENCE_FILES:
        state_name = f"reference_{name}"
        base = latest_state_before(lake, state_name, week)
        current = read_state(lake, base)
        files = [f for f in report.files if f.kind == name]
        good = [
            f
            for f in files
            if f.outcome == INGESTED
            and f.rows_quarantined == 0
            and not any(t["severity"] == "critical" for t in f.table_failures)
        ]
        if good:
            latest = good[-1]
            frame = (
                report.validated_frame(lake, latest.validated_key)
                if latest.validated_key
                else pd.DataFrame()
            )
            write_state(lake, state_name, week, frame, base, f"replaced by {latest.key}")
            said[name] = f"replaced by {latest.key}"
        else:
            if files:
                bad = files[-1]
                broken = [bad.rule] if bad.rule else []
                broken += [t["rule"] for t in bad.table_failures if t["severity"] == "critical"]
                broken += [f"{r} ({n} rows)" for r, n in sorted(bad.top_rules.items())]
                said[name] = (
                    f"{bad.key} failed validation ({', '.join(broken) or 'see its report'}): "
                    "previous version kept in force"
                )
                log.warning("reference %s: %s", week, said[name])
            if current is not None:
                write_state(lake, state_name, week, current, base, said.get(name, "carried"))
    return said


def read_state_at(lake: Bucket, name: str, week: str) -> pd.DataFrame | None:
    """The state in force at the end of a week (its own, or the latest earlier one)."""
    return read_state(lake, latest_state_before(lake, name, week, inclusive=True))


def known_site_ids(lake: Bucket, week: str) -> set[str] | None:
    sites = read_state_at(lake, "reference_sites", week)
    return None if sites is None else set(sites["site_id"].dropna().astype(str))


def currencies_with_rate(lake: Bucket, week: str) -> set[str]:
    """Currencies with a rate on or before the week's status date (USD always)."""
    fx = read_state_at(lake, "fx_rates", week)
    have = {"USD"}
    if fx is not None and len(fx):
        last_day = pd.Timestamp(week_dates(week)[-1])
        have |= set(fx.loc[pd.to_datetime(fx["rate_date"]) <= last_day, "currency"].astype(str))
    return have
