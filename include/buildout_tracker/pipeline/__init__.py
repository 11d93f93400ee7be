"""The weekly pipeline's steps (`steps.py`), the runtime they run with (`runtime.py`), whole
weeks in one process (`cycle.py`) and the report a person reads (`summary.py`)."""

from buildout_tracker.pipeline.runtime import Runtime

__all__ = ["Runtime"]
