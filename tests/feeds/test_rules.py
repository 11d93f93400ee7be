"""Pass and fail side of every rule, GX/mask parity, PII never leaking, blocking."""

from __future__ import annotations

import json

import pytest

from buildout_tracker.feeds import check_rows, parse_file
from buildout_tracker.feeds.checks import rule_masks
from buildout_tracker.feeds.enums import MILESTONE_CODES
from buildout_tracker.feeds.fx_rates import FX_RATES
from buildout_tracker.feeds.hiring import OFFERS, REQUISITIONS
from buildout_tracker.feeds.milestones import MILESTONES
from buildout_tracker.feeds.procurement import PO_LINES
from buildout_tracker.feeds.reference import BUDGET_PLAN, HIRING_PLAN, MILESTONE_PLAN, SITES

from .conftest import CTX, KEY, po, to_csv

PO_CASES = [
    ({}, set()),
    ({"po_number": "4.5E+09"}, {"format:po_number"}),
    ({"po_number": "123456789"}, {"format:po_number"}),
    ({"po_number": ""}, {"required:po_number"}),
    ({"po_line": "0"}, {"po_line_positive"}),
    ({"supplier_id": ""}, {"required:supplier_id"}),
    ({"workstream": "quantum"}, {"enum:workstream"}),
    ({"category": "snacks"}, {"enum:category"}),
    ({"site_id": ""}, {"site_id_required_for_site_category"}),
    ({"site_id": "", "category": "servers"}, set()),
    ({"site_id": "SITE99"}, {"site_id_known"}),
    (
        {"quantity": "0", "received_qty": "0", "last_receipt_date": "", "net_value": "0"},
        {"quantity_positive"},
    ),
    ({"unit_price": "-1", "net_value": "-2"}, {"unit_price_non_negative"}),
    ({"currency": "eur"}, {"format:currency", "currency_has_rate"}),
    ({"currency": "GBP"}, {"currency_has_rate"}),
    ({"currency": "USD"}, set()),
    ({"net_value": "21.02"}, {"net_value_matches"}),
    ({"net_value": "21.004"}, set()),
    ({"requested_delivery_date": "2026-11-01"}, {"delivery_not_before_po_date"}),
    ({"received_qty": "-1"}, {"received_qty_non_negative"}),
    ({"received_qty": "3"}, {"received_qty_not_above_quantity"}),
    ({"received_qty": "0"}, {"last_receipt_date_iff_received"}),
    ({"last_receipt_date": ""}, {"last_receipt_date_iff_received"}),
    ({"received_qty": "0", "last_receipt_date": ""}, set()),
    ({"last_receipt_date": "2026-11-01"}, {"last_receipt_not_before_po_date"}),
    ({"last_receipt_date": "2026-11-30"}, {"last_receipt_not_after_status_date"}),
    ({"status": "lost"}, {"enum:status"}),
    ({"description": "ask bob.smith@example.com"}, set()),  # kept, masked: a warning
]


def parsed(spec, data):
    p = parse_file(spec, f"{spec.feed}/2026-11-23/x", data, KEY)
    assert p.file_error is None and p.rejected.empty, (p.file_error, p.rejected)
    return p


@pytest.fixture(scope="module")
def po_frame():
    return parsed(PO_LINES, to_csv([po(**o) for o, _ in PO_CASES])).frame


def test_po_rules_pass_and_fail(po_frame):
    rc = check_rows(PO_LINES, po_frame, CTX)
    got = dict(zip(rc.quarantined["_row"], rc.quarantined["rules"], strict=True))
    for i, (over, expected) in enumerate(PO_CASES, start=1):
        assert set(got.get(i, [])) == expected, (over, got.get(i))
    assert len(rc.valid) + len(rc.quarantined) == len(PO_CASES)
    assert set(rc.valid["_row"]) == {i for i, (_, e) in enumerate(PO_CASES, 1) if not e}
    stats = rc.rule_stats.set_index("rule")
    assert stats.loc["format:po_number", "rows_failed"] == 2
    assert stats.loc["format:po_number", "rows_checked"] == len(PO_CASES)
    assert rc.table_failures == []


