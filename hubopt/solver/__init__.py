"""Solver: solving a built model and saying honestly how well.

Owns one MIP solve with CBC or HiGHS, warm starts, priorities and the status and gap
read from the solver (:mod:`~hubopt.solver.mip`), objectives in stages
(:mod:`~hubopt.solver.stages`), the LP relaxation and variable fixing
(:mod:`~hubopt.solver.reduce`), the Lagrangian bound and fixing
(:mod:`~hubopt.solver.lagrange`), heuristic incumbents
(:mod:`~hubopt.solver.heuristic`) and explaining a proven infeasibility by relaxing
rule families (:mod:`~hubopt.solver.explain`).

May import: :mod:`hubopt.model`, :mod:`hubopt.inputs`, :mod:`hubopt.scenario`,
:mod:`hubopt.errors`. It reads a model's structure from
:class:`~hubopt.model.HubModel` (its rule families), never from constraint names.
"""

from hubopt.solver.mip import SolveResult, solve
from hubopt.solver.stages import solve_stages

__all__ = ["SolveResult", "solve", "solve_stages"]
