"""Counts add up where a reviewer looks: practices and patients read = grouped + left
out (by reason), every practice left out named with its patients in the notes, in
rejects.csv and on the report."""

from __future__ import annotations

import pandas as pd
from click.testing import CliRunner

from hubopt.cli import main
from hubopt.inputs import left_out_frame
from hubopt.outputs import tables
from tests.conftest import TINY_PRACTICES, tiny_scenario_file

STRAIGHT = 'kind = "straight_line"'

#: T1-T4 (40,000 patients) as in conftest; T5 (1,000) is 13 km east, beyond the 10
#: minute cap of every other practice, and optional; T6 has a list size of "lots"; T7
#: has 400 patients, under min_list_size.
ROWS = TINY_PRACTICES + (
    "T5,Far East Surgery,52.600,-0.900,1000\n"
    "T6,Broken Row Surgery,52.6,-1.09,lots\n"
    "T7,Tiny Branch Surgery,52.600,-1.095,400\n"
)


def _run(tmp_path, scen, *extra):
    return CliRunner().invoke(
        main,
        ["run", scen, "--out", str(tmp_path / "out"), "--maps-dir", str(tmp_path / "maps"),
         *extra],
    )  # fmt: skip


def test_read_equals_grouped_plus_left_out_by_reason(tmp_path):
    scen = tiny_scenario_file(
        tmp_path, network=False, network_lines=STRAIGHT, optional=["T5"],
        inputs_extra="[area]\nmin_list_size = 500",
    )  # fmt: skip
    (tmp_path / "practices.csv").write_text(ROWS)
    r = _run(tmp_path, scen, "--drop-invalid")
    assert r.exit_code == 0, r.output
    out = tmp_path / "out"

    rejects = pd.read_csv(out / "rejects.csv", dtype={"patients": "Int64"})
    assert list(rejects.columns) == ["practice_code", "name", "patients", "category", "reason"]
    by_code = rejects.set_index("practice_code")
    assert sorted(by_code.index) == ["T5", "T6", "T7"]
    assert pd.isna(by_code.at["T6", "patients"])  # "lots" is not a number of patients
    assert "'lots' is not a number" in by_code.at["T6", "reason"]
    assert by_code.at["T7", "patients"] == 400
    assert by_code.at["T7", "category"] == "fewer than 500 patients"
    assert by_code.at["T5", "patients"] == 1000
    assert by_code.at["T5", "category"] == tables.UNASSIGNED

    notes = "\n".join(r.output.splitlines())
    assert "T7 Tiny Branch Surgery (400 patients)" in notes
    assert "T6 Broken Row Surgery (patients unknown)" in notes
    assert "T5 Far East Surgery (1,000 patients)" in notes
    assert notes.count("Tiny Branch Surgery") == 1  # once, not again by the area's rules
    assert "left out 0" not in notes

    report = (out / "report.html").read_text()
    assert "Practices and patients: read = grouped + left out" in report
    # read: 7 practices, 41,400 known patients (T6's unknown); grouped 4 / 40,000
    assert "<td>read</td><td class=n>7</td><td class=n>41,400" in report
    assert "<td>grouped into hubs</td><td class=n>4</td><td class=n>40,000" in report
    assert "left out: fewer than 500 patients</td><td class=n>1</td><td class=n>400" in report
    assert "+ 1 unknown" in report
    assert "do not add up" not in report
    for name in ("Far East Surgery (T5)", "Broken Row Surgery (T6)", "Tiny Branch Surgery (T7)"):
        assert name in report


def test_what_ifs_and_evaluate_name_the_practices_left_out_once(tmp_path):
    """``whatif.prepare`` and ``hubopt evaluate`` write no rejects.csv, yet their notes
    name every practice the area's rules left out, once."""
    from hubopt import whatif

    scen = tiny_scenario_file(
        tmp_path, network=False, network_lines=STRAIGHT,
        inputs_extra='current = "current.csv"\n[area]\nmin_list_size = 500',
    )  # fmt: skip
    (tmp_path / "practices.csv").write_text(
        ROWS.replace("T6,Broken Row Surgery,52.6,-1.09,lots\n", "")
    )
    (tmp_path / "current.csv").write_text("practice_code,group_id\nT1,P1\nT2,P1\nT3,P2\nT4,P2\n")
    note = (
        "left out 1 practice (fewer than 500 patients; 400 patients): T7 Tiny Branch Surgery "
        "(400 patients)"
    )
    assert [n for n in whatif.prepare(scen).notes if "T7" in n] == [note]
    r = CliRunner().invoke(main, ["evaluate", scen, "--out", str(tmp_path / "eval")])
    assert r.exit_code == 0, r.output
    assert [ln for ln in r.output.splitlines() if "T7" in ln] == [f"Note: {note}"]


