"""Notes on the runs of the project's DAGs: the week a run covered and its outcome, set when
the run ends (the listener is `buildout_tracker.orchestration.run_notes`)."""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin

from buildout_tracker.orchestration import run_notes


class BuildoutRunNotes(AirflowPlugin):
    name = "buildout_run_notes"
    listeners: ClassVar[list[Any]] = [run_notes]
