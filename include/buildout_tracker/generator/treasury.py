"""Treasury: daily FX rates (USD per unit), delivered every Friday for the week's business days."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from buildout_tracker.generator.common import Delivery, rng_for
from buildout_tracker.generator.pmo import Program

BASE_RATES = {
    "BRL": 0.1810,
    "CNY": 0.1390,
    "EUR": 1.0850,
    "JPY": 0.00672,
    "MYR": 0.2240,
    "NOK": 0.0935,
    "SGD": 0.7450,
}
CURRENCIES = ("USD", *BASE_RATES)  # index 0 is USD
DAILY_VOL = 0.003
HEADER = ["currency", "rate_date", "usd_per_unit"]


class Treasury:
    """Rates follow a seeded random walk; week k's draws depend only on (seed, k)."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self._k = -program.history_weeks - 1
        self._level = np.log(np.array(list(BASE_RATES.values())))
        self._days: dict[int, np.ndarray] = {}  # week -> rates [5 business days, currency]

    def _advance_to(self, k: int) -> None:
        while self._k < k:
            self._k += 1
            rng = rng_for(self.program.seed, "fx", self._k)
            steps = rng.normal(0.0, DAILY_VOL, size=(5, len(BASE_RATES)))
            path = self._level + np.cumsum(steps, axis=0)
            self._level = path[-1]
            self._days[self._k] = np.round(np.exp(path), 8)

    def week_rates(self, k: int) -> np.ndarray:
        self._advance_to(k)
        return self._days[k]

    def usd_per_unit(self, k: int) -> np.ndarray:
        """Rates in force at week k's status date, indexed like CURRENCIES (USD = 1)."""
        return np.concatenate([[1.0], self.week_rates(k)[-1]])

    def deliveries(self, k: int) -> list[Delivery]:
        weeks = range(k - 3, k + 1) if k == 0 else range(k, k + 1)  # the first file has history
        rows = []
        for w in weeks:
            rates = self.week_rates(w)
            start = self.program.week_start(w)
            for day in range(5):
                for c, cur in enumerate(BASE_RATES):
                    rows.append(
                        [cur, (start + timedelta(days=day)).isoformat(), f"{rates[day, c]:.8f}"]
                    )
        friday = self.program.week_start(k) + timedelta(days=4)
        name = f"fx_rates_{friday:%Y%m%d}.csv"
        return [Delivery("fx_rates", friday, name, list(HEADER), rows, len(rows))]
