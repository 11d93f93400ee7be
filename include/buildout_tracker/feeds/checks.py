"""Row and table rules on a parsed frame: what passes, what goes to quarantine, and why.

Row-level critical rules quarantine the rows they fail; warning and info rules only report
(`warned`, `rule_stats`). Table-level rules never quarantine rows: they are reported in
`table_failures`, and a critical one blocks the feed's week (`blocking.py`). Table rules are
checked on every row that parsed, before quarantine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .pii import contains_email, mask_emails
from .schema import RuleContext
from .spec import FileSpec


@dataclass
class RowCheck:
    valid: pd.DataFrame
    quarantined: pd.DataFrame  # _row, rules (list[str]), non-personal columns (e-mails masked)
    rule_stats: pd.DataFrame  # rule, severity, level, rows_checked, rows_failed
    table_failures: list[tuple[str, str, str]]  # (rule, severity, message)
    warned: pd.DataFrame = field(default_factory=pd.DataFrame)  # _row, rules (warnings only)
    skipped_rules: list[str] = field(default_factory=list)  # context unknown


def rule_masks(spec: FileSpec, frame: pd.DataFrame, ctx: RuleContext) -> dict[str, np.ndarray]:
    """Failing-rows mask of every applicable rule, by rule id."""
    return {
        r.id: np.asarray(r.mask(frame, ctx), dtype=bool) for r in spec.all_rules if r.applies(ctx)
    }


def check_files(
    spec: FileSpec,
    frames: Sequence[pd.DataFrame],
    ctx: RuleContext,
    refused: Sequence[Mapping[str, np.ndarray] | None] | None = None,
) -> list[RowCheck]:
    """`check_rows` of each file of one kind and one rule context (a week's site reports).

    A pandas call costs about the same on 8 rows as on 2,000: the masks of the row-wise
    rules (`Rule.row_wise`: a row's mask depends on that row alone) are computed once on
    the files stacked and cut back into each file's rows; rules across rows (a key unique
    in the file, a site's milestones) and the rest of the check run file by file. The
    same result as `check_rows` on each file (`tests/feeds/test_check_files.py`)."""
    refused = list(refused or [None] * len(frames))
    local = [r for r in spec.all_rules if r.row_wise and r.applies(ctx)]
    same_dtypes = len({tuple(f.dtypes.items()) for f in frames}) == 1
    if len(frames) < 2 or not local or not same_dtypes:
        return [check_rows(spec, f, ctx, refused=r) for f, r in zip(frames, refused, strict=True)]
    whole = pd.concat(frames, ignore_index=True)
    stacked = {r.id: np.asarray(r.mask(whole, ctx), dtype=bool) for r in local}
    out, start = [], 0
    for frame, ref in zip(frames, refused, strict=True):
        end = start + len(frame)
        masks = {rule_id: m[start:end] for rule_id, m in stacked.items()}
        out.append(check_rows(spec, frame, ctx, refused=ref, masks=masks))
        start = end
    return out


def check_rows(
    spec: FileSpec,
    frame: pd.DataFrame,
    ctx: RuleContext,
    refused: Mapping[str, np.ndarray] | None = None,
    masks: Mapping[str, np.ndarray] | None = None,
) -> RowCheck:
    """`refused`: per column, the rows whose value in it failed coercion (null in `frame`).
    Those rows are quarantined whatever the rules say, checked all the same so that quarantine
    lists every rule they break, and counted by table rules (a site's report still has its
    eight milestones); `required:<column>` does not count them again. `masks`: failing-rows
    masks of some rules already computed on these rows (`check_files`)."""
    n = len(frame)
    masks = masks or {}
    refused = dict(refused or {})
    stats: list[dict[str, object]] = []
    table_failures: list[tuple[str, str, str]] = []
    skipped: list[str] = []
    row_ids: list[str] = []
    row_masks: list[np.ndarray] = []
    quarantine = np.zeros(n, dtype=bool)
    warn = np.zeros(n, dtype=bool)
    for rule in spec.all_rules:
        if not rule.applies(ctx):
            skipped.append(rule.id)
            continue
        given = masks.get(rule.id)
        m = given if given is not None else np.asarray(rule.mask(frame, ctx), dtype=bool)
        if rule.id.startswith("required:") and rule.id[9:] in refused:
            m = m & ~refused[rule.id[9:]]
        failed = int(m.sum())
        stats.append(
            {
                "rule": rule.id,
                "severity": rule.severity,
                "level": rule.level,
                "rows_checked": n,
                "rows_failed": failed,
            }
        )
        if rule.level == "table":
            if failed:
                table_failures.append(
                    (
                        rule.id,
                        rule.severity,
                        _table_message(spec, rule.id, rule.description, rule.columns, frame, m),
                    )
                )
            continue
        if failed:
            row_ids.append(rule.id)
            row_masks.append(m)
            if rule.quarantines:
                quarantine |= m
            else:
                warn |= m
    for cells in refused.values():
        quarantine |= cells
    any_fail = quarantine | warn
    rules_of: dict[int, list[str]] = {}
    if any_fail.any() and row_masks:
        idx = np.flatnonzero(any_fail)
        matrix = np.vstack(row_masks)[:, idx]
        ids = np.array(row_ids, dtype=object)
        rules_of = {int(i): list(ids[matrix[:, j]]) for j, i in enumerate(idx)}

    refused_any = bool(quarantine.any())
    valid = frame.loc[~quarantine] if refused_any else frame
    valid = _mask_free_text(spec, valid)
    # Most files quarantine nothing: their (empty) quarantine frame is cut by position, the
    # cheapest of pandas' selections, and has no values to drop or mask.
    q = frame.loc[quarantine] if refused_any else frame.iloc[:0]
    dropped = [
        c for c in q.columns if c in spec.sensitive_columns and c not in spec.free_text_columns
    ]
    if dropped:
        q = q.drop(columns=dropped)
    if refused_any:
        for c in spec.free_text_columns:
            if c in q.columns:
                q[c] = mask_emails(q[c])
    q.insert(1, "rules", [rules_of.get(int(i), []) for i in np.flatnonzero(quarantine)])
    w_idx = np.flatnonzero(warn & ~quarantine)
    warned = pd.DataFrame(
        {
            "_row": frame["_row"].to_numpy()[w_idx] if n else [],
            "rules": [rules_of[int(i)] for i in w_idx],
        }
    )
    rule_stats = pd.DataFrame(
        stats, columns=["rule", "severity", "level", "rows_checked", "rows_failed"]
    )
    return RowCheck(valid, q.reset_index(drop=True), rule_stats, table_failures, warned, skipped)


def _mask_free_text(spec: FileSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """A free-text value is kept (docs/feeds.md accepts any text there) with its e-mail addresses
    masked, so that they go no further than landing (`no_personal_data` reports them)."""
    cols = [c for c in spec.free_text_columns if c in frame.columns]
    hits = {c: contains_email(frame[c]) for c in cols}
    if not any(h.any() for h in hits.values()):
        return frame
    frame = frame.copy()
    for c, hit in hits.items():
        if hit.any():
            frame.loc[hit, c] = mask_emails(frame.loc[hit, c])
    return frame


def _table_message(
    spec: FileSpec,
    rule_id: str,
    description: str,
    columns: tuple[str, ...],
    frame: pd.DataFrame,
    mask: np.ndarray,
) -> str:
    msg = f"{rule_id}: {description}; {int(mask.sum())} row(s) fail"
    first = columns[0] if columns else None
    if first and first in frame.columns and first not in spec.sensitive_columns:
        vals = pd.unique(frame.loc[mask, first].dropna().astype(str))[:5]
        if len(vals):
            msg += f" ({first}: {', '.join(vals)})"
    return msg