def test_po_duplicate_keys_are_not_errors():
    p = parsed(PO_LINES, to_csv([po(), po()]))
    assert len(check_rows(PO_LINES, p.frame, CTX).valid) == 2


def test_context_rules_skipped_when_unknown(po_frame):
    from buildout_tracker.feeds import RuleContext

    rc = check_rows(PO_LINES, po_frame, RuleContext())
    assert {"site_id_known", "currency_has_rate", "last_receipt_not_after_status_date"} <= set(
        rc.skipped_rules
    )


def test_stray_email_in_free_text_is_masked_and_warned_not_refused(po_frame):
    """docs/feeds.md accepts any text in a free-text column: the row is kept (its amounts count),
    the address is masked before the validated zone, and `no_personal_data` (a warning)
    counts it."""
    rc = check_rows(PO_LINES, po_frame, CTX)
    assert "bob.smith" not in rc.valid.to_csv() and "bob.smith" not in rc.quarantined.to_csv()
    row = next(i for i, (o, _) in enumerate(PO_CASES, 1) if "bob.smith" in o.get("description", ""))
    kept = rc.valid.set_index("_row")
    assert kept.loc[row, "description"] == "<masked>"
    assert "no_personal_data" in dict(zip(rc.warned["_row"], rc.warned["rules"], strict=True))[row]
    stats = rc.rule_stats.set_index("rule")
    assert (
        stats.loc["no_personal_data", "severity"],
        stats.loc["no_personal_data", "rows_failed"],
    ) == ("warning", 1)


def ms_row(code, **over):
    base = {
        "site_id": "SITE01",
        "milestone_code": code,
        "status_date": "2026-11-27",
        "forecast_date": "2026-12-20",
        "actual_date": None,
        "percent_complete": 10,
        "status": "in_progress",
        "reported_by": "ctl@corp.com",
        "notes": "n",
    }
    return {**base, **over}


def site_report(site="SITE01", overrides=None):
    overrides = overrides or {}
    rows = []
    for i, code in enumerate(MILESTONE_CODES):
        if i < 2:
            r = ms_row(
                code,
                site_id=site,
                status="complete",
                percent_complete=100,
                actual_date=f"2026-0{i + 1}-15",
                forecast_date=None,
            )
        else:
            r = ms_row(code, site_id=site)
        rows.append({**r, **overrides.get(code, {})})
    return rows


def jsonl(rows):
    return "\n".join(json.dumps(r) for r in rows).encode()


MS_CASES = {  # site -> (override of GO_LIVE or GROUNDBREAKING, expected rules of that row)
    "SITE02": (
        {"GROUNDBREAKING": {"status": "complete", "percent_complete": 100}},
        {"actual_date_iff_complete"},
    ),
    "SITE03": ({"GROUNDBREAKING": {"actual_date": "2026-11-20"}}, {"actual_date_iff_complete"}),
    "SITE04": (
        {
            "GROUNDBREAKING": {
                "status": "complete",
                "percent_complete": 100,
                "actual_date": "2026-11-28",
                "forecast_date": None,
            }
        },
        {"actual_not_after_status_date"},
    ),
    "SITE05": (
        {"GROUNDBREAKING": {"percent_complete": 100}},
        {"percent_below_100_while_incomplete"},
    ),
    "SITE06": (
        {"GROUNDBREAKING": {"percent_complete": 101}},
        {"percent_in_range", "percent_below_100_while_incomplete"},
    ),
    "SITE07": ({"GROUNDBREAKING": {"forecast_date": None}}, {"forecast_required_while_incomplete"}),
    "SITE08": ({"GROUNDBREAKING": {"status": "done"}}, {"enum:status"}),
    "SITE09": ({"PERMITS_ISSUED": {"percent_complete": 90}}, {"percent_100_iff_complete"}),
}


@pytest.fixture(scope="module")
def ms_frame():
    rows = site_report("SITE01")
    for site, (over, _) in MS_CASES.items():
        rows += site_report(site, over)
    return parsed(MILESTONES, jsonl(rows)).frame


