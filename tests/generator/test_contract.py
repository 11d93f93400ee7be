"""The clean output keeps every rule of docs/feeds.md."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import date
from decimal import Decimal

from buildout_tracker import weeks as wk
from tests.generator.contract import (
    OFFER_COLUMNS,
    PO_COLUMNS,
    REQ_COLUMNS,
    check_fx,
    check_hiring_delivery,
    check_milestone_file,
    check_procurement_rows,
    check_reference,
    files,
    parse_ts,
    read_csv,
)

KEY_PATTERNS = {
    "procurement": r"po_lines_.*\.csv",
    "fx_rates": r"fx_rates_.*\.csv",
    "milestones": r".*\.jsonl",
    "hiring": r"(requisitions|offers)_.*\.csv",
    "reference": r"(sites|milestone_plan|budget_plan|hiring_plan)\.csv",
}


def test_keys_follow_the_landing_layout_and_dates_fall_in_the_weeks(clean):
    first, last = wk.week_start(clean.weeks[0]), wk.status_date(clean.weeks[-1])
    keys = [p.relative_to(clean.root).as_posix() for p in clean.root.rglob("*") if p.is_file()]
    assert keys
    for key in keys:
        feed, day, name = key.split("/")
        assert re.fullmatch(KEY_PATTERNS[feed], name), key
        assert first <= date.fromisoformat(day) <= last, key
    for week in clean.weeks:
        days = {d.isoformat() for d in wk.week_dates(week)}
        for feed in ("procurement", "fx_rates", "milestones", "hiring"):
            assert any(k.split("/")[0] == feed and k.split("/")[1] in days for k in keys), (
                feed,
                week,
            )


def test_reference(clean):
    errors, register = check_reference(clean.root, clean.weeks)
    assert errors == []
    assert {s["region"] for s in register.values()} == {"china", "apac", "emea", "americas"}
    assert len(register) == 12


def test_fx_rates(clean):
    errors, rates = check_fx(clean.root)
    assert errors == []
    assert {"CNY", "EUR", "MYR", "SGD", "JPY", "BRL", "NOK"} <= set(rates)


def test_procurement_rows(clean):
    _, register = check_reference(clean.root, clean.weeks)
    _, rates = check_fx(clean.root)
    for day, f in files(clean.root, "procurement"):
        cols, rows = read_csv(f)
        assert set(cols) == PO_COLUMNS and len(cols) == len(PO_COLUMNS), f.name
        assert rows, f.name
        assert (
            check_procurement_rows(rows, f.name, set(register), wk.status_date(wk.week_key(day)))
            == []
        )
        for cur in {r["currency"] for r in rows} - {"USD"}:
            assert min(rates[cur]) <= wk.status_date(wk.week_key(day)), f"{cur} has no rate"


def test_procurement_history_is_realistic(clean):
    """Deltas repeat lines, carry changes, receive partially, cancel and delete."""
    versions: dict[tuple[str, str], list[tuple[str, Decimal, str]]] = {}
    seen = Counter()
    dup_in_file = 0
    for _, f in files(clean.root, "procurement"):
        _, rows = read_csv(f)
        keys = Counter((r["po_number"], r["po_line"]) for r in rows)
        dup_in_file += sum(1 for n in keys.values() if n > 1)
        for r in rows:
            key = (r["po_number"], r["po_line"])
            versions.setdefault(key, []).append(
                (r["change_ts"], Decimal(r["received_qty"]), r["status"])
            )
            seen[r["status"]] += 1
            seen["deleted" if r["deleted"] == "true" else "kept"] += 1
            seen["leading_zero" if r["po_number"].startswith("0") else "no_zero"] += 1
            seen[r["currency"]] += 1
    assert dup_in_file > 0
    assert all(
        seen[s] > 0 for s in ("open", "partially_received", "received", "closed", "cancelled")
    )
    assert seen["deleted"] > 0 and seen["leading_zero"] > 0
    assert sum(1 for c in ("USD", "CNY", "EUR", "MYR", "SGD", "JPY", "BRL", "NOK") if seen[c]) >= 6
    growing = repeated = 0
    for vs in versions.values():
        stamps = [parse_ts(ts) for ts, _, _ in vs]
        assert stamps == sorted(stamps), "a later extract carried an older version"
        if len({ts for ts, _, _ in vs}) < len(vs):
            repeated += 1
        recs = [q for _, q, _ in vs]
        if len(set(recs)) > 2 and recs == sorted(recs):
            growing += 1
    assert repeated > 100 and growing > 10


def test_csv_quoting_and_encoding(clean):
    """RFC 4180: some fields hold commas, quotes and newlines; UTF-8, no BOM."""
    full = next(f for _, f in files(clean.root, "procurement") if "full" in f.name)
    raw = full.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8")
    fields = [v for row in csv.reader(io.StringIO(text, newline="")) for v in row]
    assert any("\n" in v for v in fields)
    assert any('"' in v for v in fields)
    assert any("," in v for v in fields)
    assert any(ord(ch) > 127 for v in fields for ch in v)  # UTF-8 supplier names


def test_milestones(clean):
    _, register = check_reference(clean.root, clean.weeks)
    per_week = Counter()
    forecasts: dict[tuple[str, str], set[str]] = {}
    for day, f in files(clean.root, "milestones"):
        assert check_milestone_file(f, day, set(register)) == []
        per_week[wk.week_key(day)] += 1
        for line in f.read_text().splitlines():
            r = __import__("json").loads(line)
            forecasts.setdefault((r["site_id"], r["milestone_code"]), set()).add(r["forecast_date"])
    assert per_week[clean.weeks[0]] == len(register)  # everyone reports in the first week
    assert sum(per_week.values()) < len(register) * len(clean.weeks)  # somebody skipped a week
    assert sum(1 for v in forecasts.values() if len(v) > 2) > 5  # forecasts move


def test_hiring(clean):
    statuses, offer_statuses, versions = Counter(), Counter(), 0
    by_day: dict[date, dict[str, list]] = {}
    for day, f in files(clean.root, "hiring"):
        cols, rows = read_csv(f)
        kind = "req" if f.name.startswith("requisitions_") else "offer"
        expected = REQ_COLUMNS if kind == "req" else OFFER_COLUMNS
        assert set(cols) == expected and len(cols) == len(expected), f.name
        by_day.setdefault(day, {"req": [], "offer": []})[kind] += rows
    for day, parts in by_day.items():
        assert parts["req"] and parts["offer"], day
        assert check_hiring_delivery(parts["req"], parts["offer"], str(day)) == []
        statuses.update(r["status"] for r in parts["req"])
        offer_statuses.update(o["status"] for o in parts["offer"])
        versions = max(versions, max(int(o["version"]) for o in parts["offer"]))
    assert set(statuses) == {"open", "on_hold", "filled", "cancelled"}
    assert set(offer_statuses) == {"extended", "accepted", "declined", "rescinded", "deprecated"}
    assert versions >= 2
    last = by_day[max(by_day)]
    assert 150 <= len(last["req"]) <= 1000  # a few hundred requisitions
