"""Great Expectations over the week's new files: each file kind's suite, results stored in
`reports/validation/` per file (scrubbed of personal and free-text values by the validator)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from buildout_tracker import zones
from buildout_tracker.ingest.report import FileOutcome
from buildout_tracker.lake import Bucket, put_json_many
from buildout_tracker.timing import phase


def validate_with_gx(
    feed: str,
    week: str,
    pending: list[tuple[Any, Any, FileOutcome, pd.DataFrame]],
    lake: Bucket,
    validator: Any,
) -> None:
    """Every file gets its own GX result: its own success and its own result object, stored
    under its own file id. Files of one kind that share a rule context are handed to GX
    together (`GxValidator.validate_files`): a data-center site sends one small file a week,
    and GX's fixed cost per validation (about 1 s) would otherwise dominate the week; the
    validator recounts a passing group's result on each file, and when anything fails
    validates the files holding the unexpected rows on their own (and the others together
    again), so no file ever carries another file's outcome. The results are written
    together (`lake.put_json_many`)."""
    groups: dict[tuple[str, Any], list[tuple[Any, Any, FileOutcome, pd.DataFrame]]] = {}
    for item in pending:
        spec, ctx = item[0], item[1]
        groups.setdefault((spec.kind, ctx.fingerprint()), []).append(item)
    stored: list[tuple[str, Any]] = []
    for items in groups.values():
        spec, ctx = items[0][0], items[0][1]
        with phase("validate"):
            results = validator.validate_files(spec, [(o.key, f) for _, _, o, f in items], ctx)
            for (_, _, out, _), gx in zip(items, results, strict=True):
                stored.append(
                    (
                        zones.validation_result(feed, week, out.fid),
                        {"file": out.key, "files": [out.key], "result": gx.results},
                    )
                )
                out.gx_success = bool(gx.success)
    with phase("validate"):
        put_json_many(lake, stored)
