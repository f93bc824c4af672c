"""Scoring a grouping that has no hub sites, and comparing groupings."""

from __future__ import annotations

import pandas as pd

from hubopt.outputs import evaluate


def test_best_sites_and_scores(line_area):
    """Today's groups {A,B} and {C,D,E} (see ``line_area``).

    {A,B}: site A costs 15k*5 = 75k, site B 20k*5 = 100k -> A; 35,000 patients.
    {C,D,E}: site C: 25k*20 + 12k*24 = 788k; D: 10k*20 + 12k*4 = 248k;
    E: 10k*24 + 25k*4 = 340k -> D; 47,000 patients, worst 20 min (C), over the
    12-minute cap: the score shows it, it is not an error.
    """
    practices, t, scenario = line_area
    groups = pd.Series({"A": "PCN1", "B": "PCN1", "C": "PCN2", "D": "PCN2", "E": "PCN2"})
    assert evaluate.best_sites(groups, practices, t).to_dict() == {
        "A": "A",
        "B": "A",
        "C": "D",
        "D": "D",
        "E": "D",
    }
    a, hubs = evaluate.score(groups, practices, t, scenario)
    h = hubs.set_index("hub_id")
    assert h.loc["PCN1", "list_size"] == 35_000 and h.loc["PCN1", "site_code"] == "A"
    assert h.loc["PCN2", "max_minutes"] == 20
    row = evaluate.overall(a, hubs)
    assert row["hubs in band"] == 2 and row["worst minutes to site"] == 20


def test_ungrouped_practices_counted(line_area):
    practices, t, scenario = line_area
    groups = pd.Series({"A": "PCN1", "B": "PCN1", "C": "PCN1"})
    a, hubs = evaluate.score(groups, practices, t, scenario)
    assert evaluate.overall(a, hubs)["practices ungrouped"] == 2


def test_practices_moved_matches_groups():
    """Current {A,B,C} {D,E}; proposal {A,B} {C,D,E}: hubs pair up as
    P1<->N1 (A, B shared) and P2<->N2 (D, E shared); only C moved."""
    sizes = pd.Series(1000, index=list("ABCDE"))
    current = pd.Series({"A": "N1", "B": "N1", "C": "N1", "D": "N2", "E": "N2"})
    proposal = pd.Series({"A": "P1", "B": "P1", "C": "P2", "D": "P2", "E": "P2"})
    moved = evaluate.practices_moved(proposal, current, sizes)
    assert list(moved[moved].index) == ["C"]
