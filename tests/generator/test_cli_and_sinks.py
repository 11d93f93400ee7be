"""The command line and the sinks."""

from __future__ import annotations

import json

import pytest

from buildout_tracker.generator import BucketSink, DirSink, MemorySink, generate
from buildout_tracker.generator.__main__ import main
from buildout_tracker.generator.scales import SCALES
from buildout_tracker.weeks import parse_range


def test_cli_writes_a_folder_and_a_defects_log(tmp_path, capsys):
    log = tmp_path / "var" / "defects.jsonl"
    code = main(["--weeks", "2026-W37:2026-W38", "--seed", "7", "--defects", "0.05",
                 "--out-dir", str(tmp_path / "landing"), "--defects-log", str(log)])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "procurement" in out and "defects" in out
    assert (tmp_path / "landing" / "reference").is_dir()
    assert [json.loads(line)["kind"] for line in log.read_text().splitlines()]


def test_cli_default_defects_log_goes_under_var(tmp_path, monkeypatch):
    monkeypatch.setenv("BUILDOUT_VAR_DIR", str(tmp_path / "var"))
    assert main(["--weeks", "2026-W40", "--defects", "0.02", "--out-dir", str(tmp_path / "l")]) == 0
    assert (tmp_path / "var" / "defects" / "defects-7.jsonl").is_file()


def test_cli_full_extract(tmp_path, capsys):
    assert main(["--full-extract", "2000", "--out", str(tmp_path / "po.csv")]) == 0
    assert (tmp_path / "po.csv").stat().st_size > 0
    assert "2000" in capsys.readouterr().out


def test_dir_sink_refuses_keys_outside_its_folder(tmp_path):
    with pytest.raises(ValueError):
        DirSink(tmp_path / "x").put("../escape.csv", b"")


def test_memory_sink_gets_the_same_bytes_as_a_dir_sink(tmp_path):
    mem = MemorySink()
    weeks = parse_range("2026-W37")
    generate(weeks, sink=mem)
    generate(weeks, sink=DirSink(tmp_path))
    assert mem.files == {k: (tmp_path / k).read_bytes() for k in mem.files}


def test_scale_table():
    small, medium, large = SCALES["small"], SCALES["medium"], SCALES["large"]
    assert small.sites == 12 and large.sites == 200
    assert (
        small.new_lines < medium.new_lines <= large.new_lines or medium.new_lines < large.new_lines
    )
    assert large.history_weeks == 52


def test_xlarge_is_ten_times_large_in_every_count():
    """The issue's SCALE=xlarge: 2,000 sites, about 200k requisitions and 10M PO-line versions
    over two years: every count of `large` times ten, the same history and shares."""
    large, xlarge = SCALES["large"], SCALES["xlarge"]
    for count in ("sites", "history_new_lines", "new_lines", "suppliers", "hires_per_quarter",
                  "requisition_files"):  # fmt: skip
        assert getattr(xlarge, count) == 10 * getattr(large, count), count
    for same in ("history_weeks", "repeat_share", "site_start_span_weeks"):
        assert getattr(xlarge, same) == getattr(large, same), same
    from buildout_tracker.generator.pmo import Program

    assert len({s.site_id for s in Program("2026-W37", 1, xlarge, 5).sites}) == 2000


@pytest.mark.slow
def test_bucket_sink_writes_to_the_landing_bucket(fresh_buckets):
    landing, _ = fresh_buckets
    generate(parse_range("2026-W37"), sink=BucketSink(landing))
    keys = [o.key for o in landing.list()]
    assert "reference/2026-09-07/sites.csv" in keys
    assert any(k.startswith("procurement/") for k in keys)
