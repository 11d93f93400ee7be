"""Whether a feed's week is blocked: a failed table-level critical expectation, or too many
quarantined rows (feeds.md, "What bad input gets")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..settings import quarantine_threshold
from .gx_suite import GxFileResult


def blocking_reason(
    feed: str,
    per_file_results: Mapping[str, GxFileResult] | Iterable[GxFileResult],
    rows_in: int,
    rows_quarantined: int,
    threshold: float | None = None,
) -> str | None:
    """A message naming the feed, the file and the rule, or None when the week may publish.

    `rows_in` / `rows_quarantined` are the delivery's totals (rows rejected at coercion plus
    rows failing a row rule; rows of whole quarantined files are the caller's to include).
    Row-level critical expectations do not block on their own: they block through the
    quarantined share, which must be strictly above the threshold.
    """
    results = list(
        per_file_results.values() if isinstance(per_file_results, Mapping) else per_file_results
    )
    limit = quarantine_threshold(feed) if threshold is None else threshold
    reasons: list[str] = []
    for res in results:
        for f in res.blocking_failures:
            desc = res.descriptions.get(f["rule"], "")
            reasons.append(
                f"feed {feed} blocked: file {res.file_key} failed critical expectation "
                f"{f['rule']} ({desc}; {f['unexpected_count']} row(s))"
            )
    if rows_in > 0 and rows_quarantined / rows_in > limit:
        share = rows_quarantined / rows_in
        worst = _worst_row_rule(results)
        where = (
            f"; most failures in file {worst[0]}, rule {worst[1]} ({worst[2]} row(s))"
            if worst
            else ""
        )
        reasons.append(
            f"feed {feed} blocked: {rows_quarantined} of {rows_in} rows quarantined "
            f"({share:.1%}, threshold {limit:.1%}){where}"
        )
    return "; ".join(reasons) if reasons else None


def _worst_row_rule(results: list[GxFileResult]) -> tuple[str, str, int] | None:
    best: tuple[str, str, int] | None = None
    for res in results:
        for f in res.failed_rules:
            if f["level"] != "row" or f["severity"] != "critical":
                continue
            count = int(f["unexpected_count"] or 0)
            if best is None or count > best[2]:
                best = (res.file_key, f["rule"], count)
    return best
