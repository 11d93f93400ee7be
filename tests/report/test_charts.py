"""The charts' specifications (valid Vega-Lite, RAG bands where the rules put them, labels that
do not overlap) and how they are rendered (SVG with text, nothing external, never at import)."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys

import pytest

from buildout_tracker.report import charts
from buildout_tracker.report.history import history_from_tables
from tests.report import scenario as sc


@pytest.fixture(scope="module")
def figures() -> list[charts.Figure]:
    h = history_from_tables(
        sc.W48, {w: sc.tables(w) for w in (sc.W47, sc.W48)},
        {w: sc.compact(w) for w in (sc.W47, sc.W48)},
    )  # fmt: skip
    return charts.figures(h)


def test_every_spec_is_valid_vega_lite(figures: list[charts.Figure]) -> None:
    from altair.utils.schemapi import validate_jsonschema
    from altair.vegalite.v6.schema.core import load_schema

    schema = load_schema()
    for f in figures:
        assert f.spec is not None, f.id
        validate_jsonschema(f.spec, schema, raise_error=True)  # raises on the first error
        assert f.columns and all(len(r) == len(f.columns) for r in f.rows), f.id


def test_bands_follow_the_rules() -> None:
    assert charts.bands("spi", [0.8, 1.1]) == [
        (0.8, 0.9, "red"), (0.9, 0.95, "amber"), (0.95, 1.1, "green")
    ]  # fmt: skip
    assert charts.bands("hiring_attainment", [0.9, 1.1]) == [
        (0.9, 0.95, "amber"), (0.95, 1.1, "green")
    ]  # fmt: skip
    assert [c for _, _, c in charts.bands("spend_pace", [0.6, 1.3])] == [
        "red", "amber", "green", "amber", "red"
    ]  # fmt: skip
    assert charts.bands("spend_pace", [0.6, 1.3])[2][:2] == (0.85, 1.10)


def test_bands_are_one_fixed_colour_layer_each(figures: list[charts.Figure]) -> None:
    """A colour scale for the bands would merge with the lines' scale (lines turn green)."""
    cpi = next(f for f in figures if f.id == "cpi-spi")
    assert cpi.spec is not None
    rects = [lay for lay in cpi.spec["layer"] if lay["mark"]["type"] == "rect"]
    assert [r["mark"]["color"] for r in rects] == [
        charts.RAG_COLOURS["red"], charts.RAG_COLOURS["amber"], charts.RAG_COLOURS["green"]
    ]  # fmt: skip
    assert all("color" not in r["encoding"] for r in rects)


def test_labels_are_moved_apart() -> None:
    got = charts.dodge([10.0, 10.5, 30.0, 10.2], 2.0)
    order = sorted(got)
    assert all(b - a >= 2.0 - 1e-9 for a, b in itertools.pairwise(order))
    assert got[2] == 30.0  # a label with room keeps its place
    assert charts.dodge([5.0], 3.0) == [5.0]


def test_close_bac_and_eac_share_one_label() -> None:
    import pandas as pd

    series = pd.DataFrame({"week": [sc.W48], "pv_usd": [10.0], "ev_usd": [9.0],
                           "ac_usd": [9.5], "bac_usd": [1000.0]})  # fmt: skip
    spec = charts.s_curve_spec(series, 1000.0, 1001.0, "t", 1)
    texts = [
        lay["data"]["values"][0]["label"] for lay in spec["layer"] if lay["mark"]["type"] == "text"
    ]
    assert texts == ["BAC $1.0K / EAC $1.0K"]
    spec = charts.s_curve_spec(series, 1000.0, 1500.0, "t", 1)
    texts = [
        lay["data"]["values"][0]["label"] for lay in spec["layer"] if lay["mark"]["type"] == "text"
    ]
    assert texts == ["BAC $1.0K", "EAC $1.5K"]


def test_the_sites_that_slip_most(figures: list[charts.Figure]) -> None:
    sites = next(f for f in figures if f.id == "s-curve-sites")
    assert [r[0] for r in sites.rows] == [sc.S1, sc.S1, sc.S2, sc.S2]  # S1 slips 40 days, S2 5


def test_render_gives_svg_text_and_nothing_external(figures: list[charts.Figure]) -> None:
    fig = next(f for f in figures if f.id == "rag-history")
    assert fig.spec is not None
    svg = charts.render(fig.spec)
    assert svg.startswith("<svg") and "viewBox" in svg and "<text" in svg
    assert "<image" not in svg and "@font-face" not in svg and "<?xml" not in svg
    assert set(re.findall(r"https?://[^\s\"']+", svg)) <= {
        "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"
    }  # fmt: skip
    assert charts.render(fig.spec) == svg  # the same spec, the same bytes
    assert "W48" in svg and "chip_development" in svg


def test_importing_the_report_renders_nothing() -> None:
    """vl-convert must not run in a process that forks afterwards (its children hang): the
    package imports neither it nor altair; only `render` does, in the task."""
    code = (
        "import sys, buildout_tracker.report, buildout_tracker.report.charts; "
        "print(sorted(m for m in ('vl_convert', 'altair') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
