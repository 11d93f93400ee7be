"""The story the generated history tells, chosen so the scorecard shows every colour.

Each curve is piecewise linear in k, the week's index from the first generated week
(k < 0 is history simulated before it). The ERP, ATS and project-controls simulators
steer towards these targets, so the published ratios land where the story puts them:

| area | first 12 weeks | later (long histories) |
|---|---|---|
| compute_hardware | all green until spend pace passes 1.10 near week 7: amber | red overspend (~1.25) around weeks 40-60, back to green |
| chip_development | red: spend pace ~0.70, hiring ~0.78 | recovers to amber, then green |
| ai_software | amber: spend pace ~0.80, hiring ~0.90 | green after week ~35 |
| data_centers | SPI falls from ~1 as sites slip (amber, then red); CPI drifts to ~0.93 | sites recover; CPI back to ~0.97 |

The ratios are cumulative (to date), so a target moves the published figure gradually.
"""

from __future__ import annotations

import numpy as np

# (k knots, values) per workstream
SPEND_PACE: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "compute_hardware": (
        (-60, 0, 4, 9, 30, 45, 70, 90),
        (0.98, 0.99, 1.02, 1.16, 1.17, 1.26, 1.05, 0.99),
    ),
    "chip_development": ((-60, 0, 12, 40, 70, 104), (0.72, 0.70, 0.72, 0.80, 0.90, 0.92)),
    "ai_software": ((-60, 0, 12, 35, 60, 104), (0.81, 0.80, 0.82, 0.90, 0.96, 1.00)),
}
HIRING_ATTAINMENT: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "compute_hardware": ((-60, 0, 50, 70, 104), (1.00, 1.00, 1.00, 0.97, 1.00)),
    "chip_development": ((-60, 0, 12, 50, 80, 104), (0.78, 0.78, 0.79, 0.88, 0.96, 0.98)),
    "data_centers": ((-60, 0, 20, 60, 104), (0.99, 0.99, 0.97, 0.92, 0.97)),
    "ai_software": ((-60, 0, 12, 35, 104), (0.91, 0.90, 0.91, 0.98, 1.00)),
}
# Share of PO lines whose requested delivery date is met.
ON_TIME: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "compute_hardware": ((-60, 104), (0.95, 0.95)),
    "chip_development": ((-60, 0, 60, 104), (0.84, 0.84, 0.90, 0.93)),
    "data_centers": ((-60, 104), (0.93, 0.93)),
    "ai_software": ((-60, 104), (0.94, 0.94)),
}
# data_centers cost performance: actual cost is steered to EV / CPI.
CPI: tuple[tuple[float, ...], tuple[float, ...]] = (
    (-60, 0, 4, 12, 40, 70, 104),
    (1.00, 0.99, 0.97, 0.93, 0.91, 0.97, 1.00),
)
# Program-wide schedule stress in days, scaled per site by its sensitivity.
SCHEDULE_STRESS: tuple[tuple[float, ...], tuple[float, ...]] = (
    (-60, -10, 0, 4, 12, 40, 70, 104),
    (0, 0, 0, 25, 90, 110, 45, 30),
)


def at(curve: tuple[tuple[float, ...], tuple[float, ...]], k: float) -> float:
    xs, ys = curve
    return float(np.interp(k, xs, ys))
