"""Honest solver status through the one door (:func:`hubopt.solver.solve_model`):
never 'optimal' when the solver stopped early, whichever solver runs."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from hubopt import model
from hubopt.errors import SolverError
from hubopt.solver import Clock, Options, SolveResult, Status, Stop, solve_model
from hubopt.solver.backends.cbc import parse_cbc_log, write_site_priorities
from tests.conftest import matrix_frame

TIME_LIMIT_LOG = """
Result - Stopped on time limit

Objective value:                1040.00000000
Lower bound:                    1030.000
Gap:                            0.01
Enumerated nodes:               4210
"""

#: The hand-worked optimum of the ``line_area`` fixture: {A,B,C}@B and {D,E}@D.
LINE_OPTIMUM = pd.Series({"A": "B", "B": "B", "C": "B", "D": "D", "E": "D"})


def test_parse_cbc_log_time_limit():
    info = parse_cbc_log(TIME_LIMIT_LOG)
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


def _solve(m: model.HubModel, seconds: float = 30.0, **options) -> SolveResult:
    """``m`` through the door with a clock of ``seconds`` and ``options``."""
    return solve_model(m, Clock.starting(seconds), Options(**options))


@pytest.mark.slow
def test_time_limited_run_is_not_called_optimal():
    """120 practices, 2 s: CBC stops at its time limit with an incumbent. PuLP's
    ``status`` then reads Optimal; hubopt must say time-limited, give a gap and say
    the clock ended it."""
    t, w = _random_instance(120)
    m = model.build_model(t, w, pop_min=30_000, pop_max=50_000, cap=60)
    r = _solve(m, 2, threads=1)
    assert r.status in (Status.TIME_LIMITED, Status.NO_SOLUTION)
    assert r.stop is Stop.CLOCK and r.clock_stopped
    if r.status == "time-limited":
        assert r.gap is not None and r.gap > 0
        assert "time limit" in r.describe()
        assert r.bound < r.objective


def test_requested_gap_is_reported_as_within_gap():
    """A 60-practice instance with a 20% gap target: CBC stops as soon as it is
    within 20%; unless it closed the gap completely the status says so."""
    t, w = _random_instance(60, seed=3)
    m = model.build_model(t, w, pop_min=30_000, pop_max=50_000, cap=60)
    r = _solve(m, 60, gap=0.2, threads=1)
    assert r.status in ("within-gap", "optimal")
    if r.status == "within-gap":
        assert 0 < r.gap <= 0.2 + 1e-9
    else:
        assert r.gap == 0.0


def test_statuses_are_enum_members_written_as_strings(line_area):
    """A proven plan: a Status member that compares equal to its text (as written in
    summary.json), one record per stage, ended by a proof."""
    practices, t, scenario = line_area
    m = model.build(t, practices, scenario)
    r = solve_model(m, Clock.starting(30), Options.of(scenario))
    assert r.status is Status.OPTIMAL and r.status == "optimal" and str(r.status) == "optimal"
    assert r.stop is Stop.PROOF and not r.clock_stopped
    assert [st.stage for st in r.stages] == [st.name for st in m.stages]
    assert r.values["weighted_travel"] == pytest.approx(198_000)
    assert r.assignment.to_dict() == LINE_OPTIMUM.to_dict()


def test_infeasible_is_reported(line_area):
    practices, t, scenario = line_area
    m = model.build(t, practices, scenario.replace(population_min=46_000))
    r = solve_model(m, Clock.starting(30), Options.of(scenario))
    assert r.status == "infeasible"
    assert not r.has_solution
    assert "infeasible" in r.describe()


def test_warm_start_is_accepted_and_kept_if_optimal(line_area):
    """Start from the hand-worked optimum (198,000): CBC reads it and keeps it."""
    practices, t, scenario = line_area
    m = model.build(t, practices, scenario)
    r = solve_model(m, Clock.starting(30), Options.of(scenario), warm_start=LINE_OPTIMUM)
    assert "MIPStart values read" in r.log
    assert r.status == "optimal"
    assert r.objective == pytest.approx(198_000)
    assert r.assignment.to_dict() == LINE_OPTIMUM.to_dict()


def test_warm_start_is_used_as_the_first_plan():
    """On a 40-practice instance CBC reports the warm start as its first plan, at the
    start's own cost, and still proves the optimum."""
    t, w = _random_instance(40, seed=11)
    best = _solve(model.build_model(t, w, pop_min=0, pop_max=80_000, n_hubs=5), 60)
    assert best.status == "optimal"
    m = model.build_model(t, w, pop_min=0, pop_max=80_000, n_hubs=5)
    r = solve_model(m, Clock.starting(60), Options(), warm_start=best.assignment)
    found = re.search(r"MIPStart provided solution with cost (\S+)", r.log)
    assert found is not None
    assert float(found.group(1)) == pytest.approx(best.objective, rel=1e-5)
    assert r.status == "optimal" and r.objective == pytest.approx(best.objective)


