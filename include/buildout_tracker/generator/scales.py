"""How big a generated program is: one row per scale, read as a table."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    sites: int  # data-center sites in sites.csv
    history_weeks: int  # weeks simulated before the first week; they make the initial full extract
    history_new_lines: int  # new PO lines a week while simulating history
    new_lines: int  # new PO lines a week inside the generated range
    repeat_share: float  # unchanged lines repeated in a delta, as a share of the changed ones
    suppliers: int
    hires_per_quarter: int  # planned hires a quarter over all workstreams
    site_start_span_weeks: int  # sites break ground spread over this many weeks from history start
    requisition_files: int  # requisitions_*.csv files in one ATS delivery


# fmt: off
SCALES: dict[str, Scale] = {
    #                 name      sites hist hist_new  new  repeat suppl hires span req_files
    "small":  Scale("small",     12,   26,   1000,  1200, 0.25,   150,   60,  40, 1),
    "medium": Scale("medium",    50,   39,   1500,  2000, 0.20,   600,  300,  80, 1),
    "large":  Scale("large",    200,   52,   2000,  2500, 0.12,  2500, 1300, 150, 2),
    # ten times large: 2,000 sites, about 200k requisitions and 10M PO-line versions over
    # two years (`make bench WHAT=xlarge` runs its first week)
    "xlarge": Scale("xlarge",  2000,   52,  20000, 25000, 0.12, 25000, 13000, 150, 20),
}
# fmt: on


def get_scale(name: str) -> Scale:
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(f"unknown scale {name!r}: choose one of {', '.join(SCALES)}") from None
