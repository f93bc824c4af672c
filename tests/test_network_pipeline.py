"""The network stage inside a run: scenario keys under [network], the straight-line
fallback labelled as such, re-using a saved matrix, and a download cached once."""

from __future__ import annotations

import json

import osmnx as ox
import pytest

from hubopt import inputs, pipeline
from hubopt.errors import InputError
from hubopt.roads import matrix
from hubopt.scenario import load_scenario
from tests.conftest import INPUT, tiny_scenario_file


def scenario_file(tmp_path, network_lines: str = "", inputs_extra: str = "") -> str:
    return tiny_scenario_file(
        tmp_path, network=False, inputs_extra=inputs_extra, network_lines=network_lines
    )


def _practices(scenario):
    return inputs.read_practices(scenario.practices)


def test_straight_line_run_says_so_everywhere(tmp_path):
    """kind = "straight_line": no network needed; the note, summary.json and the
    matrix metadata all say the times are a straight-line estimate."""
    s = load_scenario(
        scenario_file(tmp_path, 'kind = "straight_line"\ncircuity = 1.4\nstraight_line_kph = 35')
    )
    assert s.network is None and s.circuity == 1.4
    res = pipeline.run(s, out_dir=tmp_path / "out", maps_dir=None)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["travel_times"].startswith("STRAIGHT-LINE ESTIMATE")
    assert any("STRAIGHT-LINE ESTIMATE" in n for n in summary["notes"])
    meta = json.loads((tmp_path / "out" / "matrix.meta.json").read_text())
    assert meta["method"] == matrix.STRAIGHT_LINE and meta["circuity"] == 1.4
    assert res.matrix.at["T3", "T4"] == 0  # one building


def test_saved_matrix_is_reused_without_the_network(tmp_path):
    road = load_scenario(
        scenario_file(tmp_path, inputs_extra=f'network = "{(INPUT / "tiny.osm").as_posix()}"')
    )
    practices = _practices(road)
    minutes = pipeline.travel_matrix(road, practices)
    assert minutes.attrs["hubopt"]["method"] == matrix.ROAD
    matrix.save_matrix(minutes, tmp_path / "saved.parquet")
    again = load_scenario(scenario_file(tmp_path, 'matrix = "saved.parquet"'))
    timings: dict = {}
    notes: list = []
    reused = pipeline.travel_matrix(again, practices, timings=timings, notes=notes)
    assert "network" not in timings  # no network work
    assert reused.equals(minutes)
    assert notes[0].startswith("travel times re-used from saved.parquet: road network tiny.osm")
    # a matrix made for other practices is refused, naming what is missing
    matrix.save_matrix(minutes.loc[["T1", "T2"], ["T1", "T2"]], tmp_path / "small.csv")
    small = load_scenario(scenario_file(tmp_path, 'matrix = "small.csv"'))
    with pytest.raises(InputError, match="no travel times for 2 of the 4") as err:
        pipeline.travel_matrix(small, practices)
    assert "T3, T4" in str(err.value)


def test_route_limit(tmp_path):
    s = load_scenario(
        scenario_file(
            tmp_path,
            "route_limit_minutes = 1.5",
            inputs_extra=f'network = "{(INPUT / "tiny.osm").as_posix()}"',
        )
    )
    m = pipeline.travel_matrix(s, _practices(s))
    assert m.attrs["hubopt"]["limit_minutes"] == 1.5
    assert m.at["T1", "T2"] < 1.5 and m.at["T1", "T3"] == float("inf")
    assert m.at["T3", "T4"] == 0  # one building, whatever the limit


def test_download_scenario_caches_then_runs_offline(tmp_path, monkeypatch):
    calls = []

    def fake_place(query, **kwargs):
        calls.append(query)
        return ox.graph_from_xml(INPUT / "tiny.osm", simplify=False, retain_all=True)

    monkeypatch.setattr(ox, "graph_from_place", fake_place)
    path = scenario_file(
        tmp_path, 'download_place = "Tinyton"', inputs_extra='network = "roads.graphml"'
    )
    s = load_scenario(path)  # the cache does not exist yet: not an error
    practices = _practices(s)
    first = pipeline.travel_matrix(s, practices)
    assert (tmp_path / "roads.graphml").is_file() and calls == ["Tinyton"]
    second = pipeline.travel_matrix(load_scenario(path), practices)
    assert calls == ["Tinyton"]
    assert (first.to_numpy() == second.to_numpy()).all()
    assert second.attrs["hubopt"]["network"]["download"]["downloaded_this_run"] is False


@pytest.mark.parametrize(
    ("lines", "inputs_extra", "message"),
    [
        ('kind = "crow"', "", "kind 'crow' must be one of"),
        ("circuity = 0.8", "", "circuity 0.8 must be at least 1"),
        ("route_limit_minutes = 0", "", "route_limit_minutes must be above 0"),
        ('download_place = "X"', "", "a download needs [inputs] network"),
        ('download_place = "X"', 'network = "roads.osm.pbf"', "must be a .graphml file"),
        ('matrix = "nowhere.csv"', "", "does not exist"),
        ("snap_distance = 5", "", "unknown key 'snap_distance' in [network]"),
    ],
)
def test_network_keys_are_checked(tmp_path, lines, inputs_extra, message):
    with pytest.raises(InputError) as err:
        load_scenario(scenario_file(tmp_path, lines, inputs_extra=inputs_extra))
    assert message in str(err.value)


def test_no_network_at_all_says_what_to_add(tmp_path):
    s = load_scenario(scenario_file(tmp_path))
    with pytest.raises(InputError, match="gives no road network") as err:
        pipeline.travel_matrix(s, _practices(s))
    assert "straight_line" in str(err.value)
