"""Project controls: each site's weekly milestone report (JSON lines, one file per site).

A site's schedule is its baseline shifted by a delay that follows the program's schedule
stress (scenario.py) times the site's sensitivity, so sites slip and recover at different
times. The whole history is simulated up front (it is small: sites x 8 x weeks), because
the ERP needs each site's earned value a few weeks ahead to steer its actual cost.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from buildout_tracker.feeds.enums import MILESTONE_CODES as MILESTONES
from buildout_tracker.generator import scenario
from buildout_tracker.generator.common import Delivery, person, rng_for
from buildout_tracker.generator.pmo import LAND_WINDOW_DAYS, Program

NOT_STARTED, IN_PROGRESS, COMPLETE = 0, 1, 2
PROGRESS_EXPONENT = 2.0  # work inside a milestone starts slowly: percent = share of window ** 2
STATUS_TEXT = ("not_started", "in_progress", "complete")
NOTES = (
    "",
    "On plan.",
    "Crane mobilised; two days lost to weather",
    'Utility says "energization window" moved, awaiting confirmation',
    "Permit conditions received, 3 items open:\n- noise survey\n- traffic plan\n- water use",
    "Long-lead switchgear delayed at port, expediting",
    "Chiller FAT passed, shipping next week",
    "Design change DCN-114 approved, cost neutral",
    "Labour shortage on MEP trades, overtime authorised",
    "Recovered float after resequencing fit-out",
)


class ProjectControls:
    def __init__(self, program: Program, horizon_weeks: int) -> None:
        self.program = program
        self.k0 = -program.history_weeks
        self.k_end = horizon_weeks  # exclusive
        n_k, n_s = self.k_end - self.k0, len(program.sites)
        self.report_date = np.zeros((n_k, n_s), dtype=np.int64)
        self.pc = np.zeros((n_k, n_s, 8), dtype=np.float64)
        self.status = np.zeros((n_k, n_s, 8), dtype=np.int8)
        self.forecast = np.zeros((n_k, n_s, 8), dtype=np.int64)
        self.actual = np.zeros((n_k, n_s, 8), dtype=np.int64)
        self.controllers = [
            person(rng_for(program.seed, "controller", s.site_id), "example.com")[1]
            for s in program.sites
        ]
        for s in program.sites:
            self._simulate(s.idx)

    def _simulate(self, i: int) -> None:
        site = self.program.sites[i]
        base = np.array([b.toordinal() for b in site.baselines], dtype=np.int64)
        window = np.diff(np.concatenate([[base[0] - LAND_WINDOW_DAYS], base]))
        window = np.maximum(window, 14)
        complete = np.zeros(8, dtype=bool)
        actual = np.zeros(8, dtype=np.int64)
        pc = np.zeros(8)
        forecast = base.copy()
        prev_t = None
        for k in range(self.k0, self.k_end):
            row = k - self.k0
            t = (self.program.week_start(k) + timedelta(days=site.report_weekday)).toordinal()
            prev_t = t - 7 if prev_t is None else prev_t
            noise = int(rng_for(self.program.seed, "delay", site.site_id, k).integers(-2, 3))
            stress = scenario.at(scenario.SCHEDULE_STRESS, k + site.phase)
            delay = round(site.sensitivity * stress)
            delay += noise if delay > 3 else 0
            for m in range(8):
                if complete[m]:
                    continue
                raw = int(base[m] + delay)
                prev_done = m == 0 or complete[m - 1]
                if prev_done and raw <= t:
                    act = max(raw, prev_t + 1, int(actual[m - 1]) if m else 0)
                    actual[m] = min(act, t)
                    complete[m] = True
                    pc[m] = 100.0
                    forecast[m] = actual[m]
                    continue
                floor = int(forecast[m - 1]) + 1 if m and not complete[m - 1] else t + 1
                f = max(raw, t + 1, floor)
                forecast[m] = f
                start = f - int(window[m])
                share = min(max((t - start) / int(window[m]), 0.0), 1.0)
                pc[m] = max(pc[m], float(np.clip(np.floor(share**PROGRESS_EXPONENT * 100), 0, 99)))
            self.report_date[row, i] = t
            self.pc[row, i] = pc
            self.status[row, i] = np.where(
                complete, COMPLETE, np.where(pc > 0, IN_PROGRESS, NOT_STARTED)
            )
            self.forecast[row, i] = forecast
            self.actual[row, i] = np.where(complete, actual, 0)
            prev_t = t

    def earned_value(self, k: int) -> np.ndarray:
        """EV in USD per site at its report date of week k."""
        k = min(max(k, self.k0), self.k_end - 1)
        w = np.array([s.weights for s in self.program.sites])
        bac = np.array([s.budget_usd for s in self.program.sites], dtype=float)
        return bac * (w * self.pc[k - self.k0] / 100.0).sum(axis=1)

    def deliveries(self, k: int) -> list[Delivery]:
        rng = rng_for(self.program.seed, "controls", k)
        misses = rng.random(len(self.program.sites))
        note_pick = rng.integers(0, len(NOTES), size=(len(self.program.sites), 8))
        out = []
        row = k - self.k0
        for s in self.program.sites:
            if k > 0 and misses[s.idx] < s.miss_rate:
                continue  # the site skipped its report this week: no file
            t = date.fromordinal(int(self.report_date[row, s.idx]))
            records = []
            for m, code in enumerate(MILESTONES):
                st = int(self.status[row, s.idx, m])
                done = st == COMPLETE
                pct = float(self.pc[row, s.idx, m])
                records.append(
                    {
                        "site_id": s.site_id,
                        "milestone_code": code,
                        "status_date": t.isoformat(),
                        "forecast_date": date.fromordinal(
                            int(self.forecast[row, s.idx, m])
                        ).isoformat(),
                        "actual_date": date.fromordinal(int(self.actual[row, s.idx, m])).isoformat()
                        if done
                        else None,
                        "percent_complete": int(pct) if pct.is_integer() else pct,
                        "status": STATUS_TEXT[st],
                        "reported_by": self.controllers[s.idx],
                        "notes": NOTES[int(note_pick[s.idx, m])],
                    }
                )
            out.append(Delivery("milestones", t, f"{s.site_id}_{t:%Y%m%d}.jsonl", None, records, 8))
        return out
