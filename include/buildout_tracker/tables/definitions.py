"""Definitions shared by the published tables (docs/data-dictionary.md, "Shared
definitions"): live lines, USD at the rate in force, plans to date, hires, slips, ratios, the
forecasts at completion of earned value, last week's rows. Every table module takes them from
here, so that one number means one thing in every table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa

from buildout_tracker import weeks
from buildout_tracker.feeds.enums import MILESTONE_CODES, WORKSTREAMS
from buildout_tracker.model import WeekInputs
from buildout_tracker.tables.arrow import isnull
from buildout_tracker.weeks import plan_share_to_date

PROGRAM = "program"
AREAS: tuple[str, ...] = (PROGRAM, *WORKSTREAMS)
MILESTONE_SEQ: dict[str, int] = {code: i + 1 for i, code in enumerate(MILESTONE_CODES)}


class MissingFxRate(ValueError):
    """A live PO line's currency has no rate on or before the status date."""


DATE_UNIT: Final = "datetime64[us]"


def dates(s: pd.Series) -> pd.Series:
    """Naive datetime64 at midnight whatever arrived (date objects, strings, timestamps).

    In microseconds, the unit the validated zone and the state store dates in: every date
    from year 1 to 9999 fits, where nanoseconds end in 2262 (a `9999-12-31` that reached the
    state would otherwise stop every publication). Every date the tables compute with goes
    through here, so they all share one unit and no arithmetic mixes in nanoseconds.
    """
    out = pd.to_datetime(s, errors="coerce")
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    return out.astype(DATE_UNIT).dt.normalize()


def ts(d: date) -> pd.Timestamp:
    return pd.Timestamp(d)


def text(s: pd.Series) -> pd.Series:
    """Values as plain `str` (object dtype), nulls (None, NaN, NA, NaT) as None.

    Converts each distinct value once, so a column of a million PO lines with a few hundred
    suppliers costs a few hundred `str()` calls. An object column mixing types (1 and "1")
    is converted value by value, since factorizing would merge 1, 1.0 and True.
    """
    if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) not in ("string", "empty"):
        values = [None if isnull(v) else str(v) for v in s.tolist()]
        return pd.Series(values, index=s.index, dtype=object, name=s.name)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    labels = np.array([*(str(u) for u in uniques), None], dtype=object)
    return pd.Series(labels[codes], index=s.index, dtype=object, name=s.name)


def week_bounds(inputs: WeekInputs) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Monday and Sunday of the week, both inclusive."""
    sunday = inputs.status_date
    return ts(sunday - timedelta(days=6)), ts(sunday)


def current_lines(po_lines: pd.DataFrame) -> pd.DataFrame:
    """One row per (po_number, po_line): the version with the greatest change_ts.

    The model already hands over current versions; a line that still arrives twice (the same
    line sent twice in one file) must not be counted twice, so the later row wins here too.
    """
    po = po_lines.reset_index(drop=True).copy()
    if not po.duplicated(["po_number", "po_line"]).any():
        return po  # the usual case: nothing to choose between
    po["_row"] = np.arange(len(po))
    order = ["change_ts", "_row"] if "change_ts" in po.columns else ["_row"]
    po = po.sort_values(order, kind="mergesort", na_position="first")
    po = po.drop_duplicates(["po_number", "po_line"], keep="last")
    return po.sort_values("_row", kind="mergesort").drop(columns="_row").reset_index(drop=True)


def live_mask(po: pd.DataFrame) -> pd.Series:
    """Live: current (the caller passes current lines), not deleted, status not cancelled."""
    deleted = po["deleted"].astype("boolean").fillna(False).astype(bool)
    cancelled = po["status"].astype("object").eq("cancelled").fillna(False).astype(bool)
    return ~deleted & ~cancelled


def fx_in_force(fx_rates: pd.DataFrame, status_date: date) -> dict[str, float]:
    """usd_per_unit of each currency's latest rate_date on or before the status date; USD = 1."""
    rates: dict[str, float] = {}
    if fx_rates is not None and len(fx_rates):
        fx = fx_rates.assign(rate_date=dates(fx_rates["rate_date"]))
        fx = fx[fx["rate_date"] <= ts(status_date)]
        fx = fx.sort_values(["currency", "rate_date"], kind="mergesort")
        latest = fx.drop_duplicates("currency", keep="last")
        rates = {
            str(c): float(r)
            for c, r in zip(latest["currency"], latest["usd_per_unit"], strict=True)
        }
    rates["USD"] = 1.0
    return rates


