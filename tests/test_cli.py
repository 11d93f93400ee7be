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
