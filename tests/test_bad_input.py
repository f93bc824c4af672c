"""Bad input never surprises: each broken file or rule ends in a clear error in a
planner's words (exit 2 for bad input), naming the row and field, never the
"unexpected problem" of exit 70."""

from __future__ import annotations

from click.testing import CliRunner

from hubopt.cli import main
from tests.conftest import TINY_PRACTICES, tiny_scenario_file

STRAIGHT = 'kind = "straight_line"'


def _run(tmp_path, scen: str):
    out = tmp_path / "out"
    return CliRunner().invoke(
        main, ["run", scen, "--out", str(out), "--maps-dir", str(tmp_path / "maps")]
    )


def _scenario(tmp_path, practices: str | bytes | None = None, **kwargs) -> str:
    scen = tiny_scenario_file(tmp_path, network=False, network_lines=STRAIGHT, **kwargs)
    target = tmp_path / "practices.csv"
    if isinstance(practices, bytes):
        target.write_bytes(practices)
    elif practices is not None:
        target.write_text(practices)
    return scen


def test_empty_practices_file(tmp_path):
    r = _run(tmp_path, _scenario(tmp_path, ""))
    assert r.exit_code == 2, r.output
    assert "practices file" in r.output and "is empty" in r.output
    assert "practices.csv: no header row" in r.output
    assert "unexpected" not in r.output


def test_twenty_digit_list_size(tmp_path):
    rows = TINY_PRACTICES.replace("T2,Middle Road Practice,52.600,-1.090,9000",
                                  "T2,Middle Road Practice,52.600,-1.090,99999999999999999999")  # fmt: skip
    r = _run(tmp_path, _scenario(tmp_path, rows))
    assert r.exit_code == 2, r.output
    assert (
        "practices.csv line 3 (T2): list_size 99999999999999999999 is more than 1,000,000"
        in r.output
    )


def test_twenty_digit_list_size_dropped_with_drop_invalid(tmp_path):
    rows = TINY_PRACTICES + "T5,Typo Surgery,52.6,-1.09,12345678901234567890\n"
    scen = _scenario(tmp_path, rows)
    r = CliRunner().invoke(
        main,
        ["run", scen, "--out", str(tmp_path / "o"), "--maps-dir", str(tmp_path / "m"),
         "--drop-invalid"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "T5" in (tmp_path / "o" / "rejects.csv").read_text()


def test_exempt_code_that_is_not_a_practice(tmp_path):
    r = _run(tmp_path, _scenario(tmp_path, exempt=["ZZ999"]))
    assert r.exit_code == 2, r.output
    assert "[rules] exempt names ZZ999, not among the area's 4 practices" in r.output
    assert "unexpected" not in r.output


def test_unknown_code_in_locked_group_named_before_too_big(tmp_path):
    """T1 is above the band (60,000 > 50,000) and locked with an unknown code: the
    unknown code is the planner's slip and is named, not "too big"."""
    rows = TINY_PRACTICES.replace("T1,Top Street Surgery,52.600,-1.100,12000",
                                  "T1,Top Street Surgery,52.600,-1.100,60000")  # fmt: skip
    scen = _scenario(tmp_path, rows, oversize="own_hub", locked_groups=[["T1", "ZZ999"]])
    r = _run(tmp_path, scen)
    assert r.exit_code == 2, r.output
    assert "[rules] locked_groups names ZZ999" in r.output
    assert "above the upper band" not in r.output


def test_windows_1252_practices_and_current_read_with_a_note(tmp_path):
    rows = TINY_PRACTICES.replace("Top Street Surgery", "Café Street Surgery – St Mary’s")
    current = "practice_code,group_id,group_name\nT1,P1,Hôpital Road PCN\nT2,P1,Hôpital Road PCN\nT3,P2,East PCN\nT4,P2,East PCN\n"
    (tmp_path / "current.csv").write_bytes(current.encode("cp1252"))
    scen = _scenario(tmp_path, rows.encode("cp1252"), inputs_extra='current = "current.csv"')
    r = _run(tmp_path, scen)
    assert r.exit_code == 0, r.output
    assert "practices.csv is not UTF-8: read as Windows-1252" in r.output
    assert "current.csv is not UTF-8: read as Windows-1252" in r.output
    assignment = (tmp_path / "out" / "assignment.csv").read_text(encoding="utf-8")
    assert "Café Street Surgery – St Mary’s" in assignment


def test_utf8_with_byte_order_mark_reads_without_a_note(tmp_path):
    scen = _scenario(tmp_path, TINY_PRACTICES.encode("utf-8-sig"))
    r = _run(tmp_path, scen)
    assert r.exit_code == 0, r.output
    assert "Windows-1252" not in r.output


def test_file_neither_utf8_nor_windows_1252(tmp_path):
    # 0x81 and 0x8d are undefined in Windows-1252 and invalid as UTF-8 here
    scen = _scenario(tmp_path, TINY_PRACTICES.encode() + b"T5,Bad \x81\x8d Name,52.6,-1.09,100\n")
    r = _run(tmp_path, scen)
    assert r.exit_code == 2, r.output
    assert "neither UTF-8 nor Windows-1252" in r.output
    assert "save it as CSV UTF-8" in r.output


def test_lower_band_of_zero_with_a_soft_band_plans(tmp_path):
    """Found by the property test: with population_min = 0 and band =
    "rural_exception" the shortfall objective has variables in no constraint (CBC
    reports no value for them); the staged solve read that as no value at all."""
    rows = "practice_code,name,lat,lon,list_size\nT1,Practice 0,52.6250,-1.1250,1000\nT2,Practice 1,52.6250,-1.1250,1000\n"
    scen = _scenario(
        tmp_path, rows, population_min=0, travel_cap_minutes=30, band="rural_exception"
    )
    r = _run(tmp_path, scen)
    assert r.exit_code == 0, r.output
    assert "Status: optimal (proven)" in r.output
    assert "objective_matches ok" in r.output
