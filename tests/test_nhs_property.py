"""Property: whatever is wrong with the NHS files as published, ``hubopt init`` and
``hubopt batch`` end in a written scenario or plan, or a clear error naming the file
(and for a row, its line, practice and field); a batch always finishes the areas whose
data is sound, and its national totals add up to the input's.

Hypothesis corrupts a small sound set of published files (two CCGs: 03W, whose rows
stay sound, and 04C): missing and renamed columns, a column given twice, archives cut
short or not archives at all, empty files, other encodings, extract and ODS dates in
other formats, and in 04C's rows unknown codes, postcodes missing from the lookup,
bad list sizes and duplicated rows. Derandomized, so CI sees the same examples every
run; as the property test of ``hubopt run`` (test_bad_input_property.py), with few
examples and no deadline. Real solves (CBC) for the batch.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hubopt.cli import main
from tests.test_batch import batch_toml
from tests.test_nhs import EPCN, LIST_SIZES, _epraccur_row

#: (code, name, ccg, postcode, lat, lon, patients, pcn): 03W sound, 04C the victim
PRACTICES = [
    ("C82001", "THE HIGHCROSS SURGERY", "03W", "LE1 3AA", 52.6369, -1.1398, 12000, "U11111"),
    ("C82002", "BELGRAVE HEALTH CENTRE", "03W", "LE4 5PQ", 52.6570, -1.1190, 9000, "U11111"),
    ("C82006", "WEST END SURGERY", "04C", "LE3 1AB", 52.6300, -1.1800, 7000, "U44444"),
    ("C82007", "BRAUNSTONE PRACTICE", "04C", "LE3 2AB", 52.6250, -1.1900, 8000, "U44444"),
]
SOUND_CCG, VICTIM_CCG = "03W", "04C"
FILES = {
    "sizes": "gp-reg-pat-prac-all.csv",
    "register": "epraccur.zip",
    "epcn": "ePCN.csv",
    "postcodes": "practice_postcodes_latlon.csv",
}
#: the columns a corruption may drop, rename or give twice, by file
COLUMNS = {
    "sizes": ["CODE", "NUMBER_OF_PATIENTS", "CCG_CODE", "POSTCODE", "EXTRACT_DATE"],
    "epcn": ["Partner Organisation Code", "PCN Code", "Practice to PCN Relationship Start Date"],
    "postcodes": ["postcode", "lat", "lon"],
}


def sound_tables() -> dict[str, list[list[str]]]:
    """The files as tables of text cells (the register without a header, as ODS)."""
    sizes_header = LIST_SIZES.splitlines()[0].split(",")
    epcn_header = EPCN.splitlines()[0].split(",")
    return {
        "sizes": [sizes_header]
        + [
            [
                "GP_PRAC_PAT_LIST",
                "01JAN2021",
                "GP",
                ccg,
                "E38000097",
                code,
                pc,
                "ALL",
                "ALL",
                str(n),
            ]
            for code, _, ccg, pc, _, _, n, _ in PRACTICES
        ],  # fmt: skip
        "register": [
            next(csv.reader([_epraccur_row(code, name, pc)])) for code, name, _, pc, *_ in PRACTICES
        ],  # fmt: skip
        "epcn": [epcn_header]
        + [[code, name, pcn, f"{pcn} PCN", "20190701", ""] for code, name, *_, pcn in PRACTICES],
        "postcodes": [["postcode", "lat", "lon"]]
        + [[pc, str(lat), str(lon)] for _, _, _, pc, lat, lon, _, _ in PRACTICES],
    }


def _csv(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    pd.DataFrame(rows).to_csv(buf, header=False, index=False, lineterminator="\n")
    return buf.getvalue().encode(encoding)


def _row(table: list[list[str]], code: str) -> int:
    column = 5 if table[0][0] == "PUBLICATION" else 0
    return next((i for i, r in enumerate(table) if r[column] == code), -1)


def _col(table: list[list[str]], name: str) -> int:
    return table[0].index(name)


#: row corruptions of one practice: (kind, what it does to the tables)
ROW_KINDS = ["missing_postcode", "empty_postcode", "unknown_code", "empty_code", "bad_size",
             "duplicated_row",
             "register_twice", "bad_close_date", "epcn_date"]  # fmt: skip
FILE_KINDS = ["drop_column", "rename_column", "column_twice", "extract_date", "truncated_zip",
              "not_zip", "empty_file", "header_only", "cp1252_names", "utf16"]  # fmt: skip


@st.composite
def corruptions(draw) -> list[tuple]:
    """One or two corruptions: of a practice's rows (04C's, sometimes 03W's) or of a
    whole file; or none."""
    out: list[tuple] = []
    for _ in range(draw(st.integers(0, 2))):
        if draw(st.booleans()):
            victim = draw(st.sampled_from(["C82006", "C82007", "C82006", "C82001"]))
            kind = draw(st.sampled_from(ROW_KINDS))
            value = draw(
                st.sampled_from(
                    {"bad_size": ["abc", "0", "-5", "12.5", "", "99999999999"],
                     "bad_close_date": ["31/02/2020", "soon", "2020-13-01"],
                     "epcn_date": ["2019-07-01", "01/07/2019", "July 2019"]}.get(kind, [""])
                )
            )  # fmt: skip
            out.append(("row", kind, victim, value))
        else:
            kind = draw(st.sampled_from(FILE_KINDS))
            file = draw(st.sampled_from(sorted(COLUMNS)))
            column = draw(st.sampled_from(COLUMNS[file]))
            value = draw(st.sampled_from(["2021-01-01", "01/01/2021", "Jan 2021", "not a date"]))
            out.append(("file", kind, file, column, value))
    return out


def write_files(folder: Path, damage: list[tuple], *, zipped_lookup: bool) -> None:
    """The published files, sound but for ``damage``."""
    t = sound_tables()
    encodings = dict.fromkeys(t, "utf-8")
    after: list[tuple] = []
    for c in damage:
        if c[0] == "row":
            _, kind, code, value = c
            s, r, e, p = t["sizes"], t["register"], t["epcn"], t["postcodes"]
            i = _row(s, code)
            needed = ("CODE", "POSTCODE", "NUMBER_OF_PATIENTS")
            if i < 0 or _row(r, code) < 0 or _row(e, code) < 0 or set(needed) - set(s[0]):
                continue  # an earlier corruption renamed or took what this one changes
            pc = s[i][_col(s, "POSTCODE")]
            if kind == "missing_postcode":
                t["postcodes"] = [x for x in p if x[0] != pc]
            elif kind == "empty_postcode":
                s[i][_col(s, "POSTCODE")] = ""
                r[_row(r, code)][9] = ""
            elif kind == "unknown_code":
                s[i][_col(s, "CODE")] = "X99999"
            elif kind == "empty_code":
                s[i][_col(s, "CODE")] = ""
            elif kind == "bad_size":
                s[i][_col(s, "NUMBER_OF_PATIENTS")] = value
            elif kind == "duplicated_row":
                s.append(list(s[i]))
            elif kind == "register_twice":
                r.append(list(r[_row(r, code)]))
            elif kind == "bad_close_date":
                r[_row(r, code)][11] = value
            elif kind == "epcn_date":
                e[_row(e, code)][4] = value
        else:
            _, kind, file, column, value = c
            table = t[file]
            if column not in table[0]:  # an earlier corruption took it
                continue
            if kind == "drop_column":
                j = _col(table, column)
                t[file] = [x[:j] + x[j + 1 :] for x in table]
            elif kind == "rename_column":
                table[0][_col(table, column)] = f"{column}_X"
            elif kind == "column_twice":
                j = _col(table, column)
                t[file] = [table[0] + [column]] + [x + [x[j] + "9"] for x in table[1:]]
            elif kind == "extract_date":
                for x in t["sizes"][1:]:
                    x[1] = value
            elif kind == "cp1252_names":
                for x in t["register"]:
                    x[1] = x[1].title().replace("Surgery", "Médical Café")
                encodings["register"] = "cp1252"
            elif kind == "utf16":
                encodings[file] = "utf-16"
            else:
                after.append(c)
    data = {k: _csv(rows, encodings[k]) for k, rows in t.items()}
    blobs = {
        FILES["sizes"]: data["sizes"],
        FILES["register"]: _zip({"epraccur.csv": data["register"]}),
        FILES["epcn"]: data["epcn"],
    }
    if zipped_lookup:
        blobs["ONSPD_FEB_2024_UK.zip"] = _zip({"Data/ONSPD_FEB_2024_UK.csv": data["postcodes"]})
    else:
        blobs[FILES["postcodes"]] = data["postcodes"]
    for _, kind, file, *_ in after:
        name = next((n for n in blobs if n.startswith(FILES[file][:6])), FILES[file])
        name = (
            name
            if file != "postcodes"
            else next(n for n in blobs if "ONSPD" in n or "postcode" in n)
        )
        if kind == "truncated_zip":
            name = FILES["register"] if not name.endswith(".zip") else name
            blobs[name] = blobs[name][: len(blobs[name]) // 2]
        elif kind == "not_zip":
            blobs[FILES["register"]] = data["register"]
        elif kind == "empty_file":
            blobs[name] = b""
        elif kind == "header_only":
            blobs[name] = data[file].split(b"\n", 1)[0] + b"\n" if file != "register" else b""
    for name, blob in blobs.items():
        (folder / name).write_bytes(blob)


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, blob in members.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2021, 1, 5, 0, 0, 0)), blob)
    return buf.getvalue()


def only_victim_rows(damage: list[tuple]) -> bool:
    """Every corruption is of a 04C practice's rows: 03W's data is sound."""
    return all(c[0] == "row" and c[2] != "C82001" for c in damage)


def assert_clear(r, codes: tuple[int, ...], damage) -> None:
    event(f"exit {r.exit_code}")
    assert r.exit_code in codes, (r.exit_code, r.output, damage)
    assert "Traceback" not in r.output and "unexpected problem" not in r.output, r.output
    if r.exit_code == 2:  # a clear error naming the file
        assert r.output.startswith("Error: "), r.output
        named = ["gp-reg-pat-prac-all", "epraccur", "ePCN", "postcode", "ONSPD"]
        assert any(n in r.output for n in named), (r.output, damage)


SETTINGS = dict(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@settings(max_examples=60, **SETTINGS)
@given(damage=corruptions(), zipped_lookup=st.booleans())
def test_init_ends_in_a_scenario_or_a_clear_error(damage, zipped_lookup):
    with tempfile.TemporaryDirectory(prefix="NHS files, Données ") as tmp:
        d = Path(tmp)
        write_files(d, damage, zipped_lookup=zipped_lookup)
        r = CliRunner().invoke(
            main, ["init", SOUND_CCG, "--nhs-dir", str(d), "-o", str(d / "s.toml")]
        )
        assert_clear(r, (0, 2), damage)
        if only_victim_rows(damage):  # 04C's bad rows never stop 03W's scenario
            assert r.exit_code == 0, (r.output, damage)
        if r.exit_code == 0:
            assert (d / "s.toml").is_file() and "hubopt run" in r.output
        elif all(c[0] == "row" for c in damage):  # 03W's own row: named, with its line
            assert re.search(r" lines? \d", r.output), (r.output, damage)
            assert re.search(r"C82001|X99999|\(no code\)", r.output), (r.output, damage)


#: the files by scenario key (the lookup's name is added per example)
INPUTS = """list_sizes = "gp-reg-pat-prac-all.csv"
register = "epraccur.zip"
pcn_membership = "ePCN.csv"
postcodes = "{postcodes}"
"""


@settings(max_examples=15, **SETTINGS)
@given(damage=corruptions(), zipped_lookup=st.booleans(), drop_invalid=st.booleans())
def test_batch_finishes_sound_areas_and_its_totals_add_up(damage, zipped_lookup, drop_invalid):
    with tempfile.TemporaryDirectory(prefix="NHS files, Données ") as tmp:
        d = Path(tmp)
        write_files(d, damage, zipped_lookup=zipped_lookup)
        lookup = "ONSPD_FEB_2024_UK.zip" if zipped_lookup else FILES["postcodes"]
        toml = batch_toml(INPUTS.format(postcodes=lookup), workers=1, band=(10_000, 50_000),
                          area='as_at = "2021-01-01"')  # fmt: skip
        (d / "b.toml").write_text(toml)
        args = ["batch", str(d / "b.toml"), "--out", str(d / "out")]
        r = CliRunner().invoke(main, args + (["--drop-invalid"] if drop_invalid else []))
        assert_clear(r, (0, 1, 2), damage)
        if only_victim_rows(damage):
            assert r.exit_code in (0, 1), (r.output, damage)
        if r.exit_code == 2:
            return
        s = pd.read_csv(d / "out" / "summary.csv").set_index("area")
        left = pd.read_csv(d / "out" / "left_out.csv")
        if only_victim_rows(damage):  # the sound area is solved
            assert s.at[SOUND_CCG, "status"] in ("optimal", "time-limited"), (s, damage)
        # every practice row of the input: solved, or named in left_out.csv
        solved = s["practices"].fillna(0).sum()
        assert s["practices_in_file"].sum() == solved + len(left), (s, left, damage)
        patients = s["patients"].fillna(0).sum() + left["list_size"].fillna(0).sum()
        assert s["patients_in_file"].sum() == patients, (s, left, damage)
        for area, why in s.loc[s["status"].eq("failed"), "reason"].items():
            assert isinstance(why, str) and why, (area, s)
            assert area in r.output
