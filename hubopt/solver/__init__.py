"""Solver: solving a built model and saying honestly how well.

The entry point is :func:`~hubopt.solver.plan.solve_area` (any area, within the time
limit: heuristics and neighbourhood search for large areas, then the exact model).
Owns one MIP solve with CBC or HiGHS, warm starts, priorities and the status and gap
read from the solver (:mod:`~hubopt.solver.mip`), objectives in stages
(:mod:`~hubopt.solver.stages`), the LP relaxation and variable fixing
(:mod:`~hubopt.solver.reduce`), the Lagrangian bound and fixing
(:mod:`~hubopt.solver.lagrange`), heuristic incumbents
(:mod:`~hubopt.solver.heuristic`), a first plan grown hub by hub
(:mod:`~hubopt.solver.greedy`), parts of an area (:mod:`~hubopt.solver.instance`),
the large-neighbourhood search (:mod:`~hubopt.solver.lns`), explaining a proven
infeasibility by relaxing rule families (:mod:`~hubopt.solver.explain`) and planners'
choices: alternative plans near the best, what stays together across them, and the
price of each rule (:mod:`~hubopt.solver.choices`).

May import: :mod:`hubopt.model`, :mod:`hubopt.inputs`, :mod:`hubopt.scenario`,
:mod:`hubopt.errors`. It reads a model's structure from
:class:`~hubopt.model.HubModel` (its rule families), never from constraint names.
"""

from hubopt.solver.mip import SolveResult, solve
from hubopt.solver.plan import solve_area
from hubopt.solver.stages import solve_stages

__all__ = ["SolveResult", "solve", "solve_area", "solve_stages"]
