"""``hubopt init``: a scenario from a folder of NHS files as downloaded, on small files
written here (a downloads folder and a boundaries folder), then ``hubopt run`` on it."""

from __future__ import annotations

import tomllib

import geopandas as gpd
import pytest
from click.testing import CliRunner
from shapely.geometry import box

from hubopt import onboard
from hubopt.cli import main
from tests.test_nhs import EPCN, LIST_SIZES
from tests.test_nhs_downloads import REGISTER, SUB_ICB_SIZES, _onspd, _zip

CCG_MAP = """PUBLICATION,EXTRACT_DATE,PRACTICE_CODE,PRACTICE_NAME,PRACTICE_POSTCODE,PCN_CODE,PCN_NAME,ONS_CCG_CODE,CCG_CODE,CCG_NAME,ONS_STP_CODE,STP_CODE,STP_NAME
GP_PRAC_PAT_LIST,01Jan2021,C82001,THE HIGHCROSS SURGERY,LE1 3AA,U11111,CITY PCN,E38000097,03W,NHS Leicester City North CCG,E54000015,QK1,Leicester and Rutland
GP_PRAC_PAT_LIST,01Jan2021,C82002,BELGRAVE HEALTH CENTRE,LE4 5PQ,U33333,NORTH PCN,E38000097,03W,NHS Leicester City North CCG,E54000015,QK1,Leicester and Rutland
GP_PRAC_PAT_LIST,01Jan2021,C82004,PRISON HEALTH,LE3 9ZZ,U,Unallocated,E38000201,04C,NHS Leicester West CCG,E54000015,QK1,Leicester and Rutland
"""
#: last month's list sizes: passed over for the latest
OLDER_SIZES = LIST_SIZES.replace("01JAN2021", "01DEC2020").replace("12000", "11000")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def downloads(tmp_path):
    """The files as a planner downloads them: list sizes of two months, the register
    zip (of March 2021), ePCN, the practice map and the ONS Postcode Directory zip."""
    d = tmp_path / "downloads"
    d.mkdir()
    (d / "gp-reg-pat-prac-all_2020-12.csv").write_text(OLDER_SIZES)
    (d / "gp-reg-pat-prac-all_2021-01.csv").write_text(LIST_SIZES)
    _zip(d / "epraccur.zip", {"epraccur.csv": REGISTER}, when=(2021, 3, 1, 0, 0, 0))
    (d / "ePCN_2021-03-01_CorePartnerDetails.csv").write_text(EPCN)
    (d / "ePCN_2021-03-01_PCNDetails.csv").write_text("PCN Code,PCN Name\nU11111,CITY PCN\n")
    (d / "gp-reg-pat-prac-map.csv").write_text(CCG_MAP)
    _zip(d / "ONSPD_FEB_2024_UK.zip", {"Data/ONSPD_FEB_2024_UK.csv": _onspd()})
    (d / "notes.txt").write_text("not an NHS file")
    return d


@pytest.fixture
def boundaries(tmp_path):
    """ONS-style outlines: two CCGs and a local authority around the practices."""
    d = tmp_path / "boundaries"
    d.mkdir()
    gpd.GeoDataFrame(
        {"ccg20cd": ["E38000097", "E38000201"], "ccg20nm": ["NHS Leicester City North CCG",
                                                          "NHS Leicester West CCG"]},
        geometry=[box(-1.20, 52.60, -1.10, 52.70), box(-1.30, 52.60, -1.20, 52.70)],
        crs="EPSG:4326",
    ).to_file(d / "ccg_apr2020_en_buc.geojson", driver="GeoJSON")  # fmt: skip
    gpd.GeoDataFrame(
        {"LAD21CD": ["E06000016"], "LAD21NM": ["Leicester"]},
        geometry=[box(-1.25, 52.58, -1.05, 52.68)],
        crs="EPSG:4326",
    ).to_file(d / "lad_2021_england_bsc.geojson", driver="GeoJSON")
    return d


def test_finds_latest_files_by_published_name(downloads):
    found, passed = onboard.find_nhs_files(downloads)
    assert {k: p.name for k, p in found.items()} == {
        "list_sizes": "gp-reg-pat-prac-all_2021-01.csv",
        "register": "epraccur.zip",
        "pcn_membership": "ePCN_2021-03-01_CorePartnerDetails.csv",
        "pcn_map": "gp-reg-pat-prac-map.csv",
        "postcodes": "ONSPD_FEB_2024_UK.zip",
    }
    assert [p.name for p in passed["list_sizes"]] == ["gp-reg-pat-prac-all_2020-12.csv"]


