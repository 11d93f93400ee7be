"""docs/feeds.md, written as checks over one landing folder. Each returns a list of problems."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from buildout_tracker import weeks as wk

WORKSTREAMS = {"compute_hardware", "chip_development", "data_centers", "ai_software"}
CATEGORIES = {
    "gpu_accelerators", "servers", "networking", "storage", "eda_tools", "ip_licensing",
    "wafer_fab", "land", "construction", "power_electrical", "cooling", "software_licenses",
    "cloud_services", "professional_services",
}  # fmt: skip
SITE_CATEGORIES = {"land", "construction", "power_electrical", "cooling"}
REGIONS = {"china", "apac", "emea", "americas"}
MILESTONES = [
    "LAND_ACQUIRED", "PERMITS_ISSUED", "GROUNDBREAKING", "SHELL_COMPLETE", "POWER_ENERGIZED",
    "COOLING_COMMISSIONED", "IT_FITOUT_COMPLETE", "GO_LIVE",
]  # fmt: skip
ROLE_FAMILIES = {
    "ml_research", "ml_engineering", "infrastructure_eng", "chip_design", "dc_operations",
    "network_eng", "software_eng", "program_mgmt",
}  # fmt: skip
PO_COLUMNS = {
    "po_number", "po_line", "po_date", "change_ts", "supplier_id", "supplier_name", "workstream",
    "category", "site_id", "description", "quantity", "uom", "unit_price", "currency",
    "net_value", "requested_delivery_date", "received_qty", "last_receipt_date", "status",
    "deleted",
}  # fmt: skip
FX_COLUMNS = {"currency", "rate_date", "usd_per_unit"}
MS_FIELDS = {
    "site_id", "milestone_code", "status_date", "forecast_date", "actual_date",
    "percent_complete", "status", "reported_by", "notes",
}  # fmt: skip
REQ_COLUMNS = {
    "req_id", "workstream", "team", "role_family", "level", "country", "opened_date",
    "target_start_date", "status", "closed_date", "hiring_manager_email",
}  # fmt: skip
OFFER_COLUMNS = {
    "offer_id", "version", "req_id", "candidate_id", "candidate_name", "candidate_email",
    "status", "extended_date", "resolved_date", "start_date",
}  # fmt: skip
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")
EMAIL_RE = re.compile(r"^[a-z0-9.+_-]+@example\.(com|net|org)$")


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), f"{path}: BOM in clean output"
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8"), newline=""))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def files(root: Path, feed: str) -> list[tuple[date, Path]]:
    return sorted(
        (date.fromisoformat(d.name), f) for d in (root / feed).iterdir() for f in d.iterdir()
    )


def is_date(v: str) -> bool:
    try:
        return date.fromisoformat(v).isoformat() == v
    except (TypeError, ValueError):
        return False


def d(v: str) -> date:
    return date.fromisoformat(v)


def check_reference(root: Path, weeks: list[str]) -> tuple[list[str], dict[str, dict[str, str]]]:
    errors: list[str] = []
    ref = files(root, "reference")
    names = {f.name for _, f in ref}
    assert names == {"sites.csv", "milestone_plan.csv", "budget_plan.csv", "hiring_plan.csv"}
    by_name = {f.name: f for _, f in ref}
    cols, sites = read_csv(by_name["sites.csv"])
    if set(cols) != {"site_id", "site_name", "country", "region", "planned_mw", "budget_usd"}:
        errors.append(f"sites.csv columns {cols}")
    register = {}
    for s in sites:
        if not re.match(r"^DC-[A-Z]{2}-\d{2}$", s["site_id"]):
            errors.append(f"site id {s['site_id']}")
        if s["region"] not in REGIONS or not re.match(r"^[A-Z]{2}$", s["country"]):
            errors.append(f"site {s['site_id']} region/country")
        if not (float(s["planned_mw"]) > 0 and float(s["budget_usd"]) > 0):
            errors.append(f"site {s['site_id']} mw/budget")
        register[s["site_id"]] = s
    if len(register) != len(sites):
        errors.append("duplicate site ids")
    cols, plan = read_csv(by_name["milestone_plan.csv"])
    if set(cols) != {"site_id", "milestone_code", "baseline_date", "weight"}:
        errors.append(f"milestone_plan columns {cols}")
    for sid in register:
        mine = {r["milestone_code"]: r for r in plan if r["site_id"] == sid}
        if sorted(mine) != sorted(MILESTONES):
            errors.append(f"{sid}: milestones {sorted(mine)}")
            continue
        weights = [float(mine[m]["weight"]) for m in MILESTONES]
        if abs(sum(weights) - 1) > 1e-9 or min(weights) < 0:
            errors.append(f"{sid}: weights {weights}")
        dates = [d(mine[m]["baseline_date"]) for m in MILESTONES]
        if dates != sorted(dates):
            errors.append(f"{sid}: baselines not in order")
    if {r["site_id"] for r in plan} - set(register):
        errors.append("milestone plan for unknown site")
    needed = {wk.quarter_key(wk.week_start(w)) for w in weeks} | {
        wk.quarter_key(wk.status_date(w)) for w in weeks
    }
    cols, budget = read_csv(by_name["budget_plan.csv"])
    if set(cols) != {"workstream", "quarter", "budget_usd"}:
        errors.append(f"budget_plan columns {cols}")
    for ws in WORKSTREAMS:
        quarters = {r["quarter"] for r in budget if r["workstream"] == ws}
        if not needed <= quarters:
            errors.append(f"budget plan of {ws} misses {needed - quarters}")
    if any(float(r["budget_usd"]) < 0 or r["workstream"] not in WORKSTREAMS for r in budget):
        errors.append("budget plan values")
    cols, hplan = read_csv(by_name["hiring_plan.csv"])
    if set(cols) != {"workstream", "role_family", "quarter", "planned_hires"}:
        errors.append(f"hiring_plan columns {cols}")
    for r in hplan:
        if r["workstream"] not in WORKSTREAMS or r["role_family"] not in ROLE_FAMILIES:
            errors.append(f"hiring plan enums {r}")
        if not re.match(r"^\d+$", r["planned_hires"]):
            errors.append(f"planned_hires {r['planned_hires']}")
    for ws in WORKSTREAMS:
        quarters = {r["quarter"] for r in hplan if r["workstream"] == ws}
        if not needed <= quarters:
            errors.append(f"hiring plan of {ws} misses {needed - quarters}")
    return errors, register


def check_fx(root: Path) -> tuple[list[str], dict[str, list[date]]]:
    errors: list[str] = []
    rates: dict[str, list[date]] = {}
    for _day, f in files(root, "fx_rates"):
        cols, rows = read_csv(f)
        if set(cols) != FX_COLUMNS or len(cols) != 3:
            errors.append(f"{f.name} columns {cols}")
        keys = [(r["currency"], r["rate_date"]) for r in rows]
        if len(set(keys)) != len(keys):
            errors.append(f"{f.name}: duplicate (currency, rate_date)")
        for r in rows:
            if not re.match(r"^[A-Z]{3}$", r["currency"]) or not is_date(r["rate_date"]):
                errors.append(f"{f.name}: {r}")
            elif not float(r["usd_per_unit"]) > 0:
                errors.append(f"{f.name}: rate {r}")
            rates.setdefault(r["currency"], []).append(d(r["rate_date"]))
    return errors, rates


def check_procurement_rows(
    rows: list[dict[str, str]], name: str, sites: set[str], status_date: date
) -> list[str]:
    errors: list[str] = []

    def bad(i: int, msg: str) -> None:
        if len(errors) < 50:
            errors.append(f"{name} row {i + 1}: {msg}")

    for i, r in enumerate(rows):
        if not re.match(r"^\d{10}$", r["po_number"]):
            bad(i, f"po_number {r['po_number']!r}")
        if not (r["po_line"].isdigit() and int(r["po_line"]) > 0):
            bad(i, f"po_line {r['po_line']!r}")
        for col in ("po_date", "requested_delivery_date"):
            if not is_date(r[col]):
                bad(i, f"{col} {r[col]!r}")
        if not TS_RE.match(r["change_ts"]):
            bad(i, f"change_ts {r['change_ts']!r}")
        if not r["supplier_id"]:
            bad(i, "supplier_id empty")
        if r["workstream"] not in WORKSTREAMS or r["category"] not in CATEGORIES:
            bad(i, f"enums {r['workstream']} {r['category']}")
        if r["category"] in SITE_CATEGORIES and not r["site_id"]:
            bad(i, "site category without site_id")
        if r["category"] in SITE_CATEGORIES and r["workstream"] != "data_centers":
            bad(i, "site category outside data_centers")
        if r["site_id"] and r["site_id"] not in sites:
            bad(i, f"unknown site {r['site_id']}")
        q, p = Decimal(r["quantity"]), Decimal(r["unit_price"])
        rec, net = Decimal(r["received_qty"]), Decimal(r["net_value"])
        if not (q > 0 and p >= 0 and 0 <= rec <= q):
            bad(i, f"quantities {q} {p} {rec}")
        if (q * p).quantize(Decimal("0.01")) != net or abs(
            float(q) * float(p) - float(net)
        ) > 0.005:
            bad(i, f"net_value {net} != {q} * {p}")
        if not re.match(r"^[A-Z]{3}$", r["currency"]):
            bad(i, f"currency {r['currency']}")
        dates_ok = is_date(r["po_date"]) and is_date(r["requested_delivery_date"])
        if dates_ok and d(r["requested_delivery_date"]) < d(r["po_date"]):
            bad(i, "requested_delivery_date before po_date")
        if (r["last_receipt_date"] == "") != (rec == 0):
            bad(i, f"last_receipt_date {r['last_receipt_date']!r} with received_qty {rec}")
        if r["last_receipt_date"]:
            lr = d(r["last_receipt_date"])
            if lr < d(r["po_date"]) or lr > status_date:
                bad(i, f"last_receipt_date {lr} outside po_date..{status_date}")
        if r["status"] not in {"open", "partially_received", "received", "closed", "cancelled"}:
            bad(i, f"status {r['status']}")
        if r["deleted"] not in {"true", "false"}:
            bad(i, f"deleted {r['deleted']!r}")
    return errors


def check_milestone_file(path: Path, delivered: date, sites: set[str]) -> list[str]:
    errors: list[str] = []
    recs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    by_site: dict[str, list[dict]] = {}
    for r in recs:
        if set(r) != MS_FIELDS:
            errors.append(f"{path.name}: fields {sorted(r)}")
            continue
        by_site.setdefault(r["site_id"], []).append(r)
        where = f"{path.name} {r['site_id']} {r['milestone_code']}"
        if r["site_id"] not in sites:
            errors.append(f"{where}: unknown site")
        if r["status"] not in {"not_started", "in_progress", "complete"}:
            errors.append(f"{where}: status {r['status']}")
        sd = d(r["status_date"])
        if sd > delivered:
            errors.append(f"{where}: status date after delivery")
        done = r["status"] == "complete"
        if (r["actual_date"] is not None) != done:
            errors.append(f"{where}: actual_date {r['actual_date']} with status {r['status']}")
        if done and d(r["actual_date"]) > sd:
            errors.append(f"{where}: actual after status date")
        if not done and not (r["forecast_date"] and is_date(r["forecast_date"])):
            errors.append(f"{where}: no forecast")
        pc = r["percent_complete"]
        if not isinstance(pc, int | float) or not 0 <= pc <= 100 or (pc == 100) != done:
            errors.append(f"{where}: percent_complete {pc!r} with status {r['status']}")
        if not EMAIL_RE.match(r["reported_by"]) or not isinstance(r["notes"], str):
            errors.append(f"{where}: reported_by/notes")
    for sid, rs in by_site.items():
        if sorted(x["milestone_code"] for x in rs) != sorted(MILESTONES):
            errors.append(f"{path.name}: {sid} does not report all eight milestones once")
    return errors


def check_hiring_delivery(
    reqs: list[dict[str, str]], offers: list[dict[str, str]], where: str
) -> list[str]:
    errors: list[str] = []
    ids = [r["req_id"] for r in reqs]
    if len(set(ids)) != len(ids):
        errors.append(f"{where}: duplicate req_id")
    by_id = {r["req_id"]: r for r in reqs}
    for r in reqs:
        w = f"{where} {r['req_id']}"
        if r["workstream"] not in WORKSTREAMS or r["role_family"] not in ROLE_FAMILIES:
            errors.append(f"{w}: enums")
        if r["level"] not in {f"L{i}" for i in range(3, 9)} or not re.match(
            r"^[A-Z]{2}$", r["country"]
        ):
            errors.append(f"{w}: level/country")
        if not is_date(r["opened_date"]) or (
            r["target_start_date"] and not is_date(r["target_start_date"])
        ):
            errors.append(f"{w}: dates")
        if r["status"] not in {"open", "on_hold", "filled", "cancelled"}:
            errors.append(f"{w}: status {r['status']}")
        closed = r["status"] in {"filled", "cancelled"}
        if (r["closed_date"] != "") != closed:
            errors.append(f"{w}: closed_date {r['closed_date']!r} with {r['status']}")
        if r["closed_date"] and d(r["closed_date"]) < d(r["opened_date"]):
            errors.append(f"{w}: closed before opened")
        if not EMAIL_RE.match(r["hiring_manager_email"]):
            errors.append(f"{w}: manager e-mail {r['hiring_manager_email']}")
    keys = [(o["offer_id"], o["version"]) for o in offers]
    if len(set(keys)) != len(keys):
        errors.append(f"{where}: duplicate (offer_id, version)")
    top: dict[str, dict[str, str]] = {}
    for o in offers:
        w = f"{where} {o['offer_id']} v{o['version']}"
        if not (o["version"].isdigit() and int(o["version"]) >= 1):
            errors.append(f"{w}: version")
            continue
        if o["req_id"] not in by_id:
            errors.append(f"{w}: req_id {o['req_id']} not in the delivery's requisitions")
        if o["status"] not in {"extended", "accepted", "declined", "rescinded", "deprecated"}:
            errors.append(f"{w}: status {o['status']}")
        if not is_date(o["extended_date"]):
            errors.append(f"{w}: extended_date")
        resolved = o["status"] in {"accepted", "declined", "rescinded"}
        if (o["resolved_date"] != "") != resolved:
            errors.append(f"{w}: resolved_date with {o['status']}")
        if o["resolved_date"] and d(o["resolved_date"]) < d(o["extended_date"]):
            errors.append(f"{w}: resolved before extended")
        if o["status"] == "accepted" and not is_date(o["start_date"]):
            errors.append(f"{w}: accepted without start_date")
        if not (o["candidate_id"] and o["candidate_name"] and EMAIL_RE.match(o["candidate_email"])):
            errors.append(f"{w}: candidate fields")
        if o["offer_id"] not in top or int(o["version"]) > int(top[o["offer_id"]]["version"]):
            top[o["offer_id"]] = o
    for o in offers:
        if o is not top[o["offer_id"]] and o["status"] != "deprecated":
            errors.append(f"{where} {o['offer_id']} v{o['version']}: superseded but {o['status']}")
    for o in top.values():
        req = by_id.get(o["req_id"])
        if (
            o["status"] == "accepted"
            and req is not None
            and (req["status"] != "filled" or d(req["closed_date"]) < d(o["resolved_date"]))
        ):
            errors.append(
                f"{where} {o['offer_id']}: accepted but req {req['req_id']} {req['status']}"
            )
    return errors


def parse_ts(v: str) -> datetime:
    return datetime.fromisoformat(v.replace("Z", "+00:00"))
