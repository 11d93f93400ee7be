"""The six published weekly tables: definitions, schemas, computation and checks.

Pure functions on the week's validated inputs (`model.WeekInputs`); nothing here reads or writes
S3. `compute_all` returns every table of a week as Arrow tables with exactly the `SCHEMAS` below,
which are also the source of the Athena DDL (`athena.py`) and of `docs/data-dictionary.md`.
"""

from __future__ import annotations

import pyarrow as pa

from buildout_tracker.model import WeekInputs
from buildout_tracker.tables import (
    arrow,
    data_quality_weekly,
    hiring_weekly,
    milestone_status_weekly,
    procurement_weekly,
    program_scorecard,
    site_progress_weekly,
)
from buildout_tracker.tables import (
    definitions as d,
)

MODULES = (
    procurement_weekly,
    milestone_status_weekly,
    site_progress_weekly,
    hiring_weekly,
    program_scorecard,
    data_quality_weekly,
)
TABLE_NAMES: tuple[str, ...] = tuple(m.NAME for m in MODULES)
SCHEMAS: dict[str, pa.Schema] = {m.NAME: m.SCHEMA for m in MODULES}
KEYS: dict[str, tuple[str, ...]] = {m.NAME: m.KEYS for m in MODULES}


def compute_all(inputs: WeekInputs) -> dict[str, pa.Table]:
    """Every table of the week, by name, in TABLE_NAMES order (the scorecard reads the others)."""
    lines = d.line_amounts(inputs)
    milestones = milestone_status_weekly.frame(inputs)
    procurement = procurement_weekly.compute(inputs, lines=lines)
    site_progress = site_progress_weekly.compute(inputs, milestones=milestones, lines=lines)
    hiring = hiring_weekly.compute(inputs)
    return {
        procurement_weekly.NAME: procurement,
        milestone_status_weekly.NAME: arrow.to_table(
            arrow.with_week(milestones, inputs), milestone_status_weekly.SCHEMA
        ),
        site_progress_weekly.NAME: site_progress,
        hiring_weekly.NAME: hiring,
        program_scorecard.NAME: program_scorecard.compute(
            inputs, procurement, site_progress, hiring
        ),
        data_quality_weekly.NAME: data_quality_weekly.compute(inputs),
    }


__all__ = ["KEYS", "SCHEMAS", "TABLE_NAMES", "compute_all"]
