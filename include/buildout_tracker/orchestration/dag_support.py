"""What every Buildout Tracker DAG shares: owner, tags, retries, timeouts, the weekly
timetable, the assets, the week of a run. Cheap to import: no pandas, GX or boto3.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from buildout_tracker import registry, settings
from buildout_tracker.weeks import week_key, week_of_interval_start

log = logging.getLogger(__name__)

OWNER = "buildout-data-platform"
START_DATE = datetime(2026, 1, 5, 6, tzinfo=UTC)  # a Monday


class Tags:
    """The only tags a DAG may carry (telemetry-airflow's utils/tags.py habit)."""

    INGEST = "ingest"
    PUBLISH = "publish"
    WEEKLY = "weekly"
    PROCUREMENT = "procurement"
    MILESTONES = "milestones"
    HIRING = "hiring"
    REFERENCE = "reference"
    CURATED = "curated"
    MONITORING = "monitoring"

    @classmethod
    def all(cls) -> set[str]:
        return {v for k, v in vars(cls).items() if k.isupper()}


DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "retries": settings.task_retries(),
    "retry_delay": timedelta(seconds=settings.retry_delay_seconds()),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=10),
    "execution_timeout": timedelta(minutes=30),
}


def weekly_timetable() -> Any:
    """Monday 06:00 UTC to the next Monday 06:00: a run covers the ISO week of its interval's
    start and fires when the week has closed (the program's Monday-morning habit)."""
    from airflow.sdk import CronDataIntervalTimetable

    return CronDataIntervalTimetable("0 6 * * 1", timezone="UTC")


# Asset URIs use the project's own scheme: an s3:// URI makes the amazon provider import boto3
# on every DAG parse (0.14 s here). Where the data lives is in each asset's extra.
def validated_asset(feed: str) -> Any:
    from airflow.sdk import Asset

    return Asset(
        name=f"validated_{feed}",
        uri=f"buildout://lake/validated/{feed}",
        extra={"location": f"s3://{settings.lake_bucket()}/validated/ and state/ ({feed})"},
    )


def any_validated_asset() -> Any:
    """Any of the validated assets of the feeds the scorecard depends on (an OR condition):
    the publishing DAG decides from the events' weeks what is ready."""
    from functools import reduce

    return reduce(lambda a, b: a | b, (validated_asset(f) for f in registry.STATUS_FEEDS))


def curated_asset() -> Any:
    from airflow.sdk import Asset

    return Asset(
        name="curated_weekly_tables",
        uri="buildout://lake/curated",
        extra={"location": f"s3://{settings.lake_bucket()}/curated/"},
    )


WEEK_PATTERN = r"^[0-9]{4}-W[0-9]{2}$"


def week_params(what: str) -> dict[str, Any]:
    """The run form's fields: the week (validated by the form) and the force switch."""
    from airflow.sdk import Param

    return {
        "week": Param(
            None,
            type=["null", "string"],
            pattern=WEEK_PATTERN,
            title="ISO week",
            description=f"ISO week to {what}, written 2026-W48 (empty: the week of the run's "
            "data interval). A week that has not closed yet is refused unless forced.",
        ),
        "force": Param(
            False,
            type="boolean",
            title="Force",
            description="Run a week that has not closed yet (its deliveries may not all be in).",
        ),
    }


def run_week(context: Any) -> str:
    """The ISO week of a scheduled, backfilled or manual run: from `params.week` when given,
    else from the data interval's start. Never from the clock."""
    params = context.get("params") or {}
    explicit = params.get("week") if isinstance(params, dict) else None
    if explicit:
        return str(explicit)
    start = context.get("data_interval_start") or context.get("logical_date")
    if start is None:
        raise ValueError("run has no data interval: trigger it with params.week (e.g. 2026-W48)")
    return week_of_interval_start(start)


def checked_week(context: Any) -> str:
    """The run's week, refused at once (no retry can fix it) when it is not an ISO week or
    has not closed yet and the run was not forced."""
    from airflow.sdk.exceptions import AirflowFailException

    from buildout_tracker.pipeline.steps import BadWeek, WeekNotClosed, check_week_may_run

    params = context.get("params") or {}
    try:
        week = run_week(context)
        check_week_may_run(week, force=bool(params.get("force")))
    except (BadWeek, WeekNotClosed, ValueError) as exc:
        raise AirflowFailException(str(exc)) from None
    return week


