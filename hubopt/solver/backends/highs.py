"""HiGHS (``pip install highspy``) as a back-end, through PuLP's API, with a MIP start.

Its status is read from the model status and dual bound (never trusting PuLP's
``status`` alone: on a time limit it reads Optimal).
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pulp

from hubopt.errors import SolverError
from hubopt.model import HubModel, read_assignment
from hubopt.solver.clock import Clock
from hubopt.solver.result import SolveResult, Status, Stop

if TYPE_CHECKING:
    from hubopt.solver.backends import Options

log = logging.getLogger(__name__)


def require() -> None:
    """Raise a planner's error when highspy is not installed."""
    if importlib.util.find_spec("highspy") is None:
        raise SolverError(
            "The HiGHS solver needs the highspy package.",
            ['install it with `pip install "hubopt[highs]"` (or `pip install highspy`)'],
        )


def run(
    m: HubModel, clock: Clock, options: Options, *, warm: bool, max_nodes: int | None = None
) -> SolveResult:
    """Solve ``m`` with HiGHS to ``clock``'s deadline (HiGHS keeps its own time limit)."""
    require()
    import highspy

    class _HiGHS(pulp.HiGHS):  # PuLP's HiGHS API has no MIP start: pass one in.
        def callSolver(self, lp):
            if warm:
                sol = highspy.HighsSolution()
                sol.col_value = [
                    0.0 if v.varValue is None else float(v.varValue) for v in lp.variables()
                ]
                sol.value_valid = True
                lp.solverModel.setSolution(sol)
            lp.solverModel.run()

    start = time.perf_counter()
    solver = _HiGHS(
        msg=options.msg,
        timeLimit=max(1.0, clock.left()),
        gapRel=options.gap,
        threads=options.threads,
        **({} if max_nodes is None else {"mip_max_nodes": max_nodes}),
    )
    try:
        with _stdout_to_log("HiGHS"):
            m.problem.solve(solver)
    except pulp.PulpSolverError as exc:
        raise SolverError("HiGHS failed to run.", [str(exc)]) from None
    return classify(m, m.problem.solverModel, seconds=time.perf_counter() - start)


@contextmanager
def _stdout_to_log(name: str) -> Iterator[None]:
    """Send what a solver library prints on the process's standard output (HiGHS
    prints its banner there even with output off) to the log instead, at debug level
    (shown with ``-v -v``), so the summary on stdout stays clean."""
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode(errors="replace").strip()
            if text:
                log.debug("%s said:\n%s", name, text)


def classify(m: HubModel, highs: Any, *, seconds: float) -> SolveResult:
    """Classify a HiGHS run from its model status and dual bound."""
    import highspy

    st = highs.getModelStatus()
    ms = highspy.HighsModelStatus
    info = highs.getInfo()
    sol_status = m.problem.sol_status
    has_solution = sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    objective = pulp.value(m.problem.objective) if has_solution else None
    bound = getattr(info, "mip_dual_bound", None)
    if bound is not None and (math.isinf(bound) or math.isnan(bound)):
        bound = None
    if bound is not None and m.problem.sense == pulp.LpMaximize:
        bound = -bound  # PuLP hands HiGHS the negated objective
    if st in (ms.kInfeasible, ms.kUnboundedOrInfeasible):
        label = Status.INFEASIBLE
    elif not has_solution:
        label = Status.NO_SOLUTION
    elif st == ms.kOptimal:
        label = Status.OPTIMAL
    else:
        label = Status.TIME_LIMITED
    limits = (getattr(ms, "kSolutionLimit", None), getattr(ms, "kIterationLimit", None))
    stop = Stop.CLOCK if st == ms.kTimeLimit else Stop.WORK if st in limits else Stop.PROOF
    text = f"HiGHS: {highs.modelStatusToString(st)}; objective {objective}; dual bound {bound}"
    return SolveResult.of_run(
        label, objective, bound, assignment=read_assignment(m) if has_solution else None,
        solver="highs", seconds=seconds, log=text, stop=stop,
        work=int(getattr(info, "simplex_iteration_count", 0) or 0),
    )  # fmt: skip
