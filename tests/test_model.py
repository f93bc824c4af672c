"""The integer program on hand-drawn fixtures whose optimum is worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from hubopt import model
from tests.conftest import matrix_frame, solve


def _solve(m):
    return solve(m, seconds=30)


def test_line_area_optimum(line_area):
    """See ``line_area``: {A,B,C}@B and {D,E}@D, 198,000 patient-minutes."""
    practices, t, scenario = line_area
    r = _solve(model.build(t, practices, scenario))
    assert r.status == "optimal"
    assert r.objective == pytest.approx(198_000)
    assert r.assignment.to_dict() == {"A": "B", "B": "B", "C": "B", "D": "D", "E": "D"}
    assert r.gap == 0.0


def test_variables_only_within_cap(line_area):
    """Cap 12: pairs A-D, A-E, B-D, B-E, C-D (20), C-E get no variable.

    Eligible ordered pairs: the 5 diagonals + A<->B, A<->C, B<->C (6) + D<->E (2) = 13.
    """
    practices, t, scenario = line_area
    m = model.build(t, practices, scenario)
    assert len(m.x) == 13
    assert ("C", "D") not in m.x and ("A", "C") in m.x


def test_tighter_band_is_infeasible(line_area):
    """Band 30-40k: {A,B,C}=45k is too big; C (10k) cannot be a hub alone and can
    reach only A and B; {A,B}=35k plus C is 45k. No plan exists."""
    practices, t, scenario = line_area
    r = _solve(model.build(t, practices, scenario.replace(population_max=40_000)))
    assert r.status == "infeasible"
    assert r.assignment is None


def test_oversize_practice_forms_own_hub(line_area):
    """Make D 62k (above the 50k band): D must be a hub alone (exempt from the band).

    E (12k) can only reach D (4 min) within the 12-minute cap, and D's hub is closed
    to others, so E cannot be placed: the solver must prove infeasibility.
    """
    practices, t, scenario = line_area
    practices = practices.copy()
    practices.loc["D", "list_size"] = 62_000
    m = model.build(t, practices, scenario)
    assert m.singletons == frozenset({"D"})
    assert _solve(m).status == "infeasible"


def test_oversize_with_partner_elsewhere():
    """D (62k) alone; A(20k), B(15k), E(12k) within 10 min of each other.

    ::

        A --4-- B --6-- E           D (62k), 30 min from all

    Band 30-50k, cap 12: {A,B,E}=47k. Sites: at A 15k*4 + 12k*10 = 180k;
    at B 20k*4 + 12k*6 = 152k; at E 20k*10 + 15k*6 = 290k -> B, 152,000.
    D is its own hub with 0 minutes. Optimum 152,000.
    """
    codes = ["A", "B", "E", "D"]
    t = matrix_frame(codes, [[0, 4, 10, 30], [4, 0, 6, 30], [10, 6, 0, 30], [30, 30, 30, 0]])
    w = pd.Series([20_000, 15_000, 12_000, 62_000], index=codes)
    m = model.build_model(t, w, pop_min=30_000, pop_max=50_000, cap=12, singletons=["D"])
    r = _solve(m)
    assert r.status == "optimal"
    assert r.objective == pytest.approx(152_000)
    assert r.assignment.to_dict() == {"A": "B", "B": "B", "E": "B", "D": "D"}


def test_fixed_hub_count_p_median():
    """Unweighted p-median, p=2, capacity 3 points per median (weights 1).

    ::

        P1 -1- P2 -1- P3 ------10------ P4 -1- P5

    Best: {P1,P2,P3}@P2 = 1+1 = 2, {P4,P5}@P4 or P5 = 1. Total 3.
    """
    codes = ["P1", "P2", "P3", "P4", "P5"]
    pos = [0, 1, 2, 12, 13]
    t = matrix_frame(codes, [[abs(a - b) for b in pos] for a in pos])
    ones = pd.Series(1, index=codes)
    m = model.build_model(t, ones, pop_min=0, pop_max=3, n_hubs=2, cost_weights=ones)
    r = _solve(m)
    assert r.status == "optimal"
    assert r.objective == pytest.approx(3)
    assert r.assignment["P1"] == r.assignment["P3"] == "P2"
