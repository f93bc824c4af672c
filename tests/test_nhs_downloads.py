"""NHS files exactly as downloaded: zip archives, both list-size layouts, ePCN as
.xlsx (zipped too), the full ONS Postcode Directory, each file's publication date, and
the rule that no practice is lost to a later register. Every file is written here."""

from __future__ import annotations

import zipfile
from datetime import date

import pandas as pd
import pytest

from hubopt.inputs import area, load, nhs, published
from hubopt.outputs import tables
from hubopt.scenario import Scenario
from tests.test_nhs import EPCN, LIST_SIZES, POSTCODES_LATLON, _epraccur_row

SUB_ICB_SIZES = """PUBLICATION,EXTRACT_DATE,TYPE,SUB_ICB_LOCATION_CODE,ONS_SUB_ICB_LOCATION_CODE,CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS
GP_PRAC_PAT_LIST,2026-04-01,GP,03W,E38000097,C82001,LE1 3AA,ALL,ALL,12100
GP_PRAC_PAT_LIST,2026-04-01,GP,03W,E38000097,C82002,LE4 5PQ,ALL,ALL,9100
GP_PRAC_PAT_LIST,2026-04-01,GP,04C,E38000201,C82003,LE2 1AA,ALL,ALL,4100
"""

#: the ICB-era layout some months add: ICB columns before the sub-ICB ones
ICB_SIZES = """PUBLICATION,EXTRACT_DATE,TYPE,ICB_CODE,ONS_ICB_CODE,SUB_ICB_LOCATION_CODE,ONS_SUB_ICB_LOCATION_CODE,CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS
GP_PRAC_PAT_LIST,01-Apr-26,GP,QK1,E54000015,03W,E38000097,C82001,LE1 3AA,ALL,ALL,12100
"""

SUB_ICB_MAP = """PUBLICATION,EXTRACT_DATE,PRACTICE_CODE,PRACTICE_NAME,PRACTICE_POSTCODE,PCN_CODE,PCN_NAME,ONS_SUB_ICB_LOCATION_CODE,SUB_ICB_LOCATION_CODE,SUB_ICB_LOCATION_NAME,ONS_ICB_CODE,ICB_CODE,ICB_NAME
GP_PRAC_PAT_LIST,01-Apr-26,C82001,THE HIGHCROSS SURGERY,LE1 3AA,U11111,CITY PCN,E38000097,03W,NHS LLR ICB - 03W,E54000015,QK1,NHS Leicester Integrated Care Board
GP_PRAC_PAT_LIST,01-Apr-26,C82003,OLD PRACTICE,LE2 1AA,U,Unallocated,E38000201,04C,NHS LLR ICB - 04C,E54000015,QK1,NHS Leicester Integrated Care Board
"""

#: ONSPD has ~50 columns; hubopt reads three of them
ONSPD_COLUMNS = ["pcd", "pcd2", "pcds", "dointr", "doterm", "oscty", "ced", "oslaua", "osward",
                 "parish", "usertype", "oseast1m", "osnrth1m", "osgrdind", "oshlthau", "nhser",
                 "ctry", "rgn", "streg", "pcon", "eer", "teclec", "ttwa", "pct", "itl", "statsward",
                 "oa11", "casward", "npark", "lsoa11", "msoa11", "wz11", "sicbl", "bua22", "ru11ind",
                 "oac11", "lat", "long", "lep1", "lep2", "pfa", "imd", "calncv", "icb", "oa21",
                 "lsoa21", "msoa21", "ruc21ind", "lsoa01", "msoa01"]  # fmt: skip


def _onspd() -> str:
    rows = [",".join(ONSPD_COLUMNS)]
    for line in POSTCODES_LATLON.splitlines()[1:]:
        pc, lat, lon = line.split(",")
        cells = dict.fromkeys(ONSPD_COLUMNS, "x")
        cells.update(pcd=pc.replace(" ", ""), pcds=pc, lat=lat, long=lon,
                     oseast1m="", osnrth1m="")  # fmt: skip
        rows.append(",".join(cells[c] for c in ONSPD_COLUMNS))
    rows.append(",".join("ZZ99 9ZZ" if c == "pcds" else "99.999999" if c == "lat" else "0"
                         for c in ONSPD_COLUMNS))  # fmt: skip
    return "\n".join(rows) + "\n"


def _zip(path, members: dict[str, str | bytes], when=(2021, 1, 5, 0, 0, 0)):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=when), data)
    return path


def _register(*rows: str) -> str:
    return "\n".join(rows) + "\n"


REGISTER = _register(
    _epraccur_row("C82001", "THE HIGHCROSS SURGERY", "LE1 3AA"),
    _epraccur_row("C82002", "BELGRAVE HEALTH CENTRE", "LE4 5PQ"),
    _epraccur_row("C82003", "OLD PRACTICE", "LE2 1AA", status="D"),  # dormant, no date
    _epraccur_row("C82004", "PRISON HEALTH", "LE3 9ZZ", status="C", close="20201130"),
)


