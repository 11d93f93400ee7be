"""Notifications to a Slack-compatible webhook: a blocked feed-week, a refused file, a failed
audit, an area turning red or grey, any task failure. The URL comes from the Airflow connection
`buildout_alerts` (its host holds the full URL) or BUILDOUT_ALERT_WEBHOOK; with neither,
alerts are only logged. Messages carry counts and rule names, never personal data.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from buildout_tracker import settings, zones

if TYPE_CHECKING:
    from buildout_tracker.lake import Bucket

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    kind: (
        str  # file_refused | file_misplaced | feed_blocked | audit_failed | area_red | area_grey
        # | task_failed | later_weeks_stale | feed_late | report_failed | weekly_report
    )
    week: str | None
    area: str | None
    reason: str
    where: str | None = None  # where to look: a URI, a DAG run, a log

    @property
    def digest(self) -> str:
        """What makes two alerts the same news: kind, week, subject and text."""
        key = json.dumps([self.kind, self.week, self.area, self.reason])
        return hashlib.sha256(key.encode()).hexdigest()

    def payload(self) -> dict[str, Any]:
        head = f"[buildout-tracker] {self.kind.replace('_', ' ')}"
        parts = [head]
        if self.week:
            parts.append(f"week {self.week}")
        if self.area:
            parts.append(f"area {self.area}")
        text = " | ".join(parts) + f"\n{self.reason}"
        if self.where:
            text += f"\nWhere to look: {self.where}"
        return {
            "text": text,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": _clip(text)}}],
            "kind": self.kind,
            "week": self.week,
            "area": self.area,
            "reason": self.reason,
            "where": self.where,
        }


def _clip(text: str, limit: int = 3000) -> str:
    """Slack refuses a section block over 3000 characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def webhook_url() -> str | None:
    """BUILDOUT_ALERT_WEBHOOK, else (inside Airflow) the host of the `buildout_alerts`
    connection. Outside Airflow (make run, tests) Airflow is not imported for it."""
    url = settings.alert_webhook_url()
    if url:
        return url
    if "airflow.sdk" not in sys.modules:
        return None
    try:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(settings.ALERT_CONN_ID)
        return conn.host or None
    except Exception:
        return None


def send(alert: Alert, url: str | None = None, timeout: float = 10.0) -> bool:
    """Post one alert; never raises (an alert must not fail the pipeline). True when delivered."""
    target = url or webhook_url()
    log.warning("ALERT %s week=%s area=%s: %s", alert.kind, alert.week, alert.area, alert.reason)
    if not target:
        return False
    body = json.dumps(alert.payload()).encode()
    request = urllib.request.Request(
        target, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return 200 <= response.status < 300
    except Exception as exc:
        log.error("alert not delivered to the webhook: %s", exc)
        return False


def send_all(alerts: Iterable[Alert], url: str | None = None) -> int:
    return sum(send(a, url) for a in alerts)


def send_once(alert: Alert, lake: Bucket, url: str | None = None) -> bool:
    """Send an alert unless the same one (kind, week, subject, text) was delivered before,
    by this run or any other: a re-run, a retry or a second publisher of the same week tells
    nobody twice. Recorded in the lake once delivered (or once logged, with no webhook); a
    delivery that failed is tried again by the next run. Two runs racing within the same
    second may both send it."""
    marker = zones.alert_sent(alert.digest)
    if lake.exists(marker):
        log.info("alert already sent (%s week=%s area=%s)", alert.kind, alert.week, alert.area)
        return False
    target = url or webhook_url()
    delivered = send(alert, target)
    if delivered or not target:
        lake.put_json(marker, alert.payload())
    return delivered


def send_all_once(alerts: Iterable[Alert], lake: Bucket, url: str | None = None) -> int:
    return sum(send_once(a, lake, url) for a in alerts)


def scorecard_alerts(week: str, scorecard: Any, where: str | None = None) -> list[Alert]:
    """One alert per area that is red or grey, with its reasons."""
    out = []
    for row in scorecard.to_dict(orient="records"):
        rag = row.get("rag")
        if rag in ("red", "grey"):
            reasons = row.get("rag_reasons")
            reasons = list(reasons) if reasons is not None else []
            out.append(
                Alert(
                    f"area_{rag}", week, row.get("area"), "; ".join(map(str, reasons)) or rag, where
                )
            )
    return out


def report_digest(week: str, text: str, where: str | None = None) -> Alert:
    """The week's program report in a few lines (report.changes.digest) and where it is."""
    return Alert("weekly_report", week, None, text, where)


def task_failure_callback(context: Any) -> None:
    """on_failure_callback for every task: tells the platform channel which task failed and why."""
    ti = context.get("task_instance") or context.get("ti")
    dag_id = getattr(ti, "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    run_id = getattr(ti, "run_id", "?")
    exc = context.get("exception")
    week = None
    params = context.get("params") or {}
    if isinstance(params, dict):
        week = params.get("week") or None
    send(
        Alert(
            "task_failed",
            week,
            None,
            f"{dag_id}.{task_id} failed (run {run_id}, try {getattr(ti, 'try_number', '?')}): {str(exc)[:500]}",
            f"Airflow UI: DAG {dag_id}, run {run_id}, task {task_id} log",
        )
    )
