"""ERP: purchase-order lines, kept as compact numpy columns and extracted as CSV deltas.

The book is simulated week by week from the history start. Each week, per spending bucket
(a workstream, or a site for data_centers), receipts close the gap between the received
value and the scenario's target (spend pace x budget to date, or a site's earned value /
CPI), and new lines keep the open backlog covering the next few weeks of target. Lines are
received in order of due week; a share of them is given a requested delivery date before
their due week, so on-time delivery lands where the scenario puts it. The first generated
week delivers a full extract of the book; later weeks deliver deltas.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from buildout_tracker.feeds.enums import WORKSTREAMS
from buildout_tracker.generator import scenario
from buildout_tracker.generator.common import (
    Delivery,
    epoch_seconds,
    hamilton,
    iso_ts,
    rng_for,
)
from buildout_tracker.generator.pmo import Program
from buildout_tracker.generator.treasury import CURRENCIES, Treasury

if TYPE_CHECKING:
    from buildout_tracker.generator.project_controls import ProjectControls
    from buildout_tracker.generator.sinks import Sink

HEADER = [
    "po_number", "po_line", "po_date", "change_ts", "supplier_id", "supplier_name", "workstream",
    "category", "site_id", "description", "quantity", "uom", "unit_price", "currency",
    "net_value", "requested_delivery_date", "received_qty", "last_receipt_date", "status",
    "deleted",
]  # fmt: skip
STATUSES = ("open", "partially_received", "received", "closed", "cancelled")
OPEN, PARTIAL, RECEIVED, CLOSED, CANCELLED = range(5)
CATEGORIES = (
    "gpu_accelerators", "servers", "networking", "storage", "eda_tools", "ip_licensing",
    "wafer_fab", "land", "construction", "power_electrical", "cooling", "software_licenses",
    "cloud_services", "professional_services",
)  # fmt: skip
CAT = {c: i for i, c in enumerate(CATEGORIES)}
UOMS = ("EA", "LOT", "HR", "MTH", "M")
# category: (unit of measure, lowest and highest quantity); M (metres) takes halves
CATEGORY_UNITS = {
    "gpu_accelerators": ("EA", 8, 512), "servers": ("EA", 4, 256), "networking": ("EA", 10, 800),
    "storage": ("EA", 2, 120), "eda_tools": ("EA", 5, 200), "ip_licensing": ("LOT", 1, 3),
    "wafer_fab": ("EA", 25, 2500), "land": ("LOT", 1, 1), "construction": ("LOT", 1, 4),
    "power_electrical": ("M", 200, 8000), "cooling": ("EA", 2, 40),
    "software_licenses": ("EA", 10, 2000), "cloud_services": ("MTH", 1, 36),
    "professional_services": ("HR", 40, 4000),
}  # fmt: skip
WS_CATEGORIES: dict[str, dict[str, float]] = {
    "compute_hardware": {
        "gpu_accelerators": 0.4,
        "servers": 0.25,
        "networking": 0.15,
        "storage": 0.1,
        "professional_services": 0.1,
    },
    "chip_development": {
        "eda_tools": 0.25,
        "ip_licensing": 0.15,
        "wafer_fab": 0.45,
        "professional_services": 0.15,
    },
    "data_centers": {"land": 0.05, "construction": 0.45, "power_electrical": 0.3, "cooling": 0.2},
    "ai_software": {"software_licenses": 0.4, "cloud_services": 0.4, "professional_services": 0.2},
}
WS_CURRENCIES: dict[str, dict[str, float]] = {
    "compute_hardware": {"USD": 0.7, "JPY": 0.1, "EUR": 0.1, "CNY": 0.1},
    "chip_development": {"USD": 0.5, "EUR": 0.2, "JPY": 0.15, "CNY": 0.15},
    "ai_software": {"USD": 0.7, "EUR": 0.15, "SGD": 0.15},
}
SUPPLIER_SHARE = {
    "compute_hardware": 0.25,
    "chip_development": 0.2,
    "data_centers": 0.4,
    "ai_software": 0.15,
}
DESCRIPTIONS = {
    "gpu_accelerators": ("GPU accelerator module, 8-way baseboard", "Accelerator card 141GB HBM", 'Accelerator tray, "hot-swap" rev B'),
    "servers": ("2U GPU server, dual CPU", "Compute node, liquid-cooled", "Head node 1U"),
    "networking": ("800G switch, 64 ports", "Optical transceiver 800G DR8", "Cable assembly, AOC 3m"),
    "storage": ("NVMe storage shelf 1PB", "Object storage node", "Parallel FS metadata server"),
    "eda_tools": ("EDA seat, synthesis", "Timing signoff licence, 12 months", "Simulation seat\nincl. support"),
    "ip_licensing": ("SerDes IP licence", "HBM PHY licence, per tape-out", "CPU core IP, royalty prepay"),
    "wafer_fab": ("Wafer, 7nm MPW shuttle", "Production wafer lot", "Engineering wafers, split lot"),
    "land": ("Land parcel purchase", "Easement and access rights", "Site survey, geotechnical"),
    "construction": ("Shell and core, phase 1", "Civil works, foundations", 'Steel frame, "package 3"', "Construction management fee,\nmonthly"),
    "power_electrical": ("MV cable 33kV", "LV busway, data hall", "Switchgear line-up, 2N"),
    "cooling": ("Chiller 2MW, air-cooled", "CDU, direct-to-chip", "Dry cooler, adiabatic"),
    "software_licenses": ("MLOps platform subscription", "Observability licence, per host", "Database licence, enterprise"),
    "cloud_services": ("GPU cloud capacity, reserved", "Object storage, monthly", "Managed Kubernetes, monthly"),
    "professional_services": ("Integration services, T&M", "Design consultancy, hours", "Commissioning support, per hour"),
}  # fmt: skip
SUPPLIER_STEMS = (
    "Apex", "Borealis", "Cedar", "Delta", "Everbright", "Fjord", "Granite", "Helix", "Ionic",
    "Jade", "Kestrel", "Lumen", "Meridian", "Nimbus", "Orion", "Pioneer", "Quantum", "Redwood",
    "Summit", "Titan", "Umbra", "Vertex", "Westgate", "Zenith", "Müller", "Søndergaard",
    "São Bento", "Kühne", "Nakamura", "Lindqvist",
)  # fmt: skip
SUPPLIER_KINDS = (
    "Systems", "Technologies", "Engineering", "Industrial", "Electric", "Construction",
    "Semiconductor", "Cloud", "Networks", "Cooling", "Power",
)  # fmt: skip
SUPPLIER_SUFFIXES = ("Inc.", "Ltd", "GmbH", "AS", "Pte. Ltd.", "K.K.", "Ltda", "B.V.", "Co., Ltd.")
LEAD_WEEKS = 5
DELTA_DUPLICATE_SHARE = 0.01


@dataclass(frozen=True)
class Catalog:
    """Suppliers and the text lookups rows are written with."""

    supplier_ids: list[str]
    supplier_names: list[str]
    supplier_ws: np.ndarray  # workstream index of each supplier
    site_ids: list[str]

    @classmethod
    def build(cls, seed: int, n_suppliers: int, site_ids: list[str]) -> Catalog:
        rng = rng_for(seed, "erp", "suppliers")
        counts = hamilton(n_suppliers, np.array([SUPPLIER_SHARE[w] for w in WORKSTREAMS]))
        ids: list[str] = []
        names: list[str] = []
        ws: list[int] = []
        for w, c in enumerate(counts):
            for _ in range(int(c)):
                n = len(ids)
                ids.append(f"{100000 + n * 7 + int(rng.integers(0, 7)):07d}")
                stem = SUPPLIER_STEMS[int(rng.integers(len(SUPPLIER_STEMS)))]
                kind = SUPPLIER_KINDS[int(rng.integers(len(SUPPLIER_KINDS)))]
                suffix = SUPPLIER_SUFFIXES[int(rng.integers(len(SUPPLIER_SUFFIXES)))]
                names.append(f"{stem} {kind} {suffix}")
                ws.append(w)
        return cls(ids, names, np.array(ws, dtype=np.int8), list(site_ids))

    def suppliers_of(self, ws: int) -> np.ndarray:
        return np.nonzero(self.supplier_ws == ws)[0]


# Book columns and their dtypes.
COLUMNS: dict[str, type] = {
    "po": np.int64, "line": np.int32, "bucket": np.int32, "ws": np.int8, "cat": np.int8,
    "site": np.int32, "supplier": np.int32, "cur": np.int8, "uom": np.int8, "desc": np.int8,
    "po_date": np.int32, "rdd": np.int32, "due": np.int32, "parts": np.int8, "qty2": np.int64,
    "price": np.int64, "rec2": np.int64, "last_rec": np.int32, "status": np.int8,
    "deleted": np.bool_, "ts": np.int64, "close_week": np.int32,
}  # fmt: skip


class Book:
    """Growable columnar store of PO lines: one entry per line, its current version."""

    def __init__(self, capacity: int = 4096) -> None:
        self.n = 0
        self.cols: dict[str, np.ndarray] = {
            name: np.zeros(capacity, dtype=dt) for name, dt in COLUMNS.items()
        }

    def __getitem__(self, name: str) -> np.ndarray:
        return self.cols[name][: self.n]

    def append(self, new: dict[str, np.ndarray]) -> np.ndarray:
        m = len(new["po"])
        if self.n + m > len(self.cols["po"]):
            cap = max(2 * len(self.cols["po"]), self.n + m)
            for name, arr in self.cols.items():
                grown = np.zeros(cap, dtype=arr.dtype)
                grown[: self.n] = arr[: self.n]
                self.cols[name] = grown
        for name, arr in self.cols.items():
            arr[self.n : self.n + m] = new[name]
        idx = np.arange(self.n, self.n + m)
        self.n += m
        return idx


def _fmt_half(q2: int) -> str:
    return str(q2 // 2) if q2 % 2 == 0 else f"{q2 // 2}.5"


def _fmt_cents(c: int) -> str:
    return f"{c // 100}.{c % 100:02d}"


def format_rows(
    cols: dict[str, np.ndarray], idx: np.ndarray, catalog: Catalog
) -> Iterator[list[str]]:
    """CSV rows of the given lines, in HEADER order."""
    dates: dict[int, str] = {}

    def d(n: int) -> str:
        s = dates.get(n)
        if s is None:
            s = dates[n] = date.fromordinal(n).isoformat()
        return s

    c = {k: v[idx].tolist() for k, v in cols.items() if k in COLUMNS}
    for j in range(len(idx)):
        q2, price, rec2 = c["qty2"][j], c["price"][j], c["rec2"][j]
        site = c["site"][j]
        cat = CATEGORIES[c["cat"][j]]
        yield [
            f"{c['po'][j]:010d}",
            str(c["line"][j]),
            d(c["po_date"][j]),
            iso_ts(c["ts"][j]),
            catalog.supplier_ids[c["supplier"][j]],
            catalog.supplier_names[c["supplier"][j]],
            WORKSTREAMS[c["ws"][j]],
            cat,
            catalog.site_ids[site] if site >= 0 else "",
            DESCRIPTIONS[cat][c["desc"][j] % len(DESCRIPTIONS[cat])],
            _fmt_half(q2),
            UOMS[c["uom"][j]],
            _fmt_cents(price),
            CURRENCIES[c["cur"][j]],
            _fmt_cents(q2 * price // 2),
            d(c["rdd"][j]),
            _fmt_half(rec2),
            d(c["last_rec"][j]) if rec2 > 0 else "",
            STATUSES[c["status"][j]],
            "true" if c["deleted"][j] else "false",
        ]


def new_lines(
    rng: np.random.Generator,
    n: int,
    ws: int,
    value_usd: float,
    rates: np.ndarray,
    week_start: date,
    due_week: int,
    due_week_start: date,
    on_time: float,
    catalog: Catalog,
    site: int = -1,
    site_currency: str | None = None,
) -> dict[str, np.ndarray]:
    """n new lines of one workstream worth value_usd in total, grouped into purchase orders."""
    wsname = WORKSTREAMS[ws]
    sizes = rng.integers(1, 7, size=n)
    po_of_line = np.repeat(np.arange(n), sizes)[:n]
    n_po = int(po_of_line[-1]) + 1
    pool = catalog.suppliers_of(ws)
    p = 1.0 / (np.arange(len(pool)) + 1.0) ** 0.9
    supplier = pool[rng.choice(len(pool), size=n_po, p=p / p.sum())][po_of_line]
    if site_currency is not None:
        cur = np.full(n, CURRENCIES.index(site_currency), dtype=np.int8)
    else:
        mix = WS_CURRENCIES[wsname]
        cur_po = rng.choice([CURRENCIES.index(x) for x in mix], size=n_po, p=list(mix.values()))
        cur = cur_po[po_of_line].astype(np.int8)
    po_day = rng.integers(0, 5, size=n_po)[po_of_line]
    po_date = week_start.toordinal() + po_day
    ts = (
        epoch_seconds(week_start)
        + po_day * 86400
        + rng.integers(8 * 3600, 18 * 3600, size=n_po)[po_of_line]
    )
    cats = list(WS_CATEGORIES[wsname])
    cat_names = rng.choice(len(cats), size=n, p=list(WS_CATEGORIES[wsname].values()))
    cat = np.array([CAT[cats[i]] for i in cat_names], dtype=np.int8)
    uom = np.empty(n, dtype=np.int8)
    qty2 = np.empty(n, dtype=np.int64)
    for i in range(n):
        u, lo, hi = CATEGORY_UNITS[CATEGORIES[cat[i]]]
        uom[i] = UOMS.index(u)
        q = float(np.exp(rng.uniform(np.log(lo), np.log(hi + 1))))
        qty2[i] = max(1, int(q * 2)) if u == "M" else 2 * max(lo, min(hi, int(q)))
    share = rng.lognormal(0.0, 0.9, size=n)
    local = value_usd * share / share.sum() / rates[cur]
    price = np.round(local * 100 / (qty2 / 2)).astype(np.int64)
    jpy = cur == CURRENCIES.index("JPY")
    price[jpy] = np.round(price[jpy] / 100).astype(np.int64) * 100
    odd = qty2 % 2 == 1
    price[odd] += price[odd] % 2  # halves times even cents stay exact to the cent
    price[rng.random(n) < 0.003] = 0  # no-charge lines (spares, warranty)
    due = due_week + rng.integers(-1, 2, size=n)
    due_mid = due_week_start.toordinal() + 7 * (due - due_week) + 2
    late = rng.random(n) >= on_time
    rdd = np.where(
        late, due_mid - rng.integers(7, 36, size=n), due_mid + rng.integers(10, 36, size=n)
    )
    rdd = np.maximum(rdd, po_date)
    return {
        "po": np.zeros(n, dtype=np.int64),  # numbered by the caller
        "line": np.zeros(n, dtype=np.int32),
        "po_group": po_of_line,
        "bucket": np.zeros(n, dtype=np.int32),
        "ws": np.full(n, ws, dtype=np.int8),
        "cat": cat,
        "site": np.full(n, site, dtype=np.int32),
        "supplier": supplier.astype(np.int32),
        "cur": cur,
        "uom": uom,
        "desc": rng.integers(0, 12, size=n).astype(np.int8),
        "po_date": po_date.astype(np.int32),
        "rdd": rdd.astype(np.int32),
        "due": due.astype(np.int32),
        "parts": rng.choice([1, 2, 3], size=n, p=[0.65, 0.25, 0.1]).astype(np.int8),
        "qty2": qty2,
        "price": price,
        "rec2": np.zeros(n, dtype=np.int64),
        "last_rec": np.zeros(n, dtype=np.int32),
        "status": np.zeros(n, dtype=np.int8),
        "deleted": np.zeros(n, dtype=np.bool_),
        "ts": ts.astype(np.int64),
        "close_week": np.full(n, 1 << 30, dtype=np.int32),
    }


class Erp:
    def __init__(self, program: Program, treasury: Treasury, controls: ProjectControls) -> None:
        self.program = program
        self.treasury = treasury
        self.controls = controls
        self.catalog = Catalog.build(
            program.seed, program.scale.suppliers, [s.site_id for s in program.sites]
        )
        self.book = Book()
        self.next_po = {"A": 4500000000, "B": 45000000}  # B: the company code with leading zeros
        self.n_buckets = 3 + len(program.sites)
        self.bucket_ws = np.array(
            [WORKSTREAMS.index(w) for w in ("compute_hardware", "chip_development", "ai_software")]
            + [WORKSTREAMS.index("data_centers")] * len(program.sites),
            dtype=np.int8,
        )
        self.k = -program.history_weeks - 1
        self.carry: set[int] = set()  # lines to repeat in the next delta (e.g. after a bad row)

    # targets ------------------------------------------------------------------------------
    def target(self, k: int) -> np.ndarray:
        """Cumulative received USD each bucket should reach at week k."""
        d = self.program.status_date(k)
        out = np.zeros(self.n_buckets)
        for b, ws in enumerate(("compute_hardware", "chip_development", "ai_software")):
            pace = scenario.at(scenario.SPEND_PACE[ws], k)
            out[b] = pace * self.program.budget_to_date(ws, d)
        out[3:] = self.controls.earned_value(k) / scenario.at(scenario.CPI, k)
        return out

    def _unit_usd2(self, rates: np.ndarray) -> np.ndarray:
        b = self.book
        return b["price"] / 100.0 * rates[b["cur"]] / 2.0

    # one week -----------------------------------------------------------------------------
    def step(self) -> np.ndarray:
        """Advance one week; returns the indices of lines that changed."""
        self.k += 1
        k, b, p = self.k, self.book, self.program
        rng = rng_for(p.seed, "erp", k)
        ws_start = p.week_start(k)
        week0 = epoch_seconds(ws_start)
        rates = self.treasury.usd_per_unit(k)
        changed: list[np.ndarray] = []
        status, deleted, ts = b["status"], b["deleted"], b["ts"]

        def touch(idx: np.ndarray, day_lo: int = 0) -> None:
            when = week0 + rng.integers(day_lo, 5, size=len(idx)) * 86400
            when = when + rng.integers(7 * 3600, 19 * 3600, size=len(idx))
            ts[idx] = np.maximum(when, ts[idx] + 60)
            changed.append(idx)

        if b.n:
            closing = np.nonzero((status == RECEIVED) & (b["close_week"] == k))[0]
            status[closing] = CLOSED
            touch(closing)
            untouched = (status == OPEN) & ~deleted & (b["rec2"] == 0) & (b["due"] > k + 1)
            u = rng.random(b.n)
            cancel = np.nonzero(untouched & (u < 0.004))[0]
            status[cancel] = CANCELLED
            touch(cancel)
            delete = np.nonzero(untouched & (u >= 0.004) & (u < 0.0055))[0]
            deleted[delete] = True
            touch(delete)
            edit = np.nonzero(untouched & (u >= 0.0055) & (u < 0.0155))[0]
            reprice = edit[rng.random(len(edit)) < 0.5]
            price = b["price"]
            price[reprice] = np.round(price[reprice] * rng.uniform(0.95, 1.05, len(reprice)))
            odd = reprice[b["qty2"][reprice] % 2 == 1]
            price[odd] += price[odd] % 2
            push = np.setdiff1d(edit, reprice)
            b["rdd"][push] += rng.integers(7, 29, size=len(push))
            touch(edit)
            changed.append(self._receive(k, rng, rates, week0))
        changed.append(self._create(k, rng, rates))
        if not changed:
            return np.zeros(0, dtype=np.int64)
        return np.unique(np.concatenate(changed)).astype(np.int64)

    def _receive(
        self, k: int, rng: np.random.Generator, rates: np.ndarray, week0: int
    ) -> np.ndarray:
        b = self.book
        unit = self._unit_usd2(rates)
        received_usd = np.bincount(b["bucket"], weights=b["rec2"] * unit, minlength=self.n_buckets)
        gap = self.target(k) - received_usd
        status = b["status"]
        open_idx = np.nonzero(
            ((status == OPEN) | (status == PARTIAL)) & ~b["deleted"] & (b["rec2"] < b["qty2"])
        )[0]
        if not len(open_idx):
            return open_idx
        order = np.lexsort((open_idx, b["due"][open_idx], b["bucket"][open_idx]))
        idx = open_idx[order]
        step2 = np.where(b["uom"][idx] == UOMS.index("M"), 1, 2)
        remaining = b["qty2"][idx] - b["rec2"][idx]
        frac = rng.uniform(0.3, 0.6, size=len(idx))
        part = np.maximum(step2, (remaining * frac // step2) * step2)
        planned = np.where(b["parts"][idx] > 1, np.minimum(part, remaining), remaining)
        planned_usd = planned * unit[idx]
        add = np.zeros(len(idx), dtype=np.int64)
        buckets = b["bucket"][idx]
        bounds = np.searchsorted(buckets, np.arange(self.n_buckets + 1))
        for bk in range(self.n_buckets):
            lo, hi = bounds[bk], bounds[bk + 1]
            if hi == lo or gap[bk] <= 0:
                continue
            cs = np.cumsum(planned_usd[lo:hi])
            n_full = int(np.searchsorted(cs, gap[bk], side="right"))
            add[lo : lo + n_full] = planned[lo : lo + n_full]
            if n_full < hi - lo:
                left = gap[bk] - (cs[n_full - 1] if n_full else 0.0)
                j = lo + n_full
                if unit[idx[j]] > 0:
                    q = int(left / unit[idx[j]]) // step2[j] * step2[j]
                    add[j] = min(q, planned[j])
        hit = add > 0
        idx, add = idx[hit], add[hit]
        b["rec2"][idx] += add
        full = b["rec2"][idx] == b["qty2"][idx]
        status[idx] = np.where(full, RECEIVED, PARTIAL)
        b["parts"][idx] = np.maximum(b["parts"][idx] - 1, 1)
        b["close_week"][idx[full]] = k + rng.integers(1, 7, size=int(full.sum()))
        day = week0 // 86400 + rng.integers(0, 5, size=len(idx))
        ordinal = day + date(1970, 1, 1).toordinal()
        ordinal = np.maximum(ordinal, b["po_date"][idx])
        b["last_rec"][idx] = np.maximum(b["last_rec"][idx], ordinal)
        when = (ordinal - date(1970, 1, 1).toordinal()) * 86400 + rng.integers(
            7 * 3600, 19 * 3600, size=len(idx)
        )
        b["ts"][idx] = np.maximum(when, b["ts"][idx] + 60)
        return idx

    def _create(self, k: int, rng: np.random.Generator, rates: np.ndarray) -> np.ndarray:
        b, p = self.book, self.program
        unit = self._unit_usd2(rates)
        received = np.bincount(b["bucket"], weights=b["rec2"] * unit, minlength=self.n_buckets)
        live_open = ((b["status"] == OPEN) | (b["status"] == PARTIAL)) & ~b["deleted"]
        backlog = np.bincount(
            b["bucket"][live_open],
            weights=((b["qty2"] - b["rec2"]) * unit)[live_open],
            minlength=self.n_buckets,
        )
        need = self.target(k + LEAD_WEEKS) - received - backlog
        need = np.where(need > 1e5, need, 0.0)
        if not need.any():
            return np.zeros(0, dtype=np.int64)
        total = p.scale.history_new_lines if k < 0 else p.scale.new_lines
        counts = np.maximum(hamilton(total, need), (need > 0).astype(np.int64))
        made = []
        for bk in range(self.n_buckets):
            if counts[bk] == 0:
                continue
            ws = int(self.bucket_ws[bk])
            site = bk - 3 if bk >= 3 else -1
            cols = new_lines(
                rng,
                int(counts[bk]),
                ws,
                float(need[bk]) * rng.uniform(1.0, 1.1),
                rates,
                p.week_start(k),
                k + LEAD_WEEKS,
                p.week_start(k + LEAD_WEEKS),
                scenario.at(scenario.ON_TIME[WORKSTREAMS[ws]], k),
                self.catalog,
                site,
                p.sites[site].currency if site >= 0 else None,
            )
            cols["bucket"][:] = bk
            self._number(
                cols, "B" if WORKSTREAMS[ws] in ("chip_development", "ai_software") else "A"
            )
            made.append(b.append(cols))
        return np.concatenate(made)

    def _number(self, cols: dict[str, np.ndarray], series: str) -> None:
        group = cols.pop("po_group")
        first = self.next_po[series]
        cols["po"][:] = first + group
        starts = np.r_[0, np.nonzero(np.diff(group))[0] + 1]
        pos = np.arange(len(group)) - np.repeat(starts, np.diff(np.r_[starts, len(group)]))
        cols["line"][:] = 10 * (pos + 1)
        self.next_po[series] = first + int(group[-1]) + 1

    # extracts -----------------------------------------------------------------------------
    def run_history(self) -> None:
        while self.k < -1:
            self.step()

    def week_delivery(self) -> Delivery:
        """Advance to the next week and return its extract (the first one is a full extract)."""
        changed = self.step()
        k, b, p = self.k, self.book, self.program
        saturday = p.week_start(k) + timedelta(days=5)
        if k == 0:
            idx = np.arange(b.n)
            name = f"po_lines_full_{saturday:%Y%m%d}.csv"
        else:
            rng = rng_for(p.seed, "erp-extract", k)
            carry = np.array(sorted(self.carry), dtype=np.int64)
            self.carry.clear()
            base = np.union1d(changed, carry)
            n_rep = int(len(base) * p.scale.repeat_share)
            pool = np.setdiff1d(np.arange(b.n), base)
            rep = rng.choice(pool, size=min(n_rep, len(pool)), replace=False) if len(pool) else pool
            dup = rng.choice(base, size=int(len(base) * DELTA_DUPLICATE_SHARE), replace=False)
            idx = np.concatenate([base, rep, dup])
            idx = idx[np.lexsort((idx, b["line"][idx], b["po"][idx]))]
            name = f"po_lines_delta_{saturday:%Y%m%d}.csv"
        rows = format_rows(b.cols, idx, self.catalog)
        delivery = Delivery("procurement", saturday, name, list(HEADER), rows, len(idx))
        delivery.meta["line_index"] = idx
        return delivery


@dataclass(frozen=True)
class FullExtract:
    target: str  # file path or landing key
    rows: int
    bytes: int


def _random_chunk(
    rng: np.random.Generator,
    n: int,
    first_po: int,
    as_of: date,
    catalog: Catalog,
    site_currency: list[str],
) -> dict[str, np.ndarray]:
    """n independent, valid lines for a benchmark extract."""
    ws = rng.choice(4, size=n, p=[0.35, 0.15, 0.35, 0.15]).astype(np.int8)
    cols: dict[str, np.ndarray] = {}
    parts = []
    for w in range(4):
        m = int((ws == w).sum())
        if not m:
            continue
        sites = (
            rng.integers(0, len(catalog.site_ids), size=m)
            if WORKSTREAMS[w] == "data_centers"
            else None
        )
        start = as_of - timedelta(days=int(rng.integers(7, 700)))
        chunk = new_lines(
            rng, m, w, float(m) * 250_000.0, np.ones(len(CURRENCIES)), start - timedelta(days=start.weekday()),
            0, start + timedelta(weeks=8), 0.9, catalog,
            site=0 if sites is not None else -1, site_currency="USD" if sites is not None else None,
        )  # fmt: skip
        if sites is not None:
            chunk["site"][:] = sites
            chunk["cur"][:] = [CURRENCIES.index(site_currency[s]) for s in sites]
        parts.append(chunk)
    for name in parts[0]:
        cols[name] = np.concatenate([c[name] for c in parts])
    group = cols.pop("po_group")
    cols["po"] = first_po + np.cumsum(np.r_[0, (np.diff(group) != 0) | (np.diff(cols["ws"]) != 0)])
    starts = np.r_[0, np.nonzero(np.diff(cols["po"]))[0] + 1]
    pos = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    cols["line"] = (10 * (pos + 1)).astype(np.int32)
    # Spread purchase orders over two years and receive a share of the lines.
    shift = rng.integers(0, 700, size=int(cols["po"][-1] - first_po) + 1)[cols["po"] - first_po]
    cols["po_date"] = np.minimum(cols["po_date"] - shift, as_of.toordinal()).astype(np.int32)
    cols["rdd"] = np.maximum(cols["rdd"] - shift, cols["po_date"]).astype(np.int32)
    cols["ts"] = cols["ts"] - shift * 86400
    u = rng.random(n)
    step2 = np.where(cols["uom"] == UOMS.index("M"), 1, 2)
    rec = np.where(
        u < 0.5,
        cols["qty2"],
        np.where(u < 0.7, (cols["qty2"] * rng.uniform(0, 1, n) // step2) * step2, 0),
    )
    cols["rec2"] = rec.astype(np.int64)
    last = cols["po_date"] + rng.integers(0, 120, size=n)
    cols["last_rec"] = np.where(rec > 0, np.minimum(last, as_of.toordinal()), 0).astype(np.int32)
    cols["ts"] = np.maximum(
        cols["ts"],
        (cols["last_rec"].astype(np.int64) - date(1970, 1, 1).toordinal()) * 86400 + 43200,
    )
    status = np.where(
        rec == cols["qty2"],
        np.where(rng.random(n) < 0.4, CLOSED, RECEIVED),
        np.where(rec > 0, PARTIAL, OPEN),
    )
    status = np.where((rec == 0) & (rng.random(n) < 0.03), CANCELLED, status)
    cols["status"] = status.astype(np.int8)
    cols["deleted"] = (rec == 0) & (rng.random(n) < 0.01)
    return cols


def write_full_extract(
    path_or_sink: str | os.PathLike[str] | Sink,
    n_lines: int,
    seed: int = 7,
    as_of: date = date(2026, 9, 12),
    scale: str = "large",
    chunk_lines: int = 50_000,
) -> FullExtract:
    """One large procurement full extract, written in chunks of `chunk_lines`.

    Site ids and suppliers are those of `scale`'s program for the same seed. Given a sink,
    the file is spooled to a temporary file and handed over (`put_file` when the sink has
    one), under procurement/<as_of>/po_lines_full_<yyyymmdd>.csv.
    """
    from buildout_tracker.generator.pmo import Program
    from buildout_tracker.generator.scales import get_scale
    from buildout_tracker.weeks import week_key

    program = Program(week_key(as_of), 1, get_scale(scale), seed)
    catalog = Catalog.build(seed, program.scale.suppliers, [s.site_id for s in program.sites])
    currencies = [s.currency for s in program.sites]
    if isinstance(path_or_sink, (str, os.PathLike)):
        path = Path(path_or_sink)
        path.parent.mkdir(parents=True, exist_ok=True)
        size = _write_extract_file(path, n_lines, seed, as_of, catalog, currencies, chunk_lines)
        return FullExtract(str(path), n_lines, size)
    key = f"procurement/{as_of.isoformat()}/po_lines_full_{as_of:%Y%m%d}.csv"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "extract.csv"
        size = _write_extract_file(path, n_lines, seed, as_of, catalog, currencies, chunk_lines)
        put_file = getattr(path_or_sink, "put_file", None)
        if put_file is not None:
            put_file(key, path)
        else:
            path_or_sink.put(key, path.read_bytes())
    return FullExtract(key, n_lines, size)


def _write_extract_file(
    path: Path,
    n_lines: int,
    seed: int,
    as_of: date,
    catalog: Catalog,
    currencies: list[str],
    chunk_lines: int,
) -> int:
    import csv

    rng = rng_for(seed, "full-extract", n_lines)
    first_po = 4500000000
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(HEADER)
        done = 0
        while done < n_lines:
            m = min(chunk_lines, n_lines - done)
            cols = _random_chunk(rng, m, first_po, as_of, catalog, currencies)
            first_po = int(cols["po"][-1]) + 1
            writer.writerows(format_rows(cols, np.arange(m), catalog))
            done += m
    return path.stat().st_size
