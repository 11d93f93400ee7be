"""`make bench` ends with each target beside the figure measured: met, missed, or not
measured (never a figure it did not measure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildout_tracker.devtools import bench


def test_targets_name_met_missed_and_not_measured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bench, "BENCH_DIR", tmp_path)  # no saved results to fall back on
    results = {
        "ingest": {"ratio": 2.4, "peak_rss_mb": 1350.0},
        "cycle": {"per_week": [{"seconds": 30.0}, {"seconds": 3.0}, {"seconds": 5.0},
                               {"seconds": 3.5}], "max_week_s": 5.0, "backfill_s": 300.0},
    }  # fmt: skip
    lines = {line.split("  ")[1].strip(): line for line in bench.print_targets(results)}
    assert "2.40" in lines["1M-line ingest / pyarrow copy"]
    assert lines["1M-line ingest / pyarrow copy"].endswith("MISSED")
    assert lines["1M-line ingest peak RSS (MB)"].endswith("met")
    # median of the weeks after the first (3.0, 3.5, 5.0) is 3.5
    assert "3.50" in lines["large week, median (s)"] and lines["large week, median (s)"].endswith(
        "met"
    )
    assert " 5.00 " in lines["104-week large backfill (min)"]
    assert "not measured" in lines["report of week 100 (s)"]
    assert "== targets" in capsys.readouterr().out


def test_profile_profiles_a_real_week_and_keeps_the_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make bench WHAT=profile` on one week of the default history: a profile whose
    entries are the pipeline's own steps, readable by pstats, and the lake server stopped."""
    import pstats

    monkeypatch.setattr(bench, "BENCH_DIR", tmp_path)
    monkeypatch.setenv("BENCH_PROFILE_WEEKS", "2026-W48:2026-W48")
    result = bench.bench_profile()
    out = capsys.readouterr().out
    assert "1 weeks at scale small under the profiler" in out
    assert "feed_week.py" in out and "run_week" in out
    stats = pstats.Stats(result["profile"])
    assert any(name == "ingest_feed_week" for (_, _, name) in stats.stats)  # type: ignore[attr-defined]
    assert result["cpu_s"] > 0


def test_floors_counts_a_real_week_and_measures_each_cost_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make bench WHAT=floors` on one week of the default history: the week's own requests,
    GX runs and files counted, each cost measured, the sum printed beside the week's time."""
    monkeypatch.setattr(bench, "BENCH_DIR", tmp_path)
    monkeypatch.setenv("BENCH_FLOOR_WEEKS", "2026-W48:2026-W48")
    monkeypatch.setenv("BENCH_FLOOR_SCALE", "small")
    result = bench.bench_floors(repeats=20)
    out = capsys.readouterr().out
    (week,) = result["per_week"]
    assert week["week"] == "2026-W48" and week["seconds"] > 0
    # every file of the week is listed and read at least: more requests than files
    assert week["files"] > 0 and week["s3_requests"] > week["files"]
    assert week["gx_runs"] >= 1
    assert result["put_ms"] > 0 and result["get_ms"] > 0 and result["gx_run_s"] > 0
    assert result["site_report_rows"] > 0 and result["gx_import_s"] > 0
    floor = result["floor_s"]
    assert result["floor_total_s"] == pytest.approx(floor["s3"] + floor["gx"] + floor["files"])
    assert floor["s3"] == pytest.approx(week["s3_requests"] * result["put_ms"] / 1e3)
    assert f"2026-W48: {week['seconds']:.1f} s measured" in out
    cpu = result["request_cpu_ms"]
    assert set(cpu) == {"boto3_put", "signed_put", "boto3_get", "signed_get"}
    assert all(ms > 0 for ms in cpu.values())
    assert "client CPU of one small request, boto3 / signed by botocore" in out
    assert not list((tmp_path / "lake-floors-small").glob("**/bench-floors/*"))


def test_xlarge_runs_a_first_week_and_counts_its_own_peak(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make bench WHAT=xlarge`'s code on the first week of a small program: the week ran
    and published, its phases and files are there, its peak memory is its own."""
    monkeypatch.setattr(bench, "BENCH_DIR", tmp_path)
    result = bench.bench_xlarge(week="2026-W37", scale="small")
    out = capsys.readouterr().out
    assert result["published"] is True and result["files"] > 12
    assert {"ingest", "validate", "compute", "publish"} <= set(result["phases"])
    assert result["peak_rss_own"] is True and 0 < result["peak_rss_mb"] < 3072
    assert "2026-W37: " in out and "published True" in out
    lines = {line.split("  ")[1].strip(): line for line in bench.print_targets({"xlarge": result})}
    assert "target <= 30" in lines["SCALE=xlarge, first week (s)"]
