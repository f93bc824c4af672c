"""Lower bounds (hubopt.solver.bounds): the LP relaxation and the Lagrangian bound.

Tiny instances are solved by brute force (every site set and assignment) or by CBC
through the solver's door (:func:`hubopt.solver.solve_model`) on the untouched model:
a bound must never exceed the optimum, and computing one must leave the model as it
was. OR-Library instance 1 is in tests/test_orlib.py.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pulp
import pytest

from hubopt import model
from hubopt.solver import Clock, Options, SolveResult, bounds, solve_model
from tests.conftest import matrix_frame


def _pmedian(n: int, seed: int, p: int | None, cap: float, *, pop_min: float = 0.0):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, (n, 2))
    codes = [f"P{i:02d}" for i in range(n)]
    d = np.floor(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    w = pd.Series(rng.integers(1, 10, n).astype(float), index=codes)
    return model.build_model(
        matrix_frame(codes, d.tolist()),
        w,
        pop_min=pop_min,
        pop_max=cap,
        n_hubs=p,
        cost_weights=pd.Series(1.0, index=codes),
    )


def _solve(m: model.HubModel, stages: list[model.Stage] | None = None) -> SolveResult:
    return solve_model(m, Clock.starting(60), Options(), stages=stages)


def _brute_force(m: model.HubModel, p: int) -> float:
    """Optimum of a tiny capacitated p-median by enumerating site sets and assignments."""
    codes = m.practices
    t = m.times.to_numpy()
    w = m.weights.to_numpy()
    n = len(codes)
    best = np.inf
    for sites in itertools.combinations(range(n), p):
        others = [i for i in range(n) if i not in sites]
        for choice in itertools.product(range(p), repeat=len(others)):
            load = w[list(sites)].copy()
            cost = 0.0
            for i, k in zip(others, choice, strict=True):
                load[k] += w[i]
                cost += t[i, sites[k]]
            if (load <= m.pop_max).all():
                best = min(best, cost)
    return best


def _untouched(m: model.HubModel) -> tuple:
    """What a bound must not change: variables (category, bounds), rows, objective."""
    return (
        [(v.name, v.cat, v.lowBound, v.upBound) for v in m.problem.variables()],
        [(con.name, str(con)) for con in m.problem.constraints()],
        str(m.problem.objective),
    )


# ------------------------------------------------------------------ LP relaxation


def test_lp_relaxation_bounds_the_optimum_and_leaves_the_problem_alone():
    m = _pmedian(12, 1, 3, 25)
    before = _untouched(m)
    lp = bounds.lp_relaxation(m.problem)
    assert lp.status == "optimal"
    assert _untouched(m) == before
    r = _solve(m)
    assert r.status == "optimal"
    assert lp.objective <= r.objective + 1e-6


def test_objective_is_integral():
    p = pulp.LpProblem("t", pulp.LpMinimize)
    a = p.add_variable("a", cat=pulp.LpBinary)
    b = p.add_variable("b", lowBound=0)
    p += 3 * a
    assert bounds.objective_is_integral(p)
    p.setObjective(3 * a + b)
    assert not bounds.objective_is_integral(p)
    p.setObjective(2.5 * a)
    assert not bounds.objective_is_integral(p)


# ------------------------------------------------------------------ Lagrangian bound


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bound_never_exceeds_the_brute_force_optimum(seed):
    m = _pmedian(7, seed, 2, 22)
    opt = _brute_force(m, 2)
    d = bounds.core_data(m)
    assert d is not None and (d.lo, d.hi) == (2, 2)
    r = bounds.optimise(d, iterations=300)
    assert r.raw_bound <= opt + 1e-6
    assert r.bound <= opt + 1e-6
    # any multipliers give a valid bound, not just the optimised ones
    rng = np.random.default_rng(seed)
    for _ in range(20):
        assert bounds.evaluate(d, rng.uniform(-20, 80, 7)).value <= opt + 1e-6


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_bound_never_exceeds_the_cbc_optimum(seed):
    """14 practices, 3 hubs: the bound stays at or below CBC's proven optimum, with
    Polyak steps toward the optimum itself (the hardest target) or toward none."""
    m = _pmedian(14, seed, 3, 30)
    exact = _solve(m)
    assert exact.status == "optimal"
    d = bounds.core_data(m)
    assert d is not None
    for upper in (None, exact.objective):
        r = bounds.optimise(d, upper=upper, iterations=300)
        assert r.bound <= exact.objective + 1e-6


def test_free_hub_count_and_lower_band_give_a_valid_bound():
    """No hub count (every site with a negative value opens) and a band's lower limit
    (kept in each knapsack): the bound still stays below CBC's proven optimum."""
    for seed in (5, 6):
        m = _pmedian(12, seed, None, 25, pop_min=8)
        exact = _solve(m)
        assert exact.status == "optimal"
        d = bounds.core_data(m)
        assert d is not None and d.lo == 0
        r = bounds.optimise(d, iterations=200)
        assert r.bound <= exact.objective + 1e-6


