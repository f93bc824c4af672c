"""Where travel is the straight-line estimate (no road network), every minute figure
says so where it is shown: map tooltips, popups and legend, the report, the CSV
tables and the command line; road runs keep their road wording."""

from __future__ import annotations

import re

import pandas as pd
from click.testing import CliRunner

from hubopt.cli import main
from hubopt.outputs import units
from tests.conftest import tiny_scenario_file

CURRENT = "practice_code,group_id\nT1,P1\nT2,P1\nT3,P2\nT4,P2\n"


def test_every_minute_figure_says_straight_line_estimate(tmp_path):
    (tmp_path / "current.csv").write_text(CURRENT)
    scen = tiny_scenario_file(
        tmp_path, network=False, network_lines='kind = "straight_line"',
        inputs_extra='current = "current.csv"',
    )  # fmt: skip
    out = tmp_path / "out"
    r = CliRunner().invoke(
        main, ["run", scen, "--out", str(out), "--maps-dir", str(tmp_path / "m")]
    )
    assert r.exit_code == 0, r.output
    assert re.search(r"worst [\d.]+ min \(straight-line est.\), patient-weighted mean", r.output)
    assert "worst minutes to site (straight-line est.)" in r.output  # comparison table

    page = (out / "report.html").read_text()
    for text in (
        "STRAIGHT-LINE ESTIMATE, not road travel",  # the banner
        "Every minute figure on this page is this\nestimate",
        "<strong class=est>straight-line estimate</strong> (cap 10 min)",  # the cards
        "worst min<br><small>(straight-line est.)</small>",  # the hub table
        "mean min<br><small>(straight-line est.)</small>",
        "members (patients, min (straight-line est.) to site)",
        "10 minutes (straight-line estimate) from a practice to its hub site",  # parameters
        "worst minutes to site (straight-line est.)",  # the comparison
    ):
        assert text in page, text
    assert "road minutes" not in page and "road travel to the hub site" not in page

    html = (out / "map.html").read_text()
    for text in (
        "Travel times are a straight-line estimate</b>, not road travel",  # legend
        "travel cap 10 min (straight-line est.)",
        "worst min<br><small>(straight-line est.)</small>",  # legend table
        "min (straight-line est.) to the site",  # practice tooltips
        "Minutes (straight-line estimate) to hub site",  # practice popups
        "minutes (straight-line estimate) to hub site: worst",  # hub tooltips
        "minutes (straight-line estimate) to best site: worst",  # today's groups
    ):
        assert text in html, text
    assert "road minutes" not in html.lower()

    for name in ("assignment.csv", "hubs.csv"):
        table = pd.read_csv(out / name)
        assert set(table["travel_times"]) == {"straight-line estimate"}, name
    assert "(straight-line est.)" in (out / "comparison.csv").read_text()


def test_road_minutes_keep_their_words():
    w = units.ROAD
    assert (w.unit, w.travel, w.kind, w(12.34)) == ("min", "road minutes", "road", "12.3 min")
    assert (
        w.header("worst") == "worst min"
        and w.measure("worst minutes to site") == "worst minutes to site"
    )
    e = units.Minutes(estimate=True)
    assert e(12.34) == "12.3 min (straight-line est.)" and e(float("nan")) == "-"
    assert e.measure("hubs") == "hubs"


def test_what_if_comparisons_say_straight_line_estimate(tmp_path):
    """The what-if table, summary lines and map headings label their minutes as the run
    does; the road wording is kept for road times (tests/test_whatif.py)."""
    from hubopt import whatif

    scen = tiny_scenario_file(tmp_path, network=False, network_lines='kind = "straight_line"')
    area = whatif.prepare(scen)
    assert area.words.estimate
    base = whatif.solve(area, "base")
    table = whatif.compare([base, whatif.solve(area, "cap 8", travel_cap_minutes=8)])
    minutes = [m for m in table.index if "minutes" in m]
    assert minutes == [
        "cap (minutes) (straight-line est.)",
        "worst minutes to site (straight-line est.)",
        "mean minutes to site (patient-weighted) (straight-line est.)",
    ]
    assert "hubs" in table.index and "practices" in table.index  # the rest as they were
    assert re.search(r"travel worst [\d.]+ min \(straight-line est.\), mean", base.describe())
    head = whatif.side_by_side([base])._repr_html_()
    assert re.search(r"worst [\d.]+ min \(straight-line est.\), mean", head)
