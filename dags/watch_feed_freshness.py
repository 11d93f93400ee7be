"""
### watch_feed_freshness

**Checks**, every hour, whether each weekly feed (procurement, FX rates, milestones, hiring)
has delivered anything for the week that just closed, once its delivery is due (by default
Monday 05:00 UTC, an hour before the weekly ingests; per feed:
`BUILDOUT_DELIVERY_DEADLINE_HOURS_<FEED>`, hours after the week closes).

**Reads** the landing bucket's `<feed>/<date>/` folders of the week (listings only).

**Writes** `reports/freshness/week=<W>.json` in the lake bucket (each feed: files so far,
last delivery, late or not; shown in the Buildout page's feed health) and alerts once per
late feed and week, naming the feed, its last delivery and the source-system owner to call.
Owner: buildout data platform.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import CronTriggerTimetable, dag, get_current_context, task

from buildout_tracker.alerts import task_failure_callback
from buildout_tracker.orchestration.dag_support import DEFAULT_ARGS, START_DATE, Tags


@dag(
    schedule=CronTriggerTimetable("15 * * * *", timezone="UTC"),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args={
        **DEFAULT_ARGS,
        "on_failure_callback": task_failure_callback,
        "execution_timeout": timedelta(minutes=10),
    },
    tags=[Tags.INGEST, Tags.MONITORING],
    doc_md=__doc__,
)
def watch_feed_freshness() -> None:
    @task
    def check_feed_freshness() -> list[dict]:
        from buildout_tracker.orchestration.dag_support import check_freshness

        return check_freshness(get_current_context())

    check_feed_freshness()


watch_feed_freshness()
