"""The feeds, one entry each: every list of feeds in the project is derived from here.

A feed's columns, types and rules live in `feeds/<feed>.py`; this registry says what the
rest of the project needs to know about it without importing pandas: its file kinds in
processing order, the state it owns, whether its raw files hold personal data, which other
feeds' state its rules read, which scorecard areas its status greys, which DAG and task
ingest it, and who owns the source system. Cheap to import: DAG files may.

The contract each entry summarises is `docs/feeds.md`.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL_AREAS = "all"


@dataclass(frozen=True)
class Feed:
    name: str
    kinds: tuple[str, ...]  # file kinds, in the order a week's files are processed
    file_names: tuple[str, ...]  # the names it accepts, as docs/feeds.md writes them
    states: tuple[str, ...]  # the state objects it owns (`state/<name>/week=W/`)
    personal_data: bool  # raw files may hold personal data: they stay in landing only
    reads: tuple[str, ...]  # feeds whose state its rules check against (ingested first)
    greys: tuple[str, ...]  # scorecard areas greyed when it is blocked or silent
    dag_id: str  # the ingest DAG that runs it
    task_id: str  # the task of that DAG that ingests it
    source_owner: str  # whom a refused file's alert is for
    weekly: bool = True  # expected every week (its lateness is watched); reference: rarely

    @property
    def status_feed(self) -> bool:
        """Its week's status (delivered, blocked) matters to the scorecard."""
        return bool(self.greys)

    def greys_area(self, area: str) -> bool:
        return ALL_AREAS in self.greys or area in self.greys


_REFERENCE_KINDS = ("sites", "milestone_plan", "budget_plan", "hiring_plan")

# In processing order: a feed comes after every feed it reads.
FEEDS: tuple[Feed, ...] = (
    Feed(
        "reference",
        kinds=_REFERENCE_KINDS,
        file_names=tuple(f"{k}.csv" for k in _REFERENCE_KINDS),
        states=tuple(f"reference_{k}" for k in _REFERENCE_KINDS),
        personal_data=False,
        reads=(),
        greys=(),
        dag_id="ingest_reference_weekly",
        task_id="ingest_reference_files",
        source_owner="the program management office",
        weekly=False,
    ),
    Feed(
        "fx_rates",
        kinds=("fx_rates",),
        file_names=("fx_rates_*.csv",),
        states=("fx_rates",),
        personal_data=False,
        reads=(),
        greys=(ALL_AREAS,),
        dag_id="ingest_procurement_weekly",
        task_id="ingest_fx_rates",
        source_owner="Treasury",
    ),
    Feed(
        "procurement",
        kinds=("po_lines",),
        file_names=("po_lines_*.csv",),
        states=("po_lines",),
        personal_data=False,
        reads=("reference", "fx_rates"),
        greys=(ALL_AREAS,),
        dag_id="ingest_procurement_weekly",
        task_id="ingest_po_lines",
        source_owner="the ERP team",
    ),
    Feed(
        "milestones",
        kinds=("milestones",),
        file_names=("*.jsonl",),
        states=("milestones",),
        personal_data=True,
        reads=("reference",),
        greys=("program", "data_centers"),
        dag_id="ingest_milestones_weekly",
        task_id="ingest_milestone_reports",
        source_owner="the site's project controls team",
    ),
    Feed(
        "hiring",
        kinds=("requisitions", "offers"),
        file_names=("requisitions_*.csv", "offers_*.csv"),
        states=("requisitions", "offers"),
        personal_data=True,
        reads=(),
        greys=(ALL_AREAS,),
        dag_id="ingest_hiring_weekly",
        task_id="ingest_ats_snapshots",
        source_owner="the talent systems (ATS) team",
    ),
)

BY_NAME: dict[str, Feed] = {f.name: f for f in FEEDS}
NAMES: tuple[str, ...] = tuple(f.name for f in FEEDS)
# The feeds whose week's status the scorecard and data quality report (all but reference).
STATUS_FEEDS: tuple[str, ...] = tuple(f.name for f in FEEDS if f.status_feed)
# Ingest DAGs in the order a week runs them, each once.
INGEST_DAGS: tuple[str, ...] = tuple(dict.fromkeys(f.dag_id for f in FEEDS))
PUBLISH_DAG = "publish_tables_weekly"


def feed(name: str) -> Feed:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"no feed {name!r}; feeds: {', '.join(NAMES)}") from None


def feed_of_kind(kind: str) -> Feed:
    for f in FEEDS:
        if kind in f.kinds:
            return f
    raise KeyError(f"no feed receives files of kind {kind!r}")


def feeds_of_dag(dag_id: str) -> tuple[Feed, ...]:
    return tuple(f for f in FEEDS if f.dag_id == dag_id)


def area_feeds(area: str) -> tuple[str, ...]:
    """The feeds whose blocking or silence greys an area, in processing order."""
    return tuple(f.name for f in FEEDS if f.greys_area(area))