def line_amounts(inputs: WeekInputs) -> pd.DataFrame:
    """Current PO lines with `live`, `usd_per_unit`, `committed_usd` and `received_usd`.

    A live line whose currency has no rate on or before the status date stops the week with a
    named error: publishing it at 0 or dropping it would be a wrong number.
    """
    po = current_lines(inputs.po_lines)
    rates = fx_in_force(inputs.fx_rates, inputs.status_date)
    po["live"] = live_mask(po).to_numpy()
    currency = text(po["currency"]).str.upper()
    po["usd_per_unit"] = currency.map(rates).astype(float)
    missing = po["live"] & po["usd_per_unit"].isna()
    if missing.any():
        bad = sorted({str(c) for c in currency[missing]})
        raise MissingFxRate(
            f"{inputs.week}: no FX rate on or before {inputs.status_date} for {', '.join(bad)} "
            f"({int(missing.sum())} live PO lines)"
        )
    rate = po["usd_per_unit"].fillna(0.0)
    net = pd.to_numeric(po["net_value"], errors="coerce").astype(float).fillna(0.0)
    rec = pd.to_numeric(po["received_qty"], errors="coerce").astype(float).fillna(
        0.0
    ) * pd.to_numeric(po["unit_price"], errors="coerce").astype(float).fillna(0.0)
    po["committed_usd"] = np.where(po["live"], net * rate, 0.0)
    po["received_usd"] = np.where(po["live"], rec * rate, 0.0)
    for c in ("requested_delivery_date", "last_receipt_date"):
        po[c] = dates(po[c])
    po["quantity"] = pd.to_numeric(po["quantity"], errors="coerce").astype(float)
    po["received_qty"] = pd.to_numeric(po["received_qty"], errors="coerce").astype(float)
    return po


def plan_to_date(plan: pd.DataFrame, value: str, status_date: date) -> pd.Series:
    """Each plan row's amount due to date (rows keep their index)."""
    shares = plan["quarter"].map(lambda q: plan_share_to_date(str(q), status_date)).astype(float)
    return pd.to_numeric(plan[value], errors="coerce").astype(float).fillna(0.0) * shares


def highest_versions(offers: pd.DataFrame) -> pd.DataFrame:
    """The version of each offer_id that counts: its highest."""
    if offers is None or offers.empty:
        return pd.DataFrame(
            columns=["offer_id", "version", "req_id", "status", "extended_date", "resolved_date"]
        )
    o = offers.copy()
    o["version"] = pd.to_numeric(o["version"], errors="coerce")
    o = o.sort_values(["offer_id", "version"], kind="mergesort")
    o = o.drop_duplicates("offer_id", keep="last").reset_index(drop=True)
    o["extended_date"] = dates(o["extended_date"])
    o["resolved_date"] = dates(o["resolved_date"])
    return o


def hires(requisitions: pd.DataFrame, offers: pd.DataFrame) -> pd.DataFrame:
    """Every hire (highest version accepted) with hire_date and its requisition's keys.

    Columns: offer_id, req_id, hire_date, workstream, role_family. An accepted offer whose
    requisition is not in the snapshot cannot be attributed and is left out (the hiring feed
    rejects such offers before they get here).
    """
    top = highest_versions(offers)
    acc = top[top["status"].astype("object").eq("accepted").fillna(False).astype(bool)]
    acc = acc[acc["resolved_date"].notna()]
    reqs = requisitions[["req_id", "workstream", "role_family"]].astype("object")
    out = acc[["offer_id", "req_id", "resolved_date"]].astype({"req_id": "object"})
    out = out.merge(reqs, on="req_id", how="inner").rename(columns={"resolved_date": "hire_date"})
    return out.reset_index(drop=True)


