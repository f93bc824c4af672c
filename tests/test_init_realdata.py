"""``hubopt init`` then ``hubopt run`` on real areas of ../shared/data, and the North
Cumbria practices a later register shows dormant kept (issue 13)."""

from __future__ import annotations

import tomllib

import pytest
from click.testing import CliRunner

from hubopt.cli import main
from hubopt.inputs import load
from hubopt.scenario import Scenario
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.realdata

NHS = SHARED_DATA / "nhs"
WORKINGTON = {"A82048": 6348, "A82049": 5727, "A82050": 6878, "A82623": 4970}


@pytest.fixture(scope="module", autouse=True)
def _shared_data():
    if not NHS.is_dir():
        pytest.skip("../shared/data is absent")


def test_north_cumbria_keeps_its_38_practices_of_1000_or_more():
    """01H: 39 practices on 1 Jan 2021, one of 855 patients; the four Workington
    practices (23,923 patients) are dormant only in the late-2021 register."""
    s = Scenario(
        name="ncumbria", list_sizes=NHS / "gp-reg-pat-prac-all_2021-01.csv",
        register=NHS / "epraccur_late2021.csv", postcodes=NHS / "practice_postcodes_latlon.csv",
        pcn_membership=NHS / "ePCN_2022-02-16_CorePartnerDetails.csv",
        ccg=("01H",), as_at="2021-01-01", min_list_size=1000,
    )  # fmt: skip
    loaded = load.load_inputs(s)
    p = loaded.practices
    assert len(p) == 38
    assert {c: int(p.at[c, "list_size"]) for c in WORKINGTON} == WORKINGTON
    assert sum(WORKINGTON.values()) == 23_923
    assert list(loaded.rejects["practice_code"]) == ["A82620"]
    assert any(n.startswith("kept 4 practices (23,923 patients)") for n in loaded.notes)
    assert loaded.published["list_sizes"] == "2021-01-01 (EXTRACT_DATE column)"


@pytest.mark.parametrize(
    "area, practices, name",
    [("01H", 39, "NHS North Cumbria CCG"), ("NHS Hull", 32, "NHS Hull CCG")],
)
def test_init_then_run(tmp_path, area, practices, name):
    runner = CliRunner()
    scenario = tmp_path / "area.toml"
    res = runner.invoke(main, ["init", area, "--nhs-dir", str(NHS), "-o", str(scenario),
                               "--boundaries", str(SHARED_DATA / "boundaries")])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert f"{name} (CCG / sub-ICB location" in res.output
    assert f"Practices: {practices}, " in res.output
    assert "Today's PCNs: " in res.output
    assert (tmp_path / "area-boundary.geojson").is_file()
    raw = tomllib.loads(scenario.read_text())
    assert raw["area"]["as_at"] == "2021-01-01"
    assert raw["inputs"]["pcn_membership"].endswith("ePCN_2022-02-16.xlsx")
    res = runner.invoke(main, ["run", str(scenario), "--out", str(tmp_path / "out"),
                               "--maps-dir", str(tmp_path / "maps"), "--time-limit", "20"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert f": {practices} practices, " in res.output
    assert "STRAIGHT-LINE ESTIMATE" in res.output
    assert (tmp_path / "out" / "report.html").is_file()
