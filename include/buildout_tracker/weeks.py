"""The program calendar: ISO weeks in UTC, their status dates, quarters."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

_WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")


def parse_week(key: str) -> tuple[int, int]:
    match = _WEEK_RE.match(key)
    if not match:
        raise ValueError(f"not an ISO week key like 2026-W48: {key!r}")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        weeks = date(year, 12, 28).isocalendar()[1]  # the 28th of December is in the last week
        raise ValueError(f"no ISO week {key!r}: {year} has {weeks} weeks") from None
    return year, week


def week_key(d: date) -> str:
    """ISO week containing a date, written 2026-W48."""
    year, week, _ = d.isocalendar()
    return f"{year}-W{week:02d}"


def week_start(key: str) -> date:
    """The Monday of the week."""
    year, week = parse_week(key)
    return date.fromisocalendar(year, week, 1)


def status_date(key: str) -> date:
    """The Sunday of the week: every 'as of' in the metrics means the end of this day."""
    return week_start(key) + timedelta(days=6)


def closes_at(key: str) -> datetime:
    """When a week has closed: the next Monday 00:00 UTC (the end of its status date)."""
    return datetime.combine(week_start(key) + timedelta(days=7), time(0), tzinfo=UTC)


def has_closed(key: str, now: datetime) -> bool:
    """Whether a week may run: a guard on starting, never an input of a result."""
    return now >= closes_at(key)


def week_dates(key: str) -> list[date]:
    start = week_start(key)
    return [start + timedelta(days=i) for i in range(7)]


def shift(key: str, weeks: int) -> str:
    return week_key(week_start(key) + timedelta(weeks=weeks))


def previous(key: str) -> str:
    return shift(key, -1)


def week_range(first: str, last: str) -> list[str]:
    """Inclusive range of week keys."""
    start, end = week_start(first), week_start(last)
    if end < start:
        raise ValueError(f"week range ends before it starts: {first}:{last}")
    return [week_key(start + timedelta(weeks=i)) for i in range((end - start).days // 7 + 1)]


def parse_range(spec: str) -> list[str]:
    """'2026-W37:2026-W48' or a single '2026-W48'."""
    first, _, last = spec.partition(":")
    return week_range(first.strip(), (last or first).strip())


def week_of_interval_start(start: datetime) -> str:
    """The week a scheduled run covers: the ISO week of its data interval's start (UTC)."""
    return week_key(start.date())


def quarter_key(d: date) -> str:
    return f"{d.year}-Q{(d.month - 1) // 3 + 1}"


def quarter_bounds(key: str) -> tuple[date, date]:
    """First and last day of a quarter written 2026-Q4."""
    match = re.match(r"^(\d{4})-Q([1-4])$", key)
    if not match:
        raise ValueError(f"not a quarter key like 2026-Q4: {key!r}")
    year, q = int(match.group(1)), int(match.group(2))
    first = date(year, 3 * (q - 1) + 1, 1)
    last = (
        date(year + 1, 1, 1) - timedelta(days=1)
        if q == 4
        else date(year, 3 * q + 1, 1) - timedelta(days=1)
    )
    return first, last


def plan_share_to_date(quarter: str, status_date: date) -> float:
    """Share of a quarter's plan due by the end of the status date.

    1 for a quarter that ended on or before the status date, 0 for one not begun, else the
    days elapsed up to and including the status date over the days in the quarter.
    """
    first, last = quarter_bounds(quarter)
    if last <= status_date:
        return 1.0
    if first > status_date:
        return 0.0
    return ((status_date - first).days + 1) / ((last - first).days + 1)
