"""The `buildout` command line (`python -m buildout_tracker.cli`, behind the make targets)."""

from __future__ import annotations

import pytest

from buildout_tracker import cli


@pytest.fixture
def here(tmp_path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A run's var folder and working folder in tmp_path, as `make run` has them in a
    checkout (the paths it prints are relative to the working folder)."""
    monkeypatch.setenv("BUILDOUT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_bad_week_is_a_one_line_error_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    for bad in ("banana", "2026-W54", "2026-48", "2026-W48:2026-W47"):
        with pytest.raises(SystemExit) as exit_:
            cli.main(["run-week", "--week", bad])
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and "Traceback" not in err and "2026-W37:2026-W48" in err, err


def test_every_path_make_run_prints_opens(
    rt,
    lake_server,
    here,
    capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
) -> None:
    """`make run`'s "Where to look": every local path it prints exists on this machine (the
    templates with <table> / <feed> for every table and feed), on a first run and on a re-run
    (which builds no Data Docs, and still names the week's)."""
    import re
    from pathlib import Path

    from buildout_tracker import registry
    from buildout_tracker.pipeline import cycle
    from buildout_tracker.tables import TABLE_NAMES
    from tests.publish import helpers as h

    h.deliver(rt.landing, h.W37)
    for attempt in ("first", "re-run"):
        outcomes = cycle.run_weeks(rt, [h.W37], echo=lambda s: None)
        capsys.readouterr()
        cli.print_outcome_report(outcomes, rt, cli.Where(lake_server, rt.lake))
        out = capsys.readouterr().out
        where = out.split("Where to look", 1)[1]
        shown = re.findall(r"^  ([A-Za-z][A-Za-z ]+?) {2,}(\S+)", where, flags=re.M)
        docs = [p for label, p in shown if label == "data docs"]
        assert len(docs) == len(registry.NAMES), (attempt, where)  # W37: every feed delivered
        assert "REPORT" in dict(shown) and "manifest" in dict(shown), where
        for label, path in shown:
            if label in ("query", "definitions") or path.startswith("none:"):
                continue
            if "<table>" in path:
                paths = [path.replace("<table>", t) for t in TABLE_NAMES]
            elif "<feed>" in path:
                paths = [path.replace("<feed>", f) for f in registry.NAMES]
            else:
                paths = [path]
            for p in paths:
                assert (here / p if not Path(p).is_absolute() else Path(p)).exists(), (
                    attempt,
                    label,
                    p,
                )


def test_a_lake_of_another_var_dir_is_used_where_it_really_serves(
    lake_server, tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The configured port already serves a lake this var dir did not start (another
    BUILDOUT_VAR_DIR of the checkout, same credentials): the run uses it, and the folder it
    prints is the one that server really serves, not this var dir's empty one."""
    for name, value in lake_server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BUILDOUT_VAR_DIR", str(tmp_path / "other-var"))
    server = cli._lake_up()
    out = capsys.readouterr().out
    assert server.root == lake_server.root
    assert "using it as the lake" in out and f"its files are in {lake_server.root}" in out
    assert not (tmp_path / "other-var" / "lake").exists()


def test_a_lake_of_another_checkout_is_a_clear_error_not_a_traceback(
    lake_server, tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two checkouts whose .env both chose port 9900: the second one's run finds the first's
    lake on its port, which refuses its credentials. One error naming that server and the
    fix, before anything is generated or written."""
    for name, value in lake_server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "anothercheckout01")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "another-checkout-secret")
    monkeypatch.setenv("BUILDOUT_VAR_DIR", str(tmp_path / "var"))
    env_file = tmp_path / "checkout.env"
    monkeypatch.setenv("BUILDOUT_ENV_FILE", str(env_file))
    with pytest.raises(SystemExit) as exit_:
        cli._lake_up()
    said = str(exit_.value.code)
    assert said.startswith(f"error: lake at {lake_server.endpoint} refuses our credentials")
    assert "it is not this checkout's lake" in said and str(lake_server.root) in said
    assert f"BUILDOUT_S3_ENDPOINT in {env_file}" in said


def test_a_re_run_says_it_found_nothing_new_and_where_to_look_names_feeds_without_data_docs(
    rt,
    lake_server,
    here,
    capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
) -> None:
    """A week's line on a re-run says that no file was new (the rows are still the week's);
    a first run's does not. "Where to look" names the feeds whose week has no Data Docs
    (W38 delivers no reference file, and its hiring files repeat W37's bytes), so the list
    is not silently shorter than the feeds."""
    from buildout_tracker import registry
    from buildout_tracker.pipeline import cycle
    from tests.publish import helpers as h

    h.deliver(rt.landing, h.W37)
    h.deliver(rt.landing, h.W38)
    first: list[str] = []
    outcomes = cycle.run_weeks(rt, [h.W37, h.W38], echo=first.append)
    again: list[str] = []
    cycle.run_weeks(rt, [h.W38], echo=again.append)
    week_lines = [line for line in first + again if line.startswith("  2026-W")]
    assert len(week_lines) == 3, first + again
    assert all("nothing new" not in line for line in week_lines[:2]), week_lines
    assert "published" in week_lines[2] and "rows in" in week_lines[2], week_lines
    assert "nothing new: every file was ingested by an earlier run" in week_lines[2]
    assert week_lines[2].split("rows in")[0] == week_lines[1].split("rows in")[0], week_lines

    capsys.readouterr()
    cli.print_outcome_report(outcomes, rt, cli.Where(lake_server, rt.lake))
    where = capsys.readouterr().out.split("Where to look", 1)[1]
    docs = [line for line in where.splitlines() if line.startswith("  data docs")]
    # W38's hiring files are W37's bytes again (duplicates, not validated again): no docs.
    with_docs = [f for f in registry.NAMES if any(f"/{f}/index.html" in d for d in docs[:-1])]
    assert with_docs == ["fx_rates", "procurement", "milestones"], docs
    assert docs[-1] == "  data docs     none: reference, hiring (no file validated this week)", docs
