"""NHS files as published: format quirks and every validation rule, on small
fixtures written here (real files are exercised in test_realdata.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from hubopt.errors import InputError
from hubopt.inputs import area, nhs
from hubopt.outputs import tables
from hubopt.scenario import Scenario


def _epraccur_row(code, name, postcode, status="A", setting="4", grouping="Y60", close=""):
    cells = [""] * 27
    cells[0], cells[1], cells[2], cells[3] = code, name, grouping, "QK1"
    cells[4], cells[9], cells[10], cells[11] = "1 HIGH ST", postcode, "19740401", close
    cells[12], cells[14], cells[25] = status, "03W", setting
    return ",".join(f'"{c}"' for c in cells)


EPRACCUR = "\n".join(
    [
        _epraccur_row("C82001", "THE HIGHCROSS SURGERY", "LE1 3AA"),
        _epraccur_row("C82002", "BELGRAVE HEALTH CENTRE", "LE4  5PQ"),
        _epraccur_row("C82003", "OLD PRACTICE", "LE2 1AA", status="D"),
        _epraccur_row("C82004", "PRISON HEALTH", "LE3 9ZZ", setting="8"),
        _epraccur_row("C82005", "NEW PRACTICE", "LE5 1AA"),  # no list size
        _epraccur_row("W00001", "WELSH PRACTICE", "CF1 1AA", grouping="W00"),
    ]
)

LIST_SIZES = """PUBLICATION,EXTRACT_DATE,TYPE,CCG_CODE,ONS_CCG_CODE,CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS
GP_PRAC_PAT_LIST,01JAN2021,GP,03W,E38000097,C82001,le1 3aa,ALL,ALL,12000
GP_PRAC_PAT_LIST,01JAN2021,GP,03W,E38000097,C82002,LE4 5PQ,ALL,ALL,9000
GP_PRAC_PAT_LIST,01JAN2021,GP,03W,E38000097,C82003,LE2 1AA,ALL,ALL,4000
GP_PRAC_PAT_LIST,01JAN2021,GP,04C,E38000097,C82004,LE3 9ZZ,ALL,ALL,800
"""

POSTCODES_LATLON = """postcode,lat,lon
LE1 3AA,52.6369,-1.1398
LE45PQ,52.6570,-1.1190
LE2 1AA,52.6200,-1.1300
LE3 9ZZ,52.6300,-1.1800
"""


def _bng_lookup() -> str:
    """The same places in British National Grid metres, with ONSPD's headers."""
    from pyproj import Transformer

    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    rows = ["pcds,oseast1m,osnrth1m"]
    for line in POSTCODES_LATLON.splitlines()[1:]:
        pc, lat, lon = line.split(",")
        e, n = to_bng.transform(float(lon), float(lat))
        rows.append(f"{pc},{e:.0f},{n:.0f}")
    return "\n".join(rows) + "\n"


EPCN = """Partner Organisation Code,Partner Name,PCN Code,PCN Name,Practice to PCN Relationship Start Date,Practice to PCN Relationship End Date
C82001,THE HIGHCROSS SURGERY,U11111,CITY PCN,20190701,
C82002,BELGRAVE HEALTH CENTRE,U22222,OLD NORTH PCN,20190701,20200331
C82002,BELGRAVE HEALTH CENTRE,U33333,NORTH PCN,20200401,
C82003,OLD PRACTICE,U11111,CITY PCN,20190701,
"""


@pytest.fixture
def files(tmp_path):
    out = {}
    for name, text in {
        "epraccur.csv": EPRACCUR,
        "sizes.csv": LIST_SIZES,
        "pc.csv": POSTCODES_LATLON,
        "pc_bng.csv": _bng_lookup(),
        "epcn.csv": EPCN,
    }.items():
        (tmp_path / name).write_text(text)
        out[name] = tmp_path / name
    return out


def test_headerless_epraccur(files):
    reg = nhs.read_epraccur(files["epraccur.csv"]).table
    assert len(reg) == 6
    assert reg.loc["C82001", "name"] == "THE HIGHCROSS SURGERY"
    assert reg.loc["C82003", "status"] == "dormant"
    assert reg.loc["C82004", "prescribing_setting"] == "8"
    assert reg.loc["C82001", "open_date"] == pd.Timestamp("1974-04-01")


def test_epraccur_with_added_header_row(files, tmp_path):
    p = tmp_path / "with_header.csv"
    header = ",".join(f'"Organisation Code{i}"' for i in range(27))
    p.write_text(header + "\n" + EPRACCUR)
    reg = nhs.read_epraccur(p)
    assert len(reg.table) == 6 and reg.table["line"].iloc[0] == 2


def test_postcode_spacing_and_case():
    assert nhs.normalise_postcode(" le4  5pq ") == "LE45PQ"
    assert nhs.normalise_postcode(None) == ""


