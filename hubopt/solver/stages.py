"""Objectives in stages: minimise each in turn, keeping every earlier optimum.

:func:`hubopt.model.build` lists the objective stages (band breach, unassigned
patients, the scenario's objectives, weighted travel as tie-breaker). Each stage is
solved with the previous stage's plan as a warm start; its optimum (or, if the
solver stopped early, the value of its best plan) becomes a constraint for the
stages after it. The overall status is the weakest of the stages: a plan is
``optimal`` only if every stage was proven optimal.
"""

from __future__ import annotations

import dataclasses
import logging
import time

import pulp

from hubopt import model
from hubopt.errors import SolverError
from hubopt.model import HubModel
from hubopt.solver import mip

log = logging.getLogger(__name__)

#: Seconds a later stage needs at least to be started: CBC stopped by its time limit
#: about a second in, with a MIP start, sometimes crashes (seen on 04C, Leicester City:
#: 3 of 5 runs at 1 s, exit -11, no solution written), and finds nothing in that time.
STAGE_SECONDS_MIN = 2.0
#: Weakest first: the overall status of staged solves is the first one met here.
_ORDER = ("infeasible", "no-solution", "time-limited", "within-gap", "optimal")


def stage_value(expr) -> float:
    """The value of a stage's objective in the plan just solved. A variable the solver
    did not report (it is in no constraint, e.g. a shortfall that cannot arise when
    the lower band is 0) sits at its lower bound, as a minimisation leaves it."""
    if not isinstance(expr, pulp.LpAffineExpression):
        return float(pulp.value(expr) or 0.0)
    total = float(expr.constant)
    for var, coef in expr.items():
        at = var.varValue if var.varValue is not None else (var.lowBound or 0.0)
        total += coef * at
    return total


def _kept(earlier: mip.SolveResult | None, value: float, bound: float | None) -> mip.SolveResult:
    """A stage not solved (no time left) or whose solver failed or found nothing: the
    earlier stage's plan is its plan (it keeps every earlier optimum), with its value
    ``value`` and the ``bound`` the failed run proved, if any; ended by the clock."""
    assert earlier is not None and earlier.has_solution
    return dataclasses.replace(
        earlier,
        status="time-limited",
        objective=value,
        bound=bound,
        gap=mip.relative_gap(value, bound),
        seconds=0.0,
        clock_stopped=True,
        work=0,
        log="the earlier stage's plan (no time left for this stage, or its solver failed)",
    )


def _restore(m: HubModel, values: dict[str, float | None]) -> None:
    """Put the variables back to ``values`` (a failed run may have read others)."""
    for v in m.problem.variables():
        if v.name in values:
            v.varValue = values[v.name]


def solve_stages(
    m: HubModel,
    *,
    time_limit: float = 120.0,
    gap: float = 0.0,
    threads: int = 1,
    solver: str = "cbc",
    warm_start=None,
    deadline: float | None = None,
    max_nodes: int | None = None,
) -> mip.SolveResult:
    """Solve ``m.stages`` lexicographically within ``time_limit`` seconds in all, and
    ``max_nodes`` branch-and-bound nodes per stage (a work limit) where given.

    A later stage with less than :data:`STAGE_SECONDS_MIN` left, or whose solver fails
    or finds no plan, keeps the earlier stage's plan (time-limited, never optimal).
    The returned result is the last stage's plan; ``result.stages`` has one entry per
    stage (name, status, value, gap, seconds) and ``result.values`` the final plan's
    value of every stage objective (what :mod:`hubopt.model.check` recomputes).
    """
    start = time.perf_counter()
    stages: list[dict] = []
    result = None
    clock_stopped = False
    work = 0
    for k, (name, expr) in enumerate(m.stages):
        m.problem.setObjective(expr)
        left = time_limit - (time.perf_counter() - start)
        if k == 0 or left >= STAGE_SECONDS_MIN:
            kept = {v.name: v.varValue for v in m.problem.variables()} if k > 0 else {}
            try:
                run = mip.solve(
                    m,
                    time_limit=max(1.0, left),
                    gap=gap,
                    threads=threads,
                    solver=solver,
                    warm_start=warm_start,
                    deadline=deadline,
                    max_nodes=max_nodes,
                )
            except SolverError as failed:
                if k == 0:
                    raise
                log.warning("stage %s: %s; the earlier stage's plan is kept", name, failed)
                run = None
            if run is not None and not run.has_solution and k > 0:
                bound = run.bound
                run = None
            else:
                bound = None
            if run is None:  # the earlier stage's plan still holds: it is this stage's
                _restore(m, kept)
                result = _kept(result, stage_value(expr), bound)
            else:
                result = run
        else:  # too little time for another solver run (CBC stopped at once can crash)
            result = _kept(result, stage_value(expr), None)
        clock_stopped = clock_stopped or result.clock_stopped
        work += result.work
        stages.append(
            {
                "stage": name,
                "status": result.status,
                "value": result.objective,
                "gap": result.gap,
                "bound": result.bound,
                "seconds": round(result.seconds, 2),
            }
        )
        if not result.has_solution:
            break
        if k < len(m.stages) - 1:
            value = stage_value(expr)
            keep = expr <= value + 1e-6 * max(1.0, abs(value))
            m.add_rule(model.KEEP_STAGE, keep, f"keep_{name}")
            warm_start = result.assignment
    status = min((s["status"] for s in stages), key=_ORDER.index)
    gaps = [s["gap"] for s in stages if s["gap"] is not None]
    assert result is not None  # a model has at least one stage
    values = {n: stage_value(e) for n, e in m.stages} if result.has_solution else {}
    return dataclasses.replace(
        result,
        status=status,
        gap=max(gaps) if gaps and status != "optimal" else result.gap,
        seconds=time.perf_counter() - start,
        stages=stages,
        values=values,
        clock_stopped=clock_stopped,
        work=work,
    )
