"""Honest solver status: never 'optimal' when CBC stopped early."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hubopt import model
from hubopt.solver import mip
from tests.conftest import matrix_frame

TIME_LIMIT_LOG = """
Result - Stopped on time limit

Objective value:                1040.00000000
Lower bound:                    1030.000
Gap:                            0.01
Enumerated nodes:               4210
"""


def test_parse_cbc_log_time_limit():
    info = mip.parse_cbc_log(TIME_LIMIT_LOG)
    assert info == {
        "result": "Stopped on time limit",
        "objective": 1040.0,
        "bound": 1030.0,
        "gap": 0.01,
    }


def _random_instance(n: int, seed: int = 7):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, (n, 2))
    codes = [f"P{i:03d}" for i in range(n)]
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    w = pd.Series(rng.integers(2_000, 15_000, n), index=codes)
    return matrix_frame(codes, d.tolist()), w


@pytest.mark.slow
def test_time_limited_run_is_not_called_optimal():
    """120 practices, 2 s: CBC stops at its time limit with an incumbent. PuLP's
    ``status`` then reads Optimal; hubopt must say time-limited and give a gap."""
    t, w = _random_instance(120)
    m = model.build_model(t, w, pop_min=30_000, pop_max=50_000, cap=60)
    r = mip.solve(m, time_limit=2, threads=1)
    assert r.status in ("time-limited", "no-solution")
    if r.status == "time-limited":
        assert r.gap is not None and r.gap > 0
        assert "time limit" in r.describe()
        assert r.bound < r.objective


def test_requested_gap_is_reported_as_within_gap():
    """A 60-practice instance with a 20% gap target: CBC stops as soon as it is
    within 20%; unless it closed the gap completely the status says so."""
    t, w = _random_instance(60, seed=3)
    m = model.build_model(t, w, pop_min=30_000, pop_max=50_000, cap=60)
    r = mip.solve(m, time_limit=60, gap=0.2, threads=1)
    assert r.status in ("within-gap", "optimal")
    if r.status == "within-gap":
        assert 0 < r.gap <= 0.2 + 1e-9
    else:
        assert r.gap == 0.0


def test_infeasible_is_reported(line_area):
    practices, t, scenario = line_area
    r = mip.solve(model.build(t, practices, scenario.replace(population_min=46_000)))
    assert r.status == "infeasible"
    assert not r.has_solution
    assert "infeasible" in r.describe()


def test_warm_start_is_accepted_and_kept_if_optimal(line_area):
    """Start from the hand-worked optimum: {A,B,C}@B and {D,E}@D (198,000)."""
    practices, t, scenario = line_area
    start = pd.Series({"A": "B", "B": "B", "C": "B", "D": "D", "E": "D"})
    m = model.build(t, practices, scenario)
    r = mip.solve(m, warm_start=start, reduce=True)
    assert r.status == "optimal"
    assert r.objective == pytest.approx(198_000)
    assert r.incumbent == pytest.approx(198_000)
    assert r.assignment.to_dict() == start.to_dict()


def test_invalid_warm_start_is_not_trusted(line_area):
    """A start that breaks the band (everything in one hub) is not an incumbent."""
    practices, t, scenario = line_area
    m = model.build(t, practices, scenario)
    bad = pd.Series("B", index=list("ABCDE"))
    r = mip.solve(m, warm_start=bad, reduce=False)
    assert r.incumbent is None
    assert r.status == "optimal" and r.objective == pytest.approx(198_000)


def test_unknown_solver_is_refused(line_area):
    practices, t, scenario = line_area
    with pytest.raises(mip.SolverError, match="Unknown solver"):
        mip.solve(model.build(t, practices, scenario), solver="gurobi")


def _need_highs():
    pytest.importorskip("highspy", reason="HiGHS tests need highspy (pip install hubopt[highs])")


def test_highs_solves_and_proves(line_area):
    _need_highs()
    practices, t, scenario = line_area
    r = mip.solve(model.build(t, practices, scenario), solver="highs")
    assert r.solver == "highs"
    assert r.status == "optimal" and r.gap == 0.0
    assert r.objective == pytest.approx(198_000)


def test_highs_with_warm_start_and_reduction(line_area):
    _need_highs()
    practices, t, scenario = line_area
    start = pd.Series({"A": "B", "B": "B", "C": "B", "D": "D", "E": "D"})
    r = mip.solve(
        model.build(t, practices, scenario), solver="highs", warm_start=start, reduce=True
    )
    assert r.status == "optimal" and r.objective == pytest.approx(198_000)


def test_highs_infeasible_is_reported(line_area):
    _need_highs()
    practices, t, scenario = line_area
    m = model.build(t, practices, scenario.replace(population_min=46_000))
    r = mip.solve(m, solver="highs")
    assert r.status == "infeasible" and not r.has_solution


@pytest.mark.slow
def test_highs_time_limited_run_is_not_called_optimal():
    """Same 120-practice instance as for CBC: PuLP's status reads Optimal on HiGHS's
    time limit too; hubopt must say time-limited with a gap."""
    _need_highs()
    t, w = _random_instance(120)
    m = model.build_model(t, w, pop_min=30_000, pop_max=50_000, cap=60)
    r = mip.solve(m, time_limit=2, threads=1, solver="highs")
    assert r.status in ("time-limited", "no-solution")
    if r.status == "time-limited":
        assert r.gap is None or r.gap > 0
        assert "time limit" in r.describe()


def test_site_priorities_name_the_site_columns(line_area, tmp_path):
    """The priority file lists exactly the site variables x_jj, under the names PuLP
    gives the MPS columns, so CBC branches on which sites open first."""
    practices, t, scenario = line_area
    m = model.build(t, practices, scenario)
    path = mip.write_site_priorities(m, tmp_path / "prio.csv")
    lines = path.read_text().splitlines()
    names = m.problem.normalisedNames()[1]
    expected = {f"{names[v.name]},1" for (i, j), v in m.x.items() if i == j}
    assert lines[0] == "name,priority"
    assert set(lines[1:]) == expected and len(expected) == len(practices)


@pytest.mark.parametrize("sites_first", [True, False])
def test_same_optimum_with_and_without_site_priorities(sites_first):
    """Branching order changes the search, not the answer: a 40-practice instance
    reaches the same proven optimum either way (and the strict-fixing rounds run
    without a MIP start, which the fixing has cut off)."""
    t, w = _random_instance(40, seed=11)
    m = model.build_model(t, w, pop_min=0, pop_max=80_000, n_hubs=5)
    r = mip.solve(m, time_limit=60, reduce=True, sites_first=sites_first)
    assert r.status == "optimal"
    plain = mip.solve(model.build_model(t, w, pop_min=0, pop_max=80_000, n_hubs=5), time_limit=60)
    assert plain.status == "optimal"
    assert r.objective == pytest.approx(plain.objective)
