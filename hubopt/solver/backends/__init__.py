"""Solver back-ends behind one interface, one module per solver (as PuLP's ``apis``).

:func:`run` solves a built :class:`~hubopt.model.HubModel`'s current objective once,
within a :class:`~hubopt.solver.clock.Clock`, and returns one typed
:class:`~hubopt.solver.result.SolveResult` (status, objective, bound, gap, what
stopped it, the work done) whatever the solver: :mod:`~hubopt.solver.backends.cbc`
(bundled with PuLP, the default) or :mod:`~hubopt.solver.backends.highs` (``pip install
highspy``). Only the staged solve (:func:`hubopt.solver.stages.solve_model`) calls it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from hubopt.errors import SolverError
from hubopt.model import HubModel
from hubopt.scenario import SOLVERS, Scenario
from hubopt.solver.clock import Clock
from hubopt.solver.result import SolveResult


@dataclass(frozen=True)
class Options:
    """How to run the solver: which one, its threads, the relative gap at which it may
    stop (0: prove optimality), and whether CBC branches on which sites open first
    (None: only when the number of hubs is fixed, the p-median case where it pays;
    with a free count and a lower band limit (LLR) it measured slower, 110 s against
    82 s)."""

    solver: str = "cbc"
    threads: int = 1
    gap: float = 0.0
    sites_first: bool | None = None
    msg: bool = False

    @classmethod
    def of(cls, scenario: Scenario) -> Options:
        return cls(solver=scenario.solver, threads=scenario.threads, gap=scenario.gap)


def run(
    m: HubModel,
    clock: Clock,
    options: Options,
    *,
    warm_start: pd.Series | None = None,
    max_nodes: int | None = None,
) -> SolveResult:
    """Solve ``m``'s current objective once, to ``clock``'s deadline (and ``max_nodes``
    branch-and-bound nodes, a work limit, where given), from ``warm_start`` (practice ->
    site) where given. Raises :class:`~hubopt.errors.SolverError` when the solver
    cannot run."""
    if options.solver not in SOLVERS:
        raise SolverError(
            f"Unknown solver {options.solver!r}.", [f"use one of {', '.join(SOLVERS)}"]
        )
    if warm_start is not None:
        set_start(m, warm_start)
    if options.solver == "highs":
        from hubopt.solver.backends import highs

        return highs.run(m, clock, options, warm=warm_start is not None, max_nodes=max_nodes)
    from hubopt.solver.backends import cbc

    return cbc.run(m, clock, options, warm=warm_start is not None, max_nodes=max_nodes)


def set_start(m: HubModel, assignment: pd.Series) -> None:
    """Set the assignment variables' initial values (a MIP start) from ``assignment``.

    Pairs outside the model are ignored; variables other than ``m.x`` are left for the
    solver to complete.
    """
    for (i, j), v in m.x.items():
        v.setInitialValue(1.0 if assignment.get(i) == j else 0.0)


__all__ = ["SOLVERS", "Options", "run", "set_start"]