def test_milestone_rules(ms_frame):
    ctx = CTX.__class__(**{**CTX.__dict__, "known_site_ids": {f"SITE0{i}" for i in range(1, 9)}})
    rc = check_rows(MILESTONES, ms_frame, ctx)
    q = rc.quarantined
    s9 = q[q["site_id"] == "SITE09"]  # not a known site: all eight rows quarantined
    assert len(s9) == 8 and all("site_id_known" in r for r in s9["rules"])
    assert set(s9[s9["milestone_code"] == "PERMITS_ISSUED"]["rules"].iloc[0]) == {
        "percent_100_iff_complete",
        "site_id_known",
    }
    for site, (_, expected) in MS_CASES.items():
        if site == "SITE09":
            continue
        rules = q[q["site_id"] == site]["rules"].tolist()
        assert len(rules) == 1 and set(rules[0]) == expected, (site, rules)
    assert "SITE01" not in set(q["site_id"])
    assert rc.table_failures == []


def test_milestone_warnings_do_not_quarantine():
    rows = site_report(
        "SITE01",
        {
            "GROUNDBREAKING": {"forecast_date": "2026-11-01"},  # forecast before status date
            "GO_LIVE": {
                "status": "complete",
                "percent_complete": 100,
                "actual_date": "2026-11-01",
                "forecast_date": None,
            },  # completed before earlier milestones
        },
    )
    p = parsed(MILESTONES, jsonl(rows))
    rc = check_rows(MILESTONES, p.frame, CTX)
    assert rc.quarantined.empty and len(rc.valid) == 8
    warned = dict(zip(rc.warned["_row"], rc.warned["rules"], strict=True))
    assert warned == {3: ["forecast_not_before_status_date"], 8: ["completed_in_order"]}


def test_milestone_site_must_report_all_eight():
    rows = site_report("SITE01")[:7] + site_report("SITE02") + [site_report("SITE02")[0]]
    p = parsed(MILESTONES, jsonl(rows))
    rc = check_rows(MILESTONES, p.frame, CTX)
    ((rule, sev, msg),) = rc.table_failures
    assert rule == "all_eight_milestones" and sev == "critical"
    assert "SITE01" in msg and "SITE02" in msg


