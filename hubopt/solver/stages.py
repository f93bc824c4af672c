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
import time

import pulp

from hubopt import model
from hubopt.model import HubModel
from hubopt.solver import mip

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
        left = max(1.0, time_limit - (time.perf_counter() - start))
        result = mip.solve(
            m,
            time_limit=left,
            gap=gap,
            threads=threads,
            solver=solver,
            warm_start=warm_start,
            deadline=deadline,
            max_nodes=max_nodes,
        )
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
