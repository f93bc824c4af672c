"""Bad input: every problem named in one pass, in a planner's words."""

from __future__ import annotations

import pytest

from hubopt import inputs
from hubopt.errors import InputError
from hubopt.scenario import load_scenario
from tests.conftest import REPO

GOOD_CSV = """practice_code,name,postcode,lat,lon,list_size
A1,Alpha Surgery,LE1 1AA,52.63,-1.13,9000
B2,Beta Practice,LE2 2BB,52.61,-1.10,12000
"""

BAD_CSV = """practice_code,name,postcode,lat,lon,list_size
A1,Alpha Surgery,LE1 1AA,52.63,-1.13,9000
A1,Alpha Again,LE1 1AA,52.63,-1.13,100
C3,,LE3 3CC,abc,-1.10,12000
D4,Delta,LE4 4DD,-1.10,52.61,-5
E5,Echo,LE5 5EE,52.60,-1.11,
F6,Foxtrot,LE6 6FF,52.60,-1.11,12.5
"""


def test_read_good_practices(tmp_path):
    p = tmp_path / "p.csv"
    p.write_text(GOOD_CSV)
    df = inputs.read_practices(p)
    assert list(df.index) == ["A1", "B2"]
    assert df["list_size"].tolist() == [9000, 12000]
    assert df.crs == "EPSG:4326"
    assert df.loc["A1", "postcode"] == "LE1 1AA"


def test_every_bad_row_and_field_is_named(tmp_path):
    p = tmp_path / "p.csv"
    p.write_text(BAD_CSV)
    with pytest.raises(InputError) as err:
        inputs.read_practices(p)
    problems = err.value.problems
    expected = [
        "p.csv lines 2, 3: practice code A1 appears more than once",
        "p.csv line 4 (C3): name is empty",
        "p.csv line 4 (C3): lat 'abc' is not a number",
        "p.csv line 6 (E5): list_size is empty",
        "p.csv line 5 (D4): lat -1.1 is outside England",
        "p.csv line 5 (D4): lon 52.61 is outside England",
        "p.csv line 5 (D4): list_size -5 must be above zero",
        "p.csv line 7 (F6): list_size 12.5 must be a whole number",
    ]
    for text in expected:
        assert any(text in p for p in problems), (text, problems)
    assert len(problems) == len(expected)


def test_missing_columns_listed(tmp_path):
    p = tmp_path / "p.csv"
    p.write_text("code,name,lat,lon\nA1,Alpha,52.6,-1.1\n")
    with pytest.raises(InputError) as err:
        inputs.read_practices(p)
    text = str(err.value)
    assert "no column 'practice_code'" in text and "no column 'list_size'" in text


def test_grouping_unknown_practice_and_duplicates(tmp_path):
    p = tmp_path / "p.csv"
    p.write_text(GOOD_CSV)
    practices = inputs.read_practices(p)
    g = tmp_path / "g.csv"
    g.write_text("practice_code,group_id\nA1,N1\nZZ9,N1\nA1,N2\nB2,\n")
    with pytest.raises(InputError) as err:
        inputs.read_grouping(g, practices)
    text = str(err.value)
    assert "g.csv line 3: practice ZZ9 is not in the practices file" in text
    assert "practice A1 is in more than one group" in text
    assert "g.csv line 5 (B2): group_id is empty" in text


def test_boundary_without_crs(tmp_path):
    b = tmp_path / "b.geojson"
    b.write_text(
        '{"type":"FeatureCollection","crs":null,"features":[{"type":"Feature","properties":{},'
        '"geometry":{"type":"Point","coordinates":[0,0]}}]}'
    )
    with pytest.raises(InputError, match="must hold polygons|no coordinate"):
        inputs.read_boundary(b)


def test_scenario_problems_all_listed(tmp_path):
    s = tmp_path / "s.toml"
    s.write_text(
        """
[scenario]
name = "x"
[inputs]
practices = "missing.csv"
[rules]
population_min = 50000
population_max = 30000
travel_cap_minuts = 20
oversize = "maybe"
[solver]
threads = "two"
[colour]
x = 1
"""
    )
    with pytest.raises(InputError) as err:
        load_scenario(s)
    text = str(err.value)
    assert "unknown key 'travel_cap_minuts' in [rules]; did you mean 'travel_cap_minutes'?" in text
    assert "[solver] threads = 'two' must be a whole number" in text
    assert "unknown section [colour]" in text
    # value problems are reported once the structure is right
    s.write_text(
        s.read_text()
        .replace("travel_cap_minuts", "travel_cap_minutes")
        .replace('threads = "two"', "threads = 2")
        .replace("[colour]\nx = 1\n", "")
    )
    with pytest.raises(InputError) as err:
        load_scenario(s)
    text = str(err.value)
    assert "missing.csv does not exist" in text
    assert "population_min 50,000 is above population_max 30,000" in text
    assert "oversize 'maybe' must be one of" in text


def test_demo_scenario_loads():
    s = load_scenario(REPO / "hubopt" / "data" / "demo" / "demo.toml")
    assert s.name == "demo"
    assert (s.population_min, s.population_max) == (30_000, 50_000)
    assert s.network.name == "network.osm.bz2" and s.network.exists()
    assert s.replace(travel_cap_minutes=15).travel_cap_minutes == 15


def _demo_practices_scenario(tmp_path, rest: str):
    """A scenario file on the demo's practices with ``rest`` (more TOML) appended."""
    path = tmp_path / "s.toml"
    practices = (REPO / "hubopt" / "data" / "demo" / "practices.csv").as_posix()
    path.write_text(f'[scenario]\nname = "x"\n[inputs]\npractices = "{practices}"\n' + rest)
    return path


def test_rules_and_objectives_parse(tmp_path):
    path = _demo_practices_scenario(
        tmp_path,
        """
[rules]
band = "rural_exception"
contiguous = true
locked_groups = [["A", "B"], ["C", "D", "E"]]
apart = [["F", "G"]]
hubs_min = 3
hubs_max = 5
within = "ccg"
optional = ["H"]
[objective]
kind = ["fewest_moved", "weighted_travel"]
mode = "weighted"
weights = [1000, 1]
""",
    )
    s = load_scenario(path)
    assert s.locked_groups == (("A", "B"), ("C", "D", "E"))
    assert s.objectives == ("fewest_moved", "weighted_travel")
    assert s.objective_weights == (1000, 1)
    assert s.hub_range == (3, 5)
    assert s.contiguous and s.band == "rural_exception" and s.optional == ("H",)


def test_bad_rules_all_listed(tmp_path):
    path = _demo_practices_scenario(
        tmp_path,
        """
[rules]
band = "soft"
locked_groups = [["A"]]
hubs = 3
hubs_max = 4
apart = "A"
[objective]
kind = ["fewest_moved", "shortest"]
mode = "weighted"
""",
    )
    with pytest.raises(InputError) as err:
        load_scenario(path)
    text = str(err.value)
    for expected in (
        "[rules] apart = 'A' must be a list of lists of practice codes",
        "[rules] band 'soft' must be one of",
        "[rules] locked_groups group 1 ['A'] needs two or more practices",
        "[rules] give hubs, or hubs_min/hubs_max, not both",
        "[objective] kind 'shortest' must be one of",
        "[objective] weights needs one number per objective in kind (2), got 0",
    ):
        assert expected in text, expected
