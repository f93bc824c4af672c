"""The what-if API (hubopt.whatif) on the hand-drawn line of five practices.

::

    A(20k) --5-- B(15k) --5-- C(10k) ---------20--------- D(25k) --4-- E(12k)
    today:  [ G1: A B ]  [ G2: C D E ]

Band 30-50k, cap 12 min (``line_area`` in conftest.py): the optimum is {A,B,C}@B and
{D,E}@D, 198,000 patient-minutes, mean 198,000 / 82,000 = 2.41 min. Today's G2 has
its best site at D (10k x 20 + 12k x 4 = 248k < E's 340k < C's 788k), so C travels 20
min; G1's best site is A (15k x 5 = 75k < B's 100k); mean (75k + 248k) / 82k = 3.94.
"""

from __future__ import annotations

import io

import pandas as pd
import pytest

from hubopt import whatif
from hubopt.errors import InputError
from hubopt.roads import matrix
from hubopt.scenario import load_scenario

CURRENT = pd.DataFrame(
    {"group_id": ["G1", "G1", "G2", "G2", "G2"], "group_name": ["One"] * 2 + ["Two"] * 3},
    index=["A", "B", "C", "D", "E"],
)


@pytest.fixture
def area(line_area):
    practices, minutes, scenario = line_area
    return whatif.AreaData(scenario, practices, minutes, current=CURRENT)


@pytest.fixture
def base(area):
    return whatif.solve(area, "base")


def sizes(area):
    return area.practices["list_size"].to_dict()


# ------------------------------------------------------------------ changing the area


def test_closed_practice_patients_go_to_the_named_neighbour(area):
    closed = whatif.close_practice(area, "C", to="B")
    assert sizes(closed) == {"A": 20_000, "B": 25_000, "D": 25_000, "E": 12_000}
    assert list(closed.minutes.index) == list(closed.minutes.columns) == ["A", "B", "D", "E"]
    assert list(closed.current.index) == ["A", "B", "D", "E"]
    assert closed.changes == ("C closed: its 10,000 patients to B (+10,000)",)
    assert sizes(area)["C"] == 10_000 and len(area.minutes) == 5  # the original is untouched


def test_closed_practice_patients_split_among_the_nearest_by_list_size(area):
    """C's two nearest are B (5 min, 15k) and A (10 min, 20k): 3/7 and 4/7 of 10,000 =
    4,285.7 and 5,714.3; the one patient left over goes to the larger remainder, B."""
    closed = whatif.close_practice(area, "C", k=2)
    assert sizes(closed) == {"A": 25_714, "B": 19_286, "D": 25_000, "E": 12_000}
    assert closed.patients == area.patients == 82_000


def test_closed_practice_with_explicit_shares(area):
    closed = whatif.close_practice(area, "C", to={"B": 1, "D": 3})
    assert sizes(closed) == {"A": 20_000, "B": 17_500, "D": 32_500, "E": 12_000}


def test_closed_practice_leaves_the_rules_that_name_it(area):
    ruled = whatif.AreaData(
        area.scenario.replace(
            locked_groups=(("B", "C"), ("D", "E")), apart=(("C", "D", "E"),), exempt=("C",)
        ),
        area.practices,
        area.minutes,
    )
    s = whatif.close_practice(ruled, "C", to="B").scenario
    assert s.locked_groups == (("D", "E"),)
    assert s.apart == (("D", "E"),)
    assert s.exempt == ()


def test_closing_needs_an_open_practice_to_take_the_patients(area):
    with pytest.raises(InputError, match="Practice Z is not in the area"):
        whatif.close_practice(area, "Z")
    with pytest.raises(InputError, match=r"Cannot move practice C's patients to \['C'\]"):
        whatif.close_practice(area, "C", to="C")


def test_grow_lists_scales_and_rounds(area):
    grown = whatif.grow_lists(area, 1.1)
    assert sizes(grown) == {"A": 22_000, "B": 16_500, "C": 11_000, "D": 27_500, "E": 13_200}
    assert grown.changes == ("lists x1.1 (all practices): 82,000 -> 90,200 patients",)
    only_e = whatif.grow_lists(area, 1.5, codes=["E"])
    assert sizes(only_e) == {"A": 20_000, "B": 15_000, "C": 10_000, "D": 25_000, "E": 18_000}
    with pytest.raises(InputError, match="not in the area: Z"):
        whatif.grow_lists(area, 1.1, codes=["Z"])


# ------------------------------------------------------------------ solving and comparing


def test_solve_scores_the_plan_like_the_comparison_table(base):
    assert base.status == "optimal"
    assert base.result.objective == pytest.approx(198_000)
    f = base.figures()
    assert (f["hubs"], f["hubs in band"], f["smallest hub"], f["largest hub"]) == (
        2,
        2,
        37_000,
        45_000,
    )
    assert f["worst minutes to site"] == 5.0
    assert f["mean minutes to site (patient-weighted)"] == 2.41
    # G2 pairs with {D,E}; C moves to G1's hub
    assert sorted(base.moved[base.moved].index) == ["C"]
    assert f["practices moved vs current"] == 1