def test_bng_and_latlon_lookups_agree(files):
    a = nhs.read_postcode_lookup(files["pc.csv"]).table
    b = nhs.read_postcode_lookup(files["pc_bng.csv"]).table
    for key in a.index:
        # whole metres in BNG: within ~1e-5 degrees after the round trip
        assert b.loc[key, "lat"] == pytest.approx(a.loc[key, "lat"], abs=2e-5)
        assert b.loc[key, "lon"] == pytest.approx(a.loc[key, "lon"], abs=2e-5)


def test_epcn_membership_as_at_a_date(files):
    before = nhs.read_epcn(files["epcn.csv"], as_at="2020-01-01").table
    after = nhs.read_epcn(files["epcn.csv"], as_at="2021-01-01").table
    assert before.loc["C82002", "pcn_code"] == "U22222"
    assert after.loc["C82002", "pcn_code"] == "U33333"
    assert "C82001" not in nhs.read_epcn(files["epcn.csv"], as_at="2019-01-01").table.index


def _assemble(files, **kw):
    return nhs.assemble(
        list_sizes=nhs.read_list_sizes(files["sizes.csv"]),
        postcodes=nhs.read_postcode_lookup(files["pc.csv"]),
        register=nhs.read_epraccur(files["epraccur.csv"]),
        epcn=nhs.read_epcn(files["epcn.csv"], as_at="2021-01-01"),
        **kw,
    )


def test_assemble_joins_everything(files):
    t = _assemble(files)
    p = t.practices
    assert list(p.index) == ["C82001", "C82002", "C82003", "C82004"]
    assert p.loc["C82001", "list_size"] == 12_000
    assert p.loc["C82002", "pcn_code"] == "U33333"
    assert p.loc["C82002", "lat"] == pytest.approx(52.657)
    assert p.loc["C82001", "name"] == "THE HIGHCROSS SURGERY"
    # C82005 is active in the register with no list size: a note, not an error;
    # the Welsh practice is not expected in an English list-size file.
    assert any("1 active GP practices have no list size" in n and "C82005" in n for n in t.notes)


def test_cross_file_problems_all_named(files, tmp_path):
    sizes = LIST_SIZES + (
        "GP_PRAC_PAT_LIST,01JAN2021,GP,03W,E1,C89999,LE9 9XX,ALL,ALL,5000\n"
        "GP_PRAC_PAT_LIST,01JAN2021,GP,03W,E1,C82001,LE1 3AA,ALL,ALL,12000\n"
        "GP_PRAC_PAT_LIST,01JAN2021,GP,03W,E1,C82006,LE2 1AA,ALL,ALL,-3\n"
    )
    files["sizes.csv"].write_text(sizes)
    with pytest.raises(InputError) as err:
        _assemble(files)
    text = str(err.value)
    assert "practice C82001 appears more than once" in text
    assert "line 6 (C89999): practice C89999 has a list size but is not in the register" in text
    assert "line 6 (C89999): postcode 'LE9 9XX' is not in the postcode lookup" in text
    assert "line 8 (C82006): list_size -3 must be above zero" in text
    assert "--drop-invalid" in text


def test_drop_invalid_keeps_the_rest(files):
    sizes = LIST_SIZES + "GP_PRAC_PAT_LIST,01JAN2021,GP,03W,E1,C82006,LE2 1AA,ALL,ALL,abc\n"
    files["sizes.csv"].write_text(sizes)
    t = _assemble(files, drop_invalid=True)
    assert "C82006" not in t.practices.index and len(t.practices) == 4
    assert set(t.rejects["practice_code"]) == {"C82006"}
    reasons = " | ".join(t.rejects["reason"])
    assert "'abc' is not a number" in reasons and "not in the register" in reasons


def test_area_rules_report_counts_and_patients(files):
    practices = _assemble(files).practices
    s = Scenario(name="t", ccg=("03W", "04C"), min_list_size=1000, as_at="2021-01-01")
    sel, problems = area.select_area(practices, s)
    assert problems == []
    assert list(sel.practices.index) == ["C82001", "C82002"]
    assert sel.report == ["area: 4 practices, 25,800 patients"]  # the left out: below
    # one note per rule that left a practice out (none for min_list_size: it left none)
    assert tables.left_out_notes(sel.left_out) == [
        "left out 1 practice (prescribing setting other than GP practice; 800 patients): "
        "C82004 PRISON HEALTH (800 patients); listed in rejects.csv",
        "left out 1 practice (closed or dormant in the register; 4,000 patients): "
        "C82003 OLD PRACTICE (4,000 patients); listed in rejects.csv",
    ]
    only_city, _ = area.select_area(
        practices, Scenario(name="t", ccg=("04C",), exclude_non_gp=False)
    )
    assert list(only_city.practices.index) == ["C82004"]


def test_area_by_practice_codes_flags_unknown(files):
    practices = _assemble(files).practices
    sel, problems = area.select_area(practices, Scenario(name="t", practice_codes=("C82001", "X1")))
    assert list(sel.practices.index) == ["C82001"]
    assert [str(p) for p in problems] == [
        "[area] practices: X1 is not in the practices data; check the code"
    ]
