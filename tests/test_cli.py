"""The `buildout` command line (`python -m buildout_tracker.cli`, behind the make targets)."""

from __future__ import annotations

import pytest

from buildout_tracker import cli


def test_a_bad_week_is_a_one_line_error_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    for bad in ("banana", "2026-W54", "2026-48", "2026-W48:2026-W47"):
        with pytest.raises(SystemExit) as exit_:
            cli.main(["run-week", "--week", bad])
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and "Traceback" not in err and "2026-W37:2026-W48" in err, err


def test_every_path_make_run_prints_opens(
    rt,  # type: ignore[no-untyped-def]
    lake_server,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
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

    monkeypatch.setenv("BUILDOUT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.chdir(tmp_path)
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
                assert (tmp_path / p if not Path(p).is_absolute() else Path(p)).exists(), (
                    attempt,
                    label,
                    p,
                )