def percentile(values: Sequence[float], q: float) -> float | None:
    """numpy's default (linear interpolation between order statistics); None when empty."""
    if len(values) == 0:
        return None
    return float(np.percentile(np.asarray(values, dtype=float), q))


def slip_days(
    complete: pd.Series, actual: pd.Series, forecast: pd.Series, baseline: pd.Series
) -> pd.Series:
    """(actual if complete, else forecast) minus baseline, in days; null when either is unknown."""
    basis = dates(actual).where(complete.to_numpy(), dates(forecast))
    diff = (basis - dates(baseline)).dt.days
    return diff.astype("Int64")


def ratio(num: float, den: float) -> float | None:
    """Null when the denominator is 0 (or unknown)."""
    if den is None or isnull(den) or den == 0 or num is None or isnull(num):
        return None
    return float(num) / float(den)


@dataclass(frozen=True)
class Forecast:
    """Earned value at completion, by the CPI method (docs/data-dictionary.md,
    `site_progress_weekly`): what a budget, its earned value and its actual cost forecast."""

    cpi: float | None  # ev / ac; null when ac is 0
    eac: float | None  # estimate at completion: bac / cpi; null when cpi is null or 0
    etc: float | None  # estimate to complete: eac - ac; null when eac is
    # variance at completion: bac - eac (negative is an overrun); null when eac is
    vac: float | None
    # to-complete performance index: (bac - ev) / (bac - ac); null when bac - ac <= 0
    tcpi: float | None


def forecast(bac: float, ev: float, ac: float) -> Forecast:
    """The forecasts at completion of one budget (a site, or an area's sums of its sites).

    EAC = BAC / CPI with CPI = EV / AC, null when CPI is null (AC = 0) or 0 (EV = 0); ETC = EAC -
    AC and VAC = BAC - EAC, null with EAC; TCPI = (BAC - EV) / (BAC - AC), the cost efficiency
    the remaining work needs to finish on budget, null when BAC - AC <= 0 (no budget left to
    spend: the budget is already spent or overspent).
    """
    bac, ev, ac = float(bac), float(ev), float(ac)
    cpi = ratio(ev, ac)
    eac = None if cpi is None or cpi == 0 else bac / cpi
    left = bac - ac
    return Forecast(
        cpi=cpi,
        eac=eac,
        etc=None if eac is None else eac - ac,
        vac=None if eac is None else bac - eac,
        tcpi=(bac - ev) / left if left > 0 else None,
    )


def change(now: object, last: object) -> float | None:
    """This week's value minus last week's; null when either is unknown."""
    if now is None or last is None or isnull(now) or isnull(last):
        return None
    return float(now) - float(last)  # type: ignore[arg-type]


def prior_frame(inputs: WeekInputs, table: str) -> pd.DataFrame | None:
    """Last week's published rows of a table, or None when last week published none.

    "Last week" is the ISO week before this one: rows of an older week (last week blocked, so
    the newest publication is older) are not last week's values and are ignored.
    """
    df = inputs.prior.get(table) if inputs.prior else None
    if df is None:
        return None
    if isinstance(df, pa.Table):
        df = df.to_pandas()
    if "week" in df.columns:
        df = df[df["week"].astype("object").map(str) == weeks.previous(inputs.week)]
    if df.empty:
        return None
    return df.reset_index(drop=True)


def keyed(df: pd.DataFrame, keys: Iterable[str]) -> pd.DataFrame:
    """Key columns as plain text so that this week's and last week's rows line up."""
    out = df.copy()
    for k in keys:
        out[k] = text(out[k])
    return out
