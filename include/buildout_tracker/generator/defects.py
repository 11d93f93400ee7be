"""Problems real exports have, injected on purpose and recorded in a log beside the landing zone.

Every injected defect is one JSON line in the defects log: kind, feed, key, row (1-based
data record of the file as written: CSV records after the header, JSON lines), column,
value (what was written) and detail. The log is never put into the landing bucket.

Row-level kinds hit about rate/4 of the eligible rows of a file each, so a feed-week at
rate 0.02 stays well under the 5 % quarantine threshold. File-level kinds occur
max(1, round(rate * weeks * 4)) times over the range, never in the first week (the
program must be able to start). Each kind is guaranteed at least once over a range when
rate > 0. Files that would lose a week's data when quarantined (a procurement delta or an
FX file that cannot be read) are followed by their clean re-send; snapshot feeds heal with
the next week's snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from buildout_tracker.generator.common import EXCEL_EPOCH, Delivery, rng_for, serialize

# kind: (feed, file name prefix) of the files it can hit
ROW_KINDS: dict[str, tuple[tuple[str, str], ...]] = {
    "excel_po_number": (("procurement", "po_lines_"),),
    "bad_date_format": (("procurement", "po_lines_"), ("hiring", "requisitions_")),
    "unknown_currency": (("procurement", "po_lines_"),),
    "percent_over_100": (("milestones", ""),),
    "percent_as_text": (("milestones", ""),),
    "actual_after_status": (("milestones", ""),),
    "complete_without_actual": (("milestones", ""),),
    "duplicate_req_id": (("hiring", "requisitions_"),),
    "pii_in_team": (("hiring", "requisitions_"),),
    "duplicate_offer_version": (("hiring", "offers_"),),
    "orphan_offer_req": (("hiring", "offers_"),),
}
FILE_KINDS: dict[str, tuple[tuple[str, str], ...]] = {
    "duplicate_file": (("procurement", "po_lines_"), ("fx_rates", "fx_rates_"), ("milestones", "")),
    "utf8_bom": (("procurement", "po_lines_"), ("fx_rates", "fx_rates_"), ("hiring", "offers_")),
    "cp1252_encoding": (("procurement", "po_lines_"),),
    "missing_required_column": (
        ("procurement", "po_lines_"),
        ("fx_rates", "fx_rates_"),
        ("hiring", "requisitions_"),
    ),
    "extra_column": (
        ("procurement", "po_lines_"),
        ("fx_rates", "fx_rates_"),
        ("hiring", "offers_"),
    ),
    "empty_file": (("procurement", "po_lines_"), ("fx_rates", "fx_rates_"), ("milestones", "")),
    "header_only": (("procurement", "po_lines_"), ("fx_rates", "fx_rates_")),
    "pii_extra_column": (("hiring", "requisitions_"),),
}
ALL_KINDS = (*ROW_KINDS, *FILE_KINDS)
REQUIRED_TO_DROP = {
    "procurement": ("currency", "change_ts", "quantity"),
    "fx_rates": ("usd_per_unit",),
    "hiring": ("status",),
}
EXTRA_COLUMN = {
    "procurement": "export_batch",
    "fx_rates": "source_system",
    "hiring": "ats_export_id",
}
DATE_COLUMNS = {"procurement": ("po_date", "requested_delivery_date"), "hiring": ("opened_date",)}
ROW_SHARE = 0.25  # of the rate, per row-level kind


def _matches(d: Delivery, targets: tuple[tuple[str, str], ...]) -> bool:
    return any(d.feed == feed and d.name.startswith(prefix) for feed, prefix in targets)


def _with_suffix(d: Delivery, suffix: str, day: date | None = None) -> str:
    stem, dot, ext = d.name.rpartition(".")
    return f"{d.feed}/{(day or d.day).isoformat()}/{stem}{suffix}{dot}{ext}"


@dataclass
class Output:
    key: str
    data: bytes
    rows: int


class Injector:
    """Turns a clean delivery into the files that land, injecting the planned defects."""

    def __init__(self, rate: float, seed: int, n_weeks: int, log_path: Path | None = None) -> None:
        self.rate = float(rate)
        self.seed = seed
        self.records: list[dict[str, Any]] = []
        self.hit_rows: list[int] = []  # input rows of the last delivery that were spoiled
        self._log: TextIO | None = None
        if log_path is not None and self.rate > 0:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = log_path.open("w", encoding="utf-8")
        rng = rng_for(seed, "defects", "plan")
        first = 1 if n_weeks > 1 else 0
        self.file_plan: list[tuple[str, int, str]] = []  # kind, week, feed
        self.forced: dict[str, int] = {}
        if self.rate <= 0:
            return
        per_kind = max(1, round(self.rate * n_weeks * 4))
        for kind, targets in FILE_KINDS.items():
            for _ in range(per_kind):
                feed = targets[int(rng.integers(len(targets)))][0]
                self.file_plan.append((kind, int(rng.integers(first, n_weeks)), feed))
        self.file_plan.sort(key=lambda p: (p[1], ALL_KINDS.index(p[0])))
        self.forced = {kind: int(rng.integers(0, n_weeks)) for kind in ROW_KINDS}

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def _record(self, kind: str, d: Delivery | str, feed: str, row: int | None = None,
                column: str | None = None, value: Any = None, detail: str = "") -> None:  # fmt: skip
        key = d if isinstance(d, str) else d.key
        rec = {"kind": kind, "feed": feed, "key": key, "row": row, "column": column,
               "value": value, "detail": detail}  # fmt: skip
        self.records.append(rec)
        if self._log is not None:
            self._log.write(json.dumps(rec, ensure_ascii=False) + "\n")

    # --------------------------------------------------------------------------------------
    def process(self, d: Delivery, k: int) -> list[Output]:
        self.hit_rows = []
        if self.rate <= 0:
            return [Output(d.key, serialize(d), d.n_rows)]
        rng = rng_for(self.seed, "defects", k, d.key)
        file_kind = None
        for i, (kind, week, feed) in enumerate(self.file_plan):
            if week <= k and feed == d.feed and _matches(d, FILE_KINDS[kind]):
                file_kind = kind
                del self.file_plan[i]
                break
        destructive = file_kind in ("cp1252_encoding", "missing_required_column")
        outputs: list[Output] = []
        if destructive and d.feed in ("procurement", "fx_rates"):
            kept = list(d.rows)  # written twice: spoiled, then re-sent clean
            d.rows = kept
            clean = Delivery(d.feed, d.day, d.name, d.header, kept, d.n_rows)
            outputs.append(self._spoil_file(d, file_kind, rng))
            outputs.append(Output(_with_suffix(d, "_resend"), serialize(clean), d.n_rows))
            return outputs
        if destructive:
            return [self._spoil_file(d, file_kind, rng)]
        header, rows, n_rows = self._row_defects(d, k, rng)
        rows_out: Iterable[Any] = rows
        bom = False
        if file_kind == "utf8_bom":
            bom = True
            self._record(file_kind, d, d.feed, detail="UTF-8 byte-order mark at the start")
        elif file_kind in ("extra_column", "pii_extra_column"):
            header, rows_out = self._extra_column(d, file_kind, header, rows, rng)
        shaped = Delivery(d.feed, d.day, d.name, header, rows_out, n_rows)
        data = serialize(shaped, bom=bom)
        outputs.append(Output(d.key, data, n_rows))
        if file_kind == "duplicate_file":
            nxt = d.day + timedelta(days=1)
            day = nxt if nxt.isocalendar()[:2] == d.day.isocalendar()[:2] else d.day
            key = _with_suffix(d, "_copy", day)
            outputs.append(Output(key, data, n_rows))
            self._record(file_kind, key, d.feed, detail=f"same bytes as {d.key}")
        elif file_kind in ("empty_file", "header_only"):
            key = _with_suffix(d, "_2")
            empty = (
                b""
                if file_kind == "empty_file"
                else serialize(Delivery(d.feed, d.day, d.name, d.header, [], 0))
            )
            outputs.append(Output(key, empty, 0))
            detail = "0 bytes" if file_kind == "empty_file" else "header row and no data"
            self._record(file_kind, key, d.feed, detail=detail)
        return outputs

    # file-level ---------------------------------------------------------------------------
    def _spoil_file(self, d: Delivery, kind: str | None, rng: np.random.Generator) -> Output:
        assert d.header is not None
        rows = [list(r) for r in d.rows]
        if kind == "cp1252_encoding":
            at = d.header.index("supplier_name") if "supplier_name" in d.header else 0
            rows[0][at] = "Müller Anlagenbau GmbH"
            data = serialize(
                Delivery(d.feed, d.day, d.name, d.header, rows, d.n_rows), encoding="cp1252"
            )
            self._record(kind, d, d.feed, 1, d.header[at], "Müller Anlagenbau GmbH",
                         "file encoded as cp1252 (Windows-1252), not UTF-8")  # fmt: skip
            return Output(d.key, data, d.n_rows)
        options = [c for c in REQUIRED_TO_DROP[d.feed] if c in d.header]
        col = options[int(rng.integers(len(options)))]
        j = d.header.index(col)
        header = [c for i, c in enumerate(d.header) if i != j]
        rows = [[v for i, v in enumerate(r) if i != j] for r in rows]
        self._record(
            "missing_required_column",
            d,
            d.feed,
            column=col,
            detail=f"required column {col} left out",
        )
        return Output(
            d.key, serialize(Delivery(d.feed, d.day, d.name, header, rows, d.n_rows)), d.n_rows
        )

    def _extra_column(self, d: Delivery, kind: str, header: list[str] | None, rows: Iterable[Any],
                      rng: np.random.Generator) -> tuple[list[str], Iterator[list[str]]]:  # fmt: skip
        assert header is not None
        if kind == "pii_extra_column":
            name = "candidate_email"
            self._record(
                kind, d, d.feed, column=name, detail="candidate e-mails in an unexpected column"
            )

            def value(i: int) -> str:
                return f"candidate{i}@example.net" if i % 5 == 0 else ""
        else:
            name = EXTRA_COLUMN[d.feed]
            self._record(kind, d, d.feed, column=name, detail=f"unknown column {name}")
            batch = f"B{int(rng.integers(10000, 99999))}"

            def value(i: int) -> str:
                return batch

        def gen() -> Iterator[list[str]]:
            for i, r in enumerate(rows):
                yield [*r, value(i)]

        return [*header, name], gen()

    # row-level ----------------------------------------------------------------------------
    def _row_defects(
        self, d: Delivery, k: int, rng: np.random.Generator
    ) -> tuple[list[str] | None, Iterable[Any], int]:
        kinds = [kind for kind, targets in ROW_KINDS.items() if _matches(d, targets)]
        if not kinds or d.n_rows == 0:
            return d.header, d.rows, d.n_rows
        rows: Iterable[Any] = d.rows
        if d.feed != "procurement":
            rows = list(rows)
        hits: dict[int, list[str]] = {}
        for kind in kinds:
            eligible = self._eligible(kind, d, rows)
            if not len(eligible):
                continue
            n = int(rng.binomial(len(eligible), self.rate * ROW_SHARE))
            if n == 0 and kind in self.forced and self.forced[kind] <= k:
                n = 1
            if n:
                self.forced.pop(kind, None)
            for i in sorted(
                rng.choice(eligible, size=min(n, len(eligible)), replace=False).tolist()
            ):
                hits.setdefault(int(i), []).append(kind)
        if not hits:
            return d.header, rows, d.n_rows
        self.hit_rows = sorted(hits)
        extra = sum(
            kinds.count(k2)
            for k2 in ("duplicate_req_id", "duplicate_offer_version")
            for kinds in hits.values()
        )
        return d.header, self._apply_rows(d, rows, hits, rng), d.n_rows + extra

    def _eligible(self, kind: str, d: Delivery, rows: Iterable[Any]) -> np.ndarray:
        if kind in ("actual_after_status", "complete_without_actual"):
            return np.array(
                [i for i, r in enumerate(rows) if r["status"] == "complete"], dtype=np.int64
            )
        if kind == "percent_as_text":
            return np.array(
                [i for i, r in enumerate(rows) if r["status"] == "in_progress"], dtype=np.int64
            )
        return np.arange(d.n_rows)

    def _apply_rows(self, d: Delivery, rows: Iterable[Any], hits: dict[int, list[str]],
                    rng: np.random.Generator) -> Iterator[Any]:  # fmt: skip
        header = d.header or []
        col = {c: i for i, c in enumerate(header)}
        out_no = 0
        for i, row in enumerate(rows):
            kinds = hits.get(i)
            if not kinds:
                out_no += 1
                yield row
                continue
            row = dict(row) if isinstance(row, dict) else list(row)
            copies = []
            for kind in kinds:
                if kind == "duplicate_req_id":
                    dup = list(row)
                    dup[col["level"]] = "L8" if dup[col["level"]] != "L8" else "L3"
                    copies.append(
                        (
                            kind,
                            dup,
                            "req_id",
                            dup[col["req_id"]],
                            "req_id repeated with another level",
                        )
                    )
                elif kind == "duplicate_offer_version":
                    dup = list(row)
                    copies.append((kind, dup, "version", dup[col["version"]],
                                   f"(offer_id, version) = ({dup[col['offer_id']]}, {dup[col['version']]}) twice"))  # fmt: skip
                else:
                    column, value, detail = self._spoil_cell(kind, row, col, rng)
                    self._record(kind, d, d.feed, out_no + 1, column, value, detail)
            out_no += 1
            yield row
            for kind, dup, column, value, detail in copies:
                out_no += 1
                self._record(kind, d, d.feed, out_no, column, value, detail)
                yield dup

    def _spoil_cell(
        self, kind: str, row: Any, col: dict[str, int], rng: np.random.Generator
    ) -> tuple[str, Any, str]:
        if kind == "excel_po_number":
            v = row[col["po_number"]]
            new = v.lstrip("0") if v.startswith("0") else f"{int(v):.1E}"
            row[col["po_number"]] = new
            return "po_number", new, f"Excel turned {v} into {new}"
        if kind == "bad_date_format":
            feed = "procurement" if "po_date" in col else "hiring"
            name = DATE_COLUMNS[feed][int(rng.integers(len(DATE_COLUMNS[feed])))]
            v = date.fromisoformat(row[col[name]])
            new = f"{v:%d/%m/%Y}" if rng.random() < 0.5 else str((v - EXCEL_EPOCH).days)
            row[col[name]] = new
            return name, new, f"{v.isoformat()} written as {new}"
        if kind == "unknown_currency":
            old = row[col["currency"]]
            row[col["currency"]] = "XXZ"
            return "currency", "XXZ", f"currency {old} replaced by a code without a rate"
        if kind == "pii_in_team":
            email = f"applicant{int(rng.integers(100, 999))}@example.net"
            row[col["team"]] = f"{row[col['team']]} ({email})"
            return "team", row[col["team"]], "candidate e-mail inside team"
        if kind == "orphan_offer_req":
            new = f"REQ-9{int(rng.integers(10000, 99999))}"
            row[col["req_id"]] = new
            return "req_id", new, "offer for a requisition not in the delivery"
        # milestones (dicts)
        if kind == "percent_over_100":
            new = 100 + int(rng.integers(1, 40))
            row["percent_complete"] = new
            return "percent_complete", new, "percent_complete above 100"
        if kind == "percent_as_text":
            new = f"{int(row['percent_complete'])}%"
            row["percent_complete"] = new
            return "percent_complete", new, "percent_complete as text with a % sign"
        if kind == "actual_after_status":
            new = (
                date.fromisoformat(row["status_date"]) + timedelta(days=int(rng.integers(1, 10)))
            ).isoformat()
            row["actual_date"] = new
            return "actual_date", new, "actual_date after status_date"
        if kind == "complete_without_actual":
            row["actual_date"] = None
            return "actual_date", None, "status complete without actual_date"
        raise ValueError(kind)