REQ = {
    "req_id": "R1",
    "workstream": "ai_software",
    "team": "Platform",
    "role_family": "software_eng",
    "level": "L5",
    "country": "SG",
    "opened_date": "2026-10-01",
    "target_start_date": "",
    "status": "open",
    "closed_date": "",
    "hiring_manager_email": "boss@corp.com",
}
REQ_CASES = [
    ({}, set()),
    ({"req_id": "R2"}, {"req_id_unique"}),
    ({"req_id": "R2"}, {"req_id_unique"}),
    ({"req_id": "R3", "level": "L9"}, {"enum:level"}),
    ({"req_id": "R4", "country": "SGP"}, {"format:country"}),
    ({"req_id": "R5", "status": "filled"}, {"closed_date_iff_closed"}),
    ({"req_id": "R6", "closed_date": "2026-10-05"}, {"closed_date_iff_closed"}),
    (
        {"req_id": "R7", "status": "cancelled", "closed_date": "2026-09-01"},
        {"closed_not_before_opened"},
    ),
    ({"req_id": "R8", "status": "filled", "closed_date": "2026-10-02"}, set()),
    ({"req_id": "R9", "team": "mail x@y.org"}, set()),  # kept, masked: a warning
    ({"req_id": "R10", "role_family": ""}, {"required:role_family"}),
]
OFFER = {
    "offer_id": "O1",
    "version": "1",
    "req_id": "R1",
    "candidate_id": "C1",
    "candidate_name": "Jane Roe",
    "candidate_email": "jane@roe.com",
    "status": "accepted",
    "extended_date": "2026-11-01",
    "resolved_date": "2026-11-03",
    "start_date": "2027-01-04",
}
OFFER_CASES = [
    ({}, set()),
    ({"offer_id": "O2", "version": "0"}, {"version_at_least_1"}),
    ({"offer_id": "O3"}, {"offer_version_unique"}),
    ({"offer_id": "O3"}, {"offer_version_unique"}),
    ({"offer_id": "O4", "req_id": "R99"}, {"req_id_in_requisitions"}),
    ({"offer_id": "O5", "resolved_date": ""}, {"resolved_date_iff_resolved"}),
    ({"offer_id": "O6", "status": "extended", "start_date": ""}, {"resolved_date_iff_resolved"}),
    ({"offer_id": "O7", "resolved_date": "2026-10-01"}, {"resolved_not_before_extended"}),
    ({"offer_id": "O8", "start_date": ""}, {"start_date_when_accepted"}),
    ({"offer_id": "O9", "status": "declined", "start_date": ""}, set()),
]
REF_CASES = {
    SITES: (
        {
            "site_id": "SITE01",
            "site_name": "North",
            "country": "CN",
            "region": "china",
            "planned_mw": "100",
            "budget_usd": "5e8",
        },
        [
            ({"budget_usd": "500000000"}, set()),
            ({"site_id": "S2", "planned_mw": "0", "budget_usd": "1"}, {"planned_mw_positive"}),
            ({"site_id": "S3", "budget_usd": "0"}, {"budget_usd_positive"}),
            ({"site_id": "S4", "region": "mars", "budget_usd": "1"}, {"enum:region"}),
            ({"site_id": "S5", "budget_usd": "1", "site_name": "x@y.com"}, set()),
            ({"site_id": "S6", "budget_usd": "1"}, {"site_id_unique"}),
            ({"site_id": "S6", "budget_usd": "1"}, {"site_id_unique"}),
        ],
    ),
    BUDGET_PLAN: (
        {"workstream": "ai_software", "quarter": "2026-Q3", "budget_usd": "10"},
        [
            ({}, set()),
            ({"quarter": "2026Q3"}, {"format:quarter"}),
            ({"quarter": "2026-Q5"}, {"format:quarter"}),
            ({"budget_usd": "-1"}, {"budget_usd_non_negative"}),
        ],
    ),
    HIRING_PLAN: (
        {
            "workstream": "ai_software",
            "role_family": "ml_research",
            "quarter": "2026-Q4",
            "planned_hires": "3",
        },
        [
            ({}, set()),
            ({"planned_hires": "-1"}, {"planned_hires_non_negative"}),
            ({"role_family": "chef"}, {"enum:role_family"}),
        ],
    ),
    FX_RATES: (
        {"currency": "EUR", "rate_date": "2026-11-27", "usd_per_unit": "1.08"},
        [
            ({}, set()),
            ({"usd_per_unit": "0"}, {"usd_per_unit_positive"}),
            ({"currency": "Eur"}, {"format:currency"}),
            ({"currency": "EURO"}, {"format:currency"}),
        ],
    ),
    REQUISITIONS: (REQ, REQ_CASES),
    OFFERS: (OFFER, OFFER_CASES),
}


def csv_cases(base, cases):
    return to_csv([{**base, **o} for o, _ in cases])


@pytest.mark.parametrize("spec", list(REF_CASES), ids=lambda s: s.kind)
def test_csv_feed_rules_pass_and_fail(spec):
    base, cases = REF_CASES[spec]
    p = parsed(spec, csv_cases(base, cases))
    rc = check_rows(spec, p.frame, CTX)
    got = dict(zip(rc.quarantined["_row"], rc.quarantined["rules"], strict=True))
    for i, (over, expected) in enumerate(cases, start=1):
        assert set(got.get(i, [])) == expected, (over, got.get(i))


def plan_rows(site, weights=None, dates=None):
    weights = weights or [0.125] * 8
    dates = dates or [f"2026-{m:02d}-01" for m in range(1, 9)]
    return [
        {"site_id": site, "milestone_code": c, "baseline_date": d, "weight": str(w)}
        for c, w, d in zip(MILESTONE_CODES, weights, dates, strict=True)
    ]


