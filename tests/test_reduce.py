"""Exact preprocessing (hubopt.solver.reduce) and the heuristic incumbent (hubopt.solver.heuristic).

Instance 1 of the OR-Library capacitated p-median set (read from
../shared/benchmarks/orlib-pmedcap, which records its provenance: Osman & Christofides
1994 via J. E. Beasley's OR-Library; skipped when absent) has the proven optimum 713.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pulp
import pytest

from benchmarks.orlib_pmedcap import hubopt_model, load_instance, verify
from hubopt import model
from hubopt.solver import heuristic, mip, reduce
from tests.conftest import REPO, assert_fixing_keeps_optimum, matrix_frame

ORLIB = REPO.parent / "shared" / "benchmarks" / "orlib-pmedcap"


def _instance(n: int, seed: int, cap: float):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, (n, 2))
    codes = [f"P{i:02d}" for i in range(n)]
    d = np.floor(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    w = pd.Series(rng.integers(1, 10, n).astype(float), index=codes)
    return matrix_frame(codes, d.tolist()), w


def _pmedian(n: int, seed: int, p: int, cap: float) -> model.HubModel:
    t, w = _instance(n, seed, cap)
    return model.build_model(
        t, w, pop_min=0, pop_max=cap, n_hubs=p, cost_weights=pd.Series(1.0, index=w.index)
    )


def test_lp_relaxation_bounds_the_optimum_and_leaves_the_problem_alone():
    m = _pmedian(12, 1, 3, 25)
    cats = {v.name: v.cat for v in m.problem.variables()}
    lp = reduce.lp_relaxation(m.problem)
    assert lp.status == "optimal"
    r = mip.solve(m, reduce=False)
    assert lp.objective <= r.objective + 1e-6
    assert {v.name: v.cat for v in m.problem.variables()} == cats


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("integral", [False, True])
def test_reduced_cost_fixing_never_removes_a_better_solution(seed, integral):
    """Fix with the heuristic's bound, solve, compare with the untouched model. With the
    integral rule only solutions strictly better than the incumbent survive, so the
    reduced optimum is either the true optimum or nothing better than the incumbent."""
    m = _pmedian(14, seed, 3, 30)
    exact = mip.solve(m, reduce=False)
    assert exact.status == "optimal"
    lp = reduce.lp_relaxation(m.problem)
    a = heuristic.incumbent(m, n_hubs=3)
    assert a is not None
    values = mip._assignment_values(m, a)
    assert reduce.is_feasible(m.problem, values)
    ub = reduce.objective_of(m.problem, values)
    assert ub >= exact.objective - 1e-6
    fixing = reduce.fix_by_reduced_cost(m.problem, lp, ub, integral=integral)
    assert_fixing_keeps_optimum(m, fixing, ub, exact, integral=integral)


def test_fixing_respects_extra_rows_and_variables():
    """A generic problem (an extra continuous variable and row) is handled: the
    reduction through solve() keeps the optimum of the unreduced solve."""
    m = _pmedian(12, 7, 3, 25)
    z = m.problem.add_variable("z_max_minutes", lowBound=0)
    for (i, j), v in m.x.items():
        m.problem += float(m.times.loc[i, j]) * v <= z, f"z_{i}_{j}"
    m.problem.setObjective(m.problem.objective + 5 * z)
    plain = mip.solve(m, reduce=False)
    reduced = mip.solve(m, reduce=True, core_seconds=2)
    assert plain.status == reduced.status == "optimal"
    assert reduced.objective == pytest.approx(plain.objective)


def test_infeasible_problem_is_not_reduced_into_something_else():
    m = _pmedian(10, 3, 2, 10)  # two hubs of at most 10 cannot hold ~50 units
    r = mip.solve(m, reduce=True, core_seconds=1)
    assert r.status == "infeasible"
    assert r.fixed_vars == 0


def test_objective_is_integral():
    p = pulp.LpProblem("t", pulp.LpMinimize)
    a = p.add_variable("a", cat=pulp.LpBinary)
    b = p.add_variable("b", lowBound=0)
    p += 3 * a
    assert reduce.objective_is_integral(p)
    p.setObjective(3 * a + b)
    assert not reduce.objective_is_integral(p)
    p.setObjective(2.5 * a)
    assert not reduce.objective_is_integral(p)


def test_heuristic_respects_capacity_and_hub_count():
    m = _pmedian(30, 11, 4, 45)
    a = heuristic.incumbent(m, n_hubs=4)
    assert a is not None
    assert a.nunique() == 4
    loads = m.weights.groupby(a).sum()
    assert (loads <= 45).all()
    assert all(a[j] == j for j in a.unique())


def test_orlib_instance_1_is_solved_to_713_and_proven():
    path = ORLIB / "pmedcap1_1.txt"
    if not path.exists():
        pytest.skip(f"OR-Library data not found at {ORLIB}")
    inst = load_instance(path)
    assert (inst["n"], inst["p"], inst["optimum"]) == (50, 5, 713)
    m = hubopt_model(inst)
    for reduce_first in (False, True):
        r = mip.solve(m, time_limit=60, reduce=reduce_first, core_seconds=5)
        assert r.status == "optimal"
        assert r.objective == pytest.approx(713)
        assert r.bound == pytest.approx(713, abs=1e-6)
        assert verify(inst, r.assignment) == (713, [])  # the benchmark's own re-check
    assert r.lp_bound <= 713 and r.lagrange_bound <= 713
    assert r.fixed_vars > 0 or r.lagrange_bound == 713  # fixing, or proven by the bound


def test_benchmark_recheck_names_what_is_wrong():
    """benchmarks/orlib_pmedcap.verify: 3 points on a line, p = 2, capacity 2."""
    codes = ["1", "2", "3"]
    times = pd.DataFrame([[0, 1, 5], [1, 0, 4], [5, 4, 0]], index=codes, columns=codes)
    inst = {
        "p": 2,
        "capacity": 2.0,
        "times": times,
        "demand": pd.Series(1.0, index=codes),
    }
    assert verify(inst, pd.Series({"1": "1", "2": "1", "3": "3"})) == (1.0, [])
    value, wrong = verify(inst, pd.Series({"1": "2", "2": "3", "3": "3"}))
    assert value == 5.0
    assert wrong == ["median 2 does not serve itself"]
    assert verify(inst, pd.Series({"1": "1", "2": "1", "3": "1"}))[1] == [
        "1 medians, not p = 2",
        "median 1 serves 3 > capacity 2",
    ]
    assert verify(inst, None) == (None, ["no solution"])