def previous_week_of(moment: datetime) -> str:
    return week_key((moment - timedelta(days=7)).date())


def publish_weeks(context: Any) -> list[str]:
    """The weeks a run of the publishing DAG publishes.

    - `params.week`: that week (checked like an ingest run's).
    - Asset events: the weeks they carry whose every feed has run (an ingest of one feed
      while the others have not run yet waits for them); a later event for a week (a re-run,
      a late file, a supersede) publishes that week again, and only it.
    - The Monday cron fallback (no events): the week that just closed, so that a feed whose
      DAG did not run cannot stall it, unless it is published already, nothing of it was
      ingested, or one of its ingest runs is still queued or running (their events will
      publish it).
    - With either of the last two, every week ingested since its publication
      (`steps.Publications.behind`): Airflow 3.3 can drop an asset's later events while
      this DAG's run is busy (apache/airflow#56050), and those weeks would stay unpublished.
      An event's week that such a run published already from the same reports is not
      published again (`Publications.current`).
    """
    from buildout_tracker import zones
    from buildout_tracker.pipeline.runtime import Runtime
    from buildout_tracker.pipeline.steps import Publications, ingested_feeds, ready_to_publish
    from buildout_tracker.weeks import parse_week

    if (context.get("params") or {}).get("week"):
        return [checked_week(context)]
    rt = Runtime.from_airflow(context["run_id"])
    events = _events(context)
    publications = Publications.listed(rt.lake)
    missed = publications.behind(rt.lake)
    own: list[str] = []
    if events:
        weeks = sorted(_event_weeks(events), key=parse_week)
        if not weeks:
            _skip(context, [], "the triggering events name no week: nothing to publish")
        ready = [w for w in weeks if ready_to_publish(rt.lake, w)]
        # A week an earlier run published from these same reports (it was behind then).
        own = [w for w in ready if not publications.current(rt.lake, w)]
        considered, why = (
            (ready, "published already from the reports as they are")
            if ready
            else (weeks, "waiting for the other feeds' ingests of the week")
        )
    else:
        week = previous_week_of(context.get("logical_date") or context.get("run_after"))
        considered = [week]
        busy = _ingests_in_flight(context, week)
        if busy:
            missed = [w for w in missed if w != week]  # its ingests' events will publish it
            why = f"{', '.join(busy)} still queued or running: their events will publish it"
        elif rt.lake.exists(zones.manifest_key(week)):
            why = "published already (by its ingests' events)"
        elif not ingested_feeds(week, rt):
            why = "no feed has been ingested for it yet: nothing to publish"
        else:
            own = [week]
    recovered = sorted(set(missed) - set(own), key=parse_week)
    if recovered:
        log.warning(
            "%s: ingested since last published (or never published), and this run's events "
            "do not name them (Airflow may drop asset events: apache/airflow#56050): "
            "published by this run",
            ", ".join(recovered),
        )
    if not own and not recovered:
        _skip(context, considered, why)
    return sorted({*own, *recovered}, key=parse_week)


def _skip(context: Any, weeks: list[str], why: str) -> NoReturn:
    """Skip the run, saying why in its log and, through the XCom `skipped` (the run's note,
    `run_notes.publish_note`), in the UI: the weeks it looked at and why none is published."""
    from airflow.sdk.exceptions import AirflowSkipException

    ti = context.get("ti") or context.get("task_instance")
    if ti is not None:
        ti.xcom_push(key="skipped", value={"weeks": weeks, "reason": why})
    raise AirflowSkipException(f"{', '.join(weeks)}: {why}" if weeks else why)


def _events(context: Any) -> list[Any]:
    return [e for es in (context.get("triggering_asset_events") or {}).values() for e in es]


def _event_weeks(events: list[Any]) -> set[str]:
    return {str((e.extra or {}).get("week")) for e in events if (e.extra or {}).get("week")}


def _own_weeks(context: Any) -> set[str]:
    """The weeks the run itself names (its `week`, its events' weeks, or the cron fallback's
    week): any other week it publishes is one `publish_weeks` recovered."""
    if (context.get("params") or {}).get("week"):
        return {run_week(context)}
    events = _events(context)
    if events:
        return _event_weeks(events)
    return {previous_week_of(context.get("logical_date") or context.get("run_after"))}


