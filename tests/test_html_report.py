"""The one-page HTML report, and the reviewer's files a run writes."""

from __future__ import annotations

import dataclasses
import json
import re
from html.parser import HTMLParser

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from hubopt import pipeline
from hubopt.model import check
from hubopt.outputs import catchments, report, tables
from hubopt.scenario import load_scenario
from hubopt.solver import SolveResult, Status
from tests.conftest import tiny_scenario_file

PLAN = {"A": "B", "B": "B", "C": "B", "D": "D", "E": "D"}


@pytest.fixture
def line_run(line_area, tmp_path):
    """The line area's optimum as a run stopped at its time limit (gap 3.5%), with a
    practice name that tries to inject HTML, input files on disk and today's groups."""
    practices, t, scenario = line_area
    practices = practices.copy()
    practices.loc["C", "name"] = "<script>alert(1)</script> Gamma"
    (tmp_path / "practices.csv").write_text("practice_code,name\n")
    (tmp_path / "groups.csv").write_text("practice_code,group_id\n")
    scenario = dataclasses.replace(
        scenario,
        practices=tmp_path / "practices.csv",
        current=tmp_path / "groups.csv",
        description="Line & friends",
    )
    a = tables.assignment_table(pd.Series(PLAN), practices, t)
    hubs = tables.hub_table(a, practices, scenario)
    current = pd.DataFrame(
        {"group_id": ["N", "N", "S", "S", "S"], "group_name": ["North"] * 2 + ["South"] * 3},
        index=pd.Index(list("ABCDE"), name="practice_code"),
    )
    result = SolveResult(
        Status.TIME_LIMITED, 198_000.0, 191_070.0, 0.035, 30.0, pd.Series(PLAN), "cbc"
    )
    checks = check.check_plan(
        check.PlanData(pd.Series(PLAN), practices, t, scenario, result.objective)
    )
    comparison = pipeline.compare_with_current((a, hubs), current, practices, t, scenario, result)
    res = pipeline.RunResult(
        scenario, practices, t, result, checks, a, hubs,
        tables.hubs_geodataframe(a, hubs, practices), comparison,
        notes=["a note about <b>this</b> run"],
    )  # fmt: skip
    res.catchments = catchments.build(a, hubs, practices, current=current)
    return res


def test_report_shows_what_a_reviewer_needs(line_run):
    page = report.render(line_run, map_href="map.html")
    for text in (
        "hubopt report: line",
        "Line &amp; friends",
        # solver status and gap, honestly
        "time-limited: stopped at the time limit, best solution within 3.50% of optimal",
        "gap 3.50%",
        "objective 198,000 patient-minutes",
        "Independent checks: 6 of 6 passed",
        # key figures
        "<b>5</b><span>practices</span>",
        "<b>82,000</b><span>registered patients</span>",
        "hubs: 2 in band",
        "<b>37,000&ndash;45,000</b>",
        "<b>5.0 min</b><span>worst road travel to the hub site (cap 12)</span>",
        "practices move (10,000 patients)",
        # comparison, per-hub table, moves
        "<th class=n>proposal</th><th class=n>current</th>",
        "Beta Health Centre (B)",
        "Alpha Surgery (20,000, 5.0 min)",
        "South</td>",
        # breaches, notes, parameters, sources
        "None: every hub has 30,000&ndash;50,000 patients",
        "Note: a note about &lt;b&gt;this&lt;/b&gt; run",
        "30,000&ndash;50,000 patients per hub",
        "12 road minutes from a practice to its hub site",
        "practices.csv",
        "groups.csv",
        "<a href='map.html'>map.html</a>",
    ):
        assert text in page, text
    # both figures (overview and enlargement) are inline SVG; no scripts, no links out
    assert page.count("<svg") >= 1
    assert "<script" not in page and "src=" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Gamma" in page


TRICKY = "<b>&\"'"


