"""Applicant tracking system: requisitions and offers, delivered as full snapshots.

Every requisition and offer is planned up front as a timeline of dated events (opened,
on hold, offer extended, edited, declined, accepted, filled, cancelled); a snapshot is
that timeline read at its delivery date. Hires per workstream and role family follow
the hiring plan times the scenario's attainment, so the scorecard's hiring colour is the
one the scenario chose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from buildout_tracker.generator import scenario
from buildout_tracker.generator.common import Delivery, person, rng_for
from buildout_tracker.generator.pmo import Program

REQ_HEADER = [
    "req_id", "workstream", "team", "role_family", "level", "country", "opened_date",
    "target_start_date", "status", "closed_date", "hiring_manager_email",
]  # fmt: skip
# Columns may come in any order: the ATS exports offers with the candidate last.
OFFER_HEADER = [
    "offer_id", "version", "req_id", "status", "extended_date", "resolved_date", "start_date",
    "candidate_id", "candidate_name", "candidate_email",
]  # fmt: skip
TEAMS = {
    "compute_hardware": ("Accelerator Platform", "Cluster Engineering", "Supply Chain, Hardware"),
    "chip_development": (
        "Silicon Design",
        "Physical Design, Backend",
        "Verification",
        "Chip Software",
    ),
    "data_centers": ("Site Operations", "Critical Facilities", "Network Build", "Delivery PMO"),
    "ai_software": (
        "Foundation Models",
        "Inference Platform",
        "ML Infrastructure",
        "Developer Tools",
    ),
}
COUNTRIES = {
    "compute_hardware": ("US", "SG", "CN", "DE"),
    "chip_development": ("CN", "US", "JP", "DE"),
    "data_centers": ("CN", "SG", "MY", "NO", "US", "BR", "IE"),
    "ai_software": ("US", "SG", "CN", "IE", "GB"),
}
LEVELS = ("L3", "L4", "L5", "L6", "L7", "L8")


@dataclass
class Offer:
    offer_id: str
    req_id: str
    candidate: tuple[str, str, str]  # id, name, e-mail
    versions: list[date]  # extended date of each version
    outcome: str  # accepted | declined | rescinded
    resolved: date
    start: date | None = None


@dataclass
class Req:
    req_id: str
    workstream: str
    team: str
    role_family: str
    level: str
    country: str
    opened: date
    manager_email: str
    filled: date | None = None
    cancelled: date | None = None
    hold: tuple[date, date] | None = None
    offers: list[Offer] = field(default_factory=list)


class Ats:
    def __init__(self, program: Program, horizon_weeks: int) -> None:
        self.program = program
        self.reqs: list[Req] = []
        self._n_offers = 0
        self._n_candidates = 0
        self.managers = {
            ws: [
                person(rng_for(program.seed, "manager", ws, i), "example.com")[1] for i in range(6)
            ]
            for ws in TEAMS
        }
        cum: dict[tuple[str, str], int] = {}
        for k in range(-program.history_weeks, horizon_weeks):
            d = program.status_date(k)
            for ws, rf in program.hiring_plan:
                rng = rng_for(program.seed, "ats", k, ws, rf)
                target = scenario.at(scenario.HIRING_ATTAINMENT[ws], k)
                target *= program.hires_planned_to_date(ws, rf, d)
                due = max(0, int(np.floor(target + 0.5)) - cum.get((ws, rf), 0))
                cum[(ws, rf)] = cum.get((ws, rf), 0) + due
                week = program.week_start(k)
                for _ in range(due):
                    self._plan_hire(rng, ws, rf, week + timedelta(days=int(rng.integers(0, 5))))
                if rng.random() < 0.12:
                    self._plan_cancelled(
                        rng, ws, rf, week + timedelta(days=int(rng.integers(0, 5)))
                    )
        self.reqs.sort(key=lambda r: (r.opened, r.req_id))

    def _new_req(self, rng: np.random.Generator, ws: str, rf: str, opened: date) -> Req:
        req = Req(
            req_id=f"REQ-{100001 + len(self.reqs):06d}",
            workstream=ws,
            team=TEAMS[ws][int(rng.integers(len(TEAMS[ws])))],
            role_family=rf,
            level=LEVELS[int(rng.choice(6, p=[0.15, 0.3, 0.3, 0.15, 0.07, 0.03]))],
            country=COUNTRIES[ws][int(rng.integers(len(COUNTRIES[ws])))],
            opened=opened,
            manager_email=self.managers[ws][int(rng.integers(6))],
        )
        self.reqs.append(req)
        return req

    def _new_offer(
        self, rng: np.random.Generator, req: Req, extended: date, outcome: str, resolved: date
    ) -> Offer:
        self._n_offers += 1
        self._n_candidates += 1
        name, email = person(rng, "example.net", self._n_candidates)
        offer = Offer(
            offer_id=f"OFR-{200000 + self._n_offers:06d}",
            req_id=req.req_id,
            candidate=(f"CAND-{3000000 + self._n_candidates * 3:07d}", name, email),
            versions=[extended],
            outcome=outcome,
            resolved=resolved,
        )
        req.offers.append(offer)
        return offer

    def _plan_hire(self, rng: np.random.Generator, ws: str, rf: str, hire: date) -> None:
        lead = int(rng.integers(100, 220)) if rng.random() < 0.12 else int(rng.integers(35, 100))
        req = self._new_req(rng, ws, rf, hire - timedelta(days=lead))
        if rng.random() < 0.15 and lead > 70:
            start = req.opened + timedelta(days=int(rng.integers(5, 20)))
            req.hold = (start, start + timedelta(days=int(rng.integers(14, 35))))
        ext = hire - timedelta(days=int(rng.integers(5, 22)))
        if rng.random() < 0.25 and lead > 50:
            first = req.opened + timedelta(days=int(rng.integers(5, 15)))
            outcome = "declined" if rng.random() < 0.8 else "rescinded"
            resolved = first + timedelta(days=int(rng.integers(2, 10)))
            if resolved < ext:
                self._new_offer(rng, req, first, outcome, resolved)
        offer = self._new_offer(rng, req, ext, "accepted", hire)
        if rng.random() < 0.3 and (hire - ext).days >= 2:
            offer.versions.append(ext + timedelta(days=int(rng.integers(1, (hire - ext).days))))
        offer.start = hire + timedelta(days=int(rng.integers(14, 61)))
        req.filled = hire

    def _plan_cancelled(self, rng: np.random.Generator, ws: str, rf: str, opened: date) -> None:
        req = self._new_req(rng, ws, rf, opened)
        req.cancelled = opened + timedelta(days=int(rng.integers(20, 130)))
        if rng.random() < 0.4:
            ext = opened + timedelta(days=int(rng.integers(10, 18)))
            self._new_offer(
                rng, req, ext, "declined", ext + timedelta(days=int(rng.integers(1, 6)))
            )

    # snapshots ----------------------------------------------------------------------------
    def snapshot(self, d: date) -> tuple[list[list[str]], list[list[str]]]:
        reqs, offers = [], []
        for r in self.reqs:
            if r.opened > d:
                continue
            closed = None
            if r.filled is not None and r.filled <= d:
                status, closed = "filled", r.filled
            elif r.cancelled is not None and r.cancelled <= d:
                status, closed = "cancelled", r.cancelled
            elif r.hold is not None and r.hold[0] <= d < r.hold[1]:
                status = "on_hold"
            else:
                status = "open"
            reqs.append(
                [
                    r.req_id, r.workstream, r.team, r.role_family, r.level, r.country,
                    r.opened.isoformat(), (r.opened + timedelta(days=90)).isoformat(), status,
                    closed.isoformat() if closed else "", r.manager_email,
                ]
            )  # fmt: skip
            for o in r.offers:
                visible = [v for v in o.versions if v <= d]
                for n, ext in enumerate(visible, start=1):
                    resolved = start = ""
                    if n < len(visible):
                        status = "deprecated"
                    elif n == len(o.versions) and o.resolved <= d:
                        status, resolved = o.outcome, o.resolved.isoformat()
                        start = o.start.isoformat() if o.start else ""
                    else:
                        status = "extended"
                    offers.append(
                        [
                            o.offer_id,
                            str(n),
                            o.req_id,
                            status,
                            ext.isoformat(),
                            resolved,
                            start,
                            *o.candidate,
                        ]
                    )
        return reqs, offers

    def deliveries(self, k: int) -> list[Delivery]:
        saturday = self.program.week_start(k) + timedelta(days=5)
        reqs, offers = self.snapshot(saturday)
        n_files = self.program.scale.requisition_files
        out = []
        for part in range(n_files):
            rows = reqs[part::n_files]
            suffix = f"_part{part + 1}" if n_files > 1 else ""
            name = f"requisitions_{saturday:%Y%m%d}{suffix}.csv"
            out.append(Delivery("hiring", saturday, name, list(REQ_HEADER), rows, len(rows)))
        out.append(
            Delivery(
                "hiring",
                saturday,
                f"offers_{saturday:%Y%m%d}.csv",
                list(OFFER_HEADER),
                offers,
                len(offers),
            )
        )
        return out
