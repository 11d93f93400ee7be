"""What a feed-week's rules check a file against beyond the file itself, from the lake's
state: the site register in force (`site_id_known`), the currencies with a rate on or
before the status date (`currency_has_rate`), and for offers the requisitions of the same
delivery (`req_id_known`), which the week's requisitions files teach as they are processed.
"""

from __future__ import annotations

from collections.abc import Iterable

from buildout_tracker.feeds.schema import RuleContext
from buildout_tracker.ingest import state
from buildout_tracker.ingest.landing import Delivery
from buildout_tracker.lake import Bucket
from buildout_tracker.weeks import status_date


class RuleContexts:
    """The rule context of each file of one feed-week; lake state is read once per week."""

    def __init__(self, lake: Bucket, week: str) -> None:
        self.lake, self.week, self.status_date = lake, week, status_date(week)
        # Frozen: one set shared by every file's context, sorted once (`sorted_values`).
        self._sites: frozenset[str] | None = None
        self._sites_read = False
        self._currencies: frozenset[str] | None = None
        self._requisitions: dict[str, set[str]] = {}  # delivery date -> req_ids

    def sites(self) -> frozenset[str] | None:
        if not self._sites_read:
            sites = state.known_site_ids(self.lake, self.week)
            self._sites = None if sites is None else frozenset(sites)
            self._sites_read = True
        return self._sites

    def currencies(self) -> frozenset[str]:
        if self._currencies is None:
            self._currencies = frozenset(state.currencies_with_rate(self.lake, self.week))
        return self._currencies

    def learn_requisitions(self, delivery_date: str, req_ids: Iterable[str]) -> None:
        """Requisitions of a delivery: its offers must name one of them."""
        self._requisitions.setdefault(delivery_date, set()).update(req_ids)

    def for_file(self, kind: str, delivery: Delivery) -> RuleContext:
        week, sd = self.week, self.status_date
        if kind == "po_lines":
            return RuleContext(week, sd, self.sites(), self.currencies())
        if kind == "milestones":
            return RuleContext(week, sd, self.sites())
        if kind == "offers":
            ids = self._requisitions.get(delivery.delivery_date.isoformat(), set())
            return RuleContext(week, sd, requisition_ids=frozenset(ids))
        return RuleContext(week, sd)