def test_infeasible_what_if_is_an_outcome_with_reasons(area):
    locked = whatif.solve(area, "C with D", locked_groups=(("C", "D"),))
    assert locked.status == "infeasible" and not locked.has_plan
    assert any("locked group C, D" in r for r in locked.reasons)
    assert "C with D: infeasible" in locked.describe()
    with pytest.raises(InputError, match="population_min 60,000 is above"):
        whatif.solve(area, population_min=60_000)  # a typo fails at once, not as an outcome


def test_compare_one_column_per_outcome(area, base):
    closed = whatif.solve(whatif.close_practice(area, "C", to="B"), "C closes")
    tight = whatif.solve(area, "cap 3", travel_cap_minutes=3)
    table = whatif.compare([whatif.today(area), base, closed, tight, base])
    assert list(table.columns) == ["today", "base", "C closes", "cap 3", "base (2)"]
    assert list(table.index) == [
        "what if", "status", "band", "cap (minutes)", "practices", "patients", "hubs",
        "hubs in band", "share in band", "smallest hub", "largest hub", "worst minutes to site",
        "mean minutes to site (patient-weighted)", "practices ungrouped",
        "practices moved vs current", "seconds", "why not",
    ]  # fmt: skip
    assert table["today"].to_dict() | {"seconds": 0} == {
        "what if": "-", "status": "current", "band": "30,000-50,000", "cap (minutes)": 12,
        "practices": 5, "patients": 82_000, "hubs": 2, "hubs in band": 2,
        "share in band": "100%", "smallest hub": 35_000, "largest hub": 47_000,
        "worst minutes to site": 20.0, "mean minutes to site (patient-weighted)": 3.94,
        "practices ungrouped": 0, "practices moved vs current": 0, "seconds": 0, "why not": "",
    }  # fmt: skip
    # C's 10,000 patients at B: {A,B} 45k @B (20k x 5 = 100k) and {D,E} 37k @D (48k)
    c = table["C closes"]
    assert (c["practices"], c["patients"], c["hubs"]) == (4, 82_000, 2)
    assert c["what if"] == "C closed: its 10,000 patients to B (+10,000)"
    assert c["mean minutes to site (patient-weighted)"] == round(148_000 / 82_000, 2)
    assert c["practices moved vs current"] == 0
    t = table["cap 3"]
    assert (t["status"], t["cap (minutes)"], t["hubs"], t["worst minutes to site"]) == (
        "infeasible", 3, "-", "-"
    )  # fmt: skip
    assert t["why not"].startswith("A Alpha Surgery has no other practice within 3 minutes")


def test_sweep_and_its_plot(area):
    df = whatif.sweep(area, caps=[3, 12], bands=[(30_000, 50_000)])
    assert list(df.columns) == whatif.SWEEP_COLUMNS
    assert df["status"].tolist() == ["infeasible", "optimal"]
    assert df["band"].tolist() == ["30-50k", "30-50k"]
    assert df["hubs"].isna().tolist() == [True, False]
    assert df.loc[1, ["hubs", "share_in_band", "worst_minutes", "mean_minutes", "moved"]].tolist() == [
        2, 1.0, 5.0, 2.41, 1
    ]  # fmt: skip
    fig = whatif.plot_sweep(df)
    assert [ax.get_ylabel().split("\n")[0] for ax in fig.axes] == [
        "mean minutes to hub site", "hubs", "practices moved vs today"
    ]  # fmt: skip
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=50)
    assert png.getvalue()[:4] == b"\x89PNG"


def test_side_by_side_maps_and_reasons(area, base, tmp_path):
    locked = whatif.solve(area, "C with D", locked_groups=(("C", "D"),))
    grid = whatif.side_by_side([base, locked])
    page = grid._repr_html_()
    assert page.count("<iframe srcdoc=") == 1
    assert "<b>base</b> &middot; optimal (proven)" in page
    assert "2 hubs, 100% in band, worst 5.0 min, mean 2.41 min, moved 1" in page
    assert "locked group C, D" in page
    assert "Beta Health Centre" in page  # inside the escaped map page
    saved = grid.save(tmp_path / "grid.html").read_text(encoding="utf-8")
    assert saved.startswith("<!DOCTYPE html>") and page in saved


def test_prepare_re_solves_from_a_saved_matrix(line_area, tmp_path):
    """A scenario file with straight-line times; the matrix saved once is re-used."""
    practices, _, _ = line_area
    practices.drop(columns="geometry").to_csv(tmp_path / "practices.csv")
    (tmp_path / "area.toml").write_text(
        '[scenario]\nname = "line"\n[inputs]\npractices = "practices.csv"\n'
        "[rules]\npopulation_min = 30000\npopulation_max = 50000\ntravel_cap_minutes = 12\n"
        '[network]\nkind = "straight_line"\n',
        encoding="utf-8",
    )
    first = whatif.prepare(tmp_path / "area.toml", threads=1)
    assert first.scenario.threads == 1 and "STRAIGHT-LINE" in " ".join(first.notes)
    matrix.save_matrix(first.minutes, tmp_path / "matrix.csv")
    again = whatif.prepare(load_scenario(tmp_path / "area.toml"), matrix=tmp_path / "matrix.csv")
    assert "travel times re-used from matrix.csv" in " ".join(again.notes)
    pd.testing.assert_frame_equal(again.minutes, first.minutes.round(3), check_names=False)
    assert whatif.solve(again).has_plan
