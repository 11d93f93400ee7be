"""Decisions about a blocked feed-week, taken by a person in the Airflow UI (a human-in-the-
loop task of the ingest DAG) or on the command line (`make supersede`).

The contract allows two: keep the week blocked (the default, and what a timeout means), or
declare a refused file superseded by a correction that has landed in the week's own delivery
folders, and run the week again (the correction is a new file of the week, the superseded
one stops counting; its bytes, quarantine and results stay). Either way the decision, who
took it, when and why are recorded in the ledger (`ledger/superseded/`,
`ledger/kept_blocked/`); the next manifest lists them (`decisions`), and the week's feed
report names each superseded file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from buildout_tracker import registry
from buildout_tracker.pipeline.runtime import Runtime
from buildout_tracker.weeks import week_key

# The DAG files build their decision task from OPTIONS at parse time: this module imports the
# ingest and publication code (pandas, pyarrow) only inside the functions that run in tasks.

KEEP = "Keep the week blocked"
SUPERSEDE = "Supersede a refused file and run the week again"
OPTIONS = (KEEP, SUPERSEDE)


class KeptBlocked(RuntimeError):
    """The week stays blocked: a person said so, or nobody answered in time."""


class BadDecision(ValueError):
    """The decision names a file that cannot be superseded, or a correction that is not there."""


@dataclass(frozen=True)
class Decision:
    option: str
    refused_file: str | None
    correction_file: str | None
    reason: str | None
    by: str | None  # None: nobody answered (the timeout took the default)

    @classmethod
    def from_hitl(cls, result: dict[str, Any]) -> Decision:
        """From the human-in-the-loop task's result (XCom): chosen option, form, responder."""
        chosen = list(result.get("chosen_options") or [KEEP])
        form = result.get("params_input") or {}
        user = result.get("responded_by_user") or {}
        return cls(
            option=chosen[0],
            refused_file=(form.get("refused_file") or "").strip() or None,
            correction_file=(form.get("correction_file") or "").strip() or None,
            reason=(form.get("reason") or "").strip() or None,
            by=(user.get("name") or user.get("id")) if isinstance(user, dict) else None,
        )


def blocked(summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in summaries if s.get("blocked")]


def candidates(rt: Runtime, feed: str, week: str) -> list[str]:
    """The files of the feed-week a correction can replace: refused whole, or with refused
    rows or failed table rules (what made the share or the rule block the week)."""
    from buildout_tracker.ingest.report import INGESTED, QUARANTINED, read_report

    report = read_report(rt.lake, feed, week)
    if report is None:
        return []
    return [
        f.key
        for f in report.files
        if f.outcome == QUARANTINED
        or (f.outcome == INGESTED and (f.rows_quarantined or f.table_failures))
    ]


def request_text(rt: Runtime, week: str, summaries: list[dict[str, Any]]) -> str:
    """What the person deciding reads: each blocked feed, why, and the files they may name."""
    lines = []
    for s in blocked(summaries):
        feed = s["feed"]
        share = s["rows_quarantined"] / s["rows_in"] if s.get("rows_in") else 0.0
        lines += [
            f"**{feed} {week} is blocked.** {s.get('block_reason') or ''}",
            f"Rows refused: {s['rows_quarantined']:,} of {s['rows_in']:,} ({share:.1%}); "
            f"files refused whole: {s['files_quarantined']}. "
            f"Source owner: {registry.feed(feed).source_owner}.",
            "Files a correction can replace:",
            *[f"- `{key}`" for key in candidates(rt, feed, week)],
            "",
        ]
    lines += [
        f"To publish the week, ask the owner for a corrected file in a delivery folder of {week} "
        "(a new file: files are never edited), then choose "
        f"'{SUPERSEDE}' naming the refused file, the correction and why. Otherwise, or if "
        "nobody answers in time, the week stays blocked: its tables are not published for it.",
    ]
    return "\n".join(lines)


def apply(
    rt: Runtime, week: str, summaries: list[dict[str, Any]], decision: Decision
) -> tuple[str, list[dict[str, Any]]]:
    """Carry a decision out. Keep: raises `KeptBlocked`. Supersede: records it, runs the
    feed-week again and returns the feed and the new summaries (still blocked: `KeptBlocked`)."""
    stuck = blocked(summaries)
    why = "; ".join(s.get("block_reason") or f"{s['feed']} blocked" for s in stuck)
    from buildout_tracker.ingest import ledger

    if decision.option != SUPERSEDE:
        who = f"decided by {decision.by}" if decision.by else "nobody decided in time"
        at = datetime.now(UTC).isoformat(timespec="seconds")
        for s in stuck:
            ledger.keep_blocked(
                rt.lake, s["feed"], week,
                decision.reason or ("decided" if decision.by else "no answer before the timeout"),
                by=decision.by, at=at, via="Airflow UI",
            )  # fmt: skip
        raise KeptBlocked(f"{week} stays blocked ({who}): {why}")
    from buildout_tracker.pipeline import steps

    feed = _feed_of(decision.refused_file, stuck, week, rt)
    correction = _check_correction(rt, feed, week, decision)
    ledger.supersede_file(
        rt.lake, feed, week, str(decision.refused_file),
        decision.reason or f"replaced by {correction}",
        by=decision.by, at=datetime.now(UTC).isoformat(timespec="seconds"),
        correction=correction, via="Airflow UI",
    )  # fmt: skip
    out = []
    for s in summaries:
        if s["feed"] == feed:
            s = steps.run_ingest_task(feed, week, rt.run_id, rt=rt)
        out.append(s)
    still = blocked(out)
    if still:
        raise KeptBlocked(
            f"{week} still blocked after superseding {decision.refused_file}: "
            + "; ".join(s.get("block_reason") or s["feed"] for s in still)
        )
    return feed, out


def _feed_of(key: str | None, stuck: list[dict[str, Any]], week: str, rt: Runtime) -> str:
    if not key:
        raise BadDecision("name the refused file to supersede (its landing key)")
    for s in stuck:
        if key in candidates(rt, s["feed"], week):
            return str(s["feed"])
    names = ", ".join(k for s in stuck for k in candidates(rt, s["feed"], week))
    raise BadDecision(
        f"{key} is not a refused file of a blocked feed of {week} (these are: {names})"
    )


def _check_correction(rt: Runtime, feed: str, week: str, decision: Decision) -> str:
    key = decision.correction_file
    if not key:
        raise BadDecision("name the correction (its landing key): it must have landed first")
    if key == decision.refused_file:
        raise BadDecision("the correction is the refused file itself")
    parts = key.split("/")
    try:
        day = date.fromisoformat(parts[1])
    except (IndexError, ValueError):
        raise BadDecision(f"not a landing key <feed>/<YYYY-MM-DD>/<file>: {key}") from None
    if parts[0] != feed or week_key(day) != week:
        raise BadDecision(
            f"{key} is not a {feed} delivery of {week}: deliver the correction in a folder "
            f"{feed}/<a date of {week}>/, so that the week's run takes it"
        )
    if not rt.landing.exists(key):
        raise BadDecision(f"{key} has not landed in s3://{rt.landing.name}")
    return key