def test_rows_left_out_outside_the_area_are_not_counted(tmp_path):
    """Area ccg = X1: T6 (X2, broken) is outside the area and neither counted nor
    listed; T5 (X1, broken) is in it."""
    rows = (
        "practice_code,name,lat,lon,list_size,ccg_code\n"
        + "".join(f"{line},X1\n" for line in TINY_PRACTICES.splitlines()[1:])
        + "T5,Broken In Surgery,52.6,-1.09,,X1\nT6,Broken Out Surgery,52.6,-1.09,,X2\n"
    )
    scen = tiny_scenario_file(
        tmp_path, network=False, network_lines=STRAIGHT, inputs_extra='[area]\nccg = ["X1"]'
    )
    (tmp_path / "practices.csv").write_text(rows)
    r = _run(tmp_path, scen, "--drop-invalid")
    assert r.exit_code == 0, r.output
    rejects = pd.read_csv(tmp_path / "out" / "rejects.csv")
    assert list(rejects["practice_code"]) == ["T5"]
    report = (tmp_path / "out" / "report.html").read_text()
    assert "<td>read</td><td class=n>5</td><td class=n>40,000" in report
    assert "Broken Out Surgery" not in report and "Broken Out Surgery" not in r.output


def test_nothing_left_out_still_writes_rejects_and_says_so(tmp_path):
    scen = tiny_scenario_file(tmp_path, network=False, network_lines=STRAIGHT)
    r = _run(tmp_path, scen)
    assert r.exit_code == 0, r.output
    rejects = pd.read_csv(tmp_path / "out" / "rejects.csv")
    assert rejects.empty and "patients" in rejects.columns
    assert "No practice of the area was left out." in (tmp_path / "out" / "report.html").read_text()
    # written every run, so never overwritten without --force
    again = _run(tmp_path, scen)
    assert again.exit_code == 3 and "rejects.csv" in again.output


def test_count_table_shows_practices_unaccounted_for():
    assignment = pd.DataFrame(
        {"practice_code": ["A", "B"], "practice_name": ["a", "b"], "list_size": [10, 20],
         "hub_id": ["H01", ""]}
    )  # fmt: skip
    left = tables.left_out_table(left_out_frame(), assignment)
    counts = tables.count_table((3, 45), assignment, left)
    assert counts.loc["grouped into hubs"].tolist() == [1, 10, 0]
    assert counts.loc[f"left out: {tables.UNASSIGNED}"].tolist() == [1, 20, 0]
    assert counts.loc["unaccounted"].tolist() == [1, 15, 0]


def test_report_says_when_counts_do_not_add_up(tmp_path):
    """A practice lost between stages (here: the inputs stage said it read one more
    than the plan and the rejects hold) is flagged in red on the report."""
    from hubopt import pipeline
    from hubopt.outputs import report
    from hubopt.scenario import load_scenario

    scen = tiny_scenario_file(tmp_path, network=False, network_lines=STRAIGHT)
    res = pipeline.run(load_scenario(scen), out_dir=None)
    assert res.read == (4, 40_000)
    assert "do not add up" not in report.render(res)
    res.read = (5, 41_000)
    page = report.render(res)
    assert "The counts do not add up" in page
    assert "<td>unaccounted</td><td class=n>1</td><td class=n>1,000" in page


def test_one_of_a_count_takes_the_singular():
    from hubopt.text import plural

    assert plural(1, "practice") == "1 practice"
    assert (plural(0, "hub"), plural(2, "hub")) == ("0 hubs", "2 hubs")
    assert plural(6_543, "practice") == "6,543 practices"
    assert plural(1, "alternative plan") == "1 alternative plan"
    assert plural(3, "person", "people") == "3 people"
