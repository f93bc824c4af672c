"""Candidate hub sites that are not practices (``[inputs] sites``, e.g. a hospital).

Hand-drawn fixture (``clusters``): two clusters of practices 20 minutes apart and a
community hospital H on the bypass between them, 8 minutes from every practice::

    A1(12k) --2-- A2(8k)  ~~~~~~~~~~~ 20 min ~~~~~~~~~~~  B1(10k) --2-- B2(10k)
                    \\____________ 8 min to H, from each ___________/

Band 40-60k, cap 25: the 40,000 patients can only make one hub of all four.

* Without H the site is a practice: at A1 8k x 2 + 20k x 20 = **416,000**
  patient-minutes; at A2 12k x 2 + 400,000 = 424,000; at B1 or B2 20k x 20 +
  10k x 2 = 420,000. Optimum 416,000 at A1.
* With H: 40k x 8 = **320,000** at H, better than any practice: H is chosen, and no
  practice is the hub's site.
* With H 15 minutes from every practice instead, H would give 600,000: it stays
  closed and the optimum is A1's 416,000.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from hubopt import model, pipeline, whatif
from hubopt.errors import InputError
from hubopt.inputs import load, read_sites
from hubopt.model import check
from hubopt.scenario import Scenario, load_scenario
from hubopt.solver import bounds
from tests.conftest import INPUT, REPO, matrix_frame, practices_frame, solve

DEMO = REPO / "hubopt" / "data" / "demo"
PRACTICES = ["A1", "A2", "B1", "B2"]


def _clusters(hospital_minutes: float | None = 8.0):
    """The fixture above; ``hospital_minutes=None`` leaves the hospital out."""
    practices = practices_frame(
        [
            ("A1", "Alder Surgery", 52.60, -1.30, 12_000),
            ("A2", "Ash Practice", 52.60, -1.29, 8_000),
            ("B1", "Birch Health Centre", 52.60, -1.10, 10_000),
            ("B2", "Beech Surgery", 52.60, -1.09, 10_000),
        ]
    ).assign(site_only=False)
    rows = [
        [0, 2, 20, 20],
        [2, 0, 20, 20],
        [20, 20, 0, 2],
        [20, 20, 2, 0],
    ]
    codes = list(PRACTICES)
    if hospital_minutes is not None:
        site = practices_frame([("H", "Midshire Community Hospital", 52.60, -1.20, 0)])
        practices = pd.concat([practices, site.assign(site_only=True)])
        rows = [r + [hospital_minutes] for r in rows] + [[hospital_minutes] * 4 + [0]]
        codes.append("H")
    scenario = Scenario(
        name="clusters",
        practices=INPUT / "unused.csv",
        population_min=40_000,
        population_max=60_000,
        travel_cap_minutes=25,
        time_limit_seconds=30,
        threads=1,
    )
    return practices, matrix_frame(codes, rows), scenario


def _solve(practices, t, scenario):
    """Build, solve in stages and run the independent checks (which must pass)."""
    m = model.build(t, practices, scenario)
    r = solve(m, seconds=30)
    assert r.status == "optimal", r.stages
    report = check.check_plan(
        check.PlanData(r.assignment, practices, t, scenario, r.objective, values=r.values)
    )
    assert report.passed, report.failures
    return m, r


def test_hospital_between_clusters_is_chosen():
    practices, t, scenario = _clusters()
    m, r = _solve(practices, t, scenario)
    assert r.objective == pytest.approx(320_000)
    assert r.assignment.to_dict() == {c: "H" for c in [*PRACTICES, "H"]}
    # a location, not a practice: its only variable is its own site; no extra stage
    assert [p for p in m.x if p[0] == "H"] == [("H", "H")]
    assert [name for name, _ in m.stages] == ["weighted_travel"]
    assert bounds.core_data(m) is None  # not the core model (H may stay closed)


def test_without_the_hospital_the_known_worse_optimum():
    practices, t, scenario = _clusters(hospital_minutes=None)
    _, r = _solve(practices, t, scenario)
    assert r.objective == pytest.approx(416_000)
    assert set(r.assignment) == {"A1"}


def test_hospital_is_always_a_candidate_site():
    """A candidate list that does not name H still lets H be a hub site."""
    practices, t, scenario = _clusters()
    _, r = _solve(practices, t, scenario.replace(candidate_sites=("A1",)))
    assert r.objective == pytest.approx(320_000)
    assert set(r.assignment) == {"H"}


def test_hospital_that_would_not_help_stays_closed():
    practices, t, scenario = _clusters(hospital_minutes=15.0)
    m, r = _solve(practices, t, scenario)
    assert r.objective == pytest.approx(416_000)
    assert pd.isna(r.assignment["H"])
    assert set(r.assignment.dropna()) == {"A1"}
    assert [name for name, _ in m.stages] == ["weighted_travel"]


def test_sites_table_shaped_like_practices(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text("site_code,name,lat,lon\nH1,Midshire Community Hospital,52.35,-0.58\n")
    sites = read_sites(path)
    assert list(sites.index) == ["H1"]
    assert sites.crs.to_epsg() == 4326
    row = sites.loc["H1"]
    assert (row["name"], row["list_size"], bool(row["site_only"])) == (
        "Midshire Community Hospital",
        0,
        True,
    )
    assert (row.geometry.x, row.geometry.y) == (-0.58, 52.35)


def test_read_sites_names_every_bad_row_and_field(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text(
        "site_code,name,lat,lon\n"
        "H1,Good Hospital,52.35,-0.58\n"
        ",No Code Hospital,52.35,-0.58\n"
        "H3,,52.35,-0.58\n"
        "H4,Wordy Hospital,north,-0.58\n"
        "H5,Swapped Hospital,-0.58,52.35\n"
        "H1,Twin Hospital,52.36,-0.57\n"
    )
    with pytest.raises(InputError) as err:
        read_sites(path)
    text = str(err.value)
    for expected in (
        "sites.csv line 3 (no code): site_code is empty",
        "sites.csv line 4 (H3): name is empty; give the site name",
        "sites.csv line 5 (H4): lat 'north' is not a number",
        "sites.csv line 6 (H5): lat -0.58 is outside England",
        "sites.csv line 6 (H5): lon 52.35 is outside England",
        "sites.csv lines 2, 7: site code H1 appears more than once; keep one row per site",
    ):
        assert expected in text, text


def test_read_sites_missing_column(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text("code,name,lat,lon\nH1,Hospital,52.35,-0.58\n")
    with pytest.raises(InputError) as err:
        read_sites(path)
    assert "sites.csv: no column 'site_code'" in str(err.value)


def _demo_scenario(tmp_path: Path, sites_csv: str, *, contiguous: bool = True) -> Path:
    """The demo scenario on a tmp copy of its files plus a sites.csv (the demo itself
    is left untouched)."""
    for name in ("practices.csv", "current_groups.csv", "network.osm.bz2"):
        shutil.copy(DEMO / name, tmp_path / name)
    (tmp_path / "sites.csv").write_text(sites_csv)
    text = (DEMO / "demo.toml").read_text()
    text = text.replace('name = "demo"', 'name = "demo-sites"')
    text = text.replace(
        'boundary = "../boundaries/demo_boundary.geojson"',
        f'boundary = "{(REPO / "hubopt" / "data" / "boundaries" / "demo_boundary.geojson").as_posix()}"\n'
        'sites = "sites.csv"',
    )
    text = text.replace("contiguous = true", f"contiguous = {str(contiguous).lower()}")
    text = text.replace("gap = 0.0 ", "gap = 0.02").replace("threads = 2", "threads = 1")
    path = tmp_path / "demo-sites.toml"
    path.write_text(text)
    return path


def test_site_code_that_clashes_with_a_practice_is_refused(tmp_path):
    path = _demo_scenario(
        tmp_path,
        "site_code,name,lat,lon\nH1,Fine Hospital,52.35,-0.58\nD81002,Clashing Hospital,52.35,-0.58\n",
    )
    with pytest.raises(InputError) as err:
        load.load_inputs(load_scenario(path))
    text = str(err.value)
    assert "site D81002 (Clashing Hospital) has the code of practice D81002" in text
    assert "H1" not in text


def test_check_flags_a_site_assigned_to_another_hub():
    practices, t, scenario = _clusters()
    plan = pd.Series({c: "A1" for c in [*PRACTICES, "H"]})
    failures = check.sites_are_members(check.PlanData(plan, practices, t, scenario))
    assert failures == [
        "candidate site H is not a practice but is assigned to hub A1; it can only be the "
        "site of its own hub"
    ]
    # closed (unassigned) or the site of its own hub: both fine
    closed = plan.astype(object)
    closed["H"] = None
    report = check.check_plan(check.PlanData(closed, practices, t, scenario))
    assert report.passed, report.failures
    own = pd.Series({c: "H" for c in [*PRACTICES, "H"]})
    assert check.check_plan(check.PlanData(own, practices, t, scenario)).passed


def test_check_fails_a_hub_of_only_a_site():
    """A hub at H with no practices has 0 patients: outside the band (strict), allowed
    below it under rural_exception."""
    practices, t, scenario = _clusters()
    plan = pd.Series({"A1": "A1", "A2": "A1", "B1": "A1", "B2": "A1", "H": "H"})
    d = check.PlanData(plan, practices, t, scenario)
    assert check.population_within_band(d) == ["hub H has 0 patients, outside 40,000-60,000"]
    rural = check.PlanData(plan, practices, t, scenario.replace(band="rural_exception"))
    assert check.population_within_band(rural) == []


def test_demo_with_hospital_sites_end_to_end(tmp_path):
    """The demo area with two community hospitals, one fixed as a hub site: the run
    passes every check, neither site is a practice in the tables, the unused one is
    reported, and the map and report show both by name."""
    path = _demo_scenario(
        tmp_path,
        "site_code,name,lat,lon\n"
        "HOSP1,Demoford Community Hospital,52.352,-0.582\n"
        "HOSP2,Wolford Cottage Hospital,52.300,-0.700\n",
        contiguous=False,
    )
    path.write_text(path.read_text().replace("[rules]", '[rules]\nfixed_sites = ["HOSP1"]'))
    res = pipeline.run(load_scenario(path), out_dir=tmp_path / "out", maps_dir=tmp_path / "maps")
    assert res.checks.passed, res.checks.failures
    assert res.solve.assignment["HOSP1"] == "HOSP1"
    assert pd.isna(res.solve.assignment["HOSP2"])
    # tables count practices only
    assert len(res.assignment) == 52
    assert not {"HOSP1", "HOSP2"} & set(res.assignment["practice_code"])
    assert res.hubs["practices"].sum() == 52
    assert res.summary()["practices"] == 52
    hub = res.hubs.set_index("site_code").loc["HOSP1"]
    assert hub["site_name"] == "Demoford Community Hospital"
    assert hub["practices"] >= 1 and hub["in_band"] == "yes"
    assert "candidate site HOSP1 Demoford Community Hospital (not a practice) is a hub site" in (
        res.notes
    )
    assert any(n.startswith("candidate site HOSP2 Wolford") for n in res.notes)
    assert not any("optional and left out" in n for n in res.notes)
    moved = res.comparison.loc["practices moved vs current", "proposal"]
    assert moved == int(res.catchments.practices["moved"].sum())
    sites = res.catchments.sites.set_index("site_code")
    assert sites.loc["HOSP1", "hub_id"] == hub["hub_id"]
    assert sites.loc["HOSP2", "hub_id"] == ""
    html = (tmp_path / "maps" / "demo-sites.html").read_text()
    assert "Demoford Community Hospital" in html
    assert "Wolford Cottage Hospital" in html
    assert "Candidate site, not used" in html
    assert html.count('class=\\"hubopt-location\\"') == 2  # one "H" square per site
    report_html = (tmp_path / "maps" / "demo-sites-report.html").read_text()
    assert "sites.csv" in report_html
    assert "Demoford Community Hospital" in report_html
    table = pd.read_csv(tmp_path / "out" / "assignment.csv")
    assert not {"HOSP1", "HOSP2"} & set(table["practice_code"])
    assert (table["hub_site_code"] == "HOSP1").sum() == hub["practices"]


def test_closing_a_practice_never_gives_patients_to_a_site():
    """What-ifs: a candidate site is not a practice. It cannot be closed, and when A1
    closes, its 12,000 patients go to the 2 nearest *practices* (A2 at 2 min, then B1
    at 20 min, ties by code), not to the hospital at 8 min: 12,000 x 8/18 and x 10/18."""
    practices, t, scenario = _clusters()
    area = whatif.AreaData(scenario=scenario, practices=practices, minutes=t)
    after = whatif.close_practice(area, "A1", k=2)
    sizes = after.practices["list_size"]
    assert (sizes["A2"], sizes["B1"], sizes["B2"], sizes["H"]) == (
        8_000 + 5_333,
        10_000 + 6_667,
        10_000,
        0,
    )
    assert after.patients == area.patients
    with pytest.raises(InputError) as err:
        whatif.close_practice(area, "H")
    assert "H (Midshire Community Hospital) is a candidate hub site, not a practice" in str(
        err.value
    )
    with pytest.raises(InputError) as err:
        whatif.close_practice(area, "A1", to="H")
    assert "not open practices of the area: H" in str(err.value)


def test_site_far_outside_the_boundary_is_refused(tmp_path):
    """A site with a wrong position (here in Sheffield, well inside England) would
    never be reachable and so silently unused: it is named instead."""
    path = _demo_scenario(
        tmp_path,
        "site_code,name,lat,lon\n"
        "HOSP1,Demoford Community Hospital,52.352,-0.582\n"
        "HOSP9,Misplaced Hospital,53.38,-1.47\n",
    )
    with pytest.raises(InputError) as err:
        load.load_inputs(load_scenario(path))
    text = str(err.value)
    assert "site HOSP9 (Misplaced Hospital) is " in text
    assert "km outside the area's boundary; check its lat and lon" in text
    assert "HOSP1" not in text