def test_dates_from_published_names():
    assert published.date_from_name("gp-reg-pat-prac-all_2021-01.csv") == date(2021, 1, 1)
    assert published.date_from_name("ePCN_2022-02-16.xlsx") == date(2022, 2, 16)
    assert published.date_from_name("ONSPD_FEB_2024_UK.zip") == date(2024, 2, 1)
    assert published.date_from_name("epraccur.csv") is None
    assert published.date_from_name("epraccur_late2021.csv") is None


@pytest.mark.parametrize(
    "text, expected",
    [("01JAN2021", date(2021, 1, 1)), ("2026-04-01", date(2026, 4, 1)),
     ("01-Apr-26", date(2026, 4, 1)), ("01Jan2022", date(2022, 1, 1))],
)  # fmt: skip
def test_extract_dates_of_both_eras(text, expected):
    assert published.parse_extract_date(pd.Series([text, text, ""])) == expected


def test_ccg_era_list_sizes_zipped(tmp_path):
    z = _zip(tmp_path / "gp-reg-pat-prac-all.zip", {"gp-reg-pat-prac-all.csv": LIST_SIZES})
    loaded = nhs.read_list_sizes(z)
    t = loaded.table
    assert list(t.index) == ["C82001", "C82002", "C82003", "C82004"]
    assert t.loc["C82004", "ccg_code"] == "04C" and t.loc["C82001", "ons_ccg_code"] == "E38000097"
    assert loaded.source == "gp-reg-pat-prac-all.zip:gp-reg-pat-prac-all.csv"
    assert loaded.published == published.Published(date(2021, 1, 1), "EXTRACT_DATE column")


@pytest.mark.parametrize("zipped", [False, True])
def test_sub_icb_era_list_sizes(tmp_path, zipped):
    p = tmp_path / "gp-reg-pat-prac-all.csv"
    p.write_text(SUB_ICB_SIZES)
    if zipped:
        p = _zip(tmp_path / "gp-reg-pat-prac-all-apr-26.zip", {p.name: SUB_ICB_SIZES})
    loaded = nhs.read_list_sizes(p)
    t = loaded.table
    assert t.loc["C82003", "ccg_code"] == "04C"
    assert t.loc["C82003", "ons_ccg_code"] == "E38000201"
    assert t.loc["C82001", "list_size"] == "12100"
    assert loaded.published is not None and loaded.published.date == date(2026, 4, 1)
    icb = tmp_path / "icb.csv"
    icb.write_text(ICB_SIZES)
    t = nhs.read_list_sizes(icb).table
    assert (t.loc["C82001", "ccg_code"], t.loc["C82001", "icb_code"]) == ("03W", "QK1")


def test_sub_icb_era_practice_map(tmp_path):
    p = tmp_path / "gp-reg-pat-prac-map.csv"
    p.write_text(SUB_ICB_MAP)
    m = nhs.read_practice_map(p)
    assert m.table.loc["C82001", "ccg_code"] == "03W"
    assert m.table.loc["C82001", "icb_name"] == "NHS Leicester Integrated Care Board"
    assert m.table.loc["C82003", "pcn_code"] == ""  # "U": in no PCN
    assert m.published is not None and m.published.date == date(2026, 4, 1)


def test_epraccur_zip_as_published_is_dated_by_its_member(tmp_path):
    z = _zip(tmp_path / "epraccur.zip", {"epraccur.csv": REGISTER}, when=(2021, 2, 3, 9, 0, 0))
    reg = nhs.read_epraccur(z)
    assert len(reg.table) == 4 and reg.source == "epraccur.zip:epraccur.csv"
    assert reg.published == published.Published(date(2021, 2, 3), "date of the file in the archive")
    # unzipped and with no date in its name: at least as recent as its latest date
    plain = tmp_path / "epraccur.csv"
    plain.write_text(REGISTER)
    when = nhs.read_epraccur(plain).published
    assert when is not None and when.date == date(2020, 11, 30) and not when.exact
    assert str(when) == "2020-11-30 or later (latest date in the file)"


@pytest.mark.parametrize("zipped", [False, True])
def test_epcn_xlsx_as_published(tmp_path, zipped):
    book = tmp_path / "ePCN.xlsx"
    partners = pd.read_csv(pd.io.common.StringIO(EPCN), dtype=str, keep_default_na=False)
    with pd.ExcelWriter(book) as xw:
        pd.DataFrame({"PCN Code": ["U11111"], "PCN Name": ["CITY PCN"]}).to_excel(
            xw, sheet_name="PCNDetails", index=False
        )
        partners.to_excel(xw, sheet_name="PCN Core Partner Details", index=False)
    path = _zip(tmp_path / "epcn.zip", {"ePCN.xlsx": book.read_bytes()}) if zipped else book
    loaded = nhs.read_epcn(path, as_at="2021-01-01")
    assert loaded.table.loc["C82002", "pcn_code"] == "U33333"
    assert loaded.source == ("epcn.zip:ePCN.xlsx" if zipped else "ePCN.xlsx")
    if zipped:
        assert loaded.published is not None and loaded.published.date == date(2021, 1, 5)