class _Page(HTMLParser):
    """A page's text and tags as a browser sees them (entities decoded)."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_report_shows_planner_text_literally(line_run, tmp_path):
    """Markup characters in the scenario name, practice names, notes, file paths and the
    map link appear as text: escaped by the template, never read as HTML."""
    folder = tmp_path / f"in {TRICKY}"
    folder.mkdir()
    (folder / f"sizes {TRICKY}.csv").write_text("practice_code,list_size\n")
    a = line_run.assignment.copy()
    a["practice_name"] = a["practice_name"].replace("Alpha Surgery", f"Alpha {TRICKY}")
    res = dataclasses.replace(
        line_run,
        scenario=dataclasses.replace(
            line_run.scenario,
            name=f"plan {TRICKY}",
            description=f"about {TRICKY}",
            list_sizes=folder / f"sizes {TRICKY}.csv",
        ),
        assignment=a,
        notes=[f"note {TRICKY}"],
    )
    page = report.render(res, map_href=f"map {TRICKY}.html")
    assert TRICKY not in page and "<b>&" not in page
    seen = _Page(page)
    text = "".join(seen.text)
    for literal in (
        f"hubopt report: plan {TRICKY}",
        f"about {TRICKY}",
        f"Alpha {TRICKY} (20,000, 5.0 min)",
        f"Note: note {TRICKY}",
        f"sizes {TRICKY}.csv",
        str(folder),
        f"Interactive map: map {TRICKY}.html",
    ):
        assert literal in text, literal
    assert text.count(f"hubopt report: plan {TRICKY}") == 2  # the title and the heading
    assert ("a", {"href": f"map {TRICKY}.html"}) in seen.tags


def test_report_lists_breaches(line_run):
    """A at 5 min from B breaks a 4-minute cap; A alone (20,000) and B+C (25,000) are
    below the band."""
    res = dataclasses.replace(line_run, scenario=line_run.scenario.replace(travel_cap_minutes=4))
    page = report.render(res)
    assert re.search(
        r"Alpha Surgery \(A\) is 5\.0 road minutes from its hub site, over the 4 min", page
    )
    plan = pd.Series({"A": "A", "B": "B", "C": "B", "D": "D", "E": "D"})
    a = tables.assignment_table(plan, res.practices, res.matrix)
    hubs = tables.hub_table(a, res.practices, res.scenario)
    page = report.render(dataclasses.replace(res, assignment=a, hubs=hubs, catchments=None))
    assert "Hub H01 has 20,000 patients, below the band 30,000&ndash;50,000" in page
    assert "Hub H02 has 25,000 patients, below the band" in page
    assert "hubs: 1 in band, 2 out of band" in page


@pytest.mark.slow
def test_run_writes_report_map_and_gis_files(tmp_path):
    """A whole run on tests/input_data/tiny.osm writes the reviewer's files."""
    (tmp_path / "groups.csv").write_text(
        "practice_code,group_id,group_name\nT1,P1,West PCN\nT2,P1,West PCN\n"
        "T3,P2,East PCN\nT4,P2,East PCN\n"
    )
    tiny_scenario_file(tmp_path, inputs_extra='current = "groups.csv"')
    out, maps_dir = tmp_path / "out", tmp_path / "maps"
    res = pipeline.run(load_scenario(tmp_path / "tiny.toml"), out_dir=out, maps_dir=maps_dir)
    for name in ("report.html", "catchments.geojson", "layers.gpkg", "map.html"):
        assert (out / name) in res.files and (out / name).is_file(), name
    assert (maps_dir / "tiny-report.html").is_file()
    page = (maps_dir / "tiny-report.html").read_text()
    assert "<a href='tiny.html'>tiny.html</a>" in page and "optimal (proven)" in page
    assert "4</b><span>practices move" not in page  # one hub: P1 or P2 stays
    areas = gpd.read_file(out / "catchments.geojson")
    assert list(areas["hub_id"]) == ["H01"] and areas.geom_type[0] == "Polygon"
    assert "current_catchments" in dict(pyogrio.list_layers(out / "layers.gpkg"))
    a = pd.read_csv(out / "assignment.csv")
    assert a.set_index("practice_code").loc["T1", "lat"] == 52.6
    assert json.loads((out / "summary.json").read_text())["status"] == "optimal"
    map_html = (out / "map.html").read_text()
    assert "West PCN" in map_html and "Practices that move (vs today)" in map_html
