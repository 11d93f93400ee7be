"""hiring: `requisitions_*.csv` and `offers_*.csv`, full snapshots of the ATS.

Severities: every row rule is critical at row level (quarantine), including uniqueness:
all rows sharing a duplicated `req_id` (or `offer_id`, `version`) are quarantined, since
none can be trusted to be the real one. `req_id_in_requisitions` needs the same delivery's
requisition ids in the RuleContext and is skipped without them. No table-level rule.

Personal data: `hiring_manager_email`, `candidate_name`, `candidate_email` are dropped at
parse time (the file may omit them); `candidate_id` becomes `candidate_key`, a keyed HMAC;
`team` is free text, scanned for e-mail addresses.
"""

from __future__ import annotations

from .enums import (
    COUNTRY_PATTERN,
    LEVELS,
    OFFER_STATUSES,
    REQUISITION_STATUSES,
    ROLE_FAMILIES,
    WORKSTREAMS,
)
from .rules import between, in_set, pair_ge, present_exactly_when, unique
from .schema import Column
from .spec import FileSpec

REQUISITION_COLUMNS = (
    Column("req_id", "text", required=True),
    Column("workstream", "text", required=True, enum=WORKSTREAMS),
    Column("team", "text", pii="free_text"),
    Column("role_family", "text", required=True, enum=ROLE_FAMILIES),
    Column("level", "text", enum=LEVELS),
    Column("country", "text", required=True, pattern=COUNTRY_PATTERN),
    Column("opened_date", "date", required=True),
    Column("target_start_date", "date"),
    Column("status", "text", required=True, enum=REQUISITION_STATUSES),
    Column("closed_date", "date"),
    Column("hiring_manager_email", "text", pii="drop"),
)

REQUISITION_RULES = (
    unique(("req_id",), "req_id_unique"),
    present_exactly_when(
        "closed_date",
        "status",
        ("filled", "cancelled"),
        ("open", "on_hold"),
        "closed_date_iff_closed",
    ),
    pair_ge("closed_date", "opened_date", "closed_not_before_opened", "closed_date >= opened_date"),
)

OFFER_COLUMNS = (
    Column("offer_id", "text", required=True),
    Column("version", "integer", required=True),
    Column("req_id", "text", required=True),
    Column("candidate_id", "text", pii="hash"),
    Column("candidate_name", "text", pii="drop"),
    Column("candidate_email", "text", pii="drop"),
    Column("status", "text", required=True, enum=OFFER_STATUSES),
    Column("extended_date", "date", required=True),
    Column("resolved_date", "date"),
    Column("start_date", "date"),
)

RESOLVED = ("accepted", "declined", "rescinded")

OFFER_RULES = (
    between("version", "version_at_least_1", "version >= 1", min_value=1),
    unique(("offer_id", "version"), "offer_version_unique"),
    in_set(
        "req_id",
        lambda ctx: ctx.requisition_ids or (),
        rule_id="req_id_in_requisitions",
        description="req_id is in the same delivery's requisitions",
        needs=("requisition_ids",),
    ),
    present_exactly_when(
        "resolved_date", "status", RESOLVED, ("extended",), "resolved_date_iff_resolved"
    ),
    pair_ge(
        "resolved_date",
        "extended_date",
        "resolved_not_before_extended",
        "resolved_date >= extended_date",
    ),
    present_exactly_when("start_date", "status", ("accepted",), (), "start_date_when_accepted"),
)

REQUISITIONS = FileSpec(
    feed="hiring",
    kind="requisitions",
    pattern=r"requisitions_.*\.csv",
    columns=REQUISITION_COLUMNS,
    rules=REQUISITION_RULES,
)
OFFERS = FileSpec(
    feed="hiring",
    kind="offers",
    pattern=r"offers_.*\.csv",
    columns=OFFER_COLUMNS,
    rules=OFFER_RULES,
)
SPECS = (REQUISITIONS, OFFERS)
