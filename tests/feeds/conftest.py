from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from buildout_tracker.feeds import GxValidator, RuleContext

KEY = b"test-hmac-key"
CTX = RuleContext(
    week="2026-W48",
    status_date=date(2026, 11, 29),
    known_site_ids={"SITE01", "SITE02"},
    currencies_with_rate={"EUR", "CNY"},
    requisition_ids={"R1", "R2"},
)

PO_GOOD = {
    "po_number": "0012345678",
    "po_line": "1",
    "po_date": "2026-11-02",
    "change_ts": "2026-11-02T10:00:00Z",
    "supplier_id": "S1",
    "supplier_name": "Acme, Inc",
    "workstream": "data_centers",
    "category": "construction",
    "site_id": "SITE01",
    "description": "pour\nslab",
    "quantity": "2",
    "uom": "EA",
    "unit_price": "10.50",
    "currency": "EUR",
    "net_value": "21.00",
    "requested_delivery_date": "2026-11-10",
    "received_qty": "1",
    "last_receipt_date": "2026-11-20",
    "status": "partially_received",
    "deleted": "false",
}


def to_csv(rows: list[dict[str, str]], columns: list[str] | None = None) -> bytes:
    cols = columns or list(rows[0])
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    return buf.getvalue().encode("utf-8")


def po(**over: str) -> dict[str, str]:
    return {**PO_GOOD, **over}


@pytest.fixture(scope="session")
def gx_validator() -> GxValidator:
    return GxValidator()