def test_milestone_plan_table_rules():
    good = plan_rows("SITE01")
    bad_w = plan_rows("SITE02", weights=[0.2] * 8)
    bad_d = plan_rows("SITE03", dates=["2026-05-01"] + [f"2026-{m:02d}-01" for m in range(2, 9)])
    p = parsed(
        MILESTONE_PLAN,
        to_csv(good + bad_w + bad_d + plan_rows("SITE04", weights=[-0.125, 0.375] + [0.125] * 6)),
    )
    rc = check_rows(MILESTONE_PLAN, p.frame, CTX)
    rules = {r for r, _, _ in rc.table_failures}
    assert rules == {"weights_sum_to_one", "baselines_in_order"}
    assert all(sev == "critical" for _, sev, _ in rc.table_failures)
    assert list(rc.quarantined["rules"]) == [["weight_non_negative"]]
    msg = dict((r, m) for r, _, m in rc.table_failures)
    assert "SITE02" in msg["weights_sum_to_one"] and "SITE01" not in msg["weights_sum_to_one"]
    assert "SITE03" in msg["baselines_in_order"]
    ok = parsed(MILESTONE_PLAN, to_csv(good))
    assert check_rows(MILESTONE_PLAN, ok.frame, CTX).table_failures == []


# --- GX ------------------------------------------------------------------------------------


def frames_for_parity():
    yield PO_LINES, parsed(PO_LINES, to_csv([po(**o) for o, _ in PO_CASES])).frame
    rows = site_report("SITE01")
    for site, (over, _) in MS_CASES.items():
        rows += site_report(site, over)
    rows += site_report(
        "SITE10",
        {
            "GROUNDBREAKING": {"forecast_date": "2026-11-01"},
            "GO_LIVE": {
                "status": "complete",
                "percent_complete": 100,
                "actual_date": "2026-11-01",
                "forecast_date": None,
            },
        },
    )
    rows += [*site_report("SITE11")[:6], ms_row("TOPPING_OUT", site_id="SITE12")]
    yield MILESTONES, parsed(MILESTONES, jsonl(rows)).frame
    for spec, (base, cases) in REF_CASES.items():
        yield spec, parsed(spec, csv_cases(base, cases)).frame
    plan = (
        plan_rows("SITE01")
        + plan_rows("SITE02", weights=[0.2] * 8)
        + plan_rows("SITE03", dates=["2026-05-01"] + [f"2026-{m:02d}-01" for m in range(2, 9)])
        + plan_rows("SITE04", weights=[-0.125, 0.375] + [0.125] * 6)
    )
    yield MILESTONE_PLAN, parsed(MILESTONE_PLAN, to_csv(plan)).frame


def test_gx_counts_equal_mask_counts(gx_validator):
    checked = set()
    for spec, frame in frames_for_parity():
        masks = rule_masks(spec, frame, CTX)
        res = gx_validator.validate(spec, frame, f"{spec.feed}/x/{spec.kind}", CTX)
        assert not any(f["exception"] for f in res.failed_rules), res.failed_rules
        gx_counts = res.unexpected_by_rule()
        for rule_id, m in masks.items():
            assert gx_counts.get(rule_id, 0) == int(m.sum()), (spec.kind, rule_id)
            if m.any():
                checked.add(rule_id)
    # every rule of every feed was seen failing at least once
    from buildout_tracker.feeds import all_specs

    all_ids = {r.id for s in all_specs() for r in s.all_rules if not r.id.startswith("required:")}
    assert sorted(all_ids - checked) == [], sorted(all_ids - checked)


def test_gx_result_severity_and_blocking(gx_validator):
    plan = plan_rows("SITE01") + plan_rows("SITE02", weights=[0.2] * 8)
    frame = parsed(MILESTONE_PLAN, to_csv(plan)).frame
    res = gx_validator.validate(
        MILESTONE_PLAN, frame, "reference/2026-11-23/milestone_plan.csv", CTX
    )
    assert not res.success and res.max_severity_failure == "critical"
    assert [f["rule"] for f in res.blocking_failures] == ["weights_sum_to_one"]
    good = gx_validator.validate(
        MILESTONE_PLAN,
        parsed(MILESTONE_PLAN, to_csv(plan[:8])).frame,
        "reference/x/milestone_plan.csv",
        CTX,
    )
    assert good.success and good.blocking_failures == []