def test_scaled_demands_keep_the_relaxation_valid():
    """Fractional, large demands are scaled down for the DP (floor demands, floor room),
    which must stay a relaxation."""
    m = _pmedian(10, 9, 3, 25)
    m.weights = m.weights * 1234.567
    m.pop_max = 25 * 1234.567
    d = bounds.core_data(m)
    assert d.scale > 1
    assert (d.units * d.scale <= d.weights + 1e-6).all()


def test_models_with_other_rules_are_left_alone():
    """The structure is read from the rule families the model recorded: a family
    outside the core, or a row the model never recorded, means "not the core model",
    and the relaxed bound is then the LP bound."""
    assert bounds.core_data(_pmedian(8, 1, 2, 25)) is not None
    m = _pmedian(8, 1, 2, 25)
    z = m.problem.add_variable("z", lowBound=0)
    m.problem += z >= 1, "something_else"
    assert bounds.core_data(m) is None
    m2 = _pmedian(8, 1, 2, 25)
    m2.add_rule(model.APART, m2.x["P00", "P00"] + m2.x["P01", "P01"] <= 1, "apart_0_P00")
    assert set(m2.rules) - model.CORE_FAMILIES == {model.APART}
    assert bounds.core_data(m2) is None
    m3 = _pmedian(8, 1, 2, 25)
    m3.problem += m3.x["P00", "P00"] + m3.x["P01", "P01"] <= 1, "assign_once_extra"
    assert bounds.core_data(m3) is None  # named like a core row, but not recorded as one
    for other in (m, m2, m3):
        bound, kind = bounds.relaxed_bound(other, seconds=2)
        assert kind == "LP"
        assert bound == pytest.approx(bounds.lp_relaxation(other.problem).objective)


def test_extra_rows_and_variables_give_the_lp_bound_below_the_optimum():
    """A generic problem (an extra continuous variable and rows: the worst trip, priced
    into the objective): not the core model, so the relaxed bound is the LP bound, and
    it stays below CBC's optimum of that objective."""
    m = _pmedian(12, 7, 3, 25)
    z = m.problem.add_variable("z_max_minutes", lowBound=0)
    for (i, j), v in m.x.items():
        m.problem += float(m.times.loc[i, j]) * v <= z, f"z_{i}_{j}"
    objective = m.problem.objective + 5 * z
    m.problem.setObjective(objective)
    bound, kind = bounds.relaxed_bound(m, seconds=2)
    assert kind == "LP" and bound is not None
    r = _solve(m, stages=[model.Stage("travel_and_worst", objective)])
    assert r.status == "optimal"
    assert bound <= r.objective + 1e-6