def test_full_onspd_zip_reads_only_the_needed_columns(tmp_path):
    z = _zip(
        tmp_path / "ONSPD_FEB_2024_UK.zip",
        {
            "Documents/LA_UA names and codes UK as at 04_23.csv": "LAD23CD,LAD23NM\nE1,X\n",
            "Data/ONSPD_FEB_2024_UK.csv": _onspd(),
            "User Guide/ONSPD_User_Guide.txt": "guide",
        },
    )
    loaded = nhs.read_postcode_lookup(z)
    t = loaded.table
    assert loaded.source == "ONSPD_FEB_2024_UK.zip:ONSPD_FEB_2024_UK.csv"
    assert sorted(t.columns) == ["lat", "lon"]
    assert t.loc["LE45PQ", "lat"] == pytest.approx(52.657)
    assert t.loc["ZZ999ZZ"].isna().all()  # ONSPD's 99.999999: no known location
    assert loaded.published is not None and loaded.published.date == date(2024, 2, 1)


def _downloads(tmp_path, register_when):
    """A downloads folder as a planner would have it, the register zipped at a date."""
    d = tmp_path / "downloads"
    d.mkdir()
    (d / "gp-reg-pat-prac-all.csv").write_text(LIST_SIZES)
    _zip(d / "epraccur.zip", {"epraccur.csv": REGISTER}, when=register_when)
    (d / "ePCN.csv").write_text(EPCN)
    _zip(d / "ONSPD_FEB_2024_UK.zip", {"Data/ONSPD_FEB_2024_UK.csv": _onspd()})
    return d


def _scenario(d, **kw) -> Scenario:
    return Scenario(
        name="t", list_sizes=d / "gp-reg-pat-prac-all.csv", register=d / "epraccur.zip",
        pcn_membership=d / "ePCN.csv", postcodes=d / "ONSPD_FEB_2024_UK.zip",
        ccg=("03W", "04C"), as_at="2021-01-01", exclude_non_gp=False, **kw,
    )  # fmt: skip


def test_dormant_in_a_later_register_is_kept_and_named(tmp_path):
    """The register is of March 2021, after as_at: C82003 (dormant, no date) had its
    4,000 patients on 1 Jan 2021 and stays; C82004 closed on 30 Nov 2020, before."""
    loaded = load.load_inputs(_scenario(_downloads(tmp_path, (2021, 3, 1, 0, 0, 0))))
    assert "C82003" in loaded.practices.index
    assert "C82004" not in loaded.practices.index
    kept = next(n for n in loaded.notes if n.startswith("kept 1 practice ("))
    assert "C82003 OLD PRACTICE, 4,000 patients" in kept
    assert "dormant in the register dated 2021-03-01 (date of the file in the archive)" in kept
    assert "after as_at 2021-01-01" in kept
    row = loaded.rejects.set_index("practice_code").loc["C82004"]
    assert (row["name"], row["patients"], row["category"]) == ("PRISON HEALTH", 800, area.CLOSED)
    assert row["reason"] == "closed on 2020-11-30, on or before as_at 2021-01-01"
    assert not any(n.startswith("left out") for n in loaded.notes)  # named once, from rejects
    assert tables.left_out_notes(loaded.rejects) == [
        "left out 1 practice (closed or dormant in the register; 800 patients): "
        "C82004 PRISON HEALTH (800 patients); listed in rejects.csv"
    ]
    assert loaded.published == {
        "list_sizes": "2021-01-01 (EXTRACT_DATE column)",
        "postcodes": "2024-02-01 (file name)",
        "register": "2021-03-01 (date of the file in the archive)",
    }


def test_dormant_on_or_before_as_at_is_left_out_and_named(tmp_path):
    """The register is of December 2020: C82003 was dormant by 1 Jan 2021."""
    loaded = load.load_inputs(_scenario(_downloads(tmp_path, (2020, 12, 1, 0, 0, 0))))
    assert set(loaded.practices.index) == {"C82001", "C82002"}
    out = loaded.rejects.set_index("practice_code")
    assert set(out.index) == {"C82003", "C82004"}
    assert out.loc["C82003", "patients"] == 4000
    assert out.loc["C82003", "reason"] == (
        "dormant in the register dated 2020-12-01 (date of the file in the archive), "
        "on or before as_at 2021-01-01"
    )
    assert tables.left_out_notes(loaded.rejects) == [
        "left out 2 practices (closed or dormant in the register; 4,800 patients): "
        "C82003 OLD PRACTICE (4,000 patients), C82004 PRISON HEALTH (800 patients); "
        "listed in rejects.csv"
    ]
    assert not any(n.startswith("kept") for n in loaded.notes)


def test_closed_without_as_at_is_left_out_as_before(tmp_path):
    practices = load.load_inputs(_scenario(_downloads(tmp_path, (2021, 3, 1, 0, 0, 0)))).practices
    sel, _ = area.select_area(practices.assign(status="dormant"), Scenario(name="t"))
    assert sel.left_out["reason"].str.endswith("(no as_at date given)").all()
    assert len(sel.left_out) == len(practices)
