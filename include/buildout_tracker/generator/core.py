"""generate(): a whole program history, week by week, into a sink."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from buildout_tracker import weeks as wk
from buildout_tracker.generator.ats import Ats
from buildout_tracker.generator.common import Delivery
from buildout_tracker.generator.defects import Injector
from buildout_tracker.generator.erp import Erp
from buildout_tracker.generator.pmo import Program
from buildout_tracker.generator.project_controls import ProjectControls
from buildout_tracker.generator.scales import get_scale
from buildout_tracker.generator.sinks import Sink
from buildout_tracker.generator.treasury import Treasury
from buildout_tracker.registry import NAMES as FEEDS

LOOKAHEAD_WEEKS = 32  # simulated past the range: open pipelines look real, and a shorter range is a prefix of a longer one


@dataclass
class GenerationSummary:
    weeks: list[str]
    scale: str
    seed: int
    files: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FEEDS, 0))
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FEEDS, 0))
    bytes: int = 0
    defects: int = 0

    @property
    def total_files(self) -> int:
        return sum(self.files.values())

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def __str__(self) -> str:
        span = self.weeks[0] if len(self.weeks) == 1 else f"{self.weeks[0]}:{self.weeks[-1]}"
        lines = [
            f"generated {span} ({len(self.weeks)} weeks), scale={self.scale}, seed={self.seed}"
        ]
        for feed in FEEDS:
            lines.append(f"  {feed:<12} {self.files[feed]:>6} files {self.rows[feed]:>10} rows")
        lines.append(f"  {self.bytes / 1e6:.1f} MB written, {self.defects} defects injected")
        return "\n".join(lines)


def generate(
    weeks: Sequence[str],
    scale: str = "small",
    seed: int = 7,
    defects: float = 0.0,
    sink: Sink | None = None,
    defects_log: Path | None = None,
) -> GenerationSummary:
    """Write the deliveries of consecutive ISO weeks; the first week starts the history."""
    if sink is None:
        raise TypeError("generate() needs a sink (DirSink or BucketSink)")
    weeks = list(weeks)
    if not weeks or wk.week_range(weeks[0], weeks[-1]) != weeks:
        raise ValueError(f"weeks must be consecutive ISO weeks in order, got {weeks[:3]}...")
    if not 0.0 <= defects <= 1.0:
        raise ValueError(f"defects is a rate between 0 and 1, got {defects}")
    program = Program(weeks[0], len(weeks), get_scale(scale), seed)
    horizon = len(weeks) + LOOKAHEAD_WEEKS
    treasury = Treasury(program)
    controls = ProjectControls(program, horizon)
    erp = Erp(program, treasury, controls)
    ats = Ats(program, horizon)
    injector = Injector(defects, seed, len(weeks), Path(defects_log) if defects_log else None)
    summary = GenerationSummary(weeks, scale, seed)
    erp.run_history()
    try:
        for k in range(len(weeks)):
            deliveries: list[Delivery] = []
            if k == 0:
                deliveries += program.reference_deliveries(program.week_start(0))
            deliveries += treasury.deliveries(k)
            deliveries += controls.deliveries(k)
            deliveries.append(erp.week_delivery())
            deliveries += ats.deliveries(k)
            for d in deliveries:
                for out in injector.process(d, k):
                    sink.put(out.key, out.data)
                    summary.files[d.feed] += 1
                    summary.rows[d.feed] += out.rows
                    summary.bytes += len(out.data)
                if d.feed == "procurement" and injector.hit_rows:
                    # The ERP sends a spoiled line again with the next extract.
                    lines = np.asarray(d.meta["line_index"])[injector.hit_rows]
                    erp.carry.update(int(i) for i in lines)
    finally:
        injector.close()
    summary.defects = len(injector.records)
    return summary