@pytest.mark.parametrize("seed", [11, 12])
def test_relaxed_bound_is_valid_and_leaves_the_model_alone(seed):
    """16 practices, 3 hubs: the relaxed bound (the better of the LP and the Lagrangian
    bound) is at least the LP bound and at most CBC's optimum, and the model solves to
    that optimum afterwards, its variables' bounds as they were."""
    m = _pmedian(16, seed, 3, 35)
    before = _untouched(m)
    lp = bounds.lp_relaxation(m.problem)
    bound, kind = bounds.relaxed_bound(m, seconds=2)
    assert kind in ("LP", "Lagrangian")
    assert bound >= lp.objective - 1e-6
    assert _untouched(m) == before
    r = _solve(m)
    fresh = _solve(_pmedian(16, seed, 3, 35))
    assert r.status == fresh.status == "optimal"
    assert r.objective == pytest.approx(fresh.objective)
    assert bound <= r.objective + 1e-6
    assert bounds.relaxed_bound(m, seconds=2, upper=r.objective)[0] <= r.objective + 1e-6
    assert m.weights.groupby(r.assignment).sum().max() <= 35


def test_infeasible_problem_has_no_bound():
    """Two hubs of at most 10 cannot hold ~50 units: the solve says infeasible and the
    relaxed bound gives none (its LP is infeasible), not a number."""
    m = _pmedian(10, 3, 2, 10)
    assert bounds.relaxed_bound(m, seconds=1) == (None, "LP")
    r = _solve(m)
    assert r.status == "infeasible" and not r.has_solution


def _banded(seed: int) -> tuple[model.HubModel, float]:
    """7 practices of 1,000-6,000 patients (not multiples of the DP's unit), two hubs of
    8,000-22,000, and the optimum by brute force with both band limits."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, (7, 2))
    codes = [f"P{i:02d}" for i in range(7)]
    d = np.floor(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    w = pd.Series(rng.integers(1000, 6000, 7) + 0.37, index=codes)
    m = model.build_model(
        matrix_frame(codes, d.tolist()), w, pop_min=8000, pop_max=22000, n_hubs=2,
        cost_weights=pd.Series(1.0, index=codes),
    )  # fmt: skip
    best = np.inf
    for sites in itertools.combinations(range(7), 2):
        others = [i for i in range(7) if i not in sites]
        for choice in itertools.product(range(2), repeat=5):
            load = w.to_numpy()[list(sites)].copy()
            for i, k in zip(others, choice, strict=True):
                load[k] += w.iloc[i]
            if (load <= 22000).all() and (load >= 8000).all():
                cost = sum(d[i, sites[k]] for i, k in zip(others, choice, strict=True))
                best = min(best, cost)
    return m, best


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_scaled_demands_keep_the_bound_valid_under_both_limits(seed, monkeypatch):
    """With demands scaled to a coarse unit (here 22,000 / 40 = 550 patients) the
    knapsack rounds each demand down and lowers the lower limit by the most members a
    hub can hold: any multipliers, the LP duals and the optimised bound all stay at or
    below the brute-force optimum."""
    monkeypatch.setattr(bounds, "RESOLUTION", 40)
    m, opt = _banded(seed)
    assert np.isfinite(opt)
    d = bounds.core_data(m)
    assert d is not None and d.scale == pytest.approx(550.0)
    rng = np.random.default_rng(seed)
    for _ in range(20):
        assert bounds.evaluate(d, rng.uniform(-20, 80, 7), want_x=False).value <= opt + 1e-6
    lp = bounds.lp_relaxation(m.problem)
    lam0 = bounds.lp_duals(m, d, lp)
    assert lam0 is not None
    start = bounds.evaluate(d, lam0, want_x=False).value
    assert start <= opt + 1e-6
    r = bounds.optimise(d, iterations=300, lam0=lam0)
    assert r.raw_bound <= opt + 1e-6
    assert bounds.relaxed_bound(m, seconds=2, upper=opt)[0] <= opt + 1e-6


def test_lp_duals_start_the_bound_at_the_lp_bound_or_above():
    """At the LP's duals of the assignment rows the Lagrangian value is at least the LP
    bound (each site's knapsack is integral where the LP's is not)."""
    m = _pmedian(9, 7, 3, 25)
    d = bounds.core_data(m)
    lp = bounds.lp_relaxation(m.problem)
    lam0 = bounds.lp_duals(m, d, lp)
    assert bounds.evaluate(d, lam0, want_x=False).value >= lp.objective - 1e-6
    bound, kind = bounds.relaxed_bound(m, seconds=2)
    assert bound >= lp.objective - 1e-6 and kind in ("LP", "Lagrangian")
