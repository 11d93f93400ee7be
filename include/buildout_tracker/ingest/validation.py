"""Great Expectations over the week's new files: each file kind's suite, results stored in
`reports/validation/` (scrubbed of personal and free-text values by the validator)."""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd

from buildout_tracker import zones
from buildout_tracker.ingest.report import FileOutcome
from buildout_tracker.lake import Bucket
from buildout_tracker.timing import phase


def validate_with_gx(
    feed: str,
    week: str,
    pending: list[tuple[Any, Any, FileOutcome, pd.DataFrame]],
    lake: Bucket,
    validator: Any,
) -> None:
    """Run each file kind's GX suite once on the week's new files of that kind (files that
    share a rule context): a data-center site sends one small file a week, and GX's fixed
    cost per validation would otherwise dominate the week. Results are stored per group,
    naming its files; every file records its group's outcome."""
    groups: dict[tuple[str, Any], list[tuple[Any, Any, FileOutcome, pd.DataFrame]]] = {}
    for item in pending:
        spec, ctx = item[0], item[1]
        groups.setdefault((spec.kind, ctx.fingerprint()), []).append(item)
    for (kind, _), items in groups.items():
        spec, ctx = items[0][0], items[0][1]
        outs = [o for _, _, o, _ in items]
        if len(items) == 1:
            label, result_key = outs[0].key, zones.validation_result(feed, week, outs[0].fid)
        else:
            digest = hashlib.sha256("".join(o.sha256 for o in outs).encode()).hexdigest()[:12]
            label = f"{feed}/{kind}: {len(items)} files of {week}"
            result_key = zones.validation_result(feed, week, f"{kind}-{len(items)}files-{digest}")
        with phase("validate"):
            frame = (
                items[0][3]
                if len(items) == 1
                else pd.concat([f for *_, f in items], ignore_index=True)
            )
            gx = validator.validate(spec, frame, label, ctx)
            lake.put_json(result_key, {"files": [o.key for o in outs], "result": gx.results})
        for o in outs:
            o.gx_success = bool(gx.success)