def _ingests_in_flight(context: Any, week: str) -> list[str]:
    """Ingest DAGs with a scheduled run of the week still queued or running."""
    from buildout_tracker.weeks import week_start

    ti = context.get("ti") or context.get("task_instance")
    logical = datetime.combine(week_start(week), START_DATE.timetz())
    busy = []
    for dag_id in registry.INGEST_DAGS:
        n = ti.get_dr_count(dag_id=dag_id, logical_dates=[logical], states=["queued", "running"])
        if n:
            busy.append(dag_id)
    return busy


def weekly_ingest_dag_args(*tags: str) -> dict[str, Any]:
    """What every weekly ingest DAG passes to @dag, besides its id, schedule and docs."""
    from buildout_tracker.alerts import task_failure_callback

    return {
        "start_date": START_DATE,
        "catchup": False,
        "max_active_runs": 1,
        "default_args": {**DEFAULT_ARGS, "on_failure_callback": task_failure_callback},
        "tags": [Tags.INGEST, Tags.WEEKLY, *tags],
        "params": week_params("ingest"),
    }


def ingest_and_emit(feed: str, asset: Any) -> dict[str, Any]:
    """The body of an ingest task: the feed's week, its counts put on the asset event."""
    from airflow.sdk import get_current_context

    from buildout_tracker.orchestration.lineage import recorded
    from buildout_tracker.pipeline.runtime import Runtime
    from buildout_tracker.pipeline.steps import run_ingest_task

    context = get_current_context()
    week = checked_week(context)
    with recorded(Runtime.from_airflow(context["run_id"])) as rt:  # OpenLineage, when configured
        summary = run_ingest_task(feed, week, context["run_id"], rt=rt)
    context["outlet_events"][asset].extra = summary
    return summary


def publish_and_emit(weeks: list[str], asset: Any) -> list[dict[str, Any]]:
    """The body of the publish task: each week published (or skipped with why), and the
    weeks' RAG and row counts put on the curated asset event."""
    from airflow.sdk import get_current_context

    from buildout_tracker.orchestration.lineage import recorded
    from buildout_tracker.pipeline.runtime import Runtime

    context = get_current_context()
    explicit = bool((context.get("params") or {}).get("week"))
    with recorded(Runtime.from_airflow(context["run_id"])) as rt:  # OpenLineage, when configured
        results = publish_each(weeks, _own_weeks(context), rt, explicit)
    extra: dict[str, Any] = {"weeks": weeks, "published": results}
    context["outlet_events"][asset].extra = extra
    return results


def publish_each(weeks: list[str], own: set[str], rt: Any, explicit: bool) -> list[dict[str, Any]]:
    """Each week published, or skipped with why; then the run fails (no retry: nothing a
    retry changes) if a week of its own (`own`) failed its audit or lacks an FX rate. The
    other weeks are published all the same. A week the run recovered (`publish_weeks`)
    fails no run: its failure is logged and named in the run's note (a failed audit is also
    alerted, once, as any is), and every later run tries it again until its inputs are
    fixed."""
    from airflow.sdk.exceptions import AirflowFailException

    from buildout_tracker.pipeline import steps
    from buildout_tracker.publish import AuditFailed
    from buildout_tracker.publish.withdraw import WeekWithdrawn
    from buildout_tracker.tables.definitions import MissingFxRate

    results, failed = [], []
    for week in weeks:
        try:
            results.append(steps.run_publish_task(week, rt.run_id, rt=rt, explicit=explicit))
        except (steps.NothingToPublish, WeekWithdrawn) as exc:
            log.warning("%s not published: %s", week, exc)
            results.append({"week": week, "skipped": str(exc)})
        except (AuditFailed, MissingFxRate) as exc:
            log.error("%s not published: %s", week, exc)
            results.append({"week": week, "failed": str(exc)})
            if week in own:
                failed.append(str(exc))
    if failed:
        raise AirflowFailException("; ".join(failed))
    return results


