"""Lagrangian bound, exact Lagrangian fixing and the Lagrangian path of solve().

Tiny instances are solved by brute force (every site set and assignment) or by CBC
on the untouched model; the bound must never exceed the optimum and fixing must never
remove it. OR-Library instance 1 (solved and proven through this path) is in
tests/test_reduce.py.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from hubopt import model
from hubopt.solver import lagrange, mip
from tests.conftest import assert_fixing_keeps_optimum, matrix_frame


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


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bound_never_exceeds_the_brute_force_optimum(seed):
    m = _pmedian(7, seed, 2, 22)
    opt = _brute_force(m, 2)
    d = lagrange.core_data(m)
    assert d is not None and (d.lo, d.hi) == (2, 2)
    r = lagrange.optimise(m, d, iterations=300)
    assert r.raw_bound <= opt + 1e-6
    assert r.bound <= opt + 1e-6
    # any multipliers give a valid bound, not just the optimised ones
    rng = np.random.default_rng(seed)
    for _ in range(20):
        assert lagrange.evaluate(d, rng.uniform(-20, 80, 7)).value <= opt + 1e-6


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("integral", [False, True])
def test_fixing_never_removes_the_optimum(seed, integral):
    """Fix with the optimum itself as upper bound (the hardest case) and with the
    Lagrangian heuristic's: solutions at least as good (strictly better with the integral
    rule) survive, and bounds are restored."""
    m = _pmedian(14, seed, 3, 30)
    exact = mip.solve(m, reduce=False)
    assert exact.status == "optimal"
    d = lagrange.core_data(m)
    r = lagrange.optimise(m, d, iterations=300)
    assert r.bound <= exact.objective + 1e-6
    for upper in (exact.objective, r.incumbent_value):
        fixing = lagrange.fix(d, r.lam, upper, integral=integral)
        assert_fixing_keeps_optimum(m, fixing, upper, exact, integral=integral)


def test_free_hub_count_and_lower_band_give_a_valid_bound():
    """No hub count (every site with a negative value opens) and a band's lower limit
    (dropped by the relaxation): the bound still stays below CBC's proven optimum."""
    for seed in (5, 6):
        m = _pmedian(12, seed, None, 25, pop_min=8)
        exact = mip.solve(m, reduce=False)
        assert exact.status == "optimal"
        d = lagrange.core_data(m)
        assert d is not None and d.lo == 0
        r = lagrange.optimise(m, d, iterations=200)
        assert r.bound <= exact.objective + 1e-6
        fixing = lagrange.fix(d, r.lam, exact.objective, integral=False)
        again = mip.solve(m, reduce=False)
        fixing.restore()
        assert again.objective == pytest.approx(exact.objective)


def test_scaled_demands_keep_the_relaxation_valid():
    """Fractional, large demands are scaled down for the DP (floor demands, floor room),
    which must stay a relaxation."""
    m = _pmedian(10, 9, 3, 25)
    m.weights = m.weights * 1234.567
    m.pop_max = 25 * 1234.567
    d = lagrange.core_data(m)
    assert d.scale > 1
    assert (d.units * d.scale <= d.weights + 1e-6).all()


def test_models_with_other_rules_are_left_alone():
    """The structure is read from the rule families the model recorded: a family
    outside the core, or a row the model never recorded, means "not the core model"."""
    assert lagrange.core_data(_pmedian(8, 1, 2, 25)) is not None
    m = _pmedian(8, 1, 2, 25)
    z = m.problem.add_variable("z", lowBound=0)
    m.problem += z >= 1, "something_else"
    assert lagrange.core_data(m) is None
    m2 = _pmedian(8, 1, 2, 25)
    m2.add_rule(model.APART, m2.x["P00", "P00"] + m2.x["P01", "P01"] <= 1, "apart_0_P00")
    assert set(m2.rules) - model.CORE_FAMILIES == {model.APART}
    assert lagrange.core_data(m2) is None
    m3 = _pmedian(8, 1, 2, 25)
    m3.problem += m3.x["P00", "P00"] + m3.x["P01", "P01"] <= 1, "assign_once_extra"
    assert lagrange.core_data(m3) is None  # named like a core row, but not recorded as one


@pytest.mark.parametrize("seed", [11, 12])
def test_solve_with_reduce_matches_the_plain_solve(seed):
    m = _pmedian(16, seed, 3, 35)
    plain = mip.solve(m, reduce=False)
    reduced = mip.solve(m, reduce=True, core_seconds=2)
    assert plain.status == reduced.status == "optimal"
    assert reduced.objective == pytest.approx(plain.objective)
    assert reduced.lagrange_bound is not None
    assert reduced.lagrange_bound <= plain.objective + 1e-6
    assigned = reduced.assignment
    assert m.weights.groupby(assigned).sum().max() <= 35
    assert all(v.upBound == 1 and v.lowBound == 0 for v in m.x.values())


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
    monkeypatch.setattr(lagrange, "RESOLUTION", 40)
    m, opt = _banded(seed)
    assert np.isfinite(opt)
    d = lagrange.core_data(m)
    assert d is not None and d.scale == pytest.approx(550.0)
    rng = np.random.default_rng(seed)
    for _ in range(20):
        assert lagrange.evaluate(d, rng.uniform(-20, 80, 7), want_x=False).value <= opt + 1e-6
    lp = mip.reduce_mod.lp_relaxation(m.problem)
    lam0 = lagrange.lp_duals(m, d, lp)
    assert lam0 is not None
    start = lagrange.evaluate(d, lam0, want_x=False).value
    assert start <= opt + 1e-6
    r = lagrange.optimise(m, d, iterations=300, lam0=lam0)
    assert r.raw_bound <= opt + 1e-6


def test_lp_duals_start_the_bound_at_the_lp_bound_or_above():
    """At the LP's duals of the assignment rows the Lagrangian value is at least the LP
    bound (each site's knapsack is integral where the LP's is not)."""
    m = _pmedian(9, 7, 3, 25)
    d = lagrange.core_data(m)
    lp = mip.reduce_mod.lp_relaxation(m.problem)
    lam0 = lagrange.lp_duals(m, d, lp)
    assert lagrange.evaluate(d, lam0, want_x=False).value >= lp.objective - 1e-6
    bound, kind = lagrange.relaxed_bound(m, seconds=2)
    assert bound >= lp.objective - 1e-6 and kind in ("LP", "Lagrangian")