def test_missing_publication_is_named(tmp_path):
    (tmp_path / "gp-reg-pat-prac-all.csv").write_text(LIST_SIZES)
    res = run("init", "03W", "--nhs-dir", tmp_path, "-o", tmp_path / "s.toml")
    assert res.exit_code == 2, res.output
    assert "no postcodes file: download ONS Postcode Directory" in res.output
    assert not (tmp_path / "s.toml").exists()


def test_init_then_run(downloads, boundaries, tmp_path):
    scenario = tmp_path / "area" / "city.toml"
    res = run("init", "03W", "--nhs-dir", downloads, "--boundaries", boundaries, "-o", scenario)
    assert res.exit_code == 0, res.output
    out = res.output
    assert (
        "list sizes      gp-reg-pat-prac-all_2021-01.csv: 2021-01-01 (EXTRACT_DATE column)" in out
    )
    assert "not used (older): gp-reg-pat-prac-all_2020-12.csv" in out
    assert "register        epraccur.zip: 2021-03-01 (date of the file in the archive)" in out
    assert "Area: 03W NHS Leicester City North CCG (CCG / sub-ICB location, E38000097)" in out
    # C82004 is in 04C; C82003 is dormant only in the March register: kept
    assert "Practices: 3, 25,000 patients" in out
    assert "Today's PCNs: 2, 0 of them within 30,000-50,000 patients" in out
    assert "kept 1 practice (4,000 patients) that had patients on 2021-01-01" in out
    assert "C82003 OLD PRACTICE, 4,000 patients" in out
    assert f"hubopt run {scenario}" in out
    raw = tomllib.loads(scenario.read_text())
    assert raw["area"]["ccg"] == ["03W"] and raw["area"]["as_at"] == "2021-01-01"
    assert raw["inputs"]["boundary"] == "city-boundary.geojson"
    assert raw["network"]["kind"] == "straight_line"
    assert "download.geofabrik.de" in scenario.read_text()
    outline = gpd.read_file(scenario.parent / "city-boundary.geojson")
    assert list(outline["ccg20cd"]) == ["E38000097"]

    res = run("run", scenario, "--out", tmp_path / "out", "--maps-dir", tmp_path / "maps",
              "--time-limit", 20)  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "Scenario 03w-leicester-city-north: 3 practices, 25,000 patients" in res.output
    report = (tmp_path / "out" / "report.html").read_text()
    assert "published: 2021-01-01 (EXTRACT_DATE column)" in report
    assert "published: 2021-03-01 (date of the file in the archive)" in report


def test_never_overwrites_without_force(downloads, tmp_path):
    scenario = tmp_path / "s.toml"
    assert run("init", "03W", "--nhs-dir", downloads, "-o", scenario).exit_code == 0
    scenario.write_text("# my edits\n" + scenario.read_text())
    res = run("init", "03W", "--nhs-dir", downloads, "-o", scenario)
    assert res.exit_code == 3 and "give --force" in res.output
    assert scenario.read_text().startswith("# my edits")
    assert run("init", "03W", "--nhs-dir", downloads, "-o", scenario, "--force").exit_code == 0
    assert not scenario.read_text().startswith("# my edits")


def test_area_by_part_of_a_name(downloads, tmp_path):
    res = run("init", "city north", "--nhs-dir", downloads, "-o", tmp_path / "n.toml")
    assert res.exit_code == 0, res.output
    assert "Area: 03W NHS Leicester City North CCG" in res.output
    # 04C's one practice closed in November 2020: nothing is left
    res = run("init", "leicester west", "--nhs-dir", downloads, "-o", tmp_path / "w.toml")
    assert res.exit_code == 2, res.output
    assert "No practices are left in 04C NHS Leicester West CCG" in res.output
    assert "C82004 PRISON HEALTH, 800 patients: closed on 2020-11-30, on or before" in res.output
    assert not (tmp_path / "w.toml").exists()
    res = run("init", "QK1", "--nhs-dir", downloads, "-o", tmp_path / "i.toml")
    assert res.exit_code == 0 and "Area: QK1 Leicester and Rutland (ICB" in res.output
    assert "Left out: 1 practice, 800 patients:" in res.output  # once, from the rejects
    assert res.output.count("C82004 PRISON HEALTH") == 1
    assert "  - C82004 PRISON HEALTH, 800 patients: closed on 2020-11-30" in res.output
    assert tomllib.loads((tmp_path / "i.toml").read_text())["area"]["icb"] == ["QK1"]


def test_ambiguous_and_wrong_names_list_the_closest(downloads, tmp_path):
    res = run("init", "leicester", "--nhs-dir", downloads, "-o", tmp_path / "s.toml")
    assert res.exit_code == 2
    assert "'leicester' matches 3 areas" in res.output
    assert (
        "03W NHS Leicester City North CCG" in res.output and "04C NHS Leicester West" in res.output
    )
    res = run("init", "Leicestr Wst", "--nhs-dir", downloads, "-o", tmp_path / "s.toml")
    assert res.exit_code == 2
    assert "No area 'Leicestr Wst'" in res.output
    assert "closest matches: 04C NHS Leicester West CCG" in res.output
    assert "Traceback" not in res.output and not (tmp_path / "s.toml").exists()


