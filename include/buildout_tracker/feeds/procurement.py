"""procurement: `po_lines_*.csv`, ERP purchase-order lines (delta extract).

Severities. Every row rule is critical at row level: a line with a bad key, amount, currency,
date or status would make committed/received spend wrong, so it goes to quarantine (the feed
is blocked only when the quarantined share passes the threshold). `no_personal_data` is
a warning: a line whose free text holds an e-mail address is kept (the contract accepts any
text there) with the address masked, and the rule's count says how many. There is
no table-level rule: a delta may repeat a key (the latest `change_ts` wins downstream), so
duplicate keys are not errors.

Rules needing context are skipped when the context does not know: `site_id_known`
(known_site_ids), `currency_has_rate` (currencies_with_rate; USD always has one),
`last_receipt_not_after_status_date` (status_date).
"""

from __future__ import annotations

import pandas as pd

from .enums import CATEGORIES, CURRENCY_PATTERN, PO_STATUSES, SITE_CATEGORIES, WORKSTREAMS
from .rules import between, helper_rule, in_set, pair_ge
from .schema import Column, Exp, Rule, RuleContext, When
from .spec import FileSpec

# "to the cent": |net_value - quantity * unit_price| at most half a cent (float noise allowed).
CENT_TOLERANCE = 0.005 + 1e-6

COLUMNS = (
    Column("po_number", "text", required=True, pattern=r"\d{10}"),
    Column("po_line", "integer", required=True),
    Column("po_date", "date", required=True),
    Column("change_ts", "timestamp", required=True),
    Column("supplier_id", "text", required=True),
    Column("supplier_name", "text", pii="free_text"),
    Column("workstream", "text", required=True, enum=WORKSTREAMS),
    Column("category", "text", required=True, enum=CATEGORIES),
    Column("site_id", "text"),
    Column("description", "text", pii="free_text"),
    Column("quantity", "decimal", required=True),
    Column("uom", "text"),
    Column("unit_price", "decimal", required=True),
    Column("currency", "text", required=True, pattern=CURRENCY_PATTERN),
    Column("net_value", "decimal", required=True),
    Column("requested_delivery_date", "date", required=True),
    Column("received_qty", "decimal", required=True),
    Column("last_receipt_date", "date"),
    Column("status", "text", required=True, enum=PO_STATUSES),
    Column("deleted", "boolean", required=True),
)


def _net_value_gap(f: pd.DataFrame, ctx: RuleContext) -> pd.Series:
    return f["net_value"] - f["quantity"] * f["unit_price"]


def _last_receipt_iff_received() -> Rule:
    return Rule(
        "last_receipt_date_iff_received",
        "critical",
        "last_receipt_date is empty exactly when received_qty is 0",
        "row",
        ("last_receipt_date", "received_qty"),
        lambda f, ctx: (
            ((f["received_qty"] == 0) & f["last_receipt_date"].notna()).fillna(False).astype(bool)
            | ((f["received_qty"] > 0) & f["last_receipt_date"].isna()).fillna(False).astype(bool)
        ),
        lambda ctx: [
            Exp(
                "ExpectColumnValuesToBeNull",
                {"column": "last_receipt_date"},
                When("received_qty", "==", 0),
            ),
            Exp(
                "ExpectColumnValuesToNotBeNull",
                {"column": "last_receipt_date"},
                When("received_qty", ">", 0),
            ),
        ],
    )


RULES = (
    between("po_line", "po_line_positive", "po_line > 0", min_value=0, strict_min=True),
    Rule(
        "site_id_required_for_site_category",
        "critical",
        f"site_id is present when category is one of {', '.join(SITE_CATEGORIES)}",
        "row",
        ("site_id", "category"),
        lambda f, ctx: f["category"].isin(SITE_CATEGORIES) & f["site_id"].isna(),
        lambda ctx: [
            Exp(
                "ExpectColumnValuesToNotBeNull",
                {"column": "site_id"},
                When("category", "in", SITE_CATEGORIES),
            )
        ],
    ),
    in_set(
        "site_id",
        lambda ctx: ctx.known_site_ids or (),
        rule_id="site_id_known",
        description="site_id, when given, is in sites.csv",
        needs=("known_site_ids",),
    ),
    between("quantity", "quantity_positive", "quantity > 0", min_value=0, strict_min=True),
    between("unit_price", "unit_price_non_negative", "unit_price >= 0", min_value=0),
    in_set(
        "currency",
        lambda ctx: {*(ctx.currencies_with_rate or ()), "USD"},
        rule_id="currency_has_rate",
        description="currency has an FX rate (USD always has one)",
        needs=("currencies_with_rate",),
    ),
    helper_rule(
        "net_value_matches",
        "critical",
        "row",
        "net_value equals quantity * unit_price to the cent",
        ("net_value", "quantity", "unit_price"),
        "_net_value_gap",
        _net_value_gap,
        -CENT_TOLERANCE,
        CENT_TOLERANCE,
    ),
    pair_ge(
        "requested_delivery_date",
        "po_date",
        "delivery_not_before_po_date",
        "requested_delivery_date >= po_date",
    ),
    between("received_qty", "received_qty_non_negative", "received_qty >= 0", min_value=0),
    pair_ge(
        "quantity",
        "received_qty",
        "received_qty_not_above_quantity",
        "received_qty <= quantity",
    ),
    _last_receipt_iff_received(),
    pair_ge(
        "last_receipt_date",
        "po_date",
        "last_receipt_not_before_po_date",
        "last_receipt_date >= po_date",
    ),
    between(
        "last_receipt_date",
        "last_receipt_not_after_status_date",
        "last_receipt_date is not after the week's status date",
        max_value=lambda ctx: ctx.status_date,
        needs=("status_date",),
    ),
)

PO_LINES = FileSpec(
    feed="procurement",
    kind="po_lines",
    pattern=r"po_lines_.*\.csv",
    columns=COLUMNS,
    rules=RULES,
)
SPECS = (PO_LINES,)
