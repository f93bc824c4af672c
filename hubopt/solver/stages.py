"""The one door from a built model to a plan: its objectives in stages, one clock.

:func:`solve_model` is how every caller solves a :class:`~hubopt.model.HubModel`
(the whole area, a part of it in the neighbourhood search, an alternative plan, a
feasibility check while explaining an infeasibility, the OR-Library benchmark).
:func:`hubopt.model.build` lists the objective stages (band breach, unassigned
patients, the scenario's objectives, weighted travel as tie-breaker). Each stage is
solved by the back-end (:func:`hubopt.solver.backends.run`) with the previous stage's
plan as a warm start; its optimum (or, if the solver stopped early, the value of its
best plan) becomes a row for the stages after it. The overall status is the weakest
of the stages: a plan is optimal only if every stage was proven optimal.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence

import pandas as pd
import pulp

from hubopt import model
from hubopt.errors import SolverError
from hubopt.model import HubModel, Stage
from hubopt.solver import backends
from hubopt.solver.backends import Options
from hubopt.solver.clock import Clock
from hubopt.solver.result import SolveResult, StageRecord, Status, Stop, relative_gap

log = logging.getLogger(__name__)

#: Seconds a later stage needs at least to be started: CBC stopped by its time limit
#: about a second in, with a MIP start, sometimes crashes (seen on 04C, Leicester City:
#: 3 of 5 runs at 1 s, exit -11, no solution written), and finds nothing in that time.
STAGE_SECONDS_MIN = 2.0


def stage_value(expr: pulp.LpAffineExpression) -> float:
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


def solve_model(
    m: HubModel,
    clock: Clock,
    options: Options,
    *,
    warm_start: pd.Series | None = None,
    stages: Sequence[Stage] | None = None,
    max_nodes: int | None = None,
) -> SolveResult:
    """Solve ``stages`` (default: all of ``m.stages``) lexicographically by
    ``clock``'s deadline, with ``max_nodes`` branch-and-bound nodes per stage (a work
    limit) where given.

    A later stage with less than :data:`STAGE_SECONDS_MIN` left, or whose solver fails
    or finds no plan, keeps the earlier stage's plan (time-limited, never optimal,
    ended by the clock). The result is the last stage's plan; ``result.stages`` has
    one record per stage solved and ``result.values`` the plan's value of every stage
    objective of ``m`` (what :mod:`hubopt.model.check` recomputes).
    """
    todo = list(m.stages if stages is None else stages)
    records: list[StageRecord] = []
    result: SolveResult | None = None
    stops: list[Stop] = []
    work = 0
    for k, (name, expr) in enumerate(todo):
        m.problem.setObjective(expr)
        began = time.perf_counter()
        if k == 0 or clock.left() >= STAGE_SECONDS_MIN:
            kept = {v.name: v.varValue for v in m.problem.variables()} if k > 0 else {}
            run: SolveResult | None
            try:
                run = backends.run(m, clock, options, warm_start=warm_start, max_nodes=max_nodes)
            except SolverError as failed:
                if k == 0:
                    raise
                log.warning("stage %s: %s; the earlier stage's plan is kept", name, failed)
                run = None
            bound = None
            if run is not None and not run.has_solution and k > 0:
                bound, run = run.bound, None
            if run is None:  # the earlier stage's plan still holds: it is this stage's
                _restore(m, kept)
                assert result is not None
                result = _kept(result, stage_value(expr), bound)
            else:
                result = run
        else:  # too little time for another solver run (CBC stopped at once can crash)
            assert result is not None
            result = _kept(result, stage_value(expr), None)
        stops.append(result.stop)
        work += result.work
        records.append(
            StageRecord(name, result.status, result.objective, result.gap, result.bound,
                        time.perf_counter() - began)
        )  # fmt: skip
        if not result.has_solution:
            break
        if k < len(todo) - 1:
            value = stage_value(expr)
            keep = expr <= value + 1e-6 * max(1.0, abs(value))
            m.add_rule(model.KEEP_STAGE, keep, f"keep_{name}")
            warm_start = result.assignment
    assert result is not None, "a model has at least one stage"
    status = Status.weakest([r.status for r in records])
    gaps = [r.gap for r in records if r.gap is not None]
    values = {n: stage_value(e) for n, e in m.stages} if result.has_solution else {}
    stop = Stop.CLOCK if Stop.CLOCK in stops else Stop.WORK if Stop.WORK in stops else Stop.PROOF
    return dataclasses.replace(
        result,
        status=status,
        gap=max(gaps) if gaps and status is not Status.OPTIMAL else result.gap,
        seconds=sum(r.seconds for r in records),
        stages=tuple(records),
        values=values,
        stop=stop,
        work=work,
    )


def _kept(earlier: SolveResult, value: float, bound: float | None) -> SolveResult:
    """A stage not solved (no time left) or whose solver failed or found nothing: the
    earlier stage's plan is its plan (it keeps every earlier optimum), with its value
    ``value`` and the ``bound`` the failed run proved, if any; ended by the clock."""
    assert earlier.has_solution
    return dataclasses.replace(
        earlier,
        status=Status.TIME_LIMITED,
        objective=value,
        bound=bound,
        gap=relative_gap(value, bound),
        seconds=0.0,
        stop=Stop.CLOCK,
        work=0,
        log="the earlier stage's plan (no time left for this stage, or its solver failed)",
    )


def _restore(m: HubModel, values: dict[str, float | None]) -> None:
    """Put the variables back to ``values`` (a failed run may have read others)."""
    for v in m.problem.variables():
        if v.name in values:
            v.varValue = values[v.name]