def test_local_authority_by_its_outline(downloads, boundaries, tmp_path):
    scenario = tmp_path / "la.toml"
    res = run("init", "Leicester", "--nhs-dir", downloads, "--boundaries", boundaries,
              "-o", scenario)  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "Area: E06000016 Leicester (local authority)" in res.output
    raw = tomllib.loads(scenario.read_text())
    assert "ccg" not in raw["area"] and "icb" not in raw["area"]
    assert raw["inputs"]["boundary"] == "la-boundary.geojson"
    # inside the outline: C82001 (-1.14), C82002 (-1.12), C82003 (-1.13), C82004 (-1.18)
    # which closed in November 2020
    assert "Practices: 3, 25,000 patients" in res.output


def test_sub_icb_era_files(downloads, tmp_path):
    for old in downloads.glob("gp-reg-pat-prac-all*"):
        old.unlink()
    _zip(downloads / "gp-reg-pat-prac-all.zip", {"gp-reg-pat-prac-all.csv": SUB_ICB_SIZES})
    scenario = tmp_path / "s.toml"
    res = run("init", "03W", "--nhs-dir", downloads, "-o", scenario)
    assert res.exit_code == 0, res.output
    raw = tomllib.loads(scenario.read_text())
    assert raw["area"]["sub_icb"] == ["03W"] and raw["area"]["as_at"] == "2026-04-01"
    assert raw["inputs"]["list_sizes"].endswith("gp-reg-pat-prac-all.zip")
    assert "Practices: 2, 21,200 patients" in res.output


def test_same_name_every_month_ranked_by_extract_date(tmp_path):
    """NHS Digital publishes gp-reg-pat-prac-all.csv under one name each month."""
    (tmp_path / "gp-reg-pat-prac-all (1).csv").write_text(LIST_SIZES)  # January 2021
    (tmp_path / "gp-reg-pat-prac-all.csv").write_text(OLDER_SIZES)  # December 2020
    (tmp_path / "postcodes.csv").write_text("postcode,lat,lon\n")
    found, passed = onboard.find_nhs_files(tmp_path)
    assert found["list_sizes"].name == "gp-reg-pat-prac-all (1).csv"
    assert found["postcodes"].name == "postcodes.csv"


def test_boundaries_without_the_area_say_so(downloads, boundaries, tmp_path):
    (boundaries / "lad_2021_england_bsc.geojson").unlink()
    res = run("init", "QK1", "--nhs-dir", downloads, "--boundaries", boundaries,
              "-o", tmp_path / "s.toml")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert f"Note: no outline of E54000015 in {boundaries}: catchments follow" in res.output
    assert "boundary" not in tomllib.loads((tmp_path / "s.toml").read_text())["inputs"]


def test_init_with_a_network_then_run_on_roads(downloads, tmp_path, monkeypatch):
    """``--network``: the scenario names the extract and routes on roads; the run
    reads it once into a road store and re-uses it."""
    from hubopt.roads import store
    from tests.test_road_store import grid_extract

    monkeypatch.setenv(store.CACHE_ENV, str(tmp_path / "stores"))
    extract = grid_extract(tmp_path / "region.osm.pbf", n=40, lat0=52.45, lon0=-1.45)
    scenario = tmp_path / "area" / "city.toml"
    res = run("init", "03W", "--nhs-dir", downloads, "-o", scenario, "--network", extract)
    assert res.exit_code == 0, res.output
    assert "Travel: road minutes on region.osm.pbf" in res.output
    raw = tomllib.loads(scenario.read_text())
    assert raw["network"]["kind"] == "road" and raw["network"]["fallback"] == "error"
    assert (scenario.parent / raw["inputs"]["network"]).resolve() == extract.resolve()
    for out in ("out1", "out2"):
        res = run("run", scenario, "--out", tmp_path / out, "--maps-dir", tmp_path / "maps",
                  "--time-limit", 10, "--force")  # fmt: skip
        assert res.exit_code == 0, res.output
    meta = (tmp_path / "out2" / "matrix.meta.json").read_text()
    assert '"method": "road network"' in meta and "region.osm.pbf" in meta
    assert len(list((tmp_path / "stores").iterdir())) == 1  # read once, re-used
    bad = run("init", "03W", "--nhs-dir", downloads, "-o", tmp_path / "x.toml",
              "--network", tmp_path / "missing.osm.pbf")  # fmt: skip
    assert bad.exit_code != 0 and "missing.osm.pbf not found" in bad.output
