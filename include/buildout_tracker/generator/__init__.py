"""Synthetic source systems: a deterministic program history written as docs/feeds.md says.

    from buildout_tracker.generator import DirSink, generate
    generate(["2026-W37", "2026-W38"], scale="small", seed=7, sink=DirSink("landing"))

One module per source system: `pmo` (reference data and plans), `treasury` (FX rates),
`project_controls` (milestone reports), `erp` (PO lines), `ats` (requisitions and
offers); `scenario` holds the story they follow, `defects` what goes wrong on purpose,
`scales` the sizes, `sinks` where files go.
"""

from buildout_tracker.generator.core import GenerationSummary, generate
from buildout_tracker.generator.erp import FullExtract, write_full_extract
from buildout_tracker.generator.scales import SCALES, Scale
from buildout_tracker.generator.sinks import BucketSink, DirSink, MemorySink, Sink

__all__ = [
    "SCALES",
    "BucketSink",
    "DirSink",
    "FullExtract",
    "GenerationSummary",
    "MemorySink",
    "Scale",
    "Sink",
    "generate",
    "write_full_extract",
]