def test_invalid_warm_start_is_harmless(line_area):
    """A start that breaks the band (everything in one hub) is not taken for a plan:
    the solve is still proven optimal, at the hand-worked optimum."""
    practices, t, scenario = line_area
    m = model.build(t, practices, scenario)
    bad = pd.Series("B", index=list("ABCDE"))
    r = solve_model(m, Clock.starting(30), Options.of(scenario), warm_start=bad)
    assert r.status == "optimal" and r.objective == pytest.approx(198_000)
    assert r.assignment.to_dict() == LINE_OPTIMUM.to_dict()


def test_unknown_solver_is_refused(line_area):
    practices, t, scenario = line_area
    with pytest.raises(SolverError, match="Unknown solver"):
        _solve(model.build(t, practices, scenario), solver="gurobi")


def _need_highs():
    pytest.importorskip("highspy", reason="HiGHS tests need highspy (pip install hubopt[highs])")


def test_highs_solves_and_proves(line_area):
    _need_highs()
    practices, t, scenario = line_area
    r = _solve(model.build(t, practices, scenario), solver="highs")
    assert r.solver == "highs"
    assert r.status == "optimal" and r.gap == 0.0
    assert r.objective == pytest.approx(198_000)


def test_highs_with_warm_start(line_area):
    """HiGHS takes the MIP start (PuLP's API has none: the back-end passes it in)."""
    _need_highs()
    practices, t, scenario = line_area
    m = model.build(t, practices, scenario)
    r = solve_model(m, Clock.starting(30), Options(solver="highs"), warm_start=LINE_OPTIMUM)
    assert r.solver == "highs"
    assert r.status == "optimal" and r.objective == pytest.approx(198_000)
    assert r.assignment.to_dict() == LINE_OPTIMUM.to_dict()


def test_highs_infeasible_is_reported(line_area):
    _need_highs()
    practices, t, scenario = line_area
    m = model.build(t, practices, scenario.replace(population_min=46_000))
    r = _solve(m, solver="highs")
    assert r.status == "infeasible" and not r.has_solution


@pytest.mark.slow
def test_highs_time_limited_run_is_not_called_optimal():
    """Same 120-practice instance as for CBC: PuLP's status reads Optimal on HiGHS's
    time limit too; hubopt must say time-limited with a gap."""
    _need_highs()
    t, w = _random_instance(120)
    m = model.build_model(t, w, pop_min=30_000, pop_max=50_000, cap=60)
    r = _solve(m, 2, threads=1, solver="highs")
    assert r.status in ("time-limited", "no-solution")
    assert r.clock_stopped
    if r.status == "time-limited":
        assert r.gap is None or r.gap > 0
        assert "time limit" in r.describe()


def test_site_priorities_name_the_site_columns(line_area, tmp_path):
    """The priority file lists exactly the site variables x_jj, under the names PuLP
    gives the MPS columns, so CBC branches on which sites open first."""
    practices, t, scenario = line_area
    m = model.build(t, practices, scenario)
    path = write_site_priorities(m, tmp_path / "prio.csv")
    lines = path.read_text().splitlines()
    names = m.problem.normalisedNames()[1]
    expected = {f"{names[v.name]},1" for (i, j), v in m.x.items() if i == j}
    assert lines[0] == "name,priority"
    assert set(lines[1:]) == expected and len(expected) == len(practices)


@pytest.mark.parametrize("sites_first", [True, False])
def test_same_optimum_with_and_without_site_priorities(sites_first):
    """Branching order changes the search, not the answer: a 40-practice instance
    reaches the same proven optimum either way, and CBC is handed the priorities
    only when asked (by default when the number of hubs is fixed, as here)."""
    t, w = _random_instance(40, seed=11)
    m = model.build_model(t, w, pop_min=0, pop_max=80_000, n_hubs=5)
    r = _solve(m, 60, sites_first=sites_first)
    assert r.status == "optimal"
    assert (" -prio " in r.log) is sites_first
    plain = _solve(model.build_model(t, w, pop_min=0, pop_max=80_000, n_hubs=5), 60)
    assert plain.status == "optimal"
    assert " -prio " in plain.log
    assert r.objective == pytest.approx(plain.objective)


def test_status_names_the_stage_of_the_gap_and_the_stages_left_unbounded():
    """Issue 22: a staged plan's status says which stage its gap is for, and which
    stages the clock left without a bound, never one bare gap for the plan."""
    import dataclasses

    from hubopt.solver.result import StageRecord

    stages = (
        StageRecord("band_breach", Status.TIME_LIMITED, 61627.0, 0.4379, 34643.0, 5.0),
        StageRecord("weighted_travel", Status.TIME_LIMITED, 2.3e6, None, None, 0.1),
    )
    r = SolveResult(Status.TIME_LIMITED, 2.3e6, None, None, 5.1, None, "highs", stages=stages)
    assert r.describe() == (
        "time-limited: stopped at the time limit, best solution within unknown of optimal "
        "(stage band_breach within 43.79%; stage weighted_travel not bounded: the time ran "
        "out first)"
    )
    assert (
        dataclasses.replace(r, gap=0.4379)
        .describe()
        .endswith(
            "within 43.79% of optimal (stage band_breach; stage weighted_travel not bounded: "
            "the time ran out first)"
        )
    )
