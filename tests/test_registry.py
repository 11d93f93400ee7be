"""The registry of feeds agrees with the feeds' own modules, and its derived lists hold."""

from __future__ import annotations

from buildout_tracker import feeds, registry


def test_each_feed_comes_after_the_feeds_it_reads() -> None:
    seen: set[str] = set()
    for feed in registry.FEEDS:
        assert set(feed.reads) <= seen, f"{feed.name} reads {feed.reads} before they run"
        seen.add(feed.name)


def test_file_kinds_and_names_are_those_of_the_feed_modules() -> None:
    assert set(feeds.SPECS) == set(registry.NAMES)
    for feed in registry.FEEDS:
        specs = feeds.SPECS[feed.name]
        assert tuple(s.kind for s in specs) == feed.kinds, feed.name
        assert all(s.feed == feed.name for s in specs)
        assert len(feed.file_names) == len(specs), feed.name


def test_derived_lists() -> None:
    assert registry.STATUS_FEEDS == ("fx_rates", "procurement", "milestones", "hiring")
    assert registry.INGEST_DAGS == (
        "ingest_reference_weekly",
        "ingest_procurement_weekly",
        "ingest_milestones_weekly",
        "ingest_hiring_weekly",
    )
    # docs/data-dictionary.md, program_scorecard: milestones greys data_centers and program only
    assert registry.area_feeds("program") == ("fx_rates", "procurement", "milestones", "hiring")
    assert registry.area_feeds("data_centers") == registry.area_feeds("program")
    assert registry.area_feeds("ai_software") == ("fx_rates", "procurement", "hiring")
    assert [f.name for f in registry.FEEDS if f.personal_data] == ["milestones", "hiring"]
    assert registry.feed_of_kind("offers").name == "hiring"
