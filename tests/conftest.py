"""Shared fixtures: small hand-drawn data whose answers are worked out by hand."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from hubopt.scenario import Scenario

HERE = Path(__file__).parent
INPUT = HERE / "input_data"
REPO = HERE.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True, scope="session")
def _road_stores_in_tmp(tmp_path_factory):
    """Road stores (hubopt.roads.store) go to a temporary folder, never beside the
    test data or ../shared's extracts."""
    import os

    from hubopt.roads.store import CACHE_ENV

    old = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(tmp_path_factory.mktemp("road-stores"))
    yield
    if old is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = old


def practices_frame(rows: list[tuple[str, str, float, float, int]]) -> gpd.GeoDataFrame:
    """Build a practices table like :func:`hubopt.inputs.read_practices` returns."""
    df = pd.DataFrame(rows, columns=["practice_code", "name", "lat", "lon", "list_size"])
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.lon, df.lat), crs="EPSG:4326")
    return gdf.set_index("practice_code")


def matrix_frame(codes: list[str], rows: list[list[float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, index=codes, columns=codes, dtype=float)


@pytest.fixture
def line_area():
    """Five practices on a road, minutes along it (hand-drawn).

    ::

        A(20k) --5-- B(15k) --5-- C(10k) ---------20--------- D(25k) --4-- E(12k)

    Band 30-50k, cap 12 min. D+E (37k) must be together: neither reaches 30k alone
    and C is 20 min from D. A+B+C = 45k is the only way to place A, B and C.
    Site for {A,B,C}: at A 15k*5 + 10k*10 = 175k, at B 20k*5 + 10k*5 = 150k,
    at C 20k*10 + 15k*5 = 275k -> B. Site for {D,E}: at D 12k*4 = 48k, at E 100k -> D.
    Optimum: 150,000 + 48,000 = **198,000 patient-minutes**, hubs {A,B,C}@B, {D,E}@D.
    """
    codes = ["A", "B", "C", "D", "E"]
    pos = {"A": 0, "B": 5, "C": 10, "D": 30, "E": 34}
    t = [[abs(pos[i] - pos[j]) for j in codes] for i in codes]
    practices = practices_frame(
        [
            ("A", "Alpha Surgery", 52.60, -1.20, 20_000),
            ("B", "Beta Health Centre", 52.60, -1.19, 15_000),
            ("C", "Gamma Practice", 52.60, -1.18, 10_000),
            ("D", "Delta Medical Group", 52.60, -1.14, 25_000),
            ("E", "Epsilon Surgery", 52.60, -1.13, 12_000),
        ]
    )
    scenario = Scenario(
        name="line",
        practices=INPUT / "unused.csv",
        population_min=30_000,
        population_max=50_000,
        travel_cap_minutes=12,
        time_limit_seconds=30,
        threads=1,
    )
    return practices, matrix_frame(codes, t), scenario


@pytest.fixture
def tiny_osm() -> Path:
    return INPUT / "tiny.osm"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA


#: Four practices (40,000 patients) on tests/input_data/tiny.osm.
TINY_PRACTICES = """practice_code,name,lat,lon,list_size
T1,Top Street Surgery,52.600,-1.100,12000
T2,Middle Road Practice,52.600,-1.090,9000
T3,East Lane Health Centre,52.595,-1.080,11000
T4,East Lane Family Doctors,52.595,-1.080,8000
"""


def tiny_scenario_file(
    tmp_path: Path,
    *,
    network: bool = True,
    inputs_extra: str = "",
    network_lines: str = "",
    **rules,
) -> str:
    """Write :data:`TINY_PRACTICES` and a scenario for them (band 30-50k, cap 10 min,
    1 thread) into ``tmp_path``; ``network`` names tests/input_data/tiny.osm under
    [inputs]; ``rules`` override or add [rules] keys. Returns the scenario's path."""
    (tmp_path / "practices.csv").write_text(TINY_PRACTICES)
    r = {"population_min": 30000, "population_max": 50000, "travel_cap_minutes": 10, **rules}
    rule_lines = "\n".join(
        f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}" for k, v in r.items()
    ).replace("'", '"')
    osm = f'network = "{(INPUT / "tiny.osm").as_posix()}"' if network else ""
    path = tmp_path / "tiny.toml"
    path.write_text(
        f"""
[scenario]
name = "tiny"
[inputs]
practices = "practices.csv"
{osm}
{inputs_extra}
[rules]
{rule_lines}
[solver]
time_limit_seconds = 30
threads = 1
[network]
{network_lines}
"""
    )
    return str(path)


def solve(m, *, seconds: float = 60.0, **options):
    """A built model through the solver's one door (:func:`hubopt.solver.solve_model`)
    with a clock of ``seconds`` and ``options`` (:class:`hubopt.solver.Options`)."""
    from hubopt.solver import Clock, Options, solve_model

    return solve_model(m, Clock.starting(seconds), Options(**options))
