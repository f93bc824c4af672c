"""Integration tests on the real public data in ../shared/data.

Marked ``realdata``: ``pytest -m realdata`` runs just these; they skip cleanly when
../shared/data is absent.
"""

from __future__ import annotations

import pytest

from hubopt.inputs import area, load, nhs
from hubopt.outputs import evaluate, tables
from hubopt.scenario import Scenario, scenario_from_dict

pytestmark = pytest.mark.realdata

LLR = ("03W", "04C", "04V")


@pytest.fixture(scope="module")
def nhs_dir():
    from tests.conftest import SHARED_DATA

    d = SHARED_DATA / "nhs"
    if not d.is_dir():
        pytest.skip("../shared/data is absent")
    return d


@pytest.fixture(scope="module")
def england(nhs_dir):
    """All England from the files as published: register, list sizes, PCN
    membership as at 1 Jan 2021, postcode coordinates."""
    return nhs.assemble(
        list_sizes=nhs.read_list_sizes(nhs_dir / "gp-reg-pat-prac-all_2021-01.csv"),
        postcodes=nhs.read_postcode_lookup(nhs_dir / "practice_postcodes_latlon.csv"),
        register=nhs.read_epraccur(nhs_dir / "epraccur_late2021.csv"),
        pcn_map=nhs.read_practice_map(nhs_dir / "gp-reg-pat-prac-map_2022-01.csv"),
        epcn=nhs.read_epcn(nhs_dir / "ePCN_2022-02-16.xlsx", as_at="2021-01-01"),
    )


def test_all_england_loads_and_validates(england):
    p = england.practices
    assert len(p) == 6658
    assert int(p["list_size"].sum()) == 60_606_345
    assert len(england.rejects) == 0
    assert p["lat"].between(49.8, 55.9).all()
    # ePCN as at 2021-01-01 (strict dates, no gap filling): ~1,254 PCNs
    assert 1240 <= p.loc[p["pcn_code"] != "", "pcn_code"].nunique() <= 1260


def test_national_pcn_figures(nhs_dir):
    """PROVENANCE: 1,257 PCNs (Jan 2021), median 44.2k, 57% within 30-50k, 11
    practices alone above 50k."""
    practices = load.read_all_practices(
        Scenario(name="england", practices=nhs_dir / "practices_england.csv")
    ).practices
    s = evaluate.population_summary(
        practices["pcn_code"], practices["list_size"], band=(30_000, 50_000)
    )
    assert s["groups"] == 1257
    assert s["median"] == pytest.approx(44_200, abs=100)
    assert round(s["share_in_band"], 2) == 0.57
    assert s["practices_above_band"] == 11


def test_llr_selects_its_practices(england):
    """134 practices in Jan 2021; two are special services of 46 and 62 patients.
    Y03587 (3,616 patients) is dormant in the late-2021 register only: kept."""
    s = Scenario(name="llr", ccg=LLR, min_list_size=100, as_at="2021-01-01")
    sel, problems = area.select_area(england.practices, s)
    assert problems == []
    assert len(sel.practices) == 132
    assert "Y03587" in sel.practices.index
    assert 1_150_000 < sel.practices["list_size"].sum() < 1_170_000
    out = sel.left_out.set_index("practice_code")
    assert sorted(out.index[out["category"] == "fewer than 100 patients"]) == ["Y03584", "Y05412"]
    assert any(
        n.startswith("left out 2 practices (fewer than 100 patients; 108 patients): Y03584 ")
        for n in tables.left_out_notes(sel.left_out)
    )
    everything, _ = area.select_area(
        england.practices, Scenario(name="llr", ccg=LLR, exclude_closed=False)
    )
    assert len(everything.practices) == 134


def test_llr_by_boundary_with_buffer(england):
    from tests.conftest import SHARED_DATA

    boundary = SHARED_DATA / "boundaries" / "ccg_apr2020_en_buc.geojson"
    raw = {
        "scenario": {"name": "llr-boundary"},
        "inputs": {"practices": str(SHARED_DATA / "nhs" / "practices_england.csv"),
                   "boundary": str(boundary)},
        "area": {"boundary_value": ["E38000097", "E38000201", "E38000051"],
                 "boundary_buffer_m": 0},
    }  # fmt: skip
    raw["area"]["boundary_field"] = "ccg20cd"
    scenario = scenario_from_dict(raw)
    loaded = load.load_inputs(scenario)
    n = len(loaded.practices)
    assert 125 <= n <= 140, n
