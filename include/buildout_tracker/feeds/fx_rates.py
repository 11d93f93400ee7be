"""fx_rates: `fx_rates_*.csv`, treasury rates (new rates only).

Severities: all row rules critical (a bad rate converts every amount of its currency
wrongly, so the row is quarantined). No table-level rule: a file may carry any subset of
currencies and dates; USD is 1 and need not be sent.
"""

from __future__ import annotations

from .enums import CURRENCY_PATTERN
from .rules import between
from .schema import Column
from .spec import FileSpec

COLUMNS = (
    Column("currency", "text", required=True, pattern=CURRENCY_PATTERN),
    Column("rate_date", "date", required=True),
    Column("usd_per_unit", "decimal", required=True),
)

RULES = (
    between(
        "usd_per_unit", "usd_per_unit_positive", "usd_per_unit > 0", min_value=0, strict_min=True
    ),
)

FX_RATES = FileSpec(
    feed="fx_rates",
    kind="fx_rates",
    pattern=r"fx_rates_.*\.csv",
    columns=COLUMNS,
    rules=RULES,
)
SPECS = (FX_RATES,)