def test_no_pii_in_gx_results_or_docs(gx_validator, tmp_path):
    secrets = [
        "bob.smith@example.com",
        "x@y.org",
        "jane@roe.com",
        "Jane Roe",
        "boss@corp.com",
        "ctl@corp.com",
        "x@y.com",
    ]
    blobs = []
    for spec, frame in frames_for_parity():
        res = gx_validator.validate(spec, frame, f"{spec.feed}/pii/{spec.kind}", CTX)
        blobs.append(json.dumps(res.results))
        blobs.append(repr(res.failed_rules))
    index = gx_validator.build_data_docs(tmp_path / "docs")
    assert index.exists()
    blobs += [f.read_text(errors="ignore") for f in (tmp_path / "docs").rglob("*.html")]
    text = "\n".join(blobs)
    assert "po_lines" in text  # the docs do hold the validations
    for s in secrets:
        assert s not in text, s
    # scrubbing is selective: non-personal failing values stay useful
    assert "4.5E+09" in text and "offers" in text


@pytest.mark.parametrize(
    "values",
    [
        ["SITE01", None, "SITE03", "SITE01", ""],
        [None, None],
        [],
    ],
)
@pytest.mark.parametrize("dtype", ["str", "object", "string"])
def test_is_in_answers_as_series_isin(values, dtype):
    """The set-membership of `in_set` rules (an Arrow array of the set made once per set)
    gives `Series.isin`'s answer, missing values included, on every text dtype."""
    import pandas as pd

    from buildout_tracker.feeds.rules import is_in
    from buildout_tracker.feeds.schema import sorted_values

    s = pd.Series(values, dtype=dtype, index=range(10, 10 + len(values)))
    for allowed in [frozenset({"SITE01", ""}), {"SITE03"}, frozenset(), ("nope",)]:
        wanted = sorted_values(allowed)
        got = is_in(s, wanted)
        assert got.dtype == bool
        assert got.index.equals(s.index)
        assert got.tolist() == s.isin(wanted).tolist(), (dtype, allowed)


def test_sorted_values_sorts_a_frozen_set_once():
    from buildout_tracker.feeds.schema import _sorted_frozen, sorted_values

    sites = frozenset(f"SITE{i:04d}" for i in range(2000, 0, -1))
    before = _sorted_frozen.cache_info()
    assert sorted_values(sites) == tuple(sorted(sites))
    assert sorted_values(sites) is sorted_values(sites)
    after = _sorted_frozen.cache_info()
    assert after.misses - before.misses == 1 and after.hits - before.hits == 2
    assert sorted_values(["b", "a", "b"]) == ("a", "b")


def test_a_helper_column_is_computed_once_per_frame_and_context():
    """A helper rule's row check and the GX helper column of the same file share one
    computation; another frame, an unequal context or a frame gone computes again."""
    import gc

    import pandas as pd

    from buildout_tracker.feeds.rules import helper_rule
    from buildout_tracker.feeds.schema import RuleContext

    calls = []

    def compute(f, ctx):
        calls.append(id(f))
        return f["x"] * 2.0

    rule = helper_rule("twice", "critical", "row", "x twice", ("x",), "_twice", compute, 0, 4)
    ctx = RuleContext(week="2026-W48", known_site_ids=frozenset({"S1"}))
    frame = pd.DataFrame({"x": [1.0, 3.0]})
    assert rule.mask(frame, ctx).tolist() == [False, True]
    assert rule.derive(frame, RuleContext(week="2026-W48", known_site_ids=frozenset({"S1"})))[
        "_twice"
    ].tolist() == [2.0, 6.0]
    assert len(calls) == 1  # the same frame, an equal context
    rule.derive(frame.copy(), ctx)
    rule.derive(frame, RuleContext(week="2026-W49", known_site_ids=frozenset({"S1"})))
    assert len(calls) == 3
    del frame
    gc.collect()
    other = pd.DataFrame({"x": [5.0]})
    assert rule.mask(other, ctx).tolist() == [True]
    assert len(calls) == 4