def check_freshness(context: Any) -> list[dict[str, Any]]:
    """The body of the freshness watchdog: the week that closed before the run's tick."""
    from dataclasses import asdict

    from buildout_tracker.orchestration.lineage import recorded
    from buildout_tracker.pipeline import freshness
    from buildout_tracker.pipeline.runtime import Runtime

    now = context.get("logical_date") or context.get("run_after") or datetime.now(UTC)
    week = previous_week_of(now)
    # It reads no object, only the landing folders' listing: those are its inputs.
    with recorded(Runtime.from_airflow(context["run_id"]), listings_are_inputs=True) as rt:
        found = freshness.check(rt, week, now)
    for f in found:
        log.info("%s %s: %s file(s), due %s%s", f.feed, week, f.files, f.due,
                 " LATE" if f.late else "")  # fmt: skip
    return [asdict(f) for f in found]


def check_week(*summaries: dict[str, Any], decide: str | None = None) -> str | None:
    """After the ingests of a DAG run: fail, naming feed, file and rule, when a feed's week is
    blocked, or name the later weeks a re-run made stale; neither is something a retry can
    fix. With `decide` (the DAG's human-in-the-loop task) a blocked week waits for a person
    instead: the branch goes there, with what to decide on. Returns None when all is well."""
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowFailException

    from buildout_tracker.pipeline import decisions
    from buildout_tracker.pipeline.runtime import Runtime
    from buildout_tracker.pipeline.steps import fail_if_blocked, fail_if_later_weeks_stale

    try:
        fail_if_later_weeks_stale(list(summaries))
        if decide and decisions.blocked(list(summaries)) and settings.human_decisions():
            context = get_current_context()
            rt = Runtime.from_airflow(context["run_id"])
            week = summaries[0]["week"]
            text = decisions.request_text(rt, week, list(summaries))
            feeds = ", ".join(s["feed"] for s in decisions.blocked(list(summaries)))
            context["ti"].xcom_push(key="decision_request", value=text)
            context["ti"].xcom_push(key="decision_subject", value=f"{week}: {feeds} blocked")
            return decide
        for summary in summaries:
            fail_if_blocked(summary)
    except RuntimeError as exc:
        raise AirflowFailException(str(exc)) from None
    return None


def decision_request(task_id: str, check_task_id: str) -> Any:
    """The human-in-the-loop task of a blocked feed-week: what blocked it, and the decisions
    the contract allows (keep it blocked, the default when nobody answers in time; or
    supersede a refused file by its correction and run the week again)."""
    from airflow.providers.standard.operators.hitl import HITLOperator
    from airflow.sdk import Param

    from buildout_tracker.pipeline.decisions import KEEP, OPTIONS

    pull = f"ti.xcom_pull(task_ids='{check_task_id}', key='decision_request')"
    return HITLOperator(
        task_id=task_id,
        subject="{{ " + pull.replace("decision_request", "decision_subject") + " }}: decide",
        body="{{ " + pull + " }}",
        options=list(OPTIONS),
        defaults=[KEEP],
        params={
            "refused_file": Param(
                "",
                type="string",
                title="Refused file to supersede",
                description="Its landing key, from the list above",
            ),
            "correction_file": Param(
                "",
                type="string",
                title="Its correction",
                description="The landing key of the corrected file, "
                "delivered in a folder of the same week",
            ),
            "reason": Param(
                "",
                type="string",
                title="Why",
                description="Recorded with your name in the ledger and the manifest",
            ),
        },
        response_timeout=timedelta(hours=settings.decision_timeout_hours()),
        retries=0,
    )


def apply_decision(
    result: dict[str, Any], summaries: list[dict[str, Any]], assets: dict[str, Any]
) -> list[dict[str, Any]]:
    """Carry out the person's decision; a re-run feed's counts go on its asset event, which
    publishes the week again."""
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowFailException

    from buildout_tracker.orchestration.lineage import recorded
    from buildout_tracker.pipeline import decisions
    from buildout_tracker.pipeline.runtime import Runtime

    context = get_current_context()
    decision = decisions.Decision.from_hitl(result or {})
    try:
        with recorded(Runtime.from_airflow(context["run_id"])) as rt:  # OpenLineage, if configured
            feed, out = decisions.apply(rt, summaries[0]["week"], list(summaries), decision)
    except (decisions.KeptBlocked, decisions.BadDecision) as exc:
        raise AirflowFailException(str(exc)) from None
    for s in out:  # every outlet's event names the week (the re-run feed's: its new counts)
        if s["feed"] in assets:
            context["outlet_events"][assets[s["feed"]]].extra = s
    log.info("%s superseded by its correction; %s %s ran again", decision.refused_file, feed,
             summaries[0]["week"])  # fmt: skip
    return out
